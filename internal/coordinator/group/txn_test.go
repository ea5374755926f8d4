package group

import (
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func txnCommitReq(group, member string, gen int32, pid int64, off int64) *kmsg.TxnOffsetCommitRequest {
	req := kmsg.NewPtrTxnOffsetCommitRequest()
	req.Version, req.TransactionalID, req.Group, req.MemberID, req.Generation, req.ProducerID = 3, "tx", group, member, gen, pid
	rt := kmsg.NewTxnOffsetCommitRequestTopic()
	rt.Topic = "t"
	rt.Partitions = append(rt.Partitions, kmsg.TxnOffsetCommitRequestTopicPartition{Offset: off, LeaderEpoch: 4})
	req.Topics = append(req.Topics, rt)
	return req
}

func (h *harness) txnCommit(req *kmsg.TxnOffsetCommitRequest) (Result, int16) {
	h.t.Helper()
	res := h.take(h.c.TxnOffsetCommit(h.caller(), req), 0)
	return res, res.Response.(*kmsg.TxnOffsetCommitResponse).Topics[0].Partitions[0].ErrorCode
}

func (h *harness) marker(pid int64, commit bool) Result {
	h.t.Helper()
	return h.take(h.c.WriteTxnMarker(pid, 0, 1, commit), 0)
}

func (h *harness) fetchStable(group string) kmsg.OffsetFetchResponseTopicPartition {
	h.t.Helper()
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Version, req.Group, req.RequireStable = 7, group, true
	req.Topics = []kmsg.OffsetFetchRequestTopic{{Topic: "t", Partitions: []int32{0}}}
	return h.take(h.c.OffsetFetch(h.caller(), req), 0).Response.(*kmsg.OffsetFetchResponse).Topics[0].Partitions[0]
}

// KIP-447: TxnOffsetCommit checks the member and generation it carries
// (v3+); without them (generation -1, no member) any group takes it.
func TestTxnOffsetCommit_MemberChecks(t *testing.T) {
	h := newHarness(t, testConfig())
	a := newTM("g", "t")
	h.stabilize(a)
	for _, tc := range []struct {
		name string
		req  *kmsg.TxnOffsetCommitRequest
		want *kerr.Error
	}{
		{"member of the generation", txnCommitReq("g", a.memberID, a.gen, 1, 10), nil},
		{"old generation", txnCommitReq("g", a.memberID, a.gen-1, 1, 10), kerr.IllegalGeneration},
		{"unknown member", txnCommitReq("g", "x", a.gen, 1, 10), kerr.UnknownMemberID},
		{"no member information", txnCommitReq("g", "", -1, 1, 10), nil},
		{"new group", txnCommitReq("fresh", "", -1, 1, 10), nil},
		{"empty group id", txnCommitReq("", "", -1, 1, 10), kerr.InvalidGroupID},
	} {
		_, code := h.txnCommit(tc.req)
		wantCode(t, tc.name, code, tc.want)
	}
}

// Pending offsets are invisible until the COMMIT marker and dropped by an
// ABORT; require_stable answers UNSTABLE_OFFSET_COMMIT meanwhile.
func TestTxnOffsetCommit_PendingUntilMarker(t *testing.T) {
	h := newHarness(t, testConfig())
	res, code := h.txnCommit(txnCommitReq("g", "", -1, 7, 10))
	wantCode(t, "TxnOffsetCommit", code, nil)
	if res.Txn == nil || res.Txn.ProducerID != 7 || res.Txn.Control || len(res.Records) != 1 {
		t.Fatalf("result batch %+v, %d records", res.Txn, len(res.Records))
	}
	if got := h.fetch("g", "t", 0); got.Offset != -1 {
		t.Errorf("pending offset visible: %d", got.Offset)
	}
	wantCode(t, "require_stable while pending", h.fetchStable("g").ErrorCode, kerr.UnstableOffsetCommit)
	m := h.marker(7, true)
	if m.Txn == nil || !m.Txn.Control || len(m.Records) != 1 {
		t.Fatalf("marker result %+v", m.Txn)
	}
	if got := h.fetchStable("g"); got.Offset != 10 || got.ErrorCode != 0 || got.LeaderEpoch != 4 {
		t.Errorf("after COMMIT: %+v", got)
	}
	h.txnCommit(txnCommitReq("g", "", -1, 8, 20))
	h.marker(8, false)
	if got := h.fetchStable("g"); got.Offset != 10 || got.ErrorCode != 0 {
		t.Errorf("after ABORT: %+v, want 10", got)
	}
}

// A plain commit written after a transaction's offset wins over it when
// the transaction commits later (Kafka compares log positions).
func TestTxnOffsetCommit_LaterPlainCommitWins(t *testing.T) {
	h := newHarness(t, testConfig())
	h.txnCommit(txnCommitReq("g", "", -1, 7, 10))
	wantCode(t, "plain commit", h.commit(commitReq(8, "g", "", -1, "t", 0, 50, nil)), nil)
	h.marker(7, true)
	if got := h.fetch("g", "t", 0); got.Offset != 50 {
		t.Errorf("offset %d, want the later plain commit's 50", got.Offset)
	}
}

func TestTxnOffsetCommit_UnavailableAnswers(t *testing.T) {
	h := newHarness(t, testConfig())
	h.c.Unload()
	_, code := h.txnCommit(txnCommitReq("g", "", -1, 7, 10))
	wantCode(t, "unloaded", code, kerr.NotCoordinator)
	resp := h.marker(7, true).Response.(*kmsg.WriteTxnMarkersResponse)
	wantCode(t, "marker on an unloaded coordinator", resp.Markers[0].Topics[0].Partitions[0].ErrorCode, kerr.NotCoordinator)
}

// Pending and committed transactional offsets are exactly what replaying
// the batches gives (transactional batches and markers included), for a
// random mix of plain commits, transactional commits and markers.
func TestTxnOffsetCommit_ReplayEquality(t *testing.T) {
	type batch struct {
		records []Record
		txn     *TxnBatch
		commit  bool
	}
	for seed := range uint64(10) {
		rng := rand.New(rand.NewPCG(seed, 1))
		h := newHarness(t, testConfig())
		var batches []batch
		keep := func(res Result, commit bool) {
			if len(res.Records) > 0 {
				batches = append(batches, batch{res.Records, res.Txn, commit})
			}
		}
		for range 200 {
			g := "g" + strconv.Itoa(rng.IntN(3))
			pid := int64(rng.IntN(4))
			switch rng.IntN(4) {
			case 0:
				keep(h.take(h.c.OffsetCommit(h.caller(), commitReq(8, g, "", -1, "t", 0, rng.Int64N(1000), nil)), 0), false)
			case 1:
				res, _ := h.txnCommit(txnCommitReq(g, "", -1, pid, rng.Int64N(1000)))
				keep(res, false)
			case 2, 3:
				commit := rng.IntN(2) == 0
				keep(h.marker(pid, commit), commit)
			}
		}
		c := New(h.clk, testConfig())
		for _, b := range batches {
			for _, r := range b.records {
				var err error
				switch {
				case b.txn == nil:
					err = c.Replay(r)
				case b.txn.Control:
					err = c.ReplayTxnMarker(b.txn.ProducerID, b.commit)
				default:
					err = c.ReplayTxnOffset(r, b.txn.ProducerID)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
		}
		c.Loaded()
		_, live := snapshot(h.c)
		_, replayed := snapshot(c)
		if !reflect.DeepEqual(live, replayed) {
			t.Fatalf("seed %d: committed offsets differ\nlive:     %v\nreplayed: %v", seed, live, replayed)
		}
		strip := func(p map[int64]pendingOffsets) map[int64]pendingOffsets {
			out := map[int64]pendingOffsets{}
			for pid, groups := range p {
				out[pid] = pendingOffsets{}
				for g, topics := range groups {
					out[pid][g] = map[string]map[int32]offset{}
					for topic, parts := range topics {
						out[pid][g][topic] = map[int32]offset{}
						for part, o := range parts {
							o.order = 0
							out[pid][g][topic][part] = o
						}
					}
				}
			}
			return out
		}
		if !reflect.DeepEqual(strip(h.c.pending), strip(c.pending)) {
			t.Fatalf("seed %d: pending offsets differ\nlive:     %v\nreplayed: %v", seed, h.c.pending, c.pending)
		}
	}
}
