package txn

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/clock"
)

// Result is what one call (a request, Tick, Loaded, Unload or
// CompleteMarkers) produced. The owner appends Records to the partition
// and must not send Response, nor start writing Markers, before they are
// durable (see the package doc).
type Result struct {
	// Records to append, in order; the coordinator has already applied
	// them to its state.
	Records []Record
	// Response answers the request of this call; nil for Tick, Loaded,
	// Unload and CompleteMarkers.
	Response kmsg.Response
	// Markers lists the transactions whose markers the owner writes once
	// Records are durable; when all of a transaction's are acknowledged it
	// calls CompleteMarkers.
	Markers []Markers
}

// Markers is the COMMIT or ABORT marker one transaction needs in each of
// its partitions, as a WriteTxnMarkers request carries it.
type Markers struct {
	TransactionalID string
	ProducerID      int64
	ProducerEpoch   int16
	Commit          bool
	// TransactionVersion is the client's transaction version (2: KIP-890
	// part 2, whose markers the partitions check with a strictly newer
	// epoch); WriteTxnMarkers v2 carries it.
	TransactionVersion int8
	// Topics maps each topic to its partitions, sorted.
	Topics map[string][]int32
}

type phase int8

const (
	loading phase = iota
	active
	unloaded
)

// ErrNotLoading is returned by Replay once Loaded has been called.
var ErrNotLoading = errors.New("txn: Replay called on a loaded coordinator")

// Epoch limits: an epoch at or above exhausted cannot be bumped for a
// new producer session; the producer gets a new producer id instead.
const (
	noProducerID    = -1
	noProducerEpoch = -1
	exhausted       = math.MaxInt16 - 1
)

// txn is one transactional id: the persisted meta plus what Kafka keeps
// only in memory.
type txn struct {
	meta
	// lastProducerEpoch is the epoch before the last bump InitProducerId
	// made with the producer's epoch given (KIP-360), so a retry of that
	// bump gets the same answer; -1 if none.
	lastProducerEpoch int16
}

// Coordinator is the transaction coordinator of one __transaction_state
// partition (a shard): every transactional id that hashes to it. It does
// no I/O besides Config.ProducerIDs, starts no goroutines and reads the
// time only from its clock.
//
// A Coordinator is not safe for concurrent use: one goroutine owns it and
// makes every call.
type Coordinator struct {
	clk   clock.Clock
	cfg   Config
	phase phase
	txns  map[string]*txn

	nextAbortCheck, nextExpireCheck time.Time

	// Output of the call in progress.
	recs    []Record
	markers []Markers
}

// New returns a loading coordinator: the owner feeds it the partition's
// records with Replay, then calls Loaded. Until then every request is
// answered COORDINATOR_LOAD_IN_PROGRESS.
func New(clk clock.Clock, cfg Config) *Coordinator {
	return &Coordinator{clk: clk, cfg: cfg, txns: make(map[string]*txn)}
}

// Loading reports whether the coordinator is still loading.
func (c *Coordinator) Loading() bool { return c.phase == loading }

// Replay applies one record of the partition while loading; it keeps no
// reference to r. A record that does not decode is an error wrapping
// ErrCorruptRecord and changes nothing.
func (c *Coordinator) Replay(r Record) error {
	if c.phase != loading {
		return ErrNotLoading
	}
	return c.replay(r)
}

// Loaded ends loading: the timers start, and every transaction found in
// PrepareCommit or PrepareAbort gets its markers (re)sent.
func (c *Coordinator) Loaded() Result {
	if c.phase != loading {
		return c.finish(nil)
	}
	c.phase = active
	now := c.clk.Now()
	c.nextAbortCheck = now.Add(c.abortInterval())
	c.nextExpireCheck = now.Add(c.expireInterval())
	for _, id := range c.sortedIDs() {
		if t := c.txns[id]; t.state.preparing() {
			c.markers = append(c.markers, markersOf(id, &t.meta))
		}
	}
	return c.finish(nil)
}

// Unload gives the partition up; every later request is answered
// NOT_COORDINATOR.
func (c *Coordinator) Unload() Result {
	c.phase = unloaded
	return c.finish(nil)
}

// NextDeadline is the earliest time at which Tick has work.
func (c *Coordinator) NextDeadline() (time.Time, bool) {
	if c.phase != active {
		return time.Time{}, false
	}
	if c.nextExpireCheck.Before(c.nextAbortCheck) {
		return c.nextExpireCheck, true
	}
	return c.nextAbortCheck, true
}

// Tick runs the periodic checks that are due: Ongoing transactions past
// transaction.timeout.ms are aborted with the producer's epoch bumped, so
// the producer is fenced (Kafka's abortTimedOutTransactions); idle
// transactional ids past transactional.id.expiration.ms are forgotten.
func (c *Coordinator) Tick() Result {
	if c.phase != active {
		return c.finish(nil)
	}
	now := c.clk.Now()
	if !now.Before(c.nextAbortCheck) {
		c.abortTimedOut(now.UnixMilli())
		c.nextAbortCheck = now.Add(c.abortInterval())
	}
	if !now.Before(c.nextExpireCheck) {
		c.expireIDs(now.UnixMilli())
		c.nextExpireCheck = now.Add(c.expireInterval())
	}
	return c.finish(nil)
}

