package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/empowerher/empowerher/internal/evidence"
	"github.com/empowerher/empowerher/internal/incident"
	lambdaapp "github.com/empowerher/empowerher/internal/lambda"
	"github.com/empowerher/empowerher/internal/notify"
	"github.com/empowerher/empowerher/internal/server"
	"github.com/empowerher/empowerher/internal/store"
	"github.com/empowerher/empowerher/internal/store/postgres"
	"github.com/empowerher/empowerher/internal/store/sqlite"
)

func init() {
	commands["serve"] = command{summary: "run the HTTP service (predict, alert, incidents, contacts)", run: runServe}
}

// serveConfig is every `serve` setting.
type serveConfig struct {
	Addr, Data, DB, Config, BaseURL, Model           string
	CancelWindow, AckTimeout, HeartbeatTimeout, Tick time.Duration
	MaxEscalations                                   int
	Worker                                           bool
	WorkerConcurrency, MaxAttempts                   int
	DeliveryLease, DeliveryPoll, BackoffBase         time.Duration
	BackoffMax                                       time.Duration
	CORSOrigins                                      string
	MaxUploadMB                                      int
	MaxAudio                                         time.Duration
	PredictRate, SignInRate                          float64
	PredictBurst, SignInBurst                        int
	TrustProxy                                       bool
	MetricsToken, LinkSecret, LinkSecretFile         string
	InstanceID                                       string
	ShutdownTimeout                                  time.Duration
	LogLevel, LogFormat                              string
	// Web app and live listening (internal/server web.go, live.go).
	WasmDir            string
	SecureCookies      bool
	LiveStreamsPerUser int
	LiveIdleTimeout    time.Duration

	SMSProvider, VoiceProvider, EmailProvider string
	WebhookEnabled, WebhookAllowPrivate       bool
	WebhookSecret, WebhookSecretFile          string
	NotifyTimeout                             time.Duration
	SNS                                       notify.SNSConfig
	Twilio                                    notify.TwilioConfig
	TwilioAuthTokenFile                       string
	SMTP                                      notify.SMTPConfig
	SMTPPasswordFile                          string
	// Evidence (issue 5): the same flags as `export` (addEvidenceFlags).
	Evidence evidence.Config
}

