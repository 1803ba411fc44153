package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/empowerher/empowerher/internal/notify"
)

func TestAlertTestRejectsBadRecipients(t *testing.T) {
	for _, args := range [][]string{
		{"test"},
		{"test", "--to", "0123"},
		{"test", "--to", "+0123456789"},
		{"test", "--to", "+14155550100", "--channel", "pigeon"},
	} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), append([]string{"alert"}, args...), &out, &errb); code == 0 {
			t.Errorf("alert %v succeeded", args)
		}
	}
}

func TestAlertTestWithoutProviderUsesLog(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"alert", "test", "--to", "+14155550100"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "no SMS provider is configured") || !strings.Contains(out.String(), "sent via log") {
		t.Fatalf("stdout %q stderr %q", out.String(), errb.String())
	}
}

// The webhook test message reaches a real receiver, signed.
func TestAlertTestWebhook(t *testing.T) {
	const secret = "0123456789abcdef0123"
	got := make(chan notify.WebhookPayload, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !notify.VerifyWebhook(secret, r.Header.Get(notify.HeaderWebhookTimestamp), body, r.Header.Get(notify.HeaderWebhookSignature)) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var p notify.WebhookPayload
		json.Unmarshal(body, &p)
		got <- p
	}))
	defer srv.Close()
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"alert", "test", "--to", srv.URL, "--webhook-enabled", "--webhook-secret", secret, "--webhook-allow-private"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	select {
	case p := <-got:
		if p.Purpose != "test" || !strings.Contains(p.Body, "test message") {
			t.Fatalf("payload %+v", p)
		}
	default:
		t.Fatal("receiver got nothing")
	}
}
