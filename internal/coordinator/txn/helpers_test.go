package txn

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/clock"
)

// harness is a loaded coordinator on a fake clock, keeping every record it
// wrote (the partition's log) and the markers it asked for.
type harness struct {
	t       testing.TB
	clk     *clock.Fake
	cfg     Config
	c       *Coordinator
	log     []Record
	markers []Markers
	nextPID int64
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	h := &harness{t: t, clk: clock.NewFake(time.UnixMilli(1_700_000_000_000)), nextPID: 1000}
	h.cfg = DefaultConfig()
	h.cfg.ProducerIDs = func() (int64, error) { h.nextPID++; return h.nextPID, nil }
	h.c = New(h.clk, h.cfg)
	h.take(h.c.Loaded())
	return h
}

// take keeps a Result's records and markers, as an owner would write them.
func (h *harness) take(res Result) Result {
	h.log = append(h.log, res.Records...)
	h.markers = append(h.markers, res.Markers...)
	return res
}

// completeMarkers reports every outstanding marker written.
func (h *harness) completeMarkers() {
	ms := h.markers
	h.markers = nil
	for _, m := range ms {
		h.take(h.c.CompleteMarkers(m))
	}
}

func (h *harness) init(id string, timeoutMs int32, pid int64, epoch int16) *kmsg.InitProducerIDResponse {
	req := kmsg.NewPtrInitProducerIDRequest()
	req.Version, req.TransactionalID, req.TransactionTimeoutMillis = 5, &id, timeoutMs
	req.ProducerID, req.ProducerEpoch = pid, epoch
	return h.take(h.c.InitProducerID(req)).Response.(*kmsg.InitProducerIDResponse)
}

// mustInit initialises id and returns its producer id and epoch.
func (h *harness) mustInit(id string) (int64, int16) {
	h.t.Helper()
	resp := h.init(id, 60000, -1, -1)
	if resp.ErrorCode != 0 {
		h.t.Fatalf("InitProducerId(%s): %v", id, kerr.ErrorForCode(resp.ErrorCode))
	}
	return resp.ProducerID, resp.ProducerEpoch
}

func (h *harness) add(version int16, id string, pid int64, epoch int16, verifyOnly bool, topic string, partitions ...int32) []int16 {
	tx := kmsg.NewAddPartitionsToTxnRequestTransaction()
	tx.TransactionalID, tx.ProducerID, tx.ProducerEpoch, tx.VerifyOnly = id, pid, epoch, verifyOnly
	tt := kmsg.NewAddPartitionsToTxnRequestTransactionTopic()
	tt.Topic, tt.Partitions = topic, partitions
	tx.Topics = append(tx.Topics, tt)
	resp := h.take(h.c.AddPartitionsToTxn(version, &tx)).Response.(*kmsg.AddPartitionsToTxnResponse)
	var codes []int16
	for _, p := range resp.Transactions[0].Topics[0].Partitions {
		codes = append(codes, p.ErrorCode)
	}
	return codes
}

// mustAdd adds partitions with AddPartitionsToTxn v3.
func (h *harness) mustAdd(id string, pid int64, epoch int16, topic string, partitions ...int32) {
	h.t.Helper()
	for _, code := range h.add(3, id, pid, epoch, false, topic, partitions...) {
		if code != 0 {
			h.t.Fatalf("AddPartitionsToTxn(%s): %v", id, kerr.ErrorForCode(code))
		}
	}
}

func (h *harness) addOffsets(id string, pid int64, epoch int16, p int32) int16 {
	req := kmsg.NewPtrAddOffsetsToTxnRequest()
	req.Version, req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Group = 4, id, pid, epoch, "g"
	return h.take(h.c.AddOffsetsToTxn(req, "__consumer_offsets", p)).Response.(*kmsg.AddOffsetsToTxnResponse).ErrorCode
}

func (h *harness) end(version int16, id string, pid int64, epoch int16, commit bool) *kmsg.EndTxnResponse {
	req := kmsg.NewPtrEndTxnRequest()
	req.Version, req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Commit = version, id, pid, epoch, commit
	return h.take(h.c.EndTxn(req)).Response.(*kmsg.EndTxnResponse)
}

func (h *harness) describe(id string) kmsg.DescribeTransactionsResponseTransactionState {
	req := kmsg.NewPtrDescribeTransactionsRequest()
	req.TransactionalIDs = []string{id}
	return h.c.DescribeTransactions(req).Response.(*kmsg.DescribeTransactionsResponse).TransactionStates[0]
}

func (h *harness) state(id string) string { return h.describe(id).State }

func wantCode(t testing.TB, what string, got int16, want *kerr.Error) {
	t.Helper()
	var w int16
	if want != nil {
		w = want.Code
	}
	if got != w {
		t.Errorf("%s: %v, want %v", what, kerr.ErrorForCode(got), want)
	}
}
