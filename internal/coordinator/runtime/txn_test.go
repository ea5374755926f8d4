package runtime

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/coordinator/txn"
	"github.com/basketmq/basket/internal/log"
)

// markerSink is a fake WriteTxnMarkers: it records every request and
// answers each partition with what code says, after gate opens.
type markerSink struct {
	mu   sync.Mutex
	reqs []*kmsg.WriteTxnMarkersRequest
	code func(attempt int, topic string, p int32) int16
	gate chan struct{} // nil: open
}

func (s *markerSink) write(ctx context.Context, req *kmsg.WriteTxnMarkersRequest) (*kmsg.WriteTxnMarkersResponse, error) {
	s.mu.Lock()
	gate := s.gate
	s.reqs = append(s.reqs, req)
	attempt := len(s.reqs)
	s.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	resp := req.ResponseKind().(*kmsg.WriteTxnMarkersResponse)
	for _, m := range req.Markers {
		rm := kmsg.NewWriteTxnMarkersResponseMarker()
		rm.ProducerID = m.ProducerID
		for _, t := range m.Topics {
			rt := kmsg.NewWriteTxnMarkersResponseMarkerTopic()
			rt.Topic = t.Topic
			for _, p := range t.Partitions {
				rp := kmsg.NewWriteTxnMarkersResponseMarkerTopicPartition()
				rp.Partition = p
				if s.code != nil {
					rp.ErrorCode = s.code(attempt, t.Topic, p)
				}
				rt.Partitions = append(rt.Partitions, rp)
			}
			rm.Topics = append(rm.Topics, rt)
		}
		resp.Markers = append(resp.Markers, rm)
	}
	return resp, nil
}

func (s *markerSink) requests() []*kmsg.WriteTxnMarkersRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*kmsg.WriteTxnMarkersRequest(nil), s.reqs...)
}

// openTxnLog opens partition 0 of __transaction_state in dir.
func openTxnLog(t *testing.T, dir string) (*log.Dir, *log.Log) {
	t.Helper()
	d, err := log.OpenDir(dir, log.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	tp := log.TopicPartition{Topic: txn.Topic, Partition: 0}
	l, ok := d.Log(tp)
	if !ok {
		if l, err = d.CreateLog(tp, log.DefaultConfig()); err != nil {
			t.Fatal(err)
		}
	}
	return d, l
}

func startTxns(t *testing.T, l Log, sink *markerSink) *Transactions {
	t.Helper()
	var pid int64
	cfg := txn.DefaultConfig()
	cfg.ProducerIDs = func() (int64, error) { pid++; return pid, nil }
	r := StartTransactions(TxnOptions{
		Partitions: 1, Txn: cfg, Logger: slog.New(slog.DiscardHandler), MarkerRetryBackoff: 5 * time.Millisecond,
		Partition:       func(int32) (Log, int32, bool) { return l, 7, true },
		WriteTxnMarkers: sink.write,
	})
	t.Cleanup(r.Close)
	return r
}

func askTxn(t *testing.T, r *Transactions, cmd TxnCommand) kmsg.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ch, err := r.Submit(ctx, 0, cmd)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case resp := <-ch:
		return resp
	case <-ctx.Done():
		t.Fatal("no answer")
		return nil
	}
}

// initTxn initialises id once the shard has loaded.
func initTxn(t *testing.T, r *Transactions, id string) (int64, int16) {
	t.Helper()
	req := kmsg.NewPtrInitProducerIDRequest()
	req.Version, req.TransactionalID, req.TransactionTimeoutMillis = 4, &id, 60000
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		resp := askTxn(t, r, func(c *txn.Coordinator) txn.Result { return c.InitProducerID(req) }).(*kmsg.InitProducerIDResponse)
		switch resp.ErrorCode {
		case 0:
			return resp.ProducerID, resp.ProducerEpoch
		case kerr.CoordinatorLoadInProgress.Code, kerr.ConcurrentTransactions.Code:
			continue
		default:
			t.Fatalf("InitProducerId: %v", kerr.ErrorForCode(resp.ErrorCode))
		}
	}
	t.Fatal("InitProducerId never succeeded")
	return 0, 0
}

func addTxn(t *testing.T, r *Transactions, id string, pid int64, epoch int16, topic string, parts ...int32) int16 {
	t.Helper()
	codes, err := r.VerifyTxnPartitions(context.Background(), id, pid, epoch, true, map[string][]int32{topic: parts})
	if err != nil {
		t.Fatal(err)
	}
	return codes[topic][parts[0]]
}

func endTxn(t *testing.T, r *Transactions, id string, pid int64, epoch int16, commit bool) int16 {
	t.Helper()
	req := kmsg.NewPtrEndTxnRequest()
	req.Version, req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Commit = 4, id, pid, epoch, commit
	return askTxn(t, r, func(c *txn.Coordinator) txn.Result { return c.EndTxn(req) }).(*kmsg.EndTxnResponse).ErrorCode
}

func txnState(t *testing.T, r *Transactions, id string) string {
	t.Helper()
	req := kmsg.NewPtrDescribeTransactionsRequest()
	req.TransactionalIDs = []string{id}
	return askTxn(t, r, func(c *txn.Coordinator) txn.Result { return c.DescribeTransactions(req) }).(*kmsg.DescribeTransactionsResponse).TransactionStates[0].State
}

func waitState(t *testing.T, r *Transactions, id, want string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if txnState(t, r, id) == want {
			return
		}
	}
	t.Fatalf("%s never reached %s (now %s)", id, want, txnState(t, r, id))
}

