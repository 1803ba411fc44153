package notify

import (
	"context"
	"errors"
	"io"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"mime/quotedprintable"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

const (
	testSMTPUser = "alerts"
	testSMTPPass = "smtp-pass-0123456789"
)

// smtpPeer is an in-process SMTP server (emersion/go-smtp) that requires
// AUTH PLAIN and records what it accepted; fail makes it answer a command
// with a given reply.
type smtpPeer struct {
	addr string
	mu   sync.Mutex
	got  []smtpMail
	// failAt is "MAIL", "RCPT" or "DATA"; failErr the reply there.
	failAt  string
	failErr *smtp.SMTPError
	slow    bool
}

type smtpMail struct {
	From string
	To   []string
	Data string
	Auth string
}

func newSMTPPeer(t *testing.T) *smtpPeer {
	t.Helper()
	p := &smtpPeer{}
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &smtpSession{peer: p}, nil
	}))
	s.Domain = "localhost"
	s.AllowInsecureAuth = true // loopback test peer without a certificate
	s.ReadTimeout = 5 * time.Second
	s.WriteTimeout = 5 * time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = l.Addr().String()
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	return p
}

func (p *smtpPeer) set(at string, e *smtp.SMTPError, slow bool) {
	p.mu.Lock()
	p.failAt, p.failErr, p.slow = at, e, slow
	p.mu.Unlock()
}

func (p *smtpPeer) fail(at string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.slow && at == "MAIL" {
		time.Sleep(2 * testTimeout)
	}
	if p.failAt == at {
		return p.failErr
	}
	return nil
}

func (p *smtpPeer) mails() []smtpMail {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]smtpMail(nil), p.got...)
}

type smtpSession struct {
	peer *smtpPeer
	cur  smtpMail
}

func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *smtpSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if user != testSMTPUser || pass != testSMTPPass {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "bad credentials"}
		}
		s.cur.Auth = user
		return nil
	}), nil
}

func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.cur.Auth == "" {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "authentication required"}
	}
	if err := s.peer.fail("MAIL"); err != nil {
		return err
	}
	s.cur.From = from
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if err := s.peer.fail("RCPT"); err != nil {
		return err
	}
	s.cur.To = append(s.cur.To, to)
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if err := s.peer.fail("DATA"); err != nil {
		return err
	}
	s.cur.Data = string(b)
	s.peer.mu.Lock()
	s.peer.got = append(s.peer.got, s.cur)
	s.peer.mu.Unlock()
	return nil
}

func (s *smtpSession) Reset()        { s.cur = smtpMail{Auth: s.cur.Auth} }
func (s *smtpSession) Logout() error { return nil }

