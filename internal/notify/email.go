package notify

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// SMTPConfig configures e-mail through an SMTP submission server.
type SMTPConfig struct {
	// Host of the SMTP server (EMPOWERHER_SMTP_HOST).
	Host string
	// Port, default 587 (EMPOWERHER_SMTP_PORT); 465 with ImplicitTLS.
	Port int
	// Username for SMTP AUTH (EMPOWERHER_SMTP_USERNAME). Empty: no AUTH.
	Username string
	// Password for SMTP AUTH (EMPOWERHER_SMTP_PASSWORD, or a file named by
	// EMPOWERHER_SMTP_PASSWORD_FILE). Secret: redacted from every error.
	Password string
	// Auth is the SMTP AUTH mechanism (EMPOWERHER_SMTP_AUTH): empty picks
	// the strongest the server offers and never sends a password in clear
	// (PLAIN and LOGIN only under TLS); or one of PLAIN, LOGIN, CRAM-MD5,
	// SCRAM-SHA-1, SCRAM-SHA-256, XOAUTH2; PLAIN-NOENC and LOGIN-NOENC allow
	// clear text, for a trusted relay on the same host.
	Auth string
	// From is the sender, "EmpowerHer <alerts@example.org>" or a bare
	// address (EMPOWERHER_SMTP_FROM). Required.
	From string
	// TLS is "opportunistic" (default: STARTTLS when offered),
	// "mandatory" (refuse to send without STARTTLS) or "none"
	// (EMPOWERHER_SMTP_TLS). Ignored with ImplicitTLS.
	TLS string
	// ImplicitTLS connects with TLS from the first byte (SMTPS, port 465)
	// (EMPOWERHER_SMTP_IMPLICIT_TLS).
	ImplicitTLS bool
	// TLSConfig overrides certificate checks (tests, private CAs). Nil uses
	// the system roots and Host as the server name.
	TLSConfig *tls.Config
	// Timeout bounds one attempt. 0 uses the registry's Timeout.
	Timeout time.Duration
}

// Email sends plain-text e-mail over SMTP with go-mail.
type Email struct {
	cfg      SMTPConfig
	from     *mail.Address
	policy   gomail.TLSPolicy
	redactor *Redactor
}

// NewEmail builds the e-mail channel. It does not connect: a server that
// is down at start-up is a delivery error, retried, not a refusal to run.
func NewEmail(cfg SMTPConfig, red *Redactor) (*Email, error) {
	if cfg.Host == "" {
		return nil, errors.New("notify: smtp: host is required (EMPOWERHER_SMTP_HOST)")
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("notify: smtp: From %q is not an e-mail address (EMPOWERHER_SMTP_FROM)", cfg.From)
	}
	if cfg.Port == 0 {
		cfg.Port = 587
		if cfg.ImplicitTLS {
			cfg.Port = 465
		}
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return nil, fmt.Errorf("notify: smtp: port %d out of range (EMPOWERHER_SMTP_PORT)", cfg.Port)
	}
	if cfg.Password != "" && cfg.Username == "" {
		return nil, errors.New("notify: smtp: password given without a username (EMPOWERHER_SMTP_USERNAME)")
	}
	switch strings.ToUpper(cfg.Auth) {
	case "", "PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256", "XOAUTH2", "PLAIN-NOENC", "LOGIN-NOENC":
	default:
		return nil, fmt.Errorf("notify: smtp: auth mechanism %q not supported (EMPOWERHER_SMTP_AUTH)", cfg.Auth)
	}
	e := &Email{cfg: cfg, from: from, redactor: red}
	switch strings.ToLower(cfg.TLS) {
	case "", "opportunistic":
		e.policy = gomail.TLSOpportunistic
	case "mandatory":
		e.policy = gomail.TLSMandatory
	case "none":
		e.policy = gomail.NoTLS
	default:
		return nil, fmt.Errorf("notify: smtp: TLS policy %q: want opportunistic, mandatory or none (EMPOWERHER_SMTP_TLS)", cfg.TLS)
	}
	if e.cfg.Timeout <= 0 {
		e.cfg.Timeout = defaultTimeout
	}
	return e, nil
}

