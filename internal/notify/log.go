package notify

import (
	"context"
	"log/slog"
)

// Log is the channel that writes messages to the log. It is always
// configured, so a fresh server with no credentials still shows, in its
// log, every alert it would have sent.
type Log struct {
	logger *slog.Logger
}

// NewLog returns the log channel; a nil logger uses slog.Default().
func NewLog(logger *slog.Logger) *Log {
	if logger == nil {
		logger = slog.Default()
	}
	return &Log{logger: logger}
}

// Name implements Channel.
func (l *Log) Name() string { return "log" }

// Notify logs m at Warn level (an alert nobody receives deserves notice).
func (l *Log) Notify(ctx context.Context, m Message) (Result, bool, error) {
	l.logger.LogAttrs(ctx, slog.LevelWarn, "notify: message delivered to the log only (no provider configured for this contact)",
		slog.String("idempotency_key", m.IdempotencyKey),
		slog.String("incident_id", m.IncidentID),
		slog.String("purpose", m.Purpose),
		slog.String("recipient", m.To.Name),
		slog.String("subject", m.Subject),
		slog.String("body", m.Body),
		slog.String("url", m.URL),
	)
	return Result{ProviderID: "log-" + m.IdempotencyKey}, false, nil
}
