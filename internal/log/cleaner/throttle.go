package cleaner

import (
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/basketmq/basket/internal/clock"
)

// throttleCheck is how often the throttler compares the rate with the
// limit (Kafka's Throttler checks every 300 ms).
const throttleCheck = 300 * time.Millisecond

// throttler limits the bytes all cleaner goroutines read and write together
// to log.cleaner.io.max.bytes.per.second, by sleeping whoever finds the
// rate of the current period over the limit. Safe for concurrent use.
type throttler struct {
	rate  atomic.Uint64 // math.Float64bits of bytes per second; +Inf or <= 0: no limit
	clock clock.Clock

	mu    sync.Mutex
	start time.Time
	bytes float64
}

func newThrottler(rate float64, clk clock.Clock) *throttler {
	t := &throttler{clock: clk, start: clk.Now()}
	t.setRate(rate)
	return t
}

func (t *throttler) setRate(rate float64) { t.rate.Store(math.Float64bits(rate)) }

func (t *throttler) limit() float64 { return math.Float64frombits(t.rate.Load()) }

func (t *throttler) off() bool {
	r := t.limit()
	return r <= 0 || math.IsInf(r, 1) || r >= math.MaxFloat64
}

// maybeThrottle counts n bytes and sleeps as long as needed to bring the
// period's rate down to the limit, or until quit is closed.
func (t *throttler) maybeThrottle(n int64, quit <-chan struct{}) {
	if t.off() || n <= 0 {
		return
	}
	t.mu.Lock()
	t.bytes += float64(n)
	now := t.clock.Now()
	elapsed := now.Sub(t.start)
	if elapsed < throttleCheck {
		t.mu.Unlock()
		return
	}
	want := time.Duration(t.bytes / t.limit() * float64(time.Second))
	t.start, t.bytes = now, 0
	t.mu.Unlock()
	if sleep := want - elapsed; sleep > 0 {
		timer := t.clock.NewTimer(sleep)
		defer timer.Stop()
		select {
		case <-timer.C():
		case <-quit:
		}
		t.mu.Lock()
		t.start = t.clock.Now()
		t.mu.Unlock()
	}
}
