package main

import (
	"math"
	"math/bits"
	"slices"
	"sync/atomic"
	"time"
)

// subBits sets the histogram's precision: every power of two is split into
// 1<<subBits equal buckets, so a recorded value is reported within
// 1/(1<<subBits) (under 0.8 %) of its true value. Values below 1<<subBits
// nanoseconds are kept exactly.
const subBits = 7

const (
	subCount = 1 << subBits
	// numBuckets covers every non-negative int64: the largest value has
	// 63 significant bits, so its shift is 63-subBits-1 and bucketOf puts
	// it in group 63-subBits, the last of 64-subBits groups.
	numBuckets = (64 - subBits) * subCount
)

// Histogram counts durations in log-linear buckets, in the manner of
// HdrHistogram, so that percentiles of millions of samples cost a fixed
// 64 KiB and no sorting. Record is safe for concurrent use and lock-free;
// the read methods may run concurrently with Record but only see a
// consistent picture once recording has stopped.
type Histogram struct {
	buckets [numBuckets]atomic.Uint64
	count   atomic.Uint64
	sum     atomic.Uint64 // nanoseconds; overflows only after ~584 years of samples
	min     atomic.Int64  // valid when count > 0; math.MaxInt64 before
	max     atomic.Int64
}

// NewHistogram returns an empty histogram.
func NewHistogram() *Histogram {
	h := new(Histogram)
	h.min.Store(math.MaxInt64)
	return h
}

// bucketOf returns the bucket index of v (v >= 0).
func bucketOf(v int64) int {
	u := uint64(v)
	if u < subCount {
		return int(u)
	}
	// shift is how many low bits are dropped so that u>>shift lands in
	// [subCount, 2*subCount).
	shift := bits.Len64(u) - subBits - 1
	return (shift+1)<<subBits + int(u>>shift) - subCount
}

// bucketBounds returns the smallest and largest value that map to bucket i.
func bucketBounds(i int) (lo, hi int64) {
	if i < subCount {
		return int64(i), int64(i)
	}
	shift := i>>subBits - 1
	m := int64(i&(subCount-1) + subCount)
	return m << shift, (m+1)<<shift - 1
}

// Record adds one sample. Negative durations count as zero.
func (h *Histogram) Record(d time.Duration) {
	v := max(int64(d), 0)
	h.buckets[bucketOf(v)].Add(1)
	h.count.Add(1)
	h.sum.Add(uint64(v))
	for cur := h.max.Load(); v > cur && !h.max.CompareAndSwap(cur, v); cur = h.max.Load() {
	}
	for cur := h.min.Load(); v < cur && !h.min.CompareAndSwap(cur, v); cur = h.min.Load() {
	}
}

// Count returns the number of samples recorded.
func (h *Histogram) Count() uint64 { return h.count.Load() }

// Max returns the largest sample exactly, or 0 if there are none.
func (h *Histogram) Max() time.Duration {
	if h.Count() == 0 {
		return 0
	}
	return time.Duration(h.max.Load())
}

// Min returns the smallest sample exactly, or 0 if there are none.
func (h *Histogram) Min() time.Duration {
	if h.Count() == 0 {
		return 0
	}
	return time.Duration(h.min.Load())
}

// Mean returns the exact arithmetic mean, or 0 if there are no samples.
func (h *Histogram) Mean() time.Duration {
	n := h.Count()
	if n == 0 {
		return 0
	}
	return time.Duration(h.sum.Load() / n)
}

// Quantile returns the sample at quantile q (0 < q <= 1) by the nearest-rank
// rule, to within the bucket precision: the midpoint of the bucket holding
// the ceil(q*n)-th smallest sample, clamped to the exact min and max. It
// returns 0 for an empty histogram.
func (h *Histogram) Quantile(q float64) time.Duration {
	n := h.Count()
	if n == 0 {
		return 0
	}
	// The epsilon keeps float error (0.99*10000 = 9900.000000000002) from
	// moving the rank up by one.
	rank := uint64(math.Ceil(q*float64(n) - 1e-9))
	rank = min(max(rank, 1), n)
	var seen uint64
	for i := range h.buckets {
		seen += h.buckets[i].Load()
		if seen >= rank {
			lo, hi := bucketBounds(i)
			mid := lo + (hi-lo)/2
			return time.Duration(min(max(mid, h.min.Load()), h.max.Load()))
		}
	}
	return h.Max()
}

// Latency is the summary of a Histogram that the report prints.
type Latency struct {
	Count                    uint64
	P50, P95, P99, P999, Max time.Duration
	MeanValue, MinValue      time.Duration
}

// Summary takes the percentiles the report uses.
func (h *Histogram) Summary() Latency {
	return Latency{
		Count: h.Count(),
		P50:   h.Quantile(0.50), P95: h.Quantile(0.95), P99: h.Quantile(0.99),
		P999: h.Quantile(0.999), Max: h.Max(),
		MeanValue: h.Mean(), MinValue: h.Min(),
	}
}

// median returns the median of xs (the mean of the middle two for an even
// count), or 0 for none. xs is not modified.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
