package log

import (
	"testing"

	"github.com/basketmq/basket/internal/clock"
	"github.com/basketmq/basket/internal/record"
	"github.com/basketmq/basket/internal/vfs"
)

func TestLog_ScanHeadersVisitsEveryBatchFromOffset(t *testing.T) {
	d := openTestDir(t, vfs.NewFaultFS(), "/d", clock.NewFake(t0))
	l := mustCreate(t, d, "t")
	fill(t, l, 50, 1) // batches of 2 over several segments
	for _, tc := range []struct{ from, first, n int64 }{{0, 0, 50}, {1, 0, 50}, {2, 2, 49}, {57, 56, 22}, {99, 98, 1}, {100, 0, 0}} {
		var got []int64
		if err := l.ScanHeaders(tc.from, func(h *record.Header) error {
			got = append(got, h.BaseOffset)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if int64(len(got)) != tc.n || tc.n > 0 && got[0] != tc.first {
			t.Fatalf("ScanHeaders(%d): %d batches from %v, want %d from %d", tc.from, len(got), got[:min(len(got), 1)], tc.n, tc.first)
		}
		for i := 1; i < len(got); i++ {
			if got[i] != got[i-1]+2 {
				t.Fatalf("ScanHeaders(%d): offsets not in order: %v", tc.from, got)
			}
		}
	}
	n := 0
	l.ScanHeaders(0, func(*record.Header) error { n++; return ErrStopScan })
	if n != 1 {
		t.Fatalf("ErrStopScan did not stop the scan: %d calls", n)
	}
}
