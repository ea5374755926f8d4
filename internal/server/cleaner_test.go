package server

import (
	"testing"

	"github.com/basketmq/basket/internal/config"
)

func TestLogConfig_CleanupPolicy(t *testing.T) {
	bc, err := config.NewBroker(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		policy          string
		compact, delete bool
	}{
		{"delete", false, true},
		{"compact", true, false},
		{"compact,delete", true, true},
		{"", false, false},
	} {
		lc := LogConfig(bc.ResolveTopic(map[string]string{"cleanup.policy": tc.policy, "retention.ms": "1000",
			"min.cleanable.dirty.ratio": "0.2", "delete.retention.ms": "5", "min.compaction.lag.ms": "6", "max.compaction.lag.ms": "7"}))
		if lc.Compact != tc.compact || (lc.RetentionMs == 1000) != tc.delete {
			t.Errorf("cleanup.policy=%q: compact %v, retention.ms %d", tc.policy, lc.Compact, lc.RetentionMs)
		}
		if lc.MinCleanableDirtyRatio != 0.2 || lc.DeleteRetentionMs != 5 || lc.MinCompactionLagMs != 6 || lc.MaxCompactionLagMs != 7 {
			t.Errorf("cleanup.policy=%q: compaction keys not mapped: %+v", tc.policy, lc)
		}
		if err := lc.Validate(); err != nil {
			t.Errorf("cleanup.policy=%q: %v", tc.policy, err)
		}
	}
}