// Name implements Channel.
func (e *Email) Name() string { return "email" }

// MessageID is the Message-ID (without angle brackets) of the e-mail for an
// idempotency key: the same on every retry, so a receiving system that saw
// the first copy can drop the second.
func MessageID(idempotencyKey, fromDomain string) string {
	sum := sha256.Sum256([]byte(idempotencyKey))
	if fromDomain == "" {
		fromDomain = "empowerher.invalid"
	}
	return "empowerher." + hex.EncodeToString(sum[:16]) + "@" + fromDomain
}

// Notify sends m to m.To.Email.
func (e *Email) Notify(ctx context.Context, m Message) (Result, bool, error) {
	to, err := mail.ParseAddress(m.To.Email)
	if err != nil || to.Name != "" || strings.ContainsAny(m.To.Email, "\r\n") {
		retry, ferr := finish("email", fmt.Errorf("address %q: %w", m.To.Email, ErrInvalidAddress), e.redactor)
		return Result{}, retry, ferr
	}
	msg := gomail.NewMsg()
	if err := msg.FromFormat(e.from.Name, e.from.Address); err != nil {
		retry, ferr := finish("email", err, e.redactor)
		return Result{}, retry, ferr
	}
	if err := msg.AddToFormat(m.To.Name, to.Address); err != nil {
		retry, ferr := finish("email", fmt.Errorf("%v: %w", err, ErrInvalidAddress), e.redactor)
		return Result{}, retry, ferr
	}
	subject := m.Subject
	if subject == "" {
		subject = "EmpowerHer alert"
	}
	msg.Subject(subject)
	domain := e.from.Address[strings.LastIndexByte(e.from.Address, '@')+1:]
	id := MessageID(m.IdempotencyKey, domain)
	msg.SetMessageIDWithValue(id)
	msg.SetDate()
	msg.SetGenHeader("Auto-Submitted", "auto-generated") // RFC 3834: no auto-replies loops
	if m.IncidentID != "" {
		msg.SetGenHeader("X-EmpowerHer-Incident", m.IncidentID)
	}
	msg.SetBodyString(gomail.TypeTextPlain, emailText(m))

	opts := []gomail.Option{
		gomail.WithPort(e.cfg.Port),
		gomail.WithTimeout(e.cfg.Timeout),
		gomail.WithTLSPolicy(e.policy),
	}
	if e.cfg.ImplicitTLS {
		opts = append(opts, gomail.WithSSL())
	}
	if e.cfg.TLSConfig != nil {
		opts = append(opts, gomail.WithTLSConfig(e.cfg.TLSConfig))
	}
	if e.cfg.Username != "" {
		mech := gomail.SMTPAuthAutoDiscover
		if e.cfg.Auth != "" {
			mech = gomail.SMTPAuthType(strings.ToUpper(e.cfg.Auth))
		}
		opts = append(opts, gomail.WithSMTPAuth(mech),
			gomail.WithUsername(e.cfg.Username), gomail.WithPassword(e.cfg.Password))
	}
	client, err := gomail.NewClient(e.cfg.Host, opts...)
	if err != nil {
		retry, ferr := finish("email", err, e.redactor)
		return Result{}, retry, ferr
	}
	ctx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
	defer cancel()
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		retry, ferr := finish("email", err, e.redactor)
		return Result{}, retry, ferr
	}
	return Result{ProviderID: "<" + id + ">"}, false, nil
}

// emailText is the whole message as plain text: body, then the link.
func emailText(m Message) string {
	var b strings.Builder
	b.WriteString(m.Body)
	if m.URL != "" && !strings.Contains(m.Body, m.URL) {
		b.WriteString("\n\n")
		b.WriteString(m.URL)
	}
	b.WriteString("\n")
	return b.String()
}
