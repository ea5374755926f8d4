package server

// Transactions on the partition side (KIP-98), driven by hand: the
// transaction coordinator lives elsewhere, so these tests get a producer id
// from InitProducerId, produce transactional batches built with
// internal/record through a raw ProduceRequest, and end transactions with
// WriteTxnMarkers as a coordinator would. Consumers are real clients
// (kgo, kcat) reading with isolation.level read_committed or
// read_uncommitted.

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/record"
)

// txnProducer produces hand-built batches for one producer id and ends its
// transactions with WriteTxnMarkers.
type txnProducer struct {
	t     *testing.T
	cl    *kgo.Client
	id    int64
	epoch int16
	seq   map[string]int32 // per "topic/partition"
}

func newTxnProducer(t *testing.T, cl *kgo.Client) *txnProducer {
	t.Helper()
	req := kmsg.NewPtrInitProducerIDRequest()
	req.TransactionTimeoutMillis = 60000
	resp, err := req.RequestWith(ctxT(t), cl)
	if err != nil || resp.ErrorCode != 0 {
		t.Fatalf("InitProducerId: %v %v", err, kerr.ErrorForCode(resp.ErrorCode))
	}
	return &txnProducer{t: t, cl: cl, id: resp.ProducerID, epoch: resp.ProducerEpoch, seq: map[string]int32{}}
}

// produce sends one batch of values to topic/partition, transactional or
// not, and returns the partition's error code.
func (p *txnProducer) produce(topic string, partition int32, transactional bool, values ...string) int16 {
	p.t.Helper()
	key := fmt.Sprintf("%s/%d", topic, partition)
	recs := make([]record.Record, len(values))
	for i, v := range values {
		recs[i] = record.Record{Value: []byte(v)}
	}
	batch, err := record.AppendBatch(nil, record.BatchSpec{
		BaseTimestamp: time.Now().UnixMilli(), ProducerID: p.id, ProducerEpoch: p.epoch,
		BaseSequence: p.seq[key], Transactional: transactional,
	}, recs, record.CodecNone)
	if err != nil {
		p.t.Fatal(err)
	}
	code := rawTxnProduce(p.t, p.cl, "txn-test", topic, partition, batch)
	if code == 0 {
		p.seq[key] += int32(len(values))
	}
	return code
}

func rawTxnProduce(t *testing.T, cl *kgo.Client, txnID, topic string, partition int32, batch []byte) int16 {
	t.Helper()
	req := kmsg.NewPtrProduceRequest()
	req.Acks, req.TimeoutMillis = -1, 10000
	if txnID != "" {
		req.TransactionID = &txnID
	}
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition, rp.Records = partition, batch
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctxT(t), cl)
	if err != nil {
		t.Fatalf("Produce: %v", err)
	}
	return resp.Topics[0].Partitions[0].ErrorCode
}

// end writes the transaction's markers to the partitions and returns the
// per-partition error codes.
func (p *txnProducer) end(commit bool, coordinatorEpoch int32, parts map[string][]int32) map[string]int16 {
	p.t.Helper()
	return writeMarkers(p.t, p.cl, p.id, p.epoch, coordinatorEpoch, commit, parts)
}

func writeMarkers(t *testing.T, cl *kgo.Client, id int64, epoch int16, coordinatorEpoch int32, commit bool, parts map[string][]int32) map[string]int16 {
	t.Helper()
	return writeMarkersTV(t, cl, id, epoch, coordinatorEpoch, commit, 0, parts)
}

// writeMarkersTV is writeMarkers with a transaction version (v2+).
func writeMarkersTV(t *testing.T, cl *kgo.Client, id int64, epoch int16, coordinatorEpoch int32, commit bool, tv int8, parts map[string][]int32) map[string]int16 {
	t.Helper()
	req := kmsg.NewPtrWriteTxnMarkersRequest()
	m := kmsg.NewWriteTxnMarkersRequestMarker()
	m.ProducerID, m.ProducerEpoch, m.Committed, m.CoordinatorEpoch = id, epoch, commit, coordinatorEpoch
	m.TransactionVersion = tv
	for topic, ps := range parts {
		mt := kmsg.NewWriteTxnMarkersRequestMarkerTopic()
		mt.Topic, mt.Partitions = topic, ps
		m.Topics = append(m.Topics, mt)
	}
	req.Markers = append(req.Markers, m)
	// Straight to the broker: kgo would split the request by partition
	// leader and refuse unknown topics itself.
	raw, err := cl.Broker(1).Request(ctxT(t), req)
	if err != nil {
		t.Fatalf("WriteTxnMarkers: %v", err)
	}
	resp := raw.(*kmsg.WriteTxnMarkersResponse)
	codes := map[string]int16{}
	for _, mt := range resp.Markers[0].Topics {
		for _, mp := range mt.Partitions {
			codes[fmt.Sprintf("%s/%d", mt.Topic, mp.Partition)] = mp.ErrorCode
		}
	}
	return codes
}

