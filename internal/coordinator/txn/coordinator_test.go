package txn

import (
	"math"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestCoordinator_InitProducerIDNewIDThenEpochBumps(t *testing.T) {
	h := newHarness(t)
	pid, epoch := h.mustInit("a")
	if epoch != 0 {
		t.Errorf("first epoch %d, want 0", epoch)
	}
	pid2, epoch2 := h.mustInit("a")
	if pid2 != pid || epoch2 != 1 {
		t.Errorf("re-init: %d/%d, want %d/1", pid2, epoch2, pid)
	}
	other, _ := h.mustInit("b")
	if other == pid {
		t.Error("two transactional ids share a producer id")
	}
}

func TestCoordinator_InvalidTransactionTimeout(t *testing.T) {
	h := newHarness(t)
	max := int32(h.cfg.MaxTimeout.Milliseconds())
	for _, ms := range []int32{0, -1, max + 1} {
		wantCode(t, "InitProducerId timeout", h.init("a", ms, -1, -1).ErrorCode, kerr.InvalidTransactionTimeout)
	}
	wantCode(t, "InitProducerId at the max", h.init("a", max, -1, -1).ErrorCode, nil)
	empty := kmsg.NewPtrInitProducerIDRequest()
	empty.TransactionalID, empty.TransactionTimeoutMillis = kmsg.StringPtr(""), 1000
	wantCode(t, "empty transactional id", h.c.InitProducerID(empty).Response.(*kmsg.InitProducerIDResponse).ErrorCode, kerr.InvalidRequest)
}

func TestCoordinator_CommitWritesMarkersThenCompletes(t *testing.T) {
	h := newHarness(t)
	pid, epoch := h.mustInit("a")
	h.mustAdd("a", pid, epoch, "t", 0, 1)
	h.mustAdd("a", pid, epoch, "u", 2)
	if s := h.state("a"); s != "Ongoing" {
		t.Fatalf("after add: %s", s)
	}
	wantCode(t, "EndTxn", h.end(4, "a", pid, epoch, true).ErrorCode, nil)
	if s := h.state("a"); s != "PrepareCommit" || len(h.markers) != 1 {
		t.Fatalf("after EndTxn: %s, %d marker sets", s, len(h.markers))
	}
	m := h.markers[0]
	if !m.Commit || m.ProducerID != pid || m.ProducerEpoch != epoch || len(m.Topics["t"]) != 2 || len(m.Topics["u"]) != 1 {
		t.Errorf("markers %+v", m)
	}
	// While the markers are in flight the next transaction cannot start.
	wantCode(t, "add while completing", h.add(3, "a", pid, epoch, false, "t", 0)[0], kerr.ConcurrentTransactions)
	wantCode(t, "EndTxn retry while completing", h.end(4, "a", pid, epoch, true).ErrorCode, kerr.ConcurrentTransactions)
	wantCode(t, "InitProducerId while completing", h.init("a", 60000, -1, -1).ErrorCode, kerr.ConcurrentTransactions)
	h.completeMarkers()
	if d := h.describe("a"); d.State != "CompleteCommit" || len(d.Topics) != 0 {
		t.Errorf("after markers: %s %v", d.State, d.Topics)
	}
	wantCode(t, "EndTxn(commit) retry", h.end(4, "a", pid, epoch, true).ErrorCode, nil)
	wantCode(t, "EndTxn(abort) after commit", h.end(4, "a", pid, epoch, false).ErrorCode, kerr.InvalidTxnState)
	// A second report of the same markers changes nothing.
	n := len(h.log)
	h.take(h.c.CompleteMarkers(m))
	if len(h.log) != n {
		t.Error("a repeated CompleteMarkers wrote a record")
	}
}

func TestCoordinator_Misuse(t *testing.T) {
	h := newHarness(t)
	pid, epoch := h.mustInit("a")
	wantCode(t, "EndTxn without a transaction", h.end(4, "a", pid, epoch, true).ErrorCode, kerr.InvalidTxnState)
	wantCode(t, "EndTxn of an unknown id", h.end(4, "nobody", pid, epoch, true).ErrorCode, kerr.InvalidProducerIDMapping)
	wantCode(t, "EndTxn with another producer id", h.end(4, "a", pid+1, epoch, true).ErrorCode, kerr.InvalidProducerIDMapping)
	wantCode(t, "add with another producer id", h.add(3, "a", pid+1, epoch, false, "t", 0)[0], kerr.InvalidProducerIDMapping)
	h.mustInit("a") // epoch+1: the old epoch is stale
	wantCode(t, "add with a stale epoch", h.add(3, "a", pid, epoch, false, "t", 0)[0], kerr.ProducerFenced)
	wantCode(t, "add with a stale epoch, v1 (KIP-588)", h.add(1, "a", pid, epoch, false, "t", 0)[0], kerr.InvalidProducerEpoch)
	wantCode(t, "EndTxn with a stale epoch", h.end(4, "a", pid, epoch, true).ErrorCode, kerr.ProducerFenced)
	wantCode(t, "EndTxn with a stale epoch, v1 (KIP-588)", h.end(1, "a", pid, epoch, true).ErrorCode, kerr.InvalidProducerEpoch)
	wantCode(t, "AddOffsetsToTxn with a stale epoch", h.addOffsets("a", pid, epoch, 3), kerr.ProducerFenced)
}

// A new producer with the same transactional id fences the old one: its
// open transaction is aborted with the epoch bumped, the new producer is
// told CONCURRENT_TRANSACTIONS until the abort completes, then gets an
// epoch above both.
func TestCoordinator_InitProducerIDFencesOpenTransaction(t *testing.T) {
	h := newHarness(t)
	pid, epoch := h.mustInit("a")
	h.mustAdd("a", pid, epoch, "t", 0)
	wantCode(t, "InitProducerId over an open transaction", h.init("a", 60000, -1, -1).ErrorCode, kerr.ConcurrentTransactions)
	d := h.describe("a")
	if d.State != "PrepareAbort" || d.ProducerEpoch != epoch+1 || len(h.markers) != 1 || h.markers[0].Commit || h.markers[0].ProducerEpoch != epoch+1 {
		t.Fatalf("fencing abort: %s epoch %d, markers %+v", d.State, d.ProducerEpoch, h.markers)
	}
	wantCode(t, "zombie EndTxn", h.end(4, "a", pid, epoch, true).ErrorCode, kerr.ProducerFenced)
	wantCode(t, "retry before the abort completes", h.init("a", 60000, -1, -1).ErrorCode, kerr.ConcurrentTransactions)
	h.completeMarkers()
	pid2, epoch2 := h.mustInit("a")
	if pid2 != pid || epoch2 != epoch+2 {
		t.Errorf("after fencing: %d/%d, want %d/%d", pid2, epoch2, pid, epoch+2)
	}
	wantCode(t, "zombie add", h.add(3, "a", pid, epoch, false, "t", 0)[0], kerr.ProducerFenced)
}

// KIP-360: a producer recovering with its current id and epoch keeps the
// id; a retry of a bump whose answer was lost gets the same epoch; an
// epoch it never had is fenced.
func TestCoordinator_InitProducerIDRecoveryKIP360(t *testing.T) {
	h := newHarness(t)
	pid, epoch := h.mustInit("a")
	resp := h.init("a", 60000, pid, epoch)
	if resp.ErrorCode != 0 || resp.ProducerID != pid || resp.ProducerEpoch != epoch+1 {
		t.Fatalf("recovery bump: %+v", resp)
	}
	retry := h.init("a", 60000, pid, epoch)
	if retry.ErrorCode != 0 || retry.ProducerEpoch != epoch+1 {
		t.Errorf("retried recovery: %v epoch %d, want epoch %d", kerr.ErrorForCode(retry.ErrorCode), retry.ProducerEpoch, epoch+1)
	}
	wantCode(t, "recovery with an unknown epoch", h.init("a", 60000, pid, epoch+7).ErrorCode, kerr.ProducerFenced)
	wantCode(t, "recovery with another producer id", h.init("a", 60000, pid+50, 0).ErrorCode, kerr.ProducerFenced)
	v3 := kmsg.NewPtrInitProducerIDRequest()
	v3.Version, v3.TransactionalID, v3.TransactionTimeoutMillis = 3, kmsg.StringPtr("a"), 60000
	v3.ProducerID, v3.ProducerEpoch = pid+50, 0
	wantCode(t, "fenced before v4 (KIP-588)", h.c.InitProducerID(v3).Response.(*kmsg.InitProducerIDResponse).ErrorCode, kerr.InvalidProducerEpoch)
}

// An exhausted epoch (32766) rotates to a new producer id at epoch 0; a
// retry with the old id and exhausted epoch is accepted.
func TestCoordinator_EpochExhaustionTakesNewProducerID(t *testing.T) {
	h := newHarness(t)
	pid, _ := h.mustInit("a")
	h.c.txns["a"].producerEpoch = math.MaxInt16 - 1 // as after 32766 bumps
	resp := h.init("a", 60000, pid, math.MaxInt16-1)
	if resp.ErrorCode != 0 || resp.ProducerID == pid || resp.ProducerEpoch != 0 {
		t.Fatalf("exhausted epoch: %+v, want a new producer id at epoch 0", resp)
	}
	retry := h.init("a", 60000, pid, math.MaxInt16-1)
	if retry.ErrorCode != 0 || retry.ProducerID != resp.ProducerID {
		t.Errorf("retry after rotation: %v %d, want %d", kerr.ErrorForCode(retry.ErrorCode), retry.ProducerID, resp.ProducerID)
	}
}

// transaction.timeout.ms: Tick aborts an Ongoing transaction past its
// timeout with the epoch bumped, fencing its producer.
func TestCoordinator_TimeoutAbortsWithEpochBump(t *testing.T) {
	h := newHarness(t)
	pid, epoch := h.mustInit("a")
	h.init("b", 60000, -1, -1)
	h.mustAdd("a", pid, epoch, "t", 0)
	h.clk.Advance(30 * time.Second)
	h.take(h.c.Tick())
	if s := h.state("a"); s != "Ongoing" {
		t.Fatalf("before the timeout: %s", s)
	}
	h.clk.Advance(31 * time.Second)
	d, ok := h.c.NextDeadline()
	if !ok || d.After(h.clk.Now()) {
		t.Fatalf("next deadline %v (%v) not due at %v", d, ok, h.clk.Now())
	}
	h.take(h.c.Tick())
	if d := h.describe("a"); d.State != "PrepareAbort" || d.ProducerEpoch != epoch+1 {
		t.Fatalf("after the timeout: %s epoch %d", d.State, d.ProducerEpoch)
	}
	h.completeMarkers()
	wantCode(t, "EndTxn of the timed-out transaction", h.end(4, "a", pid, epoch, true).ErrorCode, kerr.ProducerFenced)
	if s := h.state("b"); s != "Empty" {
		t.Errorf("an idle id was touched: %s", s)
	}
}

// transactional.id.expiration.ms: an idle id without an open transaction
// is forgotten with a tombstone; one with a transaction is kept.
func TestCoordinator_TransactionalIDExpires(t *testing.T) {
	h := newHarness(t)
	h.mustInit("idle")
	pid, epoch := h.mustInit("busy")
	h.mustAdd("busy", pid, epoch, "t", 0)
	h.clk.Advance(h.cfg.TransactionalIDExpiration + h.cfg.RemoveExpiredInterval)
	h.take(h.c.Tick())
	wantCode(t, "describe the expired id", h.describe("idle").ErrorCode, kerr.TransactionalIDNotFound)
	if last := h.log[len(h.log)-1]; last.Value != nil {
		t.Error("expiry did not write a tombstone")
	}
	// busy timed out (60 s) long ago: aborted, not forgotten.
	if s := h.state("busy"); s != "PrepareAbort" {
		t.Errorf("busy: %s", s)
	}
}

func TestCoordinator_VerifyOnly(t *testing.T) {
	h := newHarness(t)
	pid, epoch := h.mustInit("a")
	codes := h.add(4, "a", pid, epoch, true, "t", 0)
	wantCode(t, "verify before any add", codes[0], kerr.TransactionAbortable)
	h.mustAdd("a", pid, epoch, "t", 0)
	codes = h.add(4, "a", pid, epoch, true, "t", 0, 1)
	wantCode(t, "verify an added partition", codes[0], nil)
	wantCode(t, "verify a partition never added (KIP-890)", codes[1], kerr.TransactionAbortable)
	wantCode(t, "verify with a stale epoch", h.add(4, "a", pid, epoch-1, true, "t", 0)[0], kerr.ProducerFenced)
	n := len(h.log)
	h.add(4, "a", pid, epoch, true, "t", 5)
	if len(h.log) != n {
		t.Error("verify-only wrote a record")
	}
}

// KIP-890 part 2: EndTxn v5 bumps the epoch with every transaction, so a
// delayed EndTxn of an earlier transaction cannot end a later one
// (KAFKA-17754); its markers carry the bumped epoch and the transaction
// version.
func TestCoordinator_EndTxnV5BumpsEpochPerTransaction(t *testing.T) {
	h := newHarness(t)
	pid, epoch := h.mustInit("a")
	wantCode(t, "implicit add (Produce v12)", h.add(5, "a", pid, epoch, false, "t", 0)[0], nil)
	resp := h.end(5, "a", pid, epoch, true)
	if resp.ErrorCode != 0 || resp.ProducerID != pid || resp.ProducerEpoch != epoch+1 {
		t.Fatalf("EndTxn v5: %+v, want epoch %d", resp, epoch+1)
	}
	if m := h.markers[0]; m.ProducerEpoch != epoch+1 || m.TransactionVersion != 2 {
		t.Errorf("markers %+v, want epoch %d and transaction version 2", m, epoch+1)
	}
	wantCode(t, "retry while completing", h.end(5, "a", pid, epoch, true).ErrorCode, kerr.ConcurrentTransactions)
	h.completeMarkers()
	retry := h.end(5, "a", pid, epoch, true)
	if retry.ErrorCode != 0 || retry.ProducerEpoch != epoch+1 {
		t.Errorf("retry after completion: %+v", retry)
	}
	// The next transaction runs at the bumped epoch.
	next := epoch + 1
	wantCode(t, "second transaction", h.add(5, "a", pid, next, false, "t", 0)[0], nil)
	// The delayed EndTxn(commit) of the first transaction arrives now.
	wantCode(t, "delayed EndTxn of the earlier transaction (KAFKA-17754)", h.end(5, "a", pid, epoch, true).ErrorCode, kerr.ProducerFenced)
	wantCode(t, "delayed abort of the earlier transaction", h.end(5, "a", pid, epoch, false).ErrorCode, kerr.ProducerFenced)
	if s := h.state("a"); s != "Ongoing" {
		t.Errorf("the second transaction is %s, want Ongoing", s)
	}
	// A stale marker report of the first transaction is ignored too.
	n := len(h.log)
	h.take(h.c.CompleteMarkers(Markers{TransactionalID: "a", ProducerID: pid, ProducerEpoch: epoch + 1, Commit: true, TransactionVersion: 2}))
	if len(h.log) != n || h.state("a") != "Ongoing" {
		t.Error("a stale marker report touched the second transaction")
	}
	wantCode(t, "abort without partitions", h.end(5, "a", pid, next, false).ErrorCode, nil)
	if s := h.state("a"); s != "PrepareAbort" {
		t.Errorf("after abort: %s", s)
	}
}

func TestCoordinator_EndTxnV5AbortWithoutTransaction(t *testing.T) {
	h := newHarness(t)
	pid, epoch := h.mustInit("a")
	wantCode(t, "commit without a transaction", h.end(5, "a", pid, epoch, true).ErrorCode, kerr.InvalidTxnState)
	resp := h.end(5, "a", pid, epoch, false)
	if resp.ErrorCode != 0 || resp.ProducerEpoch != epoch+1 || h.state("a") != "CompleteAbort" {
		t.Errorf("abort without a transaction: %+v, state %s", resp, h.state("a"))
	}
}

// With transaction version 2 an exhausted epoch moves to the next
// producer id when the transaction completes; EndTxn answers it.
func TestCoordinator_EndTxnV5EpochOverflow(t *testing.T) {
	h := newHarness(t)
	pid, _ := h.mustInit("a")
	h.c.txns["a"].producerEpoch = math.MaxInt16 - 1
	epoch := int16(math.MaxInt16 - 1)
	wantCode(t, "add", h.add(5, "a", pid, epoch, false, "t", 0)[0], nil)
	resp := h.end(5, "a", pid, epoch, true)
	if resp.ErrorCode != 0 || resp.ProducerID == pid || resp.ProducerEpoch != 0 {
		t.Fatalf("EndTxn at the last epoch: %+v, want a new producer id at epoch 0", resp)
	}
	if m := h.markers[0]; m.ProducerID != pid || m.ProducerEpoch != math.MaxInt16 {
		t.Errorf("markers %+v, want the old id at epoch %d", m, math.MaxInt16)
	}
	h.completeMarkers()
	d := h.describe("a")
	if d.ProducerID != resp.ProducerID || d.ProducerEpoch != 0 || d.State != "CompleteCommit" {
		t.Errorf("after completion: %+v", d)
	}
	retry := h.end(5, "a", pid, epoch, true)
	if retry.ErrorCode != 0 || retry.ProducerID != resp.ProducerID {
		t.Errorf("retry across the rotation: %+v", retry)
	}
}

func TestCoordinator_LoadingAndUnloaded(t *testing.T) {
	h := newHarness(t)
	c := New(h.clk, h.cfg)
	wantCode(t, "while loading", c.InitProducerID(&kmsg.InitProducerIDRequest{TransactionalID: kmsg.StringPtr("a"), TransactionTimeoutMillis: 1000}).Response.(*kmsg.InitProducerIDResponse).ErrorCode, kerr.CoordinatorLoadInProgress)
	c.Loaded()
	c.Unload()
	wantCode(t, "unloaded", c.EndTxn(&kmsg.EndTxnRequest{TransactionalID: "a"}).Response.(*kmsg.EndTxnResponse).ErrorCode, kerr.NotCoordinator)
	if _, ok := c.NextDeadline(); ok {
		t.Error("an unloaded coordinator has a deadline")
	}
}

func TestCoordinator_ListTransactionsFilters(t *testing.T) {
	h := newHarness(t)
	pa, ea := h.mustInit("a")
	pb, _ := h.mustInit("b")
	h.mustAdd("a", pa, ea, "t", 0)
	h.clk.Advance(5 * time.Second)
	list := func(req *kmsg.ListTransactionsRequest) []string {
		var ids []string
		for _, s := range h.c.ListTransactions(req).Response.(*kmsg.ListTransactionsResponse).TransactionStates {
			ids = append(ids, s.TransactionalID)
		}
		return ids
	}
	req := kmsg.NewPtrListTransactionsRequest()
	req.Version = 1
	if got := list(req); len(got) != 2 {
		t.Errorf("no filter: %v", got)
	}
	req.StateFilters = []string{"ongoing"}
	if got := list(req); len(got) != 1 || got[0] != "a" {
		t.Errorf("state filter: %v", got)
	}
	req.StateFilters, req.ProducerIDFilters = nil, []int64{pb}
	if got := list(req); len(got) != 1 || got[0] != "b" {
		t.Errorf("producer filter: %v", got)
	}
	req.ProducerIDFilters, req.DurationFilterMillis = nil, 4000
	if got := list(req); len(got) != 1 || got[0] != "a" {
		t.Errorf("duration filter (v1): %v", got)
	}
	req.DurationFilterMillis = -1
	req.StateFilters = []string{"Bogus"}
	resp := h.c.ListTransactions(req).Response.(*kmsg.ListTransactionsResponse)
	if len(resp.TransactionStates) != 0 || len(resp.UnknownStateFilters) != 1 {
		t.Errorf("unknown state filter: %+v", resp)
	}
}

// The EndTxn version decides the markers' transaction version: an EndTxn
// v4 after an implicit add keeps the epoch, so its markers must not claim
// transaction version 2 (whose markers need a newer epoch than the data).
func TestCoordinator_EndTxnVersionDecidesMarkers(t *testing.T) {
	h := newHarness(t)
	pid, epoch := h.mustInit("a")
	h.add(5, "a", pid, epoch, false, "t", 0)
	wantCode(t, "EndTxn v4", h.end(4, "a", pid, epoch, true).ErrorCode, nil)
	if m := h.markers[0]; m.TransactionVersion != 0 || m.ProducerEpoch != epoch {
		t.Errorf("markers %+v, want transaction version 0 at epoch %d", m, epoch)
	}
}
