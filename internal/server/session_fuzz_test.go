package server

import "testing"

// FuzzCheckPassword: a stored hash is parsed from the database; no value
// of it may panic or make the check allocate without bound (memory is
// capped at 64 MiB), and the answer is deterministic.
func FuzzCheckPassword(f *testing.F) {
	f.Add(string(hashPassword("correct horse")), "correct horse")
	f.Add("argon2id$2$19456$1$AAAA$AAAA", "x")
	f.Add("argon2id$10$262144$255$$", "")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, stored, pw string) {
		if checkPassword([]byte(stored), pw) != checkPassword([]byte(stored), pw) {
			t.Fatal("unstable result")
		}
	})
}

func TestPasswordHashRoundTrip(t *testing.T) {
	h := hashPassword("correct horse")
	if !checkPassword(h, "correct horse") || checkPassword(h, "correct horsf") || checkPassword(nil, "") {
		t.Fatal("password check wrong")
	}
	if string(h) == string(hashPassword("correct horse")) {
		t.Fatal("hashes are not salted")
	}
}