func serveFlags(stderr io.Writer) (*flag.FlagSet, *serveConfig) {
	c := &serveConfig{}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "listen on `HOST:PORT` (0.0.0.0:8080 to accept other machines, behind TLS)")
	fs.StringVar(&c.Data, "data", "./empowerher-data", "data `DIR`: SQLite database and the link key")
	fs.StringVar(&c.DB, "db", "", "database `DSN`: postgres://… selects PostgreSQL; empty uses SQLite in --data")
	fs.StringVar(&c.Config, "config", "", "read settings from `FILE` (KEY=VALUE lines or a JSON object)")
	fs.StringVar(&c.BaseURL, "base-url", "", "public `URL` of this server, used in contacts' links (default http://ADDR)")
	fs.StringVar(&c.Model, "model", "", "use the model in `FILE` instead of the embedded one")
	fs.DurationVar(&c.CancelWindow, "cancel-window", incident.DefaultCancelWindow, "countdown before a voice-triggered alert is sent")
	fs.DurationVar(&c.AckTimeout, "ack-timeout", incident.DefaultAckTimeout, "escalate when nobody acknowledges within this")
	fs.DurationVar(&c.HeartbeatTimeout, "heartbeat-timeout", incident.DefaultHeartbeatTimeout, "tell contacts the device went silent after this without heartbeats")
	fs.IntVar(&c.MaxEscalations, "max-escalations", incident.DefaultMaxEscalations, "escalation steps before the service stops escalating")
	fs.DurationVar(&c.Tick, "tick", time.Second, "how often countdowns, escalations and heartbeats are checked")
	fs.BoolVar(&c.Worker, "worker", true, "run the delivery worker in this process")
	fs.IntVar(&c.WorkerConcurrency, "worker-concurrency", 16, "delivery attempts in flight at once")
	fs.IntVar(&c.MaxAttempts, "max-attempts", 8, "attempts per delivery before falling over to the next channel")
	fs.DurationVar(&c.DeliveryLease, "delivery-lease", 2*time.Minute, "a claimed delivery is retried by any instance after this (attempts time out at half of it, at most 30s)")
	fs.DurationVar(&c.DeliveryPoll, "delivery-poll", 500*time.Millisecond, "how often the worker polls the queue")
	fs.DurationVar(&c.BackoffBase, "backoff-base", 2*time.Second, "retry backoff base (full jitter, doubling)")
	fs.DurationVar(&c.BackoffMax, "backoff-max", 5*time.Minute, "retry backoff cap")
	fs.StringVar(&c.CORSOrigins, "cors-origins", "", "comma-separated `ORIGINS` allowed to call the API from browsers (default: none)")
	fs.IntVar(&c.MaxUploadMB, "max-upload-mb", 16, "largest /predict upload in MiB")
	fs.DurationVar(&c.MaxAudio, "max-audio", 60*time.Second, "longest /predict recording")
	fs.Float64Var(&c.PredictRate, "predict-rate", 5, "/predict requests per second per client (0: unlimited)")
	fs.IntVar(&c.PredictBurst, "predict-burst", 20, "/predict burst per client")
	fs.Float64Var(&c.SignInRate, "signin-rate", 0.2, "sign-in attempts per second per client (0: unlimited)")
	fs.IntVar(&c.SignInBurst, "signin-burst", 5, "sign-in burst per client")
	fs.BoolVar(&c.TrustProxy, "trust-proxy", false, "take client addresses from X-Forwarded-For (only behind a proxy that sets it)")
	fs.StringVar(&c.MetricsToken, "metrics-token", "", "require this Bearer `TOKEN` on /metrics (set it in the environment)")
	fs.StringVar(&c.LinkSecret, "link-secret", "", "`SECRET` (≥32 bytes) that derives contacts' link tokens; set it in the environment, identical on every instance")
	fs.StringVar(&c.LinkSecretFile, "link-secret-file", "", "read the link secret from `FILE` (default: DATA/link.key, created on first start)")
	fs.StringVar(&c.InstanceID, "instance-id", "", "name of this instance in delivery leases (default: hostname-random)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "on SIGTERM, wait this long for requests and deliveries in flight")
	fs.StringVar(&c.LogLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&c.LogFormat, "log-format", "text", "text or json")

	fs.StringVar(&c.WasmDir, "wasm-dir", "", "serve detector.wasm and wasm_exec.js (private mode) from `DIR` instead of the embedded copies (`make wasm` output)")
	fs.BoolVar(&c.SecureCookies, "secure-cookies", false, "mark the session cookie Secure even when TLS is not visible to the server (a proxy without X-Forwarded-Proto)")
	fs.IntVar(&c.LiveStreamsPerUser, "live-streams-per-user", 3, "live listening streams one user may hold; a new one beyond it closes her oldest")
	fs.DurationVar(&c.LiveIdleTimeout, "live-idle-timeout", 15*time.Second, "close a live listening stream that sends nothing for this long")
	fs.StringVar(&c.SMSProvider, "sms-provider", "", "SMS provider: sns or twilio (empty: SMS goes to the log)")
	fs.StringVar(&c.VoiceProvider, "voice-provider", "", "voice call provider: twilio (empty: no calls)")
	fs.StringVar(&c.EmailProvider, "email-provider", "", "email provider: smtp (empty: none)")
	fs.BoolVar(&c.WebhookEnabled, "webhook-enabled", false, "enable the signed JSON webhook channel (needs --webhook-secret)")
	fs.StringVar(&c.WebhookSecret, "webhook-secret", "", "HMAC `SECRET` for webhooks (≥16 bytes; set it in the environment)")
	fs.StringVar(&c.WebhookSecretFile, "webhook-secret-file", "", "read the webhook secret from `FILE`")
	fs.BoolVar(&c.WebhookAllowPrivate, "webhook-allow-private", false, "let webhooks reach loopback and private addresses")
	fs.DurationVar(&c.NotifyTimeout, "notify-timeout", 10*time.Second, "timeout of one provider call")
	fs.StringVar(&c.SNS.Region, "sns-region", "", "AWS region for SNS (default: the AWS chain's)")
	fs.StringVar(&c.SNS.EndpointURL, "sns-endpoint-url", "", "SNS endpoint `URL` (local peers such as goaws)")
	fs.StringVar(&c.SNS.TopicARN, "sns-topic-arn", "", "SNS topic `ARN` for contacts without a phone")
	fs.StringVar(&c.SNS.SenderID, "sns-sender-id", "", "SMS sender ID where carriers allow it")
	fs.StringVar(&c.Twilio.AccountSID, "twilio-account-sid", "", "Twilio account SID (AC…)")
	fs.StringVar(&c.Twilio.AuthToken, "twilio-auth-token", "", "Twilio auth `TOKEN` (set it in the environment)")
	fs.StringVar(&c.TwilioAuthTokenFile, "twilio-auth-token-file", "", "read the Twilio auth token from `FILE`")
	fs.StringVar(&c.Twilio.From, "twilio-from", "", "Twilio number messages and calls come from (E.164)")
	fs.StringVar(&c.Twilio.MessagingServiceSID, "twilio-messaging-service-sid", "", "Twilio Messaging Service SID (MG…)")
	fs.StringVar(&c.Twilio.StatusCallbackURL, "twilio-status-callback-url", "", "public `URL` of POST /callbacks/twilio")
	fs.StringVar(&c.Twilio.VoiceLanguage, "twilio-voice-language", "", "language of voice calls, e.g. en-US")
	fs.StringVar(&c.Twilio.BaseURL, "twilio-base-url", "", "replace https://api.twilio.com (tests, proxies)")
	fs.StringVar(&c.SMTP.Host, "smtp-host", "", "SMTP server host")
	fs.IntVar(&c.SMTP.Port, "smtp-port", 0, "SMTP port (default 587)")
	fs.StringVar(&c.SMTP.Username, "smtp-username", "", "SMTP AUTH user")
	fs.StringVar(&c.SMTP.Password, "smtp-password", "", "SMTP AUTH password (set it in the environment)")
	fs.StringVar(&c.SMTPPasswordFile, "smtp-password-file", "", "read the SMTP password from `FILE`")
	fs.StringVar(&c.SMTP.Auth, "smtp-auth", "", "SMTP AUTH mechanism (default: strongest offered)")
	fs.StringVar(&c.SMTP.From, "smtp-from", "", "sender address of alert e-mails")
	fs.StringVar(&c.SMTP.TLS, "smtp-tls", "", "opportunistic (default), mandatory or none")
	fs.BoolVar(&c.SMTP.ImplicitTLS, "smtp-implicit-tls", false, "TLS from the first byte (port 465)")
	addEvidenceFlags(fs, &c.Evidence)
	fs.Usage = flagUsage(fs, "usage: empowerher serve [flags]\n\nEvery flag can also be set by its environment variable or in --config FILE\n(precedence: flag, environment, config file, default).\n\nflags:")
	return fs, c
}

