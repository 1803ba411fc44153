package notify

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"testing"
)

func TestRegistryDefaultsToLog(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	r, err := NewRegistry(Config{}, logger)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Configured(); !reflect.DeepEqual(got, []string{"log"}) {
		t.Errorf("Configured = %v", got)
	}
	if r.SMSConfigured() {
		t.Error("SMSConfigured with nothing configured")
	}
	if !strings.Contains(buf.String(), "no SMS provider is configured") {
		t.Errorf("no plain warning in log: %s", buf.String())
	}
	for _, k := range []string{"sms", "voice", "email", "webhook"} {
		if _, err := r.Get(k); !errors.Is(err, ErrNotConfigured) {
			t.Errorf("Get(%q) = %v, want ErrNotConfigured", k, err)
		}
	}
	ch, err := r.Get("log")
	if err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	m := testMessage()
	res, retry, err := ch.Notify(context.Background(), m)
	if err != nil || retry || res.ProviderID != "log-"+m.IdempotencyKey {
		t.Errorf("log Notify = %+v, %v, %v", res, retry, err)
	}
	if !strings.Contains(buf.String(), "Alex needs help now") || !strings.Contains(buf.String(), m.IdempotencyKey) {
		t.Errorf("log lacks the message: %s", buf.String())
	}
}

func TestRegistryBuildsConfiguredChannels(t *testing.T) {
	awsTestEnv(t)
	cfg := Config{
		SMS: "twilio", Voice: "twilio", Email: "smtp", Webhook: true,
		Twilio:   TwilioConfig{AccountSID: testTwilioSID, AuthToken: testTwilioToken, From: testTwilioFrom},
		SMTP:     SMTPConfig{Host: "smtp.example.org", From: "alerts@example.org", Username: "u", Password: testSMTPPass},
		Webhooks: WebhookConfig{Secret: testWebhookSecret},
	}
	r, err := NewRegistry(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Configured(); !reflect.DeepEqual(got, []string{"sms", "voice", "email", "webhook", "log"}) {
		t.Errorf("Configured = %v", got)
	}
	if !r.SMSConfigured() {
		t.Error("SMS not configured")
	}
	for _, k := range r.Configured() {
		ch, err := r.Get(k)
		if err != nil || ch.Name() != k {
			t.Errorf("Get(%q) = %v, %v", k, ch, err)
		}
	}
	if got := r.Redact("token " + testTwilioToken + " pass " + testSMTPPass); strings.Contains(got, testTwilioToken) || strings.Contains(got, testSMTPPass) {
		t.Errorf("Redact = %q", got)
	}

	cfg = Config{SMS: "sns", SNS: SNSConfig{Region: "eu-west-1"}}
	r, err = NewRegistry(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if ch, _ := r.Get("sms"); ch == nil || reflect.TypeOf(ch) != reflect.TypeOf(&SNS{}) {
		t.Errorf("sms channel %T, want *SNS", ch)
	}
}

func TestRegistryReportsEveryProblem(t *testing.T) {
	cfg := Config{
		SMS: "carrier-pigeon", Voice: "twilio", Email: "smtp", Webhook: true,
		Twilio: TwilioConfig{AccountSID: "AC1", AuthToken: "tok-secret-1234"},
	}
	_, err := NewRegistry(cfg, slog.New(slog.DiscardHandler))
	if err == nil {
		t.Fatal("bad config accepted")
	}
	msg := err.Error()
	for _, want := range []string{"carrier-pigeon", "EMPOWERHER_SMS_PROVIDER", "EMPOWERHER_TWILIO_FROM", "EMPOWERHER_SMTP_HOST", "EMPOWERHER_WEBHOOK_SECRET"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "tok-secret-1234") {
		t.Errorf("error leaks the token:\n%s", msg)
	}
	if _, err := NewRegistry(Config{Timeout: -1}, nil); err == nil {
		t.Error("negative timeout accepted")
	}
}
