package cleaner

import (
	"math"
	"sync"
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
	rate  float64 // bytes per second; +Inf or <= 0: no limit
	clock clock.Clock

	mu    sync.Mutex
	start time.Time
	bytes float64
}

func newThrottler(rate float64, clk clock.Clock) *throttler {
	return &throttler{rate: rate, clock: clk, start: clk.Now()}
}

func (t *throttler) off() bool {
	return t.rate <= 0 || math.IsInf(t.rate, 1) || t.rate >= math.MaxFloat64
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
	want := time.Duration(t.bytes / t.rate * float64(time.Second))
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