// validate reports every bad setting at once.
func (c *serveConfig) validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		bad("--addr %q: want HOST:PORT, e.g. 127.0.0.1:8080", c.Addr)
	}
	if c.BaseURL != "" {
		if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
			bad("--base-url %q: want an absolute http(s) URL like https://help.example.org", c.BaseURL)
		}
	}
	if c.DB != "" && !strings.HasPrefix(c.DB, "postgres://") && !strings.HasPrefix(c.DB, "postgresql://") && !strings.HasPrefix(c.DB, "sqlite:") {
		bad("--db: want postgres://… or sqlite:PATH (empty: SQLite in --data)")
	}
	for name, d := range map[string]time.Duration{"cancel-window": c.CancelWindow, "ack-timeout": c.AckTimeout,
		"heartbeat-timeout": c.HeartbeatTimeout, "tick": c.Tick, "delivery-lease": c.DeliveryLease,
		"delivery-poll": c.DeliveryPoll, "backoff-base": c.BackoffBase, "backoff-max": c.BackoffMax,
		"max-audio": c.MaxAudio, "shutdown-timeout": c.ShutdownTimeout, "notify-timeout": c.NotifyTimeout} {
		if d <= 0 {
			bad("--%s must be a positive duration such as 10s or 5m", name)
		}
	}
	if c.BackoffMax < c.BackoffBase {
		bad("--backoff-max must be at least --backoff-base")
	}
	if c.DeliveryLease > 0 && c.DeliveryLease < 2*time.Second {
		bad("--delivery-lease must be at least 2s (attempts time out at half of it)")
	}
	if c.MaxEscalations < 1 || c.MaxEscalations > 20 {
		bad("--max-escalations must be between 1 and 20")
	}
	if c.WorkerConcurrency < 1 || c.WorkerConcurrency > 1024 {
		bad("--worker-concurrency must be between 1 and 1024")
	}
	if c.MaxAttempts < 1 || c.MaxAttempts > 100 {
		bad("--max-attempts must be between 1 and 100")
	}
	if c.LiveStreamsPerUser < 1 || c.LiveStreamsPerUser > 1000 {
		bad("--live-streams-per-user must be between 1 and 1000")
	}
	if c.LiveIdleTimeout < time.Second {
		bad("--live-idle-timeout must be at least 1s")
	}
	if c.WasmDir != "" {
		if st, err := os.Stat(c.WasmDir); err != nil || !st.IsDir() {
			bad("--wasm-dir %q is not a directory (build it with `make wasm`)", c.WasmDir)
		}
	}
	if c.MaxUploadMB < 1 || c.MaxUploadMB > 256 {
		bad("--max-upload-mb must be between 1 and 256")
	}
	if c.PredictRate < 0 || c.SignInRate < 0 || c.PredictBurst < 1 || c.SignInBurst < 1 {
		bad("rates must be ≥ 0 and bursts ≥ 1")
	}
	for _, o := range c.origins() {
		if u, err := url.Parse(o); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			bad("--cors-origins: %q is not an origin like https://app.example.org", o)
		} else if o == "*" {
			bad("--cors-origins: * is not allowed; list the origins")
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("--log-level %q: want debug, info, warn or error", c.LogLevel)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("--log-format %q: want text or json", c.LogFormat)
	}
	return errors.Join(errs...)
}

