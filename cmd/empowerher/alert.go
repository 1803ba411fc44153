package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/empowerher/empowerher/internal/notify"
	"github.com/empowerher/empowerher/internal/store"
)

func init() {
	commands["alert"] = command{summary: "alert test --to +E164: send one test message through the configured channel", run: runAlert}
}

// runAlert implements `empowerher alert test`, the check an operator runs
// after configuring a provider (the prototype's Lambda test). It reads the
// same channel settings as serve (flags, EMPOWERHER_* variables, --config).
func runAlert(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "test" {
		fmt.Fprintln(stderr, "usage: empowerher alert test --to +E164|ADDRESS|URL [--channel sms|voice|email|webhook|log] [channel flags of serve]")
		return exitError{2}
	}
	fs, c := serveFlags(stderr)
	to := fs.String("to", "", "recipient: an E.164 phone number, an e-mail address or a webhook URL (required)")
	channel := fs.String("channel", "", "channel to use (default: sms for a phone, email for an address, webhook for a URL)")
	fs.Usage = flagUsage(fs, "usage: empowerher alert test --to +E164 [--channel KIND] [flags]\n\nSends one test message through the configured channel and prints the provider's id.\nChannel settings are those of `serve` (flags, EMPOWERHER_* variables, --config).\n\nflags:")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return exitError{2}
	}
	if err := applySettings(fs, "config"); err != nil {
		return err
	}
	rcpt, kind, err := testRecipient(*to, *channel)
	if err != nil {
		return err
	}
	nc, err := c.notifyConfig()
	if err != nil {
		return err
	}
	reg, err := notify.NewRegistry(nc, newLogger(stderr, c.LogLevel, c.LogFormat))
	if err != nil {
		return fmt.Errorf("channels:\n%w", err)
	}
	if kind == store.ChannelSMS && !reg.SMSConfigured() {
		fmt.Fprintln(stderr, "note: no SMS provider is configured (--sms-provider sns|twilio); the message goes to the log channel")
		kind = store.ChannelLog
	}
	ch, err := reg.Get(kind)
	if err != nil {
		return err
	}
	msg := notify.Message{
		IdempotencyKey: "test-" + store.NewID(),
		To:             rcpt,
		Subject:        "EmpowerHer test message",
		Body:           "This is a test message from EmpowerHer, sent " + time.Now().UTC().Format("2006-01-02 15:04 MST") + ". If you received it, alerts can reach you on this channel. No action is needed.",
		Purpose:        "test",
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	res, retry, err := ch.Notify(ctx, msg)
	if err != nil {
		hint := "the provider refused it; check the number and the account"
		if retry {
			hint = "a temporary failure; try again"
		}
		return fmt.Errorf("%s: %w (%s)", kind, err, hint)
	}
	fmt.Fprintf(stdout, "sent via %s: provider id %s\n", kind, res.ProviderID)
	return nil
}

// testRecipient works out who --to is and which channel suits it.
func testRecipient(to, channel string) (notify.Recipient, string, error) {
	r := notify.Recipient{Name: "test recipient"}
	kind := channel
	switch {
	case to == "":
		return r, "", errors.New("--to is required (an E.164 number such as +14155550100, an e-mail address or a webhook URL)")
	case strings.HasPrefix(to, "+"):
		if !notify.ValidE164(to) {
			return r, "", fmt.Errorf("--to %q is not an E.164 number (+, country code, number; 8–15 digits)", to)
		}
		r.Phone = to
		if kind == "" {
			kind = store.ChannelSMS
		}
	case strings.HasPrefix(to, "https://") || strings.HasPrefix(to, "http://"):
		r.WebhookURL = to
		if kind == "" {
			kind = store.ChannelWebhook
		}
	case strings.Contains(to, "@"):
		r.Email = to
		if kind == "" {
			kind = store.ChannelEmail
		}
	default:
		return r, "", fmt.Errorf("--to %q: want an E.164 number, an e-mail address or a webhook URL", to)
	}
	switch kind {
	case store.ChannelSMS, store.ChannelVoice, store.ChannelEmail, store.ChannelWebhook, store.ChannelLog:
	default:
		return r, "", fmt.Errorf("--channel %q: want sms, voice, email, webhook or log", kind)
	}
	return r, kind, nil
}
