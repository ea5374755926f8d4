package main

import (
	"math/bits"
	"time"
)

// histogram records latencies in microseconds with bounded memory and a
// relative error below 1%: values below 128µs are exact, larger ones fall
// in one of 128 buckets per power of two.
//
// A histogram is not safe for concurrent use.
type histogram struct {
	counts [64 * histSub]uint64
	n      uint64
	max    int64
	sum    int64
}

const (
	histSubBits = 7
	histSub     = 1 << histSubBits
)

func histIndex(us int64) int {
	if us < histSub {
		return int(us)
	}
	exp := 63 - bits.LeadingZeros64(uint64(us)) // position of the top bit, >= histSubBits
	shift := exp - histSubBits
	sub := int(us>>shift) - histSub // 0..histSub-1
	return (shift+1)*histSub + sub
}

// histLow is the smallest value in bucket i.
func histLow(i int) int64 {
	if i < histSub {
		return int64(i)
	}
	shift := i/histSub - 1
	sub := i % histSub
	return int64(histSub+sub) << shift
}

func (h *histogram) record(d time.Duration) {
	us := max(d.Microseconds(), 0)
	h.counts[histIndex(us)]++
	h.n++
	h.sum += us
	h.max = max(h.max, us)
}

func (h *histogram) count() uint64 { return h.n }

// mean is the average latency.
func (h *histogram) mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.sum/int64(h.n)) * time.Microsecond
}

// percentile is the smallest recorded bucket's lower bound at or below
// which p percent of the values lie.
func (h *histogram) percentile(p float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(p / 100 * float64(h.n))
	if rank >= h.n {
		rank = h.n - 1
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen > rank {
			return time.Duration(min(histLow(i), h.max)) * time.Microsecond
		}
	}
	return time.Duration(h.max) * time.Microsecond
}