func mustEnd(t *testing.T, codes map[string]int16) {
	t.Helper()
	for tp, c := range codes {
		if c != 0 {
			t.Fatalf("marker for %s: %v", tp, kerr.ErrorForCode(c))
		}
	}
}

// consumeValues reads topic from the start with the given isolation level
// until want values arrived (or a short quiet period passed once they
// did), and returns the values sorted.
func consumeValues(t *testing.T, b *Broker, topic string, committed bool, want int) []string {
	t.Helper()
	iso := kgo.ReadUncommitted()
	if committed {
		iso = kgo.ReadCommitted()
	}
	cl := newClient(t, b, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(iso), kgo.FetchMaxWait(200*time.Millisecond))
	var got []string
	deadline := time.Now().Add(15 * time.Second)
	quiet := 0
	for time.Now().Before(deadline) && (len(got) < want || quiet < 2) {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		fs := cl.PollFetches(ctx)
		cancel()
		n := 0
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)); n++ })
		if len(got) >= want && n == 0 {
			quiet++
		}
	}
	sort.Strings(got)
	return got
}

func values(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%02d", prefix, i)
	}
	return out
}

func TestTxn_ReadCommittedSeesOnlyCommittedRecords(t *testing.T) {
	// KIP-98: read_committed consumers get committed transactional records
	// and non-transactional ones, never aborted ones and nothing at or past
	// an open transaction's first offset; read_uncommitted get everything.
	b := startBroker(t, markerTestConfig(t, t.TempDir()))
	cl := newClient(t, b)
	adm := kadm.NewClient(cl)
	for _, topic := range []string{"txa", "txb", "txc"} {
		createTopic(t, adm, topic, 2)
	}
	p1, p2 := newTxnProducer(t, cl), newTxnProducer(t, cl)
	plain := newTxnProducer(t, cl)
	all := map[string][]int32{"txa": {0, 1}, "txb": {0, 1}, "txc": {0, 1}}

	var committed, aborted []string
	for round := range 3 {
		for _, topic := range []string{"txa", "txb", "txc"} {
			for part := range int32(2) {
				c := values(fmt.Sprintf("c%d-%s-%d-", round, topic, part), 3)
				a := values(fmt.Sprintf("a%d-%s-%d-", round, topic, part), 2)
				n := values(fmt.Sprintf("n%d-%s-%d-", round, topic, part), 1)
				// Interleaved: p1's transaction commits, p2's aborts.
				if code := p1.produce(topic, part, true, c[:2]...); code != 0 {
					t.Fatal(kerr.ErrorForCode(code))
				}
				if code := p2.produce(topic, part, true, a...); code != 0 {
					t.Fatal(kerr.ErrorForCode(code))
				}
				plain.produce(topic, part, false, n...)
				p1.produce(topic, part, true, c[2:]...)
				committed = append(committed, c...)
				committed = append(committed, n...)
				aborted = append(aborted, a...)
			}
		}
		mustEnd(t, p2.end(false, 0, all))
		mustEnd(t, p1.end(true, 0, all))
	}
	// An open transaction on txa/1 hides what follows it there from
	// read_committed consumers, committed or not.
	p2.produce("txa", 1, true, "open-0")
	plain.produce("txa", 1, false, "after-open-0")
	if code := p1.produce("txa", 1, false, "p1-plain"); code != 0 {
		t.Fatal(kerr.ErrorForCode(code))
	}

	// A plain batch from a producer inside a transaction: INVALID_TXN_STATE.
	if code := p2.produce("txa", 1, false, "bad"); code != kerr.InvalidTxnState.Code {
		t.Fatalf("non-transactional batch during a transaction: %v", kerr.ErrorForCode(code))
	}

	wantCommitted := slices.Sorted(slices.Values(committed))
	if got := consumeValues(t, b, "txa", true, 0); !slices.Equal(got, filterTopic(wantCommitted, "txa")) {
		t.Fatalf("read_committed txa:\n got %v\nwant %v", got, filterTopic(wantCommitted, "txa"))
	}
	for _, topic := range []string{"txb", "txc"} {
		want := filterTopic(wantCommitted, topic)
		if got := consumeValues(t, b, topic, true, len(want)); !slices.Equal(got, want) {
			t.Fatalf("read_committed %s:\n got %v\nwant %v", topic, got, want)
		}
	}
	everything := slices.Sorted(slices.Values(append(append(slices.Clone(committed), aborted...), "open-0", "after-open-0", "p1-plain")))
	for _, topic := range []string{"txa", "txb", "txc"} {
		want := filterTopic(everything, topic)
		if topic == "txa" {
			want = append(want, "after-open-0", "open-0", "p1-plain")
			sort.Strings(want)
		}
		if got := consumeValues(t, b, topic, false, len(want)); !slices.Equal(got, want) {
			t.Fatalf("read_uncommitted %s:\n got %v\nwant %v", topic, got, want)
		}
	}

	// ListOffsets latest under read_committed is the last stable offset.
	lso, err := adm.ListCommittedOffsets(ctxT(t), "txa")
	if err != nil {
		t.Fatal(err)
	}
	hw, err := adm.ListEndOffsets(ctxT(t), "txa")
	if err != nil {
		t.Fatal(err)
	}
	l1, _ := lso.Lookup("txa", 1)
	h1, _ := hw.Lookup("txa", 1)
	if l1.Offset != h1.Offset-3 {
		t.Fatalf("txa/1: last stable offset %d, high watermark %d; want the open transaction's first offset %d", l1.Offset, h1.Offset, h1.Offset-3)
	}

	// Committing the open transaction releases everything.
	mustEnd(t, p2.end(true, 0, map[string][]int32{"txa": {1}}))
	want := append(filterTopic(wantCommitted, "txa"), "after-open-0", "open-0", "p1-plain")
	sort.Strings(want)
	if got := consumeValues(t, b, "txa", true, len(want)); !slices.Equal(got, want) {
		t.Fatalf("read_committed txa after the commit:\n got %v\nwant %v", got, want)
	}
}

