package main

import (
	"log/slog"
	"testing"
	"time"
)

// basket.transaction.version stands in for Kafka's transaction.version
// feature (KIP-1022): 2 by default, as a new Kafka 4.x cluster, and 0 to
// keep clients on the classic protocol; the KAFKA-18654 retry backoffs
// take Kafka's keys.
func TestServe_TransactionConfig(t *testing.T) {
	for _, tc := range []struct {
		overrides           []string
		tv                  int16
		backoff, backoffMax time.Duration
	}{
		{nil, 2, 20 * time.Millisecond, 100 * time.Millisecond},
		{[]string{"basket.transaction.version=0", "add.partitions.to.txn.retry.backoff.ms=5",
			"add.partitions.to.txn.retry.backoff.max.ms=50"}, 0, 5 * time.Millisecond, 50 * time.Millisecond},
	} {
		b, err := brokerConfig(serveFlags{dataDir: t.TempDir(), overrides: tc.overrides})
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := serverConfig(b, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.TransactionVersion != tc.tv || cfg.AddPartitionsRetryBackoff != tc.backoff || cfg.AddPartitionsRetryBackoffMax != tc.backoffMax {
			t.Errorf("overrides %v: transaction version %d, backoff %v max %v", tc.overrides,
				cfg.TransactionVersion, cfg.AddPartitionsRetryBackoff, cfg.AddPartitionsRetryBackoffMax)
		}
	}
	if _, err := brokerConfig(serveFlags{overrides: []string{"basket.transaction.version=3"}}); err == nil {
		t.Error("basket.transaction.version=3 accepted")
	}
}