func (c *Coordinator) abortTimedOut(now int64) {
	for _, id := range c.sortedIDs() {
		t := c.txns[id]
		if t.state != Ongoing || now <= t.startTime+int64(t.timeoutMs) {
			continue
		}
		c.fenceAndAbort(id, t)
	}
}

// fenceAndAbort aborts t's open transaction with its epoch bumped, so the
// producer that opened it can no longer write or end it (Kafka's
// PrepareEpochFence followed by PrepareAbort, written as one record).
func (c *Coordinator) fenceAndAbort(id string, t *txn) {
	next := t.clone()
	if next.producerEpoch < math.MaxInt16 {
		next.producerEpoch++
	}
	next.state = PrepareAbort
	next.updateTime = c.nowMs()
	c.apply(id, &next)
	t.lastProducerEpoch = noProducerEpoch
	c.markers = append(c.markers, markersOf(id, &next))
}

func (c *Coordinator) expireIDs(now int64) {
	for _, id := range c.sortedIDs() {
		t := c.txns[id]
		if t.state.completed() && now-t.updateTime >= c.cfg.TransactionalIDExpiration.Milliseconds() {
			c.applyRecord(tombstone(id))
		}
	}
}

// CompleteMarkers records that every marker of m is written: the
// transaction moves from PrepareCommit (PrepareAbort) to CompleteCommit
// (CompleteAbort), and with KIP-890 part 2 to the next producer id if the
// epoch ran out. It does nothing if the transaction is no longer the one
// m was for: markers are idempotent and may be reported twice.
func (c *Coordinator) CompleteMarkers(m Markers) Result {
	c.complete(m)
	return c.finish(nil)
}

func (c *Coordinator) complete(m Markers) {
	t := c.txns[m.TransactionalID]
	if c.phase != active || t == nil || t.producerID != m.ProducerID || t.producerEpoch != m.ProducerEpoch {
		return
	}
	want := PrepareAbort
	if m.Commit {
		want = PrepareCommit
	}
	if t.state != want {
		return
	}
	next := t.clone()
	next.state = CompleteAbort
	if m.Commit {
		next.state = CompleteCommit
	}
	if next.clientTV >= 2 && next.nextProducerID != noProducerID {
		next.prevProducerID, next.producerID, next.producerEpoch = next.producerID, next.nextProducerID, 0
	}
	next.nextProducerID = noProducerID
	next.partitions = map[tp]struct{}{}
	next.updateTime = c.nowMs()
	c.apply(m.TransactionalID, &next)
}

func markersOf(id string, m *meta) Markers {
	topics, byTopic := m.sortedPartitions()
	out := Markers{TransactionalID: id, ProducerID: m.producerID, ProducerEpoch: m.producerEpoch,
		Commit: m.state == PrepareCommit, TransactionVersion: int8(m.clientTV), Topics: make(map[string][]int32, len(topics))}
	for _, t := range topics {
		out.Topics[t] = byTopic[t]
	}
	return out
}

// apply writes m as id's new state: the record goes to the call's output
// and is replayed at once, exactly as at load.
func (c *Coordinator) apply(id string, m *meta) { c.applyRecord(metaRecord(id, m)) }

func (c *Coordinator) applyRecord(r Record) {
	c.recs = append(c.recs, r)
	if err := c.replay(r); err != nil {
		panic(fmt.Sprintf("txn: replaying a record the coordinator wrote: %v", err))
	}
}

// replay applies one record; it is the only code that changes the
// persisted state.
func (c *Coordinator) replay(r Record) error {
	id, ok, err := decodeKey(r.Key)
	if err != nil || !ok {
		return err
	}
	if r.Value == nil {
		delete(c.txns, id)
		return nil
	}
	m, err := decodeValue(r.Value)
	if err != nil {
		return err
	}
	if m.state == Dead {
		delete(c.txns, id)
		return nil
	}
	t := c.txns[id]
	if t == nil {
		t = &txn{lastProducerEpoch: noProducerEpoch}
		c.txns[id] = t
	}
	if t.producerID != m.producerID {
		t.lastProducerEpoch = noProducerEpoch
	} else if m.prevProducerID == noProducerID {
		// A v0 record cannot carry it; the memory keeps it (as Kafka
		// does) until the partition is loaded again.
		m.prevProducerID = t.prevProducerID
	}
	t.meta = m
	return nil
}

// finish hands the call's output over and resets it.
func (c *Coordinator) finish(resp kmsg.Response) Result {
	r := Result{Records: c.recs, Response: resp, Markers: c.markers}
	c.recs, c.markers = nil, nil
	return r
}

// unavailable is the error for a request arriving now, if any: still
// loading, or the partition given up.
func (c *Coordinator) unavailable() *kerr.Error {
	switch c.phase {
	case loading:
		return kerr.CoordinatorLoadInProgress
	case unloaded:
		return kerr.NotCoordinator
	}
	return nil
}

func (c *Coordinator) nowMs() int64 { return c.clk.Now().UnixMilli() }

func (c *Coordinator) abortInterval() time.Duration {
	return max(c.cfg.AbortTimedOutInterval, time.Millisecond)
}

func (c *Coordinator) expireInterval() time.Duration {
	return max(c.cfg.RemoveExpiredInterval, time.Millisecond)
}

func (c *Coordinator) sortedIDs() []string {
	ids := make([]string, 0, len(c.txns))
	for id := range c.txns {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}
