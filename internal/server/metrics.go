package server

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/empowerher/empowerher/internal/store"
)

// Metrics is the service's Prometheus registry. It is private (not the
// global default registry), so tests can build many servers in one process
// and nothing a library registers globally leaks into /metrics.
type Metrics struct {
	Registry    *prometheus.Registry
	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	predictions *prometheus.CounterVec
	deliveries  *prometheus.CounterVec
	deliverySec *prometheus.HistogramVec
}

// NewMetrics registers every metric; st (may be nil) feeds the queue
// depth gauge at scrape time.
func NewMetrics(st store.Store) *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "empowerher_http_requests_total", Help: "HTTP requests by route pattern and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "empowerher_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route"}),
		predictions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "empowerher_predictions_total", Help: "Clips analysed by /predict, by prediction.",
		}, []string{"prediction"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "empowerher_deliveries_total", Help: "Delivery attempts by channel and outcome (sent, retry, failed, fallover).",
		}, []string{"channel", "outcome"}),
		deliverySec: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "empowerher_delivery_attempt_seconds", Help: "Provider call latency by channel.",
			Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"channel"}),
	}
	m.Registry.MustRegister(m.requests, m.duration, m.predictions, m.deliveries, m.deliverySec,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if st != nil {
		m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "empowerher_delivery_queue_depth", Help: "Deliveries waiting or being sent (queued + sending).",
		}, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			n, err := st.QueueDepth(ctx)
			if err != nil {
				return -1
			}
			return float64(n)
		}))
	}
	return m
}

func (m *Metrics) request(route string, code int, took time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
	m.duration.WithLabelValues(route).Observe(took.Seconds())
}

// ObserveDelivery is the delivery worker's hook.
func (m *Metrics) ObserveDelivery(channel, outcome string, took time.Duration) {
	m.deliveries.WithLabelValues(channel, outcome).Inc()
	if took > 0 {
		m.deliverySec.WithLabelValues(channel).Observe(took.Seconds())
	}
}

func (m *Metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
}
