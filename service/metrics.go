package service

import (
	"context"
	"math"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/lockworker/lockworker/sync"
)

// Metrics are lockworker's Prometheus metrics, every one named lockworker_….
type Metrics struct {
	registry      *prometheus.Registry
	orders        *prometheus.CounterVec
	passes        *prometheus.CounterVec
	passDuration  *prometheus.HistogramVec
	lastSuccess   *prometheus.GaugeVec
	regionFailed  *prometheus.CounterVec
	regionSkips   *prometheus.CounterVec
	easitRequests *prometheus.CounterVec
	formRequests  *prometheus.CounterVec
}

// NewMetrics registers the metrics on a registry of their own, with the Go
// runtime's and the process's (as lockworker_go_… and lockworker_process_…). activeLocks counts the active locks when the
// metrics are scraped.
func NewMetrics(activeLocks func(ctx context.Context) (int64, error)) *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		orders: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lockworker_orders_total",
			Help: "Orders handled, by region, kind, outcome and reason.",
		}, []string{"region", "kind", "outcome", "reason"}),
		passes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lockworker_passes_total",
			Help: "Passes run, by what started them (schedule, manual, or push: tickets Easit pushed).",
		}, []string{"trigger"}),
		passDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "lockworker_pass_duration_seconds",
			Help:    "How long a pass took in each region.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 12),
		}, []string{"region"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "lockworker_last_successful_pass_timestamp_seconds",
			Help: "When a pass last read the region's orders, in Unix seconds.",
		}, []string{"region"}),
		regionFailed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lockworker_region_failures_total",
			Help: "Passes that could not read the region's orders.",
		}, []string{"region"}),
		regionSkips: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lockworker_region_skipped_total",
			Help: "Scheduled passes that left the region out because its previous pass was still running.",
		}, []string{"region"}),
		easitRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lockworker_easit_requests_total",
			Help: "HTTP requests to Easit GO, by region, operation and status (0: no answer).",
		}, []string{"region", "op", "status"}),
		formRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lockworker_form_service_requests_total",
			Help: "HTTP requests to the form service, by region, operation and status (0: no answer).",
		}, []string{"region", "op", "status"}),
	}
	activeLocksGauge := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "lockworker_active_locks",
		Help: "Logins locked now, across all regions (NaN when the lock store cannot be read).",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, err := activeLocks(ctx)
		if err != nil {
			return math.NaN()
		}
		return float64(n)
	})
	m.registry.MustRegister(m.orders, m.passes, m.passDuration, m.lastSuccess, m.regionFailed, m.regionSkips,
		m.easitRequests, m.formRequests, activeLocksGauge)
	// The runtime's metrics too carry the lockworker_ prefix, as every
	// metric of the service does.
	prometheus.WrapRegistererWithPrefix("lockworker_", m.registry).MustRegister(
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// EasitObserver counts a region's requests to Easit; give it to the Easit
// client.
func (m *Metrics) EasitObserver(region string) func(op string, status int) {
	return func(op string, status int) {
		m.easitRequests.WithLabelValues(region, op, strconv.Itoa(status)).Inc()
	}
}

// FormObserver counts a region's requests to the form service; give it to
// the form service client.
func (m *Metrics) FormObserver(region string) func(op string, status int) {
	return func(op string, status int) {
		m.formRequests.WithLabelValues(region, op, strconv.Itoa(status)).Inc()
	}
}

// regionSkipped counts a scheduled pass that left the region out.
func (m *Metrics) regionSkipped(region string) {
	m.regionSkips.WithLabelValues(region).Inc()
}

// observePass counts what a pass did.
func (m *Metrics) observePass(sum sync.Summary, trigger string, now time.Time) {
	m.passes.WithLabelValues(trigger).Inc()
	for _, r := range sum.Regions {
		m.passDuration.WithLabelValues(r.Code).Observe(r.Duration.Seconds())
		if r.Error != "" {
			m.regionFailed.WithLabelValues(r.Code).Inc()
		} else {
			m.lastSuccess.WithLabelValues(r.Code).Set(float64(now.UnixNano()) / 1e9)
		}
		// A region whose view could not be read whole has the orders of the
		// pages read before: they are counted as any other.
		for _, o := range r.Orders {
			// A deferred order, or a ticket asked for that needed nothing,
			// got no outcome in this pass.
			if o.Outcome == "" || o.Action == sync.ActionDeferred {
				continue
			}
			m.orders.WithLabelValues(r.Code, string(o.Kind), string(o.Outcome), string(o.Reason)).Inc()
		}
	}
}
