package storetest

import (
	"reflect"
	"testing"

	"github.com/empowerher/empowerher/internal/store"
)

func testContacts(t *testing.T, s store.Store) {
	c := ctx(t)
	u := mustUser(t, s, "a")
	second := mustContact(t, s, u.ID, "second", 1)
	first := mustContact(t, s, u.ID, "first", 0)
	hook := &store.Contact{UserID: u.ID, Name: "hook", WebhookURL: "https://example.org/h", Channels: []string{store.ChannelWebhook}, Tier: 0}
	noErr(t, "CreateContact", s.CreateContact(c, hook))
	if first.ID == 0 || first.CreatedAt.IsZero() || first.UpdatedAt.IsZero() {
		t.Fatalf("CreateContact left fields unset: %+v", first)
	}

	list, err := s.ListContacts(c, u.ID)
	noErr(t, "ListContacts", err)
	var names []string
	for _, x := range list {
		names = append(names, x.Name)
	}
	// Escalation order: tier, then creation.
	if want := []string{"first", "hook", "second"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("ListContacts order = %v, want %v", names, want)
	}

	got, err := s.GetContact(c, u.ID, first.ID)
	noErr(t, "GetContact", err)
	if got.Name != "first" || got.Phone != "+15550100" || got.Email != "first@example.org" ||
		!reflect.DeepEqual(got.Channels, []string{store.ChannelSMS, store.ChannelEmail}) || got.UserID != u.ID {
		t.Fatalf("GetContact = %+v", got)
	}
	sameTime(t, "contact CreatedAt", got.CreatedAt, first.CreatedAt)

	second.Channels = []string{store.ChannelVoice, store.ChannelSMS, store.ChannelLog}
	second.Phone, second.Tier = "+447700900123", 2
	noErr(t, "UpdateContact", s.UpdateContact(c, second))
	got, err = s.GetContact(c, u.ID, second.ID)
	noErr(t, "GetContact", err)
	if !reflect.DeepEqual(got.Channels, second.Channels) || got.Phone != "+447700900123" || got.Tier != 2 {
		t.Fatalf("after UpdateContact: %+v", got)
	}
	if got.UpdatedAt.Before(got.CreatedAt) {
		t.Fatalf("UpdatedAt %v before CreatedAt %v", got.UpdatedAt, got.CreatedAt)
	}

	// No channels reads back as empty, not as an error.
	bare := &store.Contact{UserID: u.ID, Name: "bare"}
	noErr(t, "CreateContact bare", s.CreateContact(c, bare))
	got, err = s.GetContact(c, u.ID, bare.ID)
	noErr(t, "GetContact bare", err)
	if len(got.Channels) != 0 {
		t.Fatalf("bare contact channels = %v", got.Channels)
	}

	noErr(t, "DeleteContact", s.DeleteContact(c, u.ID, first.ID))
	_, err = s.GetContact(c, u.ID, first.ID)
	wantErr(t, "GetContact after delete", err, store.ErrNotFound)
	wantErr(t, "DeleteContact twice", s.DeleteContact(c, u.ID, first.ID), store.ErrNotFound)
	wantErr(t, "CreateContact for unknown user", s.CreateContact(c, &store.Contact{UserID: u.ID + 1000, Name: "x"}), store.ErrNotFound)
}

func testContactIsolation(t *testing.T, s store.Store) {
	c := ctx(t)
	a, b := mustUser(t, s, "a"), mustUser(t, s, "b")
	ca := mustContact(t, s, a.ID, "mum", 0)
	mustContact(t, s, b.ID, "dad", 0)

	_, err := s.GetContact(c, b.ID, ca.ID)
	wantErr(t, "B reads A's contact", err, store.ErrNotFound)
	stolen := *ca
	stolen.UserID, stolen.Name = b.ID, "hijacked"
	wantErr(t, "B updates A's contact", s.UpdateContact(c, &stolen), store.ErrNotFound)
	wantErr(t, "B deletes A's contact", s.DeleteContact(c, b.ID, ca.ID), store.ErrNotFound)

	list, err := s.ListContacts(c, b.ID)
	noErr(t, "ListContacts(b)", err)
	if len(list) != 1 || list[0].Name != "dad" {
		t.Fatalf("B's contacts = %+v", list)
	}
	got, err := s.GetContact(c, a.ID, ca.ID)
	noErr(t, "GetContact(a)", err)
	if got.Name != "mum" {
		t.Fatalf("A's contact changed by B: %+v", got)
	}
}
