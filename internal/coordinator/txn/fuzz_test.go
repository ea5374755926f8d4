package txn

import (
	"testing"
	"time"

	"github.com/basketmq/basket/internal/clock"
)

// FuzzReplay feeds arbitrary keys and values (bytes read back from a
// __transaction_state partition) to a loading coordinator: it must return
// an error or apply them, never panic, and a loaded coordinator built
// from them must serve.
func FuzzReplay(f *testing.F) {
	h := newHarness(f)
	pid, epoch := h.mustInit("a")
	h.mustAdd("a", pid, epoch, "t", 0)
	h.add(5, "a", pid, epoch, false, "u", 1)
	for _, r := range h.log {
		f.Add(r.Key, r.Value)
	}
	f.Add([]byte{0, 0}, []byte{0, 1, 0xff})
	f.Fuzz(func(t *testing.T, key, value []byte) {
		c := New(clock.NewFake(time.UnixMilli(0)), DefaultConfig())
		if value == nil {
			value = []byte{}
		}
		_ = c.Replay(Record{Key: key, Value: value})
		_ = c.Replay(Record{Key: key})
		_ = c.Replay(Record{Key: key, Value: value})
		res := c.Loaded()
		for _, m := range res.Markers {
			c.CompleteMarkers(m)
		}
		c.Tick()
	})
}

// TestPartitionFor_MatchesKafka checks the examples of
// docs/format/transaction-state.md.
func TestPartitionFor_MatchesKafka(t *testing.T) {
	for _, tc := range []struct {
		id        string
		of50, of4 int32
	}{{"tx-1", 20, 0}, {"my-txn", 45, 3}} {
		if got := PartitionFor(tc.id, 50); got != tc.of50 {
			t.Errorf("%s of 50: %d, want %d", tc.id, got, tc.of50)
		}
		if got := PartitionFor(tc.id, 4); got != tc.of4 {
			t.Errorf("%s of 4: %d, want %d", tc.id, got, tc.of4)
		}
	}
}
