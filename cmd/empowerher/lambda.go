package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	lambdaapp "github.com/empowerher/empowerher/internal/lambda"
)

// On AWS Lambda (docs/deploy-aws.md) `serve` runs the same HTTP handler
// behind API Gateway's HTTP API, and the function's EventBridge schedule
// runs what the background goroutines do on a server: one scheduler tick
// (countdowns, escalations, silent devices) and one pass of the delivery
// worker over the queue. Nothing runs between invocations, so each
// request that may have queued deliveries also drains the queue before
// the function returns: a manual SOS goes out with the request, not at
// the next schedule.

// lambdaDrainTimeout bounds the drain after a request; a delivery cut
// off by it keeps its lease and is retried by the next invocation.
const lambdaDrainTimeout = 20 * time.Second

// checkLambda refuses settings that cannot work on Lambda, saying why.
func checkLambda(c *serveConfig) error {
	var errs []error
	if !strings.HasPrefix(c.DB, "postgres://") && !strings.HasPrefix(c.DB, "postgresql://") {
		errs = append(errs, errors.New("on AWS Lambda --db (EMPOWERHER_DB) must be postgres://…: SQLite in the function's /tmp is not shared between instances and is lost when one is recycled, and with it every queued alert"))
	}
	if c.BaseURL == "" {
		errs = append(errs, errors.New("on AWS Lambda --base-url (EMPOWERHER_BASE_URL) is required: the public API Gateway URL contacts' links point to"))
	}
	if c.LinkSecret == "" && c.LinkSecretFile == "" {
		errs = append(errs, errors.New("on AWS Lambda set EMPOWERHER_LINK_SECRET (the same on every instance): a key created in /tmp would differ per instance and links would not open"))
	}
	if c.evidenceConfigured() && c.Evidence.S3.Bucket == "" {
		errs = append(errs, errors.New("on AWS Lambda evidence needs --s3-bucket (EMPOWERHER_S3_BUCKET): the function's disk is not kept"))
	}
	return errors.Join(errs...)
}

// lambdaApp builds the app exactly as serve does and returns the HTTP
// handler Lambda serves; runLambda hands it with tickAndDrain to
// lambdaapp.StartWithSchedule, whose Dispatcher the tests call directly.
func lambdaApp(ctx context.Context, c *serveConfig, lg *slog.Logger) (*app, http.Handler, error) {
	if err := checkLambda(c); err != nil {
		return nil, nil, err
	}
	a, err := buildApp(ctx, c, lg, strings.TrimRight(c.BaseURL, "/"))
	if err != nil {
		return nil, nil, err
	}
	return a, a.drainAfter(a.api), nil
}

func runLambda(ctx context.Context, c *serveConfig, lg *slog.Logger) error {
	a, h, err := lambdaApp(ctx, c, lg)
	if err != nil {
		return err
	}
	defer a.Close()
	lg.Info("serving on AWS Lambda (API Gateway HTTP API v2 and scheduled events)", "base_url", c.BaseURL,
		"channels", strings.Join(a.reg.Configured(), ","), "worker", c.Worker)
	lambdaapp.StartWithSchedule(h, a.tickAndDrain) // never returns
	return nil
}

// tickAndDrain is one scheduled invocation's work.
func (a *app) tickAndDrain(ctx context.Context) error {
	err := a.svc.Tick(ctx)
	if a.worker != nil {
		err = errors.Join(err, a.worker.Drain(ctx))
	}
	return err
}

// drainAfter sends what a request queued before the invocation ends.
func (a *app) drainAfter(h http.Handler) http.Handler {
	if a.worker == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			return
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), lambdaDrainTimeout)
		defer cancel()
		if err := a.worker.Drain(ctx); err != nil {
			a.lg.Error("lambda: draining the delivery queue failed; the schedule retries", "err", err)
		}
	})
}
