package notify

import (
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"
)

// defaultTimeout bounds one delivery attempt when nothing else is set.
const defaultTimeout = 10 * time.Second

// Config says which provider serves each channel kind and how to reach it.
// The zero Config is valid: only the log channel is configured.
// Secrets (AuthToken, Password, Secret) are filled from the environment or
// files by the server's flag helper, never from code or the database.
type Config struct {
	// SMS is the provider for "sms": "sns", "twilio", or "" for none
	// (EMPOWERHER_SMS_PROVIDER).
	SMS string
	// Voice is the provider for "voice": "twilio" or "" for none
	// (EMPOWERHER_VOICE_PROVIDER).
	Voice string
	// Email is the provider for "email": "smtp" or "" for none
	// (EMPOWERHER_EMAIL_PROVIDER).
	Email string
	// Webhook enables the "webhook" channel (EMPOWERHER_WEBHOOK_ENABLED);
	// it needs Webhooks.Secret.
	Webhook bool

	SNS      SNSConfig     // used when SMS is "sns"
	Twilio   TwilioConfig  // used when SMS or Voice is "twilio"
	SMTP     SMTPConfig    // used when Email is "smtp"
	Webhooks WebhookConfig // used when Webhook is true

	// Timeout bounds each delivery attempt of every channel whose own
	// Timeout is 0 (EMPOWERHER_NOTIFY_TIMEOUT); default 10s.
	Timeout time.Duration
	// ExtraSecrets are more strings to redact from every error text.
	ExtraSecrets []string
}

// Registry holds the configured channels.
type Registry struct {
	channels map[string]Channel
	redactor *Redactor
}

// Kinds lists every channel kind, in fall-over order of preference.
var Kinds = []string{"sms", "voice", "email", "webhook", "log"}

// NewRegistry validates cfg and builds its channels. Every problem found is
// reported at once, each with the setting to fix.
func NewRegistry(cfg Config, logger *slog.Logger) (*Registry, error) {
	if logger == nil {
		logger = slog.Default()
	}
	if cfg.Timeout < 0 {
		return nil, errors.New("notify: timeout must not be negative (EMPOWERHER_NOTIFY_TIMEOUT)")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = defaultTimeout
	}
	inherit := func(d *time.Duration) {
		if *d <= 0 {
			*d = cfg.Timeout
		}
	}
	inherit(&cfg.SNS.Timeout)
	inherit(&cfg.Twilio.Timeout)
	inherit(&cfg.SMTP.Timeout)
	inherit(&cfg.Webhooks.Timeout)

	red := NewRegistryRedactor(cfg)
	r := &Registry{channels: map[string]Channel{"log": NewLog(logger)}, redactor: red}
	var errs []error
	seen := map[string]bool{}
	add := func(ch Channel, err error) {
		if err != nil {
			// SMS and voice share the Twilio settings: say each problem once.
			if !seen[err.Error()] {
				seen[err.Error()] = true
				errs = append(errs, err)
			}
			return
		}
		r.channels[ch.Name()] = ch
	}

	switch strings.ToLower(cfg.SMS) {
	case "":
	case "sns":
		add(snsChannel(cfg.SNS, red))
	case "twilio":
		add(twilioChannel("sms", cfg.Twilio, red))
	case "log":
		// Explicitly: SMS goes to the log. Still reported as not configured.
	default:
		errs = append(errs, fmt.Errorf("notify: SMS provider %q: want sns or twilio (EMPOWERHER_SMS_PROVIDER)", cfg.SMS))
	}
	switch strings.ToLower(cfg.Voice) {
	case "":
	case "twilio":
		add(twilioChannel("voice", cfg.Twilio, red))
	default:
		errs = append(errs, fmt.Errorf("notify: voice provider %q: want twilio (EMPOWERHER_VOICE_PROVIDER)", cfg.Voice))
	}
	switch strings.ToLower(cfg.Email) {
	case "":
	case "smtp":
		add(emailChannel(cfg.SMTP, red))
	default:
		errs = append(errs, fmt.Errorf("notify: email provider %q: want smtp (EMPOWERHER_EMAIL_PROVIDER)", cfg.Email))
	}
	if cfg.Webhook {
		add(webhookChannel(cfg.Webhooks, red))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if !r.SMSConfigured() {
		logger.Warn("notify: no SMS provider is configured; SMS alerts will only be written to the log. Set EMPOWERHER_SMS_PROVIDER=sns or twilio.")
	}
	logger.Info("notify: channels configured", slog.String("channels", strings.Join(r.Configured(), ",")))
	return r, nil
}

// Typed-nil guards: a constructor's nil *T must not become a non-nil Channel.
func snsChannel(c SNSConfig, red *Redactor) (Channel, error) {
	ch, err := NewSNS(c, red)
	if err != nil {
		return nil, err
	}
	return ch, nil
}

func twilioChannel(kind string, c TwilioConfig, red *Redactor) (Channel, error) {
	ch, err := NewTwilio(kind, c, red)
	if err != nil {
		return nil, err
	}
	return ch, nil
}

func emailChannel(c SMTPConfig, red *Redactor) (Channel, error) {
	ch, err := NewEmail(c, red)
	if err != nil {
		return nil, err
	}
	return ch, nil
}

func webhookChannel(c WebhookConfig, red *Redactor) (Channel, error) {
	ch, err := NewWebhook(c, red)
	if err != nil {
		return nil, err
	}
	return ch, nil
}

// NewRegistryRedactor is a Redactor for every secret in cfg, for callers
// that log configuration problems themselves.
func NewRegistryRedactor(cfg Config) *Redactor {
	secrets := append([]string{cfg.Twilio.AuthToken, cfg.SMTP.Password, cfg.Webhooks.Secret}, cfg.ExtraSecrets...)
	return NewRedactor(secrets...)
}

// Get returns the channel for kind, or an error wrapping ErrNotConfigured.
// "log" is always configured.
func (r *Registry) Get(kind string) (Channel, error) {
	if ch, ok := r.channels[kind]; ok {
		return ch, nil
	}
	return nil, fmt.Errorf("%w: %q", ErrNotConfigured, kind)
}

// Configured lists the configured kinds, in the order of Kinds.
func (r *Registry) Configured() []string {
	out := make([]string, 0, len(r.channels))
	for _, k := range Kinds {
		if _, ok := r.channels[k]; ok {
			out = append(out, k)
		}
	}
	extra := []string{}
	for k := range r.channels {
		if !contains(Kinds, k) {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	return append(out, extra...)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// SMSConfigured reports whether a real SMS provider is configured, so the
// server can say plainly when it is not.
func (r *Registry) SMSConfigured() bool {
	_, ok := r.channels["sms"]
	return ok
}

// Redact removes the configured secrets from s.
func (r *Registry) Redact(s string) string { return r.redactor.Redact(s) }