// filterTopic keeps the values produced to topic (they embed its name).
func filterTopic(vs []string, topic string) []string {
	var out []string
	for _, v := range vs {
		if strings.Contains(v, "-"+topic+"-") {
			out = append(out, v)
		}
	}
	return out
}

func TestTxn_WriteTxnMarkersErrors(t *testing.T) {
	b := startBroker(t, markerTestConfig(t, t.TempDir()))
	cl := newClient(t, b)
	createTopic(t, kadm.NewClient(cl), "marks", 1)
	p := newTxnProducer(t, cl)
	p.produce("marks", 0, true, "x")
	mustEnd(t, p.end(true, 3, map[string][]int32{"marks": {0}}))
	p.produce("marks", 0, true, "y")
	codes := p.end(false, 2, map[string][]int32{"marks": {0, 9}, "nosuch": {0}, "__consumer_offsets": {0}, "__transaction_state": {0}})
	want := map[string]int16{
		"marks/0":  kerr.TransactionCoordinatorFenced.Code, // coordinator epoch 2 < 3
		"marks/9":  kerr.UnknownTopicOrPartition.Code,
		"nosuch/0": kerr.UnknownTopicOrPartition.Code,
		// The group shard of a __consumer_offsets that does not exist yet
		// is still loading (retriable: the coordinator retries markers).
		"__consumer_offsets/0":  kerr.CoordinatorLoadInProgress.Code,
		"__transaction_state/0": kerr.InvalidTopicException.Code, // the coordinators' own log
	}
	for tp, c := range want {
		if codes[tp] != c {
			t.Errorf("%s: %v, want %v", tp, kerr.ErrorForCode(codes[tp]), kerr.ErrorForCode(c))
		}
	}
	// A marker from an older producer epoch (a zombie): INVALID_PRODUCER_EPOCH.
	p.epoch = -1
	if codes := p.end(false, 3, map[string][]int32{"marks": {0}}); codes["marks/0"] != kerr.InvalidProducerEpoch.Code {
		t.Fatalf("zombie marker: %v", kerr.ErrorForCode(codes["marks/0"]))
	}
}

