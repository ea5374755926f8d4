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