func (c *serveConfig) origins() []string {
	var out []string
	for _, o := range strings.Split(c.CORSOrigins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			out = append(out, strings.TrimRight(o, "/"))
		}
	}
	return out
}

func newLogger(w io.Writer, level, format string) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// openStore opens PostgreSQL for a postgres:// DSN, else SQLite.
func openStore(ctx context.Context, dsn, dataDir string) (store.Store, error) {
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return postgres.Open(ctx, dsn)
	case strings.HasPrefix(dsn, "sqlite:"):
		return sqlite.Open(ctx, strings.TrimPrefix(dsn, "sqlite:"))
	case dsn != "":
		return nil, fmt.Errorf("unsupported database DSN (want postgres://… or sqlite:PATH)")
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	return sqlite.Open(ctx, filepath.Join(dataDir, sqlite.FileName))
}

// linkSecret returns the secret that derives link tokens: the setting, a
// file, or DATA/link.key created with 256 random bits on first start.
func linkSecret(c *serveConfig) ([]byte, bool, error) {
	s, err := readSecret(c.LinkSecret, c.LinkSecretFile, "link secret")
	if err != nil {
		return nil, false, err
	}
	if s != "" {
		if len(s) < 32 {
			return nil, false, errors.New("the link secret must be at least 32 bytes")
		}
		return []byte(s), false, nil
	}
	path := filepath.Join(c.Data, "link.key")
	if b, err := os.ReadFile(path); err == nil {
		if len(b) < 32 {
			return nil, false, fmt.Errorf("%s is shorter than 32 bytes", path)
		}
		return b, true, nil
	}
	if err := os.MkdirAll(c.Data, 0o700); err != nil {
		return nil, false, err
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	key := []byte(hex.EncodeToString(b))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) { // another process made it first
		b, err := os.ReadFile(path)
		return b, true, err
	}
	if err != nil {
		return nil, false, err
	}
	if _, err := f.Write(key); err != nil {
		f.Close()
		return nil, false, err
	}
	return key, true, f.Close()
}

