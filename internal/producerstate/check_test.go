package producerstate

import (
	"errors"
	"math"
	"testing"

	"github.com/basketmq/basket/internal/record"
)

// step is one batch of a script: what a producer sends and what Check must
// answer.
type step struct {
	pid   int64
	epoch int16
	seq   int32
	n     int32
	want  error // nil: appended or duplicate
	dupOf int   // 1-based index of the earlier step a duplicate repeats
}

// runScript plays the steps in order against a new State.
func runScript(t *testing.T, steps []step) *appender {
	t.Helper()
	a := newAppender()
	done := make([]*record.Header, len(steps))
	for i, st := range steps {
		h := hdr(st.pid, st.epoch, st.seq, st.n)
		v, err := a.produce(h)
		if !errors.Is(err, st.want) || (st.want == nil) != (err == nil) {
			t.Fatalf("step %d (pid %d epoch %d seq %d n %d): err %v, want %v", i+1, st.pid, st.epoch, st.seq, st.n, err, st.want)
		}
		switch {
		case st.dupOf > 0:
			orig := done[st.dupOf-1]
			want := Verdict{Duplicate: true, BaseOffset: orig.BaseOffset, LastOffset: orig.LastOffset(), MaxTimestamp: orig.MaxTimestamp}
			if v != want {
				t.Fatalf("step %d: verdict %+v, want duplicate of step %d: %+v", i+1, v, st.dupOf, want)
			}
		case v.Duplicate:
			t.Fatalf("step %d: unexpected duplicate %+v", i+1, v)
		case err == nil:
			done[i] = h
		}
	}
	return a
}

func TestCheck_NewProducerAcceptsAnySequence(t *testing.T) {
	// KIP-360 (Kafka 2.5+): no state for the producer, so no expectation.
	for _, tc := range []struct {
		name  string
		epoch int16
		seq   int32
	}{
		{"seq 0", 0, 0},
		{"seq 7", 0, 7},
		{"seq MaxInt32", 3, math.MaxInt32},
		{"high epoch", math.MaxInt16, 12345},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runScript(t, []step{{pid: 1, epoch: tc.epoch, seq: tc.seq, n: 3}, {pid: 1, epoch: tc.epoch, seq: addSeq(tc.seq, 3), n: 1}})
		})
	}
}

func TestCheck_ConsecutiveSequencesAppend(t *testing.T) {
	a := runScript(t, []step{
		{pid: 1, seq: 0, n: 3}, {pid: 2, seq: 40, n: 1}, {pid: 1, seq: 3, n: 1},
		{pid: 1, seq: 4, n: 10}, {pid: 2, seq: 41, n: 2}, {pid: 1, seq: 14, n: 1},
	})
	if e, _ := a.s.Producer(1); len(e.Batches) != 4 || e.Batches[3].LastSeq != 14 {
		t.Fatalf("producer 1: %+v", e)
	}
}

func TestCheck_DuplicateReturnsOriginalOffsets(t *testing.T) {
	// Six batches: the last five are retained (NUM_BATCHES_TO_RETAIN), and
	// a retry of any of them is answered with its original offsets.
	sent := []step{
		{pid: 7, seq: 0, n: 2}, {pid: 7, seq: 2, n: 1}, {pid: 7, seq: 3, n: 5},
		{pid: 7, seq: 8, n: 1}, {pid: 7, seq: 9, n: 3}, {pid: 7, seq: 12, n: 1},
	}
	for retry := 2; retry <= 6; retry++ {
		t.Run(string(rune('0'+retry)), func(t *testing.T) {
			r := sent[retry-1]
			r.dupOf = retry
			a := runScript(t, append(append([]step(nil), sent...), r, step{pid: 7, seq: 13, n: 1}))
			if a.next != 100+2+1+5+1+3+1+1 {
				t.Fatalf("a duplicate was appended: log end %d", a.next)
			}
		})
	}
}

func TestCheck_DuplicateOlderThanRetainedIsOutOfOrder(t *testing.T) {
	runScript(t, []step{
		{pid: 7, seq: 0, n: 2}, {pid: 7, seq: 2, n: 1}, {pid: 7, seq: 3, n: 1},
		{pid: 7, seq: 4, n: 1}, {pid: 7, seq: 5, n: 1}, {pid: 7, seq: 6, n: 1},
		{pid: 7, seq: 0, n: 2, want: ErrOutOfOrderSequence},
	})
}

func TestCheck_GapIsOutOfOrder(t *testing.T) {
	base := []step{{pid: 1, seq: 0, n: 3}, {pid: 1, seq: 3, n: 2}} // last seq 4
	for _, tc := range []struct {
		name string
		next step
	}{
		{"gap", step{pid: 1, seq: 6, n: 1}},
		{"far ahead", step{pid: 1, seq: 1000, n: 1}},
		{"overlaps last batch", step{pid: 1, seq: 4, n: 2}},
		{"same first sequence, other length", step{pid: 1, seq: 3, n: 1}},
		{"behind", step{pid: 1, seq: 1, n: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.next.want = ErrOutOfOrderSequence
			runScript(t, append(append([]step(nil), base...), tc.next, step{pid: 1, seq: 5, n: 1}))
		})
	}
}