func TestTxn_ClientControlBatchIsInvalidRecord(t *testing.T) {
	b := startBroker(t, markerTestConfig(t, t.TempDir()))
	cl := newClient(t, b)
	createTopic(t, kadm.NewClient(cl), "ctl", 1)
	batch, err := record.AppendBatch(nil, record.BatchSpec{ProducerID: 1, ProducerEpoch: 0, BaseSequence: -1, Transactional: true, Control: true},
		[]record.Record{record.EndTxnMarker{Type: record.ControlCommit}.Record()}, record.CodecNone)
	if err != nil {
		t.Fatal(err)
	}
	if code := rawTxnProduce(t, cl, "ctl-txn", "ctl", 0, batch); code != kerr.InvalidRecord.Code {
		t.Fatalf("client control batch: %v, want INVALID_RECORD", kerr.ErrorForCode(code))
	}
}

func TestTxn_DescribeProducers(t *testing.T) {
	b := startBroker(t, markerTestConfig(t, t.TempDir()))
	cl := newClient(t, b)
	adm := kadm.NewClient(cl)
	createTopic(t, adm, "dp", 1)
	p := newTxnProducer(t, cl)
	p.produce("dp", 0, true, "a", "b")
	req := kmsg.NewPtrDescribeProducersRequest()
	rt := kmsg.NewDescribeProducersRequestTopic()
	rt.Topic, rt.Partitions = "dp", []int32{0, 5}
	req.Topics = append(req.Topics, rt)
	describe := func() *kmsg.DescribeProducersResponse {
		raw, err := cl.Broker(1).Request(ctxT(t), req)
		if err != nil {
			t.Fatal(err)
		}
		return raw.(*kmsg.DescribeProducersResponse)
	}
	resp := describe()
	parts := resp.Topics[0].Partitions
	if len(parts) != 2 || parts[1].ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("partitions %+v", parts)
	}
	ap := parts[0].ActiveProducers
	if len(ap) != 1 || ap[0].ProducerID != p.id || ap[0].LastSequence != 1 || ap[0].CurrentTxnStartOffset != 0 || ap[0].CoordinatorEpoch != -1 {
		t.Fatalf("active producers %+v", ap)
	}
	mustEnd(t, p.end(true, 4, map[string][]int32{"dp": {0}}))
	ap = describe().Topics[0].Partitions[0].ActiveProducers
	if len(ap) != 1 || ap[0].CurrentTxnStartOffset != -1 || ap[0].CoordinatorEpoch != 4 {
		t.Fatalf("after the commit: %+v", ap)
	}
}

func TestKcat_ReadCommittedSkipsAbortedTransactions(t *testing.T) {
	// librdkafka (kcat) with isolation.level=read_committed drops the
	// aborted transaction's records using the fetch's aborted list (KIP-98).
	requireKcat(t)
	b := startBroker(t, markerTestConfig(t, t.TempDir()))
	cl := newClient(t, b)
	createTopic(t, kadm.NewClient(cl), "ktx", 1)
	p1, p2 := newTxnProducer(t, cl), newTxnProducer(t, cl)
	p1.produce("ktx", 0, true, "keep-0")
	p2.produce("ktx", 0, true, "drop-0", "drop-1")
	p1.produce("ktx", 0, true, "keep-1")
	mustEnd(t, p2.end(false, 0, map[string][]int32{"ktx": {0}}))
	mustEnd(t, p1.end(true, 0, map[string][]int32{"ktx": {0}}))
	p1.produce("ktx", 0, false, "keep-2")
	out, _ := kcat(t, b, "", "-C", "-t", "ktx", "-o", "beginning", "-e", "-f", "%s\n", "-X", "isolation.level=read_committed")
	if got := strings.Fields(out); !slices.Equal(got, []string{"keep-0", "keep-1", "keep-2"}) {
		t.Fatalf("kcat read_committed: %q", got)
	}
	out, _ = kcat(t, b, "", "-C", "-t", "ktx", "-o", "beginning", "-e", "-f", "%s\n", "-X", "isolation.level=read_uncommitted")
	if got := strings.Fields(out); len(got) != 5 {
		t.Fatalf("kcat read_uncommitted: %q", got)
	}
}