func (c *serveConfig) notifyConfig() (notify.Config, error) {
	var err error
	nc := notify.Config{SMS: c.SMSProvider, Voice: c.VoiceProvider, Email: c.EmailProvider, Webhook: c.WebhookEnabled,
		SNS: c.SNS, Twilio: c.Twilio, SMTP: c.SMTP, Timeout: c.NotifyTimeout}
	nc.Webhooks.AllowPrivateNetworks = c.WebhookAllowPrivate
	if nc.Webhooks.Secret, err = readSecret(c.WebhookSecret, c.WebhookSecretFile, "webhook secret"); err != nil {
		return nc, err
	}
	if nc.Twilio.AuthToken, err = readSecret(c.Twilio.AuthToken, c.TwilioAuthTokenFile, "Twilio auth token"); err != nil {
		return nc, err
	}
	if nc.SMTP.Password, err = readSecret(c.SMTP.Password, c.SMTPPasswordFile, "SMTP password"); err != nil {
		return nc, err
	}
	return nc, nil
}

// evidenceConfigured reports whether serve should keep evidence: a key
// (environment or file) or a bucket was configured. A bucket without a
// key is an error at start, not evidence silently off.
func (c *serveConfig) evidenceConfigured() bool {
	return os.Getenv(evidence.KeyEnv) != "" || c.Evidence.KeyFile != "" || c.Evidence.S3.Bucket != ""
}

// app is everything serve builds around one store: the same on a server
// and on AWS Lambda, so both run the handler the tests exercise.
type app struct {
	st     store.Store
	reg    *notify.Registry
	svc    *incident.Service
	worker *incident.Worker // nil with --worker=false
	api    *server.Server
	ev     evidence.Store // nil: evidence off
	lg     *slog.Logger
}

func (a *app) Close() { a.st.Close() }

// buildApp opens the store and evidence and wires the service, the
// worker and the HTTP API. base is the public URL contacts' links use.
func buildApp(ctx context.Context, c *serveConfig, lg *slog.Logger, base string) (*app, error) {
	nc, err := c.notifyConfig()
	if err != nil {
		return nil, err
	}
	reg, err := notify.NewRegistry(nc, lg)
	if err != nil {
		return nil, fmt.Errorf("channels:\n%w", err)
	}
	secret, fromData, err := linkSecret(c)
	if err != nil {
		return nil, fmt.Errorf("link secret: %w", err)
	}
	if fromData && c.DB != "" && !strings.HasPrefix(c.DB, "sqlite:") {
		lg.Warn("link secret comes from the data directory; with several instances on one PostgreSQL set EMPOWERHER_LINK_SECRET identically on all of them, or links sent by one will not open on another")
	}
	var ev evidence.Store
	if c.evidenceConfigured() {
		ecfg := c.Evidence
		if ecfg.Dir == "" {
			ecfg.Dir = filepath.Join(c.Data, "evidence")
		}
		if ev, err = evidence.Open(ctx, ecfg); err != nil {
			return nil, fmt.Errorf("evidence store: %w", err)
		}
		where := ecfg.Dir
		if ecfg.S3.Bucket != "" {
			where = "s3://" + ecfg.S3.Bucket + "/" + ecfg.S3.Prefix
		}
		lg.Info("evidence: on for users who consent", "store", where, "retention", ecfg.RetentionOrDefault())
	} else {
		lg.Info("evidence: off (no " + evidence.KeyEnv + ", --evidence-key-file or --s3-bucket configured): no audio is kept")
	}
	st, err := openStore(ctx, c.DB, c.Data)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	det, err := loadDetector(c.Model)
	if err != nil {
		// Alerts matter more than /predict: keep serving, say so plainly.
		lg.Error("no detector: /predict will answer 503", "err", err)
	}
	if c.InstanceID == "" {
		host, _ := os.Hostname()
		c.InstanceID = host + "-" + store.NewID()[:8]
	}
	metrics := server.NewMetrics(st)
	a := &app{st: st, reg: reg, ev: ev, lg: lg}
	svcCfg := incident.Config{
		CancelWindow: c.CancelWindow, AckTimeout: c.AckTimeout, HeartbeatTimeout: c.HeartbeatTimeout,
		MaxEscalations: c.MaxEscalations, Links: incident.NewLinks(secret, base), Logger: lg,
	}
	if c.Worker {
		a.worker = incident.NewWorker(st, reg, incident.WorkerConfig{
			Owner: c.InstanceID, Concurrency: c.WorkerConcurrency, Lease: c.DeliveryLease, Poll: c.DeliveryPoll,
			BaseBackoff: c.BackoffBase, MaxBackoff: c.BackoffMax, MaxAttempts: c.MaxAttempts, Logger: lg,
			Observe: metrics.ObserveDelivery,
		})
		svcCfg.Enqueued = a.worker.Wake
	}
	a.svc = incident.New(st, reg, svcCfg)
	opt := server.Options{
		Store: st, Incidents: a.svc, SMSConfigured: reg.SMSConfigured(), Logger: lg, Metrics: metrics,
		CORSOrigins: c.origins(), MaxUploadBytes: int64(c.MaxUploadMB) << 20, MaxAudio: c.MaxAudio,
		PredictRate: c.PredictRate, PredictBurst: c.PredictBurst, SignInRate: c.SignInRate, SignInBurst: c.SignInBurst,
		TrustProxy: c.TrustProxy, MetricsToken: c.MetricsToken,
		TwilioAuthToken: nc.Twilio.AuthToken, TwilioCallbackURL: c.Twilio.StatusCallbackURL,
		Web: server.WebOptions{WasmDir: c.WasmDir, SecureCookies: c.SecureCookies,
			Live: server.LiveOptions{MaxStreamsPerUser: c.LiveStreamsPerUser, IdleTimeout: c.LiveIdleTimeout}},
		Evidence: ev,
	}
	if det != nil {
		opt.Detector = det
	}
	a.api = server.New(opt)
	return a, nil
}

