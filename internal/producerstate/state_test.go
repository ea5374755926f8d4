package producerstate

import (
	"testing"

	"github.com/basketmq/basket/internal/record"
)

func TestUpdate_RetainsLastFiveBatches(t *testing.T) {
	a := newAppender()
	var sent []*record.Header
	for i := range 8 {
		sent = append(sent, a.mustProduce(t, hdr(1, 0, int32(i*2), 2)))
	}
	e, _ := a.s.Producer(1)
	if len(e.Batches) != NumBatchesToRetain {
		t.Fatalf("%d batches retained, want %d", len(e.Batches), NumBatchesToRetain)
	}
	for i, b := range e.Batches {
		h := sent[len(sent)-NumBatchesToRetain+i]
		want := BatchMetadata{FirstSeq: h.BaseSequence, LastSeq: h.BaseSequence + 1, FirstOffset: h.BaseOffset, LastOffset: h.LastOffset(), MaxTimestamp: h.MaxTimestamp}
		if b != want {
			t.Errorf("batch %d: %+v, want %+v", i, b, want)
		}
	}
}

func TestUpdate_NewEpochForgetsBatches(t *testing.T) {
	a := newAppender()
	a.mustProduce(t, hdr(1, 0, 0, 2))
	a.mustProduce(t, hdr(1, 0, 2, 2))
	h := hdr(1, 1, 0, 1)
	h.BaseOffset = 500
	a.s.Update(h, t0+5) // as a follower would, without Check
	e, _ := a.s.Producer(1)
	if e.ProducerEpoch != 1 || len(e.Batches) != 1 || e.Batches[0].FirstOffset != 500 || e.LastUpdateMs != t0+5 {
		t.Fatalf("after epoch bump: %+v", e)
	}
	if e.CurrentTxnFirstOffset != -1 || e.CoordinatorEpoch != -1 {
		t.Fatalf("transaction fields %d, %d; want -1, -1", e.CurrentTxnFirstOffset, e.CoordinatorEpoch)
	}
}

func TestExpireIdle_RemovesProducersIdleForExpirationMs(t *testing.T) {
	const maxIdle = DefaultProducerIDExpirationMs
	for _, tc := range []struct {
		name    string
		idle    int64
		openTxn bool
		expired bool
	}{
		{"recent", 1000, false, false},
		{"just under", maxIdle - 1, false, false},
		{"exactly producer.id.expiration.ms", maxIdle, false, true}, // Kafka expires at >=
		{"long idle", 10 * maxIdle, false, true},
		{"open transaction", 10 * maxIdle, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := New()
			for _, id := range []int64{1, 2} {
				s.Update(hdr(id, 0, 0, 1), t0)
			}
			s.Update(hdr(2, 0, 1, 1), t0+tc.idle) // producer 2 stays active
			if tc.openTxn {
				s.producers[1].txnFirstOffset = 0
			}
			want := 0
			if tc.expired {
				want = 1
			}
			n := s.ExpireIdle(t0+tc.idle, maxIdle)
			_, kept := s.Producer(1)
			if kept == tc.expired || n != want {
				t.Fatalf("idle %d ms: removed %d, producer 1 kept %v; want expired %v", tc.idle, n, kept, tc.expired)
			}
			if _, ok := s.Producer(2); !ok {
				t.Fatal("active producer 2 expired")
			}
		})
	}
}

func TestAddSeq_WrapsModulo2To31(t *testing.T) {
	for _, tc := range []struct {
		seq   int32
		delta int64
		want  int32
	}{
		{0, 0, 0}, {5, 3, 8}, {2147483647, 1, 0}, {2147483646, 3, 1}, {2147483647, 2147483647, 2147483646}, {-1, 1, 0},
	} {
		if got := addSeq(tc.seq, tc.delta); got != tc.want {
			t.Errorf("addSeq(%d, %d) = %d, want %d", tc.seq, tc.delta, got, tc.want)
		}
	}
}
