package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/empowerher/empowerher/internal/store"
)

func testUsers(t *testing.T, s store.Store) {
	c := ctx(t)
	u := mustUser(t, s, "asha")
	if u.CreatedAt.IsZero() {
		t.Fatal("CreateUser left CreatedAt zero")
	}
	wantErr(t, "CreateUser with a taken name", s.CreateUser(c, &store.User{Name: "asha"}, nil), store.ErrConflict)

	got, err := s.UserByID(c, u.ID)
	noErr(t, "UserByID", err)
	if got.Name != "asha" || got.DisplayName != "Display asha" || got.EvidenceConsent {
		t.Fatalf("UserByID = %+v", got)
	}
	sameTime(t, "CreatedAt", got.CreatedAt, u.CreatedAt)

	got, pw, err := s.UserByName(c, "asha")
	noErr(t, "UserByName", err)
	if got.ID != u.ID || !bytes.Equal(pw, []byte("pw-asha")) {
		t.Fatalf("UserByName = %+v, %q", got, pw)
	}
	_, _, err = s.UserByName(c, "nobody")
	wantErr(t, "UserByName(unknown)", err, store.ErrNotFound)
	_, err = s.UserByID(c, u.ID+1000)
	wantErr(t, "UserByID(unknown)", err, store.ErrNotFound)

	u.DisplayName, u.EvidenceConsent = "Asha K", true
	noErr(t, "UpdateUser", s.UpdateUser(c, u))
	got, err = s.UserByID(c, u.ID)
	noErr(t, "UserByID", err)
	if got.DisplayName != "Asha K" || !got.EvidenceConsent {
		t.Fatalf("after UpdateUser: %+v", got)
	}
	b := mustUser(t, s, "bea")
	b.Name = "asha"
	wantErr(t, "UpdateUser to a taken name", s.UpdateUser(c, b), store.ErrConflict)
	wantErr(t, "UpdateUser(unknown)", s.UpdateUser(c, &store.User{ID: u.ID + 1000, Name: "x"}), store.ErrNotFound)

	// A user without a password (API-token only) reads back a nil hash.
	noErr(t, "CreateUser without password", s.CreateUser(c, &store.User{Name: "nopw"}, nil))
	_, pw, err = s.UserByName(c, "nopw")
	noErr(t, "UserByName(nopw)", err)
	if len(pw) != 0 {
		t.Fatalf("password hash = %q, want empty", pw)
	}
}

func testTokens(t *testing.T, s store.Store) {
	c := ctx(t)
	a, b := mustUser(t, s, "a"), mustUser(t, s, "b")
	noErr(t, "AddToken a", s.AddToken(c, a.ID, hash("token-a"), "cli"))
	noErr(t, "AddToken a 2", s.AddToken(c, a.ID, hash("token-a2"), "phone"))
	noErr(t, "AddToken b", s.AddToken(c, b.ID, hash("token-b"), "cli"))
	wantErr(t, "AddToken duplicate hash", s.AddToken(c, b.ID, hash("token-a"), "x"), store.ErrConflict)
	wantErr(t, "AddToken for unknown user", s.AddToken(c, b.ID+1000, hash("orphan"), "x"), store.ErrNotFound)

	for token, want := range map[string]int64{"token-a": a.ID, "token-a2": a.ID, "token-b": b.ID} {
		u, err := s.UserByToken(c, hash(token))
		noErr(t, "UserByToken", err)
		if u.ID != want {
			t.Fatalf("UserByToken(%s) = user %d, want %d", token, u.ID, want)
		}
	}
	_, err := s.UserByToken(c, hash("wrong"))
	wantErr(t, "UserByToken(wrong)", err, store.ErrNotFound)
	// Only the hash identifies a token: the clear token is not a key.
	_, err = s.UserByToken(c, []byte("token-a"))
	wantErr(t, "UserByToken(clear token)", err, store.ErrNotFound)
}

func testSessions(t *testing.T, s store.Store) {
	c := ctx(t)
	u := mustUser(t, s, "a")
	exp := time.Now().Add(time.Hour)
	sess := &store.Session{TokenHash: hash("sess"), UserID: u.ID, CSRF: "csrf-1", ExpiresAt: exp}
	noErr(t, "CreateSession", s.CreateSession(c, sess))
	wantErr(t, "CreateSession duplicate", s.CreateSession(c, &store.Session{TokenHash: hash("sess"), UserID: u.ID, CSRF: "x", ExpiresAt: exp}), store.ErrConflict)

	got, err := s.SessionByToken(c, hash("sess"))
	noErr(t, "SessionByToken", err)
	if got.UserID != u.ID || got.CSRF != "csrf-1" || !bytes.Equal(got.TokenHash, hash("sess")) {
		t.Fatalf("SessionByToken = %+v", got)
	}
	sameTime(t, "ExpiresAt", got.ExpiresAt, exp)

	noErr(t, "CreateSession expired", s.CreateSession(c, &store.Session{TokenHash: hash("old"), UserID: u.ID, CSRF: "x", ExpiresAt: time.Now().Add(-time.Second)}))
	_, err = s.SessionByToken(c, hash("old"))
	wantErr(t, "SessionByToken(expired)", err, store.ErrNotFound)

	noErr(t, "DeleteSession", s.DeleteSession(c, hash("sess")))
	_, err = s.SessionByToken(c, hash("sess"))
	wantErr(t, "SessionByToken after delete", err, store.ErrNotFound)
	noErr(t, "DeleteSession twice", s.DeleteSession(c, hash("sess")))
}
