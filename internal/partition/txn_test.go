package partition

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/basketmq/basket/internal/log"
	"github.com/basketmq/basket/internal/producerstate"
	"github.com/basketmq/basket/internal/record"
	"github.com/basketmq/basket/internal/vfs"
)

// txnBatch is a transactional batch of n records from producer pid.
func txnBatch(t testing.TB, pid int64, epoch int16, seq int32, n int) []byte {
	t.Helper()
	recs := make([]record.Record, n)
	for i := range recs {
		recs[i] = record.Record{Value: []byte("txn")}
	}
	b, err := record.AppendBatch(nil, record.BatchSpec{BaseTimestamp: 1, ProducerID: pid, ProducerEpoch: epoch, BaseSequence: seq, Transactional: true},
		recs, record.CodecNone)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustAppend(t testing.TB, p *Partition, b []byte) AppendResult {
	t.Helper()
	r, err := p.Append(b)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return r
}

func mustMarker(t testing.TB, p *Partition, m Marker) AppendResult {
	t.Helper()
	r, err := p.WriteMarker(m)
	if err != nil {
		t.Fatalf("WriteMarker(%+v): %v", m, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.WaitAcked(ctx, r); err != nil {
		t.Fatalf("marker not durable: %v", err)
	}
	return r
}

func waitDurable(t testing.TB, p *Partition) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Log().WaitDurable(ctx, p.Log().LogEndOffset()); err != nil {
		t.Fatal(err)
	}
}

func TestPartition_LastStableOffsetFollowsTransactions(t *testing.T) {
	// KIP-98: the last stable offset stops at the first offset of the
	// earliest undecided transaction; markers move it on.
	_, p := openPartition(t, vfs.NewFaultFS())
	mustAppend(t, p, idempotentBatch(t, -1, -1)) // 0-1
	waitDurable(t, p)
	if lso := p.LastStableOffset(); lso != 2 {
		t.Fatalf("LSO %d without transactions, want the high watermark 2", lso)
	}
	mustAppend(t, p, txnBatch(t, 1, 0, 0, 2))    // 2-3: txn A opens
	mustAppend(t, p, idempotentBatch(t, -1, -1)) // 4-5
	mustAppend(t, p, txnBatch(t, 2, 0, 0, 1))    // 6: txn B opens
	waitDurable(t, p)
	if lso, hw := p.LastStableOffset(), p.HighWatermark(); lso != 2 || hw != 7 {
		t.Fatalf("LSO %d HW %d, want 2 and 7", lso, hw)
	}
	mustMarker(t, p, Marker{ProducerID: 1, Commit: true}) // 7: A commits
	if lso := p.LastStableOffset(); lso != 6 {
		t.Fatalf("LSO %d after A commits, want 6 (B's first offset)", lso)
	}
	mustMarker(t, p, Marker{ProducerID: 2}) // 8: B aborts
	if lso := p.LastStableOffset(); lso != 9 {
		t.Fatalf("LSO %d after B aborts, want 9", lso)
	}
	want := []log.AbortedTxn{{ProducerID: 2, FirstOffset: 6, LastOffset: 8, LastStableOffset: 9}}
	if got := p.AbortedTxns(0, 9); !slices.Equal(got, want) {
		t.Fatalf("aborted %+v, want %+v", got, want)
	}
	if got := p.AbortedTxns(0, 6); len(got) != 0 {
		t.Fatalf("aborted below B's first offset: %+v", got)
	}
	// The producer state survives a reopen with its transactions decided.
	e := p.Producers()
	slices.SortFunc(e, func(a, b producerstate.Entry) int { return int(a.ProducerID - b.ProducerID) })
	if len(e) != 2 || e[0].CurrentTxnFirstOffset != -1 || e[1].CurrentTxnFirstOffset != -1 {
		t.Fatalf("producers %+v", e)
	}
}

func TestPartition_MarkerNotDurableHoldsLastStableOffset(t *testing.T) {
	// A decided transaction stays unstable until its marker is below the
	// high watermark (Kafka's unreplicated transactions).
	fs := vfs.NewFaultFS()
	_, p := openPartition(t, fs)
	mustAppend(t, p, txnBatch(t, 1, 0, 0, 1)) // 0
	waitDurable(t, p)
	fs.FailNextSync(errors.New("slow disk"))
	if _, err := p.WriteMarker(Marker{ProducerID: 1, Commit: true}); err != nil {
		t.Fatal(err)
	}
	if hw, lso := p.HighWatermark(), p.LastStableOffset(); hw != 1 || lso != 0 {
		t.Fatalf("HW %d LSO %d before the marker is durable, want 1 and 0", hw, lso)
	}
}

func TestPartition_TransactionRules(t *testing.T) {
	_, p := openPartition(t, vfs.NewFaultFS())
	mustAppend(t, p, txnBatch(t, 1, 3, 0, 1))
	// KIP-98: no plain batch from a producer inside a transaction.
	plain, _ := record.AppendBatch(nil, record.BatchSpec{ProducerID: 1, ProducerEpoch: 3, BaseSequence: 1},
		[]record.Record{{Value: []byte("v")}}, record.CodecNone)
	if _, err := p.Append(plain); !errors.Is(err, producerstate.ErrInvalidTxnState) {
		t.Fatalf("plain batch during a transaction: %v", err)
	}
	// Clients may not write control batches: INVALID_RECORD.
	ctl, _ := record.AppendBatch(nil, record.BatchSpec{ProducerID: 1, ProducerEpoch: 3, BaseSequence: -1, Transactional: true, Control: true},
		[]record.Record{record.EndTxnMarker{Type: record.ControlCommit}.Record()}, record.CodecNone)
	if _, err := p.Append(ctl); !errors.Is(err, record.ErrInvalidRecord) {
		t.Fatalf("client control batch: %v", err)
	}
	// Markers: stale producer epoch, then stale coordinator epoch.
	if _, err := p.WriteMarker(Marker{ProducerID: 1, ProducerEpoch: 2, CoordinatorEpoch: 5}); !errors.Is(err, producerstate.ErrInvalidProducerEpoch) {
		t.Fatalf("marker at an old epoch: %v", err)
	}
	mustMarker(t, p, Marker{ProducerID: 1, ProducerEpoch: 3, CoordinatorEpoch: 5, Commit: true})
	mustAppend(t, p, txnBatch(t, 1, 3, 1, 1))
	if _, err := p.WriteMarker(Marker{ProducerID: 1, ProducerEpoch: 3, CoordinatorEpoch: 4}); !errors.Is(err, producerstate.ErrTransactionCoordinatorFenced) {
		t.Fatalf("marker from a fenced coordinator: %v", err)
	}
	// KIP-890 part 2 (transaction version 2): the marker must carry a
	// bumped epoch; one at the transaction's epoch is a stale marker of an
	// earlier transaction (KAFKA-17754).
	if _, err := p.WriteMarker(Marker{ProducerID: 1, ProducerEpoch: 3, CoordinatorEpoch: 5, TransactionVersion: 2}); !errors.Is(err, producerstate.ErrInvalidProducerEpoch) {
		t.Fatalf("TV2 marker without an epoch bump: %v", err)
	}
	mustMarker(t, p, Marker{ProducerID: 1, ProducerEpoch: 4, CoordinatorEpoch: 5, TransactionVersion: 2})
	// Its retry after the transaction ended is accepted (KAFKA-19999).
	mustMarker(t, p, Marker{ProducerID: 1, ProducerEpoch: 4, CoordinatorEpoch: 5, TransactionVersion: 2})
	// The next transaction starts at the bumped epoch, sequence 0.
	mustAppend(t, p, txnBatch(t, 1, 4, 0, 1))
}

func TestPartition_VerificationGuard(t *testing.T) {
	// KIP-890 part 1: a producer's first transactional batch needs the
	// coordinator's verification, and a marker in between voids it.
	_, p := openPartition(t, vfs.NewFaultFS())
	if _, err := p.AppendVerified(txnBatch(t, 1, 0, 0, 1), 0); !errors.Is(err, producerstate.ErrInvalidTxnState) {
		t.Fatalf("unverified first batch: %v", err)
	}
	guard, needed := p.StartTxnVerification(1, 0)
	if !needed {
		t.Fatal("verification not needed for a producer without a transaction")
	}
	mustMarker(t, p, Marker{ProducerID: 1}) // the transaction was aborted meanwhile
	if _, err := p.AppendVerified(txnBatch(t, 1, 0, 0, 1), guard); !errors.Is(err, producerstate.ErrInvalidTxnState) {
		t.Fatalf("batch verified before a marker: %v", err)
	}
	guard, _ = p.StartTxnVerification(1, 0)
	if _, err := p.AppendVerified(txnBatch(t, 1, 0, 0, 1), guard); err != nil {
		t.Fatalf("verified batch: %v", err)
	}
	if _, needed := p.StartTxnVerification(1, 0); needed {
		t.Fatal("verification needed inside an open transaction")
	}
	if _, err := p.AppendVerified(txnBatch(t, 1, 0, 1, 1), 0); err != nil {
		t.Fatalf("second batch of the transaction: %v", err)
	}
	if _, err := p.AppendVerified(idempotentBatch(t, -1, -1), 0); err != nil {
		t.Fatalf("non-transactional batch: %v", err)
	}
}

// TestPartition_TxnIndexRebuiltAfterPowerLoss writes transactions, some
// aborted, loses power at a random point (unsynced bytes torn away, the
// active segment's unsynced .txnindex with them), reopens and checks that
// recovery rebuilt the aborted-transaction index from producer state: it
// lists exactly the aborted transactions whose markers survived, with the
// offsets and last stable offsets the append path wrote.
func TestPartition_TxnIndexRebuiltAfterPowerLoss(t *testing.T) {
	for seed := range uint64(24) {
		rng := rand.New(rand.NewPCG(seed, 9))
		fs := vfs.NewFaultFS()
		d, p := openPartition(t, fs)
		cfg := p.Log().Config()
		cfg.SegmentBytes = 1500
		p.Log().SetConfig(cfg)
		seq := map[int64]int32{}
		open := map[int64]bool{}
		for i := range 120 {
			pid := int64(rng.IntN(3))
			if open[pid] && rng.IntN(3) == 0 {
				mustMarker(t, p, Marker{ProducerID: pid, Commit: rng.IntN(2) == 0})
				open[pid] = false
				continue
			}
			mustAppend(t, p, txnBatch(t, pid, 0, seq[pid], 1+rng.IntN(3)))
			seq[pid] += int32(len(txnBatchRecords(t, p, pid)))
			open[pid] = true
			if i%17 == 0 {
				p.Maintain(0, producerstate.DefaultProducerIDExpirationMs) // snapshots at varying offsets
			}
		}
		durable := p.Log().DurableOffset()
		before := p.AbortedTxns(0, durable)
		var want []log.AbortedTxn
		for _, a := range before {
			if a.LastOffset < durable {
				want = append(want, a)
			}
		}
		fs.PowerLoss(rng)
		d.Close()
		_, p2 := openPartition(t, fs)
		got := p2.AbortedTxns(0, p2.Log().LogEndOffset())
		var gotBelow []log.AbortedTxn
		for _, a := range got {
			if a.LastOffset < durable {
				gotBelow = append(gotBelow, a)
			}
		}
		if !slices.Equal(gotBelow, want) {
			t.Fatalf("seed %d: aborted transactions after power loss\n got %+v\nwant %+v", seed, gotBelow, want)
		}
		if len(want) == 0 {
			t.Logf("seed %d: no aborted transaction below the durable offset", seed)
		}
	}
}

// txnBatchRecords is a stand-in for the records count of the batch just
// appended by pid: the partition's producer state knows its last sequence.
func txnBatchRecords(t testing.TB, p *Partition, pid int64) []struct{} {
	t.Helper()
	for _, e := range p.Producers() {
		if e.ProducerID == pid {
			b := e.Batches[len(e.Batches)-1]
			return make([]struct{}, b.LastOffset-b.FirstOffset+1)
		}
	}
	t.Fatalf("producer %d unknown", pid)
	return nil
}

func TestPartition_MaintainExpiresUnusedVerifications(t *testing.T) {
	_, p := openPartition(t, vfs.NewFaultFS())
	p.now = func() int64 { return 1_000 }
	guard, _ := p.StartTxnVerification(1, 0)
	p.Maintain(1_000+verificationTTLMs-1, producerstate.DefaultProducerIDExpirationMs)
	if len(p.verifying) != 1 {
		t.Fatal("a fresh verification was dropped")
	}
	p.Maintain(1_000+verificationTTLMs, producerstate.DefaultProducerIDExpirationMs)
	if _, err := p.AppendVerified(txnBatch(t, 1, 0, 0, 1), guard); !errors.Is(err, producerstate.ErrInvalidTxnState) || len(p.verifying) != 0 {
		t.Fatalf("expired verification still accepted: %v (%d left)", err, len(p.verifying))
	}
}

func TestPartition_TransactionStateRebuiltFromLogAfterCrash(t *testing.T) {
	// Without a snapshot the producer state is replayed from the log,
	// markers included: the open transaction (and so the last stable
	// offset) and the coordinator epoch of the last marker come back.
	fs := vfs.NewFaultFS()
	d, p := openPartition(t, fs)
	mustAppend(t, p, txnBatch(t, 1, 0, 0, 1)) // 0
	mustMarker(t, p, Marker{ProducerID: 1, CoordinatorEpoch: 9, Commit: true})
	mustAppend(t, p, txnBatch(t, 2, 0, 0, 2)) // 2-3, left open
	mustAppend(t, p, idempotentBatch(t, -1, -1))
	waitDurable(t, p)
	fs.Crash()
	d.Close()
	_, p2 := openPartition(t, fs)
	if lso := p2.LastStableOffset(); lso != 2 {
		t.Fatalf("LSO after replay %d, want 2", lso)
	}
	mustAppend(t, p2, txnBatch(t, 1, 0, 1, 1))
	if _, err := p2.WriteMarker(Marker{ProducerID: 1, CoordinatorEpoch: 8}); !errors.Is(err, producerstate.ErrTransactionCoordinatorFenced) {
		t.Fatalf("marker from coordinator epoch 8 after replaying one from 9: %v", err)
	}
}