// parseServe parses and validates serve's settings.
func parseServe(args []string, stderr io.Writer) (*serveConfig, error) {
	fs, c := serveFlags(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, nil
		}
		return nil, exitError{2}
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q (serve takes only flags; see --help)", fs.Args())
	}
	if err := applySettings(fs, "config"); err != nil {
		return nil, err
	}
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("invalid settings:\n%w", err)
	}
	return c, nil
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseServe(args, stderr)
	if c == nil {
		return err
	}
	lg := newLogger(stderr, c.LogLevel, c.LogFormat)
	slog.SetDefault(lg)
	if lambdaapp.Running() {
		return runLambda(ctx, c, lg)
	}

	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	base := c.BaseURL
	if base == "" {
		base = "http://" + ln.Addr().String()
	}
	a, err := buildApp(ctx, c, lg, base)
	if err != nil {
		ln.Close()
		return err
	}
	defer a.Close()
	svc, worker, api, reg := a.svc, a.worker, a.api, a.reg

	srv := &http.Server{
		Handler:           api,
		ReadHeaderTimeout: 10 * time.Second,
		// Read/write deadlines are set per request by the server package
		// (so WebSocket upgrades are not cut after two minutes).
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(lg.Handler(), slog.LevelWarn),
	}

	// Background work runs on its own context: on shutdown the HTTP server
	// stops first (requests in flight finish and may still enqueue), then
	// the worker finishes its attempts in flight.
	bg, stopBG := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); svc.Run(bg, c.Tick) }()
	if a.ev != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			evidence.RunSweeper(bg, a.ev, c.Evidence.RetentionOrDefault(), time.Hour, func(n int, err error) {
				if err != nil {
					lg.Error("evidence: retention sweep failed", "err", err)
					return
				}
				lg.Info("evidence: retention sweep", "deleted", n)
			})
		}()
	}
	workerDone := make(chan struct{})
	if worker != nil {
		go func() { defer close(workerDone); worker.Run(bg) }()
	} else {
		close(workerDone)
		lg.Warn("delivery worker disabled (--worker=false): alerts are queued but not sent by this instance")
	}

	lg.Info("listening", "addr", ln.Addr().String(), "base_url", base, "instance", c.InstanceID,
		"channels", strings.Join(reg.Configured(), ","), "worker", c.Worker)

	// Start-up garbage (decoding the model, package initialisation) is
	// returned to the OS now rather than whenever the scavenger gets to it:
	// an idle server should hold only what it uses.
	debug.FreeOSMemory()

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	select {
	case err := <-serveErr:
		stopBG()
		wg.Wait()
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	lg.Info("shutting down: finishing requests and deliveries in flight", "timeout", c.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), c.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		lg.Error("shutdown: requests still running", "err", err)
	}
	stopBG()
	select {
	case <-workerDone:
	case <-sctx.Done():
		lg.Error("shutdown: deliveries still in flight; their leases expire and they are retried")
	}
	api.WaitEvidence()
	wg.Wait()
	lg.Info("stopped")
	return nil
}
