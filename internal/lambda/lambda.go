package lambdaapp

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
)

// Running reports whether the process was started by the Lambda runtime,
// which always sets both of these; either one is enough to tell.
func Running() bool {
	return os.Getenv("AWS_LAMBDA_FUNCTION_NAME") != "" || os.Getenv("AWS_LAMBDA_RUNTIME_API") != ""
}

// Handler adapts h to API Gateway HTTP API v2 events.
func Handler(h http.Handler) func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return httpadapter.NewV2(normalize(h)).ProxyWithContext
}

// Start serves h to the Lambda runtime and never returns (the runtime
// library exits the process if its loop ends). Call it only when Running.
func Start(h http.Handler) {
	lambda.Start(Handler(h))
}

// StartWithSchedule is Start for a function that is also invoked by an
// EventBridge schedule: scheduled events call onSchedule (for instance,
// one pass of the delivery worker over the queue) and API Gateway events
// go to h, so one function serves the API and drains its own queue.
func StartWithSchedule(h http.Handler, onSchedule func(context.Context) error) {
	lambda.Start(Dispatcher(h, onSchedule))
}

// Dispatcher routes a raw Lambda event by its shape: an API Gateway HTTP
// API v2 request to h, an EventBridge scheduled event to onSchedule.
// Anything else is an error rather than a guess.
func Dispatcher(h http.Handler, onSchedule func(context.Context) error) func(context.Context, json.RawMessage) (any, error) {
	httpHandler := Handler(h)
	return func(ctx context.Context, raw json.RawMessage) (any, error) {
		var probe struct {
			Version        string `json:"version"`
			RequestContext struct {
				HTTP struct {
					Method string `json:"method"`
				} `json:"http"`
			} `json:"requestContext"`
			Source     string `json:"source"`
			DetailType string `json:"detail-type"`
		}
		if err := json.Unmarshal(raw, &probe); err != nil {
			return nil, fmt.Errorf("lambdaapp: event is not a JSON object: %w", err)
		}
		switch {
		case probe.Version == "2.0" && probe.RequestContext.HTTP.Method != "":
			var ev events.APIGatewayV2HTTPRequest
			if err := json.Unmarshal(raw, &ev); err != nil {
				return nil, fmt.Errorf("lambdaapp: API Gateway event: %w", err)
			}
			return httpHandler(ctx, ev)
		case probe.DetailType == "Scheduled Event" && onSchedule != nil:
			if err := onSchedule(ctx); err != nil {
				return nil, fmt.Errorf("lambdaapp: scheduled run: %w", err)
			}
			return map[string]string{"status": "ok"}, nil
		default:
			return nil, fmt.Errorf("lambdaapp: unsupported event (version %q, source %q, detail-type %q): only API Gateway HTTP API v2 and EventBridge schedules",
				probe.Version, probe.Source, probe.DetailType)
		}
	}
}

// normalize smooths the two places where the adapter's requests and
// responses differ from net/http's, so handlers need no Lambda cases:
//   - RemoteAddr is the bare source IP; net/http always has host:port, and
//     per-IP rate limits split it with net.SplitHostPort.
//   - A handler that returns without writing gets an implicit 200 from
//     net/http, but the adapter turns it into a 502/504 "status code not set".
func normalize(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, _, err := net.SplitHostPort(r.RemoteAddr); err != nil && r.RemoteAddr != "" {
			r.RemoteAddr = net.JoinHostPort(r.RemoteAddr, "0")
		}
		tw := &trackingWriter{ResponseWriter: w}
		h.ServeHTTP(tw, r)
		if !tw.wrote {
			tw.WriteHeader(http.StatusOK)
		}
	})
}

type trackingWriter struct {
	http.ResponseWriter
	wrote bool
}

func (t *trackingWriter) WriteHeader(code int) {
	if t.wrote {
		return // net/http ignores a second WriteHeader; so do we
	}
	t.wrote = true
	t.ResponseWriter.WriteHeader(code)
}

func (t *trackingWriter) Write(b []byte) (int, error) {
	if !t.wrote {
		t.WriteHeader(http.StatusOK)
	}
	return t.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the adapter's writer.
func (t *trackingWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }
