package runtime

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/coordinator/group"
)

// txnCommit commits offset o for partition 0 of "t" in the producer's
// transaction.
func txnCommit(t *testing.T, r *Runtime, groupID string, pid int64, o int64) {
	t.Helper()
	req := kmsg.NewPtrTxnOffsetCommitRequest()
	req.Version, req.TransactionalID, req.Group, req.ProducerID, req.Generation = 3, "tx", groupID, pid, -1
	rt := kmsg.NewTxnOffsetCommitRequestTopic()
	rt.Topic = "t"
	rt.Partitions = append(rt.Partitions, kmsg.TxnOffsetCommitRequestTopicPartition{Offset: o, LeaderEpoch: -1})
	req.Topics = append(req.Topics, rt)
	resp := ask(t, r, func(c *group.Coordinator, from group.Caller) group.Result { return c.TxnOffsetCommit(from, req) })
	if code := resp.(*kmsg.TxnOffsetCommitResponse).Topics[0].Partitions[0].ErrorCode; code != 0 {
		t.Fatalf("TxnOffsetCommit: %v", kerr.ErrorForCode(code))
	}
}

func stableFetch(t *testing.T, r *Runtime, groupID string) (int64, int16) {
	t.Helper()
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Version, req.Group, req.RequireStable = 7, groupID, true
	rt := kmsg.NewOffsetFetchRequestTopic()
	rt.Topic, rt.Partitions = "t", []int32{0}
	req.Topics = append(req.Topics, rt)
	resp := ask(t, r, func(c *group.Coordinator, from group.Caller) group.Result { return c.OffsetFetch(from, req) }).(*kmsg.OffsetFetchResponse)
	p := resp.Topics[0].Partitions[0]
	return p.Offset, p.ErrorCode
}

// Transactional offsets are written as a transactional batch and the
// marker as a control batch through the shard; both replay after a
// restart: committed offsets stay committed, aborted ones stay dropped,
// and those of a transaction still open stay pending.
func TestRuntime_TransactionalOffsetsAndMarkersReplay(t *testing.T) {
	dir := t.TempDir()
	d, l := openLog(t, dir)
	r := startRuntime(t, l)
	loadedFetch(t, r, "committed")
	ctx := context.Background()

	txnCommit(t, r, "committed", 1, 10)
	if _, code := stableFetch(t, r, "committed"); code != kerr.UnstableOffsetCommit.Code {
		t.Errorf("pending offset: %v, want UNSTABLE_OFFSET_COMMIT", kerr.ErrorForCode(code))
	}
	if err := r.WriteTxnMarker(ctx, 0, 1, 0, 5, true); err != nil {
		t.Fatal(err)
	}
	txnCommit(t, r, "aborted", 2, 20)
	if err := r.WriteTxnMarker(ctx, 0, 2, 0, 5, false); err != nil {
		t.Fatal(err)
	}
	txnCommit(t, r, "open", 3, 30)
	check := func(when string) {
		t.Helper()
		if o, code := stableFetch(t, r, "committed"); o != 10 || code != 0 {
			t.Errorf("%s: committed group %d %v, want 10", when, o, kerr.ErrorForCode(code))
		}
		if o, code := stableFetch(t, r, "aborted"); o != -1 || code != 0 {
			t.Errorf("%s: aborted group %d %v, want none", when, o, kerr.ErrorForCode(code))
		}
		if _, code := stableFetch(t, r, "open"); code != kerr.UnstableOffsetCommit.Code {
			t.Errorf("%s: open transaction: %v, want UNSTABLE_OFFSET_COMMIT", when, kerr.ErrorForCode(code))
		}
	}
	check("live")
	r.Close()
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	d, l = openLog(t, dir)
	t.Cleanup(func() { d.Close() })
	r = startRuntime(t, l)
	loadedFetch(t, r, "committed")
	check("after restart")
	if err := r.WriteTxnMarker(ctx, 0, 3, 0, 5, true); err != nil {
		t.Fatal(err)
	}
	if o, code := stableFetch(t, r, "open"); o != 30 || code != 0 {
		t.Errorf("open group after its commit marker: %d %v", o, kerr.ErrorForCode(code))
	}
}

func TestRuntime_WriteTxnMarkerErrors(t *testing.T) {
	d, l := openLog(t, t.TempDir())
	t.Cleanup(func() { d.Close() })
	r := startRuntime(t, l)
	loadedFetch(t, r, "g")
	l.fail.Store(true)
	if err := r.WriteTxnMarker(context.Background(), 0, 1, 0, 0, true); err != kerr.NotCoordinator {
		t.Errorf("marker whose write failed: %v, want NOT_COORDINATOR", err)
	}
	l.fail.Store(false)
	if err := r.WriteTxnMarker(context.Background(), 9, 1, 0, 0, true); err == nil {
		t.Error("marker for a partition out of range succeeded")
	}
}