func TestTransactions_MarkersThenComplete(t *testing.T) {
	d, l := openTxnLog(t, t.TempDir())
	t.Cleanup(func() { d.Close() })
	sink := &markerSink{gate: make(chan struct{})} // nothing completes until the check
	r := startTxns(t, l, sink)
	pid, epoch := initTxn(t, r, "a")
	if code := addTxn(t, r, "a", pid, epoch, "t", 0, 1); code != 0 {
		t.Fatal(kerr.ErrorForCode(code))
	}
	if code := endTxn(t, r, "a", pid, epoch, true); code != 0 {
		t.Fatal(kerr.ErrorForCode(code))
	}
	if l.DurableOffset() < l.LogEndOffset() {
		t.Error("EndTxn answered before PrepareCommit was durable")
	}
	close(sink.gate)
	waitState(t, r, "a", "CompleteCommit")
	reqs := sink.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d WriteTxnMarkers requests, want 1", len(reqs))
	}
	m := reqs[0].Markers[0]
	if m.ProducerID != pid || !m.Committed || m.CoordinatorEpoch != 7 || len(m.Topics) != 1 || len(m.Topics[0].Partitions) != 2 {
		t.Errorf("marker request %+v", m)
	}
}

// Retriable errors are retried for the partitions that had them only.
func TestTransactions_MarkersRetryFailedPartitions(t *testing.T) {
	d, l := openTxnLog(t, t.TempDir())
	t.Cleanup(func() { d.Close() })
	sink := &markerSink{code: func(attempt int, _ string, p int32) int16 {
		if attempt < 3 && p == 1 {
			return kerr.NotLeaderForPartition.Code
		}
		return 0
	}}
	r := startTxns(t, l, sink)
	pid, epoch := initTxn(t, r, "a")
	addTxn(t, r, "a", pid, epoch, "t", 0, 1)
	endTxn(t, r, "a", pid, epoch, false)
	waitState(t, r, "a", "CompleteAbort")
	reqs := sink.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(reqs))
	}
	if ps := reqs[2].Markers[0].Topics[0].Partitions; len(ps) != 1 || ps[0] != 1 || reqs[2].Markers[0].Committed {
		t.Errorf("retry carried %v", reqs[2].Markers[0])
	}
}

// A test hook delays the marker write: until the markers of a transaction
// are written, the next transaction of the id cannot start (it gets
// CONCURRENT_TRANSACTIONS), so a late marker can never land in it
// (KAFKA-17754).
func TestTransactions_DelayedMarkersHoldTheNextTransaction(t *testing.T) {
	d, l := openTxnLog(t, t.TempDir())
	t.Cleanup(func() { d.Close() })
	sink := &markerSink{gate: make(chan struct{})}
	r := startTxns(t, l, sink)
	pid, epoch := initTxn(t, r, "a")
	addTxn(t, r, "a", pid, epoch, "t", 0)
	endTxn(t, r, "a", pid, epoch, true)
	for range 3 {
		if code := addTxn(t, r, "a", pid, epoch, "t", 0); code != kerr.ConcurrentTransactions.Code {
			t.Fatalf("add while the markers are delayed: %v, want CONCURRENT_TRANSACTIONS", kerr.ErrorForCode(code))
		}
	}
	if s := txnState(t, r, "a"); s != "PrepareCommit" {
		t.Fatalf("state while delayed: %s", s)
	}
	close(sink.gate)
	waitState(t, r, "a", "CompleteCommit")
	if code := addTxn(t, r, "a", pid, epoch, "t", 0); code != 0 {
		t.Errorf("next transaction after the markers: %v", kerr.ErrorForCode(code))
	}
}

// Markers that never got written before a shutdown are written when the
// partition loads again.
func TestTransactions_ReloadResendsMarkers(t *testing.T) {
	dir := t.TempDir()
	d, l := openTxnLog(t, dir)
	sink := &markerSink{code: func(int, string, int32) int16 { return kerr.RequestTimedOut.Code }}
	r := startTxns(t, l, sink)
	pid, epoch := initTxn(t, r, "a")
	addTxn(t, r, "a", pid, epoch, "t", 3)
	endTxn(t, r, "a", pid, epoch, true)
	for len(sink.requests()) < 2 {
		time.Sleep(5 * time.Millisecond)
	}
	r.Close()
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	d, l = openTxnLog(t, dir)
	t.Cleanup(func() { d.Close() })
	ok := &markerSink{}
	r = startTxns(t, l, ok)
	waitState(t, r, "a", "CompleteCommit")
	if reqs := ok.requests(); len(reqs) == 0 || reqs[0].Markers[0].Topics[0].Partitions[0] != 3 {
		t.Errorf("resent markers %v", reqs)
	}
}

func TestTransactions_VerifyTxnPartitionsAnswersPerPartition(t *testing.T) {
	d, l := openTxnLog(t, t.TempDir())
	t.Cleanup(func() { d.Close() })
	r := startTxns(t, l, &markerSink{})
	pid, epoch := initTxn(t, r, "a")
	addTxn(t, r, "a", pid, epoch, "t", 0)
	codes, err := r.VerifyTxnPartitions(context.Background(), "a", pid, epoch, false, map[string][]int32{"t": {0, 1}, "u": {0}})
	if err != nil {
		t.Fatal(err)
	}
	if codes["t"][0] != 0 || codes["t"][1] != kerr.InvalidTxnState.Code || codes["u"][0] != kerr.InvalidTxnState.Code {
		t.Errorf("verify: %v", codes)
	}
	codes, _ = r.VerifyTxnPartitions(context.Background(), "a", pid, epoch+1, false, map[string][]int32{"t": {0}})
	if codes["t"][0] != kerr.ProducerFenced.Code {
		t.Errorf("verify with another epoch: %v", kerr.ErrorForCode(codes["t"][0]))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.VerifyTxnPartitions(ctx, "a", pid, epoch, false, map[string][]int32{"t": {0}}); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v", err)
	}
}