func newTestEmail(t *testing.T, addr, pass, tlsPolicy string) *Email {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	var p int
	for _, c := range port {
		p = p*10 + int(c-'0')
	}
	ch, err := NewEmail(SMTPConfig{Host: host, Port: p, Username: testSMTPUser, Password: pass,
		Auth: "PLAIN-NOENC", From: "EmpowerHer <alerts@empowerher.example>", TLS: tlsPolicy, Timeout: testTimeout}, NewRedactor(pass))
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

func TestEmailDelivers(t *testing.T) {
	p := newSMTPPeer(t)
	ch := newTestEmail(t, p.addr, testSMTPPass, "")
	m := testMessage()
	res, retry, err := ch.Notify(context.Background(), m)
	if err != nil || retry {
		t.Fatalf("Notify: %v (retry %v)", err, retry)
	}
	wantID := "<" + MessageID(m.IdempotencyKey, "empowerher.example") + ">"
	if res.ProviderID != wantID {
		t.Errorf("ProviderID = %q, want %q", res.ProviderID, wantID)
	}
	got := p.mails()
	if len(got) != 1 {
		t.Fatalf("%d mails", len(got))
	}
	g := got[0]
	if g.Auth != testSMTPUser || g.From != "alerts@empowerher.example" || len(g.To) != 1 || g.To[0] != "sam@example.org" {
		t.Errorf("envelope %+v", g)
	}
	msg, err := mail.ReadMessage(strings.NewReader(g.Data))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(msg.Body)
	if s := msg.Header.Get("Subject"); s != m.Subject {
		t.Errorf("Subject = %q", s)
	}
	if id := msg.Header.Get("Message-Id"); id != wantID {
		t.Errorf("Message-ID = %q, want %q", id, wantID)
	}
	if from := msg.Header.Get("From"); !strings.Contains(from, "alerts@empowerher.example") {
		t.Errorf("From = %q", from)
	}
	if to := msg.Header.Get("To"); !strings.Contains(to, "sam@example.org") {
		t.Errorf("To = %q", to)
	}
	if ct := msg.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type = %q", ct)
	}
	text := decodeBody(t, msg.Header.Get("Content-Transfer-Encoding"), body)
	if !strings.Contains(text, m.Body) {
		t.Errorf("body %q lacks the message %q", text, m.Body)
	}
	// Same key, same Message-ID: receivers can drop the retry's copy.
	if _, _, err := ch.Notify(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	again, _ := mail.ReadMessage(strings.NewReader(p.mails()[1].Data))
	if again.Header.Get("Message-Id") != wantID {
		t.Errorf("retry Message-ID %q differs", again.Header.Get("Message-Id"))
	}
}

func decodeBody(t *testing.T, cte string, b []byte) string {
	t.Helper()
	switch strings.ToLower(cte) {
	case "quoted-printable":
		r := io.Reader(strings.NewReader(string(b)))
		out, err := io.ReadAll(newQPReader(r))
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	case "", "7bit", "8bit":
		return string(b)
	}
	t.Fatalf("unexpected Content-Transfer-Encoding %q", cte)
	return ""
}

func TestEmailFaults(t *testing.T) {
	p := newSMTPPeer(t)
	ch := newTestEmail(t, p.addr, testSMTPPass, "")
	cases := []struct {
		name  string
		at    string
		reply *smtp.SMTPError
		slow  bool
		retry bool
	}{
		{"rcpt 450 mailbox busy", "RCPT", &smtp.SMTPError{Code: 450, EnhancedCode: smtp.EnhancedCode{4, 2, 1}, Message: "mailbox busy"}, false, true},
		{"rcpt 550 no such user", "RCPT", &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}, false, false},
		{"mail 421 shutting down", "MAIL", &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "try later"}, false, true},
		{"data 451 local error", "DATA", &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "local error"}, false, true},
		{"data 554 rejected", "DATA", &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "rejected as spam"}, false, false},
		{"slow server", "", nil, true, true},
	}
	for _, c := range cases {
		p.set(c.at, c.reply, c.slow)
		start := time.Now()
		_, retry, err := ch.Notify(context.Background(), testMessage())
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if retry != c.retry {
			t.Errorf("%s: retry = %v, want %v (%v)", c.name, retry, c.retry, err)
		}
		if c.slow && time.Since(start) > 4*testTimeout {
			t.Errorf("slow server: attempt took %v", time.Since(start))
		}
	}
	p.set("", nil, false)

	// Wrong password: permanent (535), and the password is not in the error.
	bad := newTestEmail(t, p.addr, "wrong-password-42", "")
	if _, retry, err := bad.Notify(context.Background(), testMessage()); err == nil || retry || strings.Contains(err.Error(), "wrong-password-42") {
		t.Errorf("bad password: retry=%v err=%v", retry, err)
	}
	// TLS mandatory against a server without STARTTLS: nothing is sent.
	n := len(p.mails())
	strict := newTestEmail(t, p.addr, testSMTPPass, "mandatory")
	if _, _, err := strict.Notify(context.Background(), testMessage()); err == nil {
		t.Error("mandatory TLS sent in clear")
	}
	if len(p.mails()) != n {
		t.Error("mail accepted without TLS")
	}
	// Nobody listening: connection refused, retry.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	down := newTestEmail(t, addr, testSMTPPass, "")
	if _, retry, err := down.Notify(context.Background(), testMessage()); err == nil || !retry {
		t.Errorf("refused: retry=%v err=%v", retry, err)
	}
	// Invalid recipient address: permanent, no connection needed.
	m := testMessage()
	m.To.Email = "not an address"
	if _, retry, err := ch.Notify(context.Background(), m); retry || !errors.Is(err, ErrInvalidAddress) {
		t.Errorf("bad address: retry=%v err=%v", retry, err)
	}
}

func TestNewEmailValidates(t *testing.T) {
	for name, c := range map[string]SMTPConfig{
		"no host":   {From: "a@b.example"},
		"bad from":  {Host: "h", From: "nobody"},
		"bad tls":   {Host: "h", From: "a@b.example", TLS: "sometimes"},
		"pass only": {Host: "h", From: "a@b.example", Password: "x"},
		"bad port":  {Host: "h", From: "a@b.example", Port: 70000},
		"bad auth":  {Host: "h", From: "a@b.example", Auth: "MAGIC"},
	} {
		if _, err := NewEmail(c, nil); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func newQPReader(r io.Reader) io.Reader { return quotedprintable.NewReader(r) }

func TestEmailNeverSendsPasswordInClearByDefault(t *testing.T) {
	p := newSMTPPeer(t)
	host, port, _ := net.SplitHostPort(p.addr)
	var pn int
	for _, c := range port {
		pn = pn*10 + int(c-'0')
	}
	ch, err := NewEmail(SMTPConfig{Host: host, Port: pn, Username: testSMTPUser, Password: testSMTPPass,
		From: "alerts@empowerher.example", Timeout: testTimeout}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ch.Notify(context.Background(), testMessage()); err == nil {
		t.Fatal("default auth sent PLAIN over an unencrypted connection")
	}
	if len(p.mails()) != 0 {
		t.Fatal("mail accepted")
	}
}
