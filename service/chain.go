package service

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// auditChainCollector reports the audit trail's chain head when the metrics
// are scraped, so that an outside system can record it and later prove that
// no entry up to it was changed: lockworker_audit_chain_head, the number of
// the head entry, labelled with the head's fingerprint (letters only).
type auditChainCollector struct {
	desc *prometheus.Desc
	head func(ctx context.Context) (seq int64, fingerprint string, err error)
}

func (c auditChainCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c auditChainCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	seq, fingerprint, err := c.head(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(seq), fingerprint)
}

// WatchAuditChain exposes the audit trail's chain: its head, read by head at
// each scrape, and whether the check at start found the chain whole.
func (m *Metrics) WatchAuditChain(head func(ctx context.Context) (int64, string, error), verified bool) {
	ok := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "lockworker_audit_chain_verified",
		Help: "1 when the check of the audit trail's newest entries at start found the chain whole, else 0.",
	})
	if verified {
		ok.Set(1)
	}
	m.registry.MustRegister(ok, auditChainCollector{
		desc: prometheus.NewDesc("lockworker_audit_chain_head",
			"The number of the audit trail's newest entry, labelled with the fingerprint of its hash.",
			[]string{"fingerprint"}, nil),
		head: head,
	})
}
