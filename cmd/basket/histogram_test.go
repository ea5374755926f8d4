package main

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestHistogram_PercentilesWithinOnePercent(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var h histogram
	var all []int64
	for range 100000 {
		us := int64(rng.ExpFloat64() * 5000)
		all = append(all, us)
		h.record(time.Duration(us) * time.Microsecond)
	}
	slices.Sort(all)
	for _, p := range []float64{50, 95, 99, 99.9} {
		want := all[int(p/100*float64(len(all)))]
		got := h.percentile(p).Microseconds()
		if d := float64(got-want) / float64(max(want, 1)); d > 0.01 || d < -0.01 {
			t.Errorf("p%v = %dµs, want %dµs within 1%%", p, got, want)
		}
	}
	if h.count() != 100000 {
		t.Errorf("count %d", h.count())
	}
}

func TestHistogram_BucketsCoverValues(t *testing.T) {
	for _, us := range []int64{0, 1, 127, 128, 129, 255, 256, 1000, 1 << 20, 1<<40 + 12345} {
		i := histIndex(us)
		if lo := histLow(i); lo > us || (i+1 < len(histogram{}.counts) && histLow(i+1) <= us) {
			t.Errorf("%d in bucket %d [%d, %d)", us, i, lo, histLow(i+1))
		}
	}
}