func TestCheck_StaleEpochIsInvalidProducerEpoch(t *testing.T) {
	runScript(t, []step{
		{pid: 1, epoch: 4, seq: 0, n: 1},
		{pid: 1, epoch: 3, seq: 1, n: 1, want: ErrInvalidProducerEpoch},
		{pid: 1, epoch: 3, seq: 0, n: 1, want: ErrInvalidProducerEpoch}, // not a duplicate at another epoch
		{pid: 1, epoch: 4, seq: 1, n: 1},
	})
}

func TestCheck_EpochBump(t *testing.T) {
	for _, tc := range []struct {
		name string
		seq  int32
		want error
	}{
		{"seq 0 accepted", 0, nil},
		{"seq 5 rejected", 5, ErrOutOfOrderSequence},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runScript(t, []step{
				{pid: 1, epoch: 0, seq: 0, n: 5},
				{pid: 1, epoch: 1, seq: tc.seq, n: 1, want: tc.want},
			})
		})
	}
	// After a bump the old epoch is fenced, even for a retry of its batch.
	runScript(t, []step{
		{pid: 1, epoch: 0, seq: 0, n: 5}, {pid: 1, epoch: 1, seq: 0, n: 1},
		{pid: 1, epoch: 0, seq: 0, n: 5, want: ErrInvalidProducerEpoch},
		{pid: 1, epoch: 1, seq: 0, n: 1, dupOf: 2}, {pid: 1, epoch: 1, seq: 1, n: 1},
	})
}

func TestCheck_SequenceWrapsAtMaxInt32(t *testing.T) {
	const maxSeq = math.MaxInt32
	runScript(t, []step{
		{pid: 1, seq: maxSeq - 2, n: 3}, // ends at MaxInt32
		{pid: 1, seq: 0, n: 2},          // 0 follows MaxInt32
		{pid: 1, seq: 2, n: 1},
		{pid: 1, seq: maxSeq - 2, n: 3, dupOf: 1},
	})
	runScript(t, []step{
		{pid: 1, seq: maxSeq - 1, n: 4}, // MaxInt32-1, MaxInt32, 0, 1
		{pid: 1, seq: maxSeq - 1, n: 4, dupOf: 1},
		{pid: 1, seq: maxSeq - 1, n: 2, want: ErrOutOfOrderSequence},
		{pid: 1, seq: 3, n: 1, want: ErrOutOfOrderSequence},
		{pid: 1, seq: 2, n: 1},
	})
}

func TestCheck_NonIdempotentBatchesPass(t *testing.T) {
	a := newAppender()
	for i := range 3 {
		h := hdr(record.NoProducerID, record.NoProducerEpoch, record.NoSequence, int32(i+1))
		a.mustProduce(t, h)
		a.mustProduce(t, h) // a repeat is appended again: nothing to compare it with
	}
	if a.s.Len() != 0 {
		t.Fatalf("state holds %d producers after non-idempotent batches", a.s.Len())
	}
}

func TestCheck_NegativeSequenceIsInvalidRecord(t *testing.T) {
	a := newAppender()
	if _, err := a.produce(hdr(1, 0, -1, 1)); !errors.Is(err, record.ErrInvalidRecord) {
		t.Fatalf("sequence -1 with a producer id: %v, want ErrInvalidRecord", err)
	}
}

func TestCheck_ExpiredProducerAcceptsAnySequence(t *testing.T) {
	a := runScript(t, []step{{pid: 1, seq: 0, n: 1}})
	if _, err := a.s.Check(hdr(1, 0, 9, 1)); !errors.Is(err, ErrOutOfOrderSequence) {
		t.Fatalf("before expiry: %v, want ErrOutOfOrderSequence", err)
	}
	a.s.ExpireIdle(t0+DefaultProducerIDExpirationMs, DefaultProducerIDExpirationMs)
	a.mustProduce(t, hdr(1, 0, 9, 1))
}

func TestCheck_ControlBatchChecksEpochOnly(t *testing.T) {
	a := runScript(t, []step{{pid: 1, epoch: 2, seq: 0, n: 3}})
	marker := func(epoch int16) *record.Header {
		h := hdr(1, epoch, record.NoSequence, 1)
		h.Attributes = attrControl
		return h
	}
	if _, err := a.s.Check(marker(1)); !errors.Is(err, ErrInvalidProducerEpoch) {
		t.Fatalf("marker at an old epoch: %v", err)
	}
	a.mustProduce(t, marker(3)) // a marker bumping the epoch (transaction version 2)
	e, _ := a.s.Producer(1)
	if e.ProducerEpoch != 3 || len(e.Batches) != 0 {
		t.Fatalf("after marker: %+v, want epoch 3 and no batches", e)
	}
	runAfter := hdr(1, 3, 0, 1) // the new epoch has no batches yet: sequence 0 next
	a.mustProduce(t, runAfter)
}