func TestTxn_AbortedTransactionsSurviveRestart(t *testing.T) {
	// The aborted-transaction index (.txnindex) and the open transactions
	// in the producer state outlive a restart: read_committed still drops
	// the aborted records and still stops at the open transaction.
	dir := t.TempDir()
	b := startBroker(t, markerTestConfig(t, dir))
	cl := newClient(t, b)
	createTopic(t, kadm.NewClient(cl), "rst", 1)
	p1, p2 := newTxnProducer(t, cl), newTxnProducer(t, cl)
	p1.produce("rst", 0, true, "c-rst-0")
	p2.produce("rst", 0, true, "a-rst-0")
	mustEnd(t, p2.end(false, 1, map[string][]int32{"rst": {0}}))
	mustEnd(t, p1.end(true, 1, map[string][]int32{"rst": {0}}))
	p1.produce("rst", 0, true, "o-rst-0") // left open
	cl.Close()
	b.Close()

	b2 := startBroker(t, markerTestConfig(t, dir))
	if got := consumeValues(t, b2, "rst", true, 1); !slices.Equal(got, []string{"c-rst-0"}) {
		t.Fatalf("read_committed after restart: %v", got)
	}
	cl2 := newClient(t, b2)
	mustEnd(t, writeMarkers(t, cl2, p1.id, p1.epoch, 1, true, map[string][]int32{"rst": {0}}))
	if got := consumeValues(t, b2, "rst", true, 2); !slices.Equal(got, []string{"c-rst-0", "o-rst-0"}) {
		t.Fatalf("read_committed after the commit: %v", got)
	}
}

func TestTxn_DelayedMarkerCannotEndNextTransaction(t *testing.T) {
	// KIP-890 part 2 (transaction version 2): the coordinator bumps the
	// producer epoch with every marker, and the partition refuses a marker
	// whose epoch is not above the producer's. A marker delayed from the
	// first transaction therefore cannot abort the second (KAFKA-17754).
	b := startBroker(t, markerTestConfig(t, t.TempDir()))
	cl := newClient(t, b)
	createTopic(t, kadm.NewClient(cl), "tv2", 1)
	p := newTxnProducer(t, cl)
	parts := map[string][]int32{"tv2": {0}}
	p.produce("tv2", 0, true, "first")
	mustEnd(t, writeMarkersTV(t, cl, p.id, p.epoch+1, 0, true, 2, parts)) // commit, epoch bumped
	p.epoch++
	p.seq = map[string]int32{}
	p.produce("tv2", 0, true, "second")
	// The first transaction's marker, delayed, arrives again as an abort.
	if codes := writeMarkersTV(t, cl, p.id, p.epoch, 0, false, 2, parts); codes["tv2/0"] != kerr.InvalidProducerEpoch.Code {
		t.Fatalf("delayed marker: %v, want INVALID_PRODUCER_EPOCH", kerr.ErrorForCode(codes["tv2/0"]))
	}
	mustEnd(t, writeMarkersTV(t, cl, p.id, p.epoch+1, 0, true, 2, parts))
	if got := consumeValues(t, b, "tv2", true, 2); !slices.Equal(got, []string{"first", "second"}) {
		t.Fatalf("read_committed: %v, want both transactions committed", got)
	}
}

func TestTxn_TransactionalBatchWithoutTransactionalIDRefused(t *testing.T) {
	// Kafka refuses a Produce holding transactional records without a
	// transactional id: TRANSACTIONAL_ID_AUTHORIZATION_FAILED.
	b := startBroker(t, markerTestConfig(t, t.TempDir()))
	cl := newClient(t, b)
	createTopic(t, kadm.NewClient(cl), "noid", 1)
	batch, err := record.AppendBatch(nil, record.BatchSpec{ProducerID: 1, ProducerEpoch: 0, Transactional: true},
		[]record.Record{{Value: []byte("v")}}, record.CodecNone)
	if err != nil {
		t.Fatal(err)
	}
	if code := rawTxnProduce(t, cl, "", "noid", 0, batch); code != kerr.TransactionalIDAuthorizationFailed.Code {
		t.Fatalf("transactional batch without a transactional id: %v", kerr.ErrorForCode(code))
	}
}

// markerTestConfig is testConfig for tests that play the transaction
// coordinator themselves, with hand-built transactional batches and
// WriteTxnMarkers requests: the broker's own coordinators are off, so
// nothing verifies the transactions (KIP-890) or competes in writing
// markers.
func markerTestConfig(t *testing.T, dir string) Config {
	t.Helper()
	cfg := testConfig(t, dir)
	cfg.DisableTransactions = true
	return cfg
}
