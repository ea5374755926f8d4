package main

import (
	"math"
	"sync"
	"testing"
	"time"
)

func TestHistogram_BucketsRoundTrip(t *testing.T) {
	for _, v := range []int64{0, 1, 127, 128, 129, 255, 256, 1000, 1 << 20, 123456789, math.MaxInt64} {
		lo, hi := bucketBounds(bucketOf(v))
		if v < lo || v > hi {
			t.Errorf("value %d: bucket %d holds [%d, %d]", v, bucketOf(v), lo, hi)
		}
		if rel := float64(hi-lo) / float64(max(lo, 1)); rel > 1.0/subCount {
			t.Errorf("value %d: bucket [%d, %d] is %.4f wide, want <= %.4f", v, lo, hi, rel, 1.0/subCount)
		}
	}
	if got := bucketOf(math.MaxInt64); got >= numBuckets {
		t.Errorf("bucketOf(MaxInt64) = %d, past the last bucket %d", got, numBuckets-1)
	}
}

// near reports whether got is within the histogram's precision of want.
func near(got, want time.Duration) bool {
	return math.Abs(float64(got-want)) <= float64(want)/subCount
}

func TestHistogram_Quantile(t *testing.T) {
	// 1..10000 µs, once each: the nearest-rank q-quantile is q*10000 µs.
	h := NewHistogram()
	for i := 1; i <= 10000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	tests := []struct {
		q    float64
		want time.Duration
	}{
		{0.0001, 1 * time.Microsecond},
		{0.50, 5000 * time.Microsecond},
		{0.95, 9500 * time.Microsecond},
		{0.99, 9900 * time.Microsecond},
		{0.999, 9990 * time.Microsecond},
		{1, 10000 * time.Microsecond},
	}
	for _, tt := range tests {
		if got := h.Quantile(tt.q); !near(got, tt.want) {
			t.Errorf("Quantile(%v) = %v, want %v within %.2f%%", tt.q, got, tt.want, 100.0/subCount)
		}
	}
	if h.Count() != 10000 || h.Min() != time.Microsecond || h.Max() != 10*time.Millisecond {
		t.Errorf("count, min, max = %d, %v, %v; want 10000, 1µs, 10ms", h.Count(), h.Min(), h.Max())
	}
	if want := 5000500 * time.Nanosecond; h.Mean() != want {
		t.Errorf("Mean() = %v, want %v", h.Mean(), want)
	}
}

func TestHistogram_SkewedTail(t *testing.T) {
	// 990 fast samples and 10 slow ones: p99 is still fast, p99.9 is slow,
	// and the maximum is exact.
	h := NewHistogram()
	for range 990 {
		h.Record(2 * time.Millisecond)
	}
	for i := range 10 {
		h.Record(time.Duration(100+i) * time.Millisecond)
	}
	if got := h.Quantile(0.99); !near(got, 2*time.Millisecond) {
		t.Errorf("p99 = %v, want 2ms within %.2f%%", got, 100.0/subCount)
	}
	// The 999th smallest sample is the ninth slow one, 108 ms.
	if got := h.Quantile(0.999); !near(got, 108*time.Millisecond) {
		t.Errorf("p99.9 = %v, want 108ms within %.2f%%", got, 100.0/subCount)
	}
	if got := h.Max(); got != 109*time.Millisecond {
		t.Errorf("max = %v, want 109ms", got)
	}
}

func TestHistogram_EmptyAndNegative(t *testing.T) {
	h := NewHistogram()
	if s := h.Summary(); s != (Latency{}) {
		t.Errorf("empty summary = %+v, want zero", s)
	}
	h.Record(-time.Second)
	if h.Count() != 1 || h.Max() != 0 || h.Quantile(0.5) != 0 {
		t.Errorf("negative sample: count %d max %v p50 %v; want 1, 0, 0", h.Count(), h.Max(), h.Quantile(0.5))
	}
}

func TestHistogram_ConcurrentRecord(t *testing.T) {
	h := NewHistogram()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 1000 {
				h.Record(time.Duration(g*1000+i) * time.Microsecond)
			}
		})
	}
	wg.Wait()
	if h.Count() != 4000 || h.Min() != 0 || h.Max() != 3999*time.Microsecond {
		t.Errorf("count, min, max = %d, %v, %v; want 4000, 0, 3.999ms", h.Count(), h.Min(), h.Max())
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	}
	for _, tt := range tests {
		in := append([]float64(nil), tt.in...)
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", in, got, tt.want)
		}
		for i := range in {
			if in[i] != tt.in[i] {
				t.Errorf("median modified its input: %v became %v", in, tt.in)
			}
		}
	}
}
