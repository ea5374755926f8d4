package group

import (
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/basketmq/basket/internal/clock"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Caller is where a request came from. Ref is the owner's handle for the
// request, opaque to the coordinator: a deferred answer comes back in a
// Reply carrying it.
//
// Every request method keeps references to its request's byte slices
// (protocol metadata, assignments): the owner must not reuse a request's
// buffers once it has passed the request in.
type Caller struct {
	ClientID   string
	ClientHost string // as Kafka shows it, e.g. "/192.0.2.1"
	Ref        any
}

// Result is what one call (a request, Tick, Loaded or Unload) produced.
// The owner appends Records to the partition and must not send any
// response of this Result before they are durable (see the package doc).
type Result struct {
	// Records to append, in order. The coordinator has already applied
	// them to its state.
	Records []Record
	// Response answers the request of this call; nil means the answer is
	// deferred (JoinGroup, SyncGroup) and will come as a Reply with the
	// caller's Ref, in a later Result.
	Response kmsg.Response
	// Replies answer earlier, deferred requests.
	Replies []Reply
	// Txn, when set, makes Records one transactional batch of its
	// producer (TxnOffsetCommit) or a transaction marker; nil for the
	// plain batches of every other call.
	Txn *TxnBatch
}

// Reply is the answer to a deferred request.
type Reply struct {
	Ref      any
	Response kmsg.Response
}

type phase int8

const (
	loading phase = iota
	active
	unloaded
)

// ErrNotLoading is returned by Replay once Loaded has been called.
var ErrNotLoading = errors.New("group: Replay called on a loaded coordinator")

// Coordinator is the classic group coordinator of one __consumer_offsets
// partition (a shard): all the groups whose ids hash to it and their
// committed offsets. It does no I/O, starts no goroutines and reads the
// time only from its clock.
//
// A Coordinator is not safe for concurrent use: one goroutine owns it and
// makes every call.
type Coordinator struct {
	clk     clock.Clock
	cfg     Config
	phase   phase
	groups  map[string]*group
	cgroups map[string]*cgroup                     // KIP-848 consumer groups; an id is in one map at most
	offsets map[string]map[string]map[int32]offset // group -> topic -> partition
	timers  timers
	seq     uint64
	pending map[int64]pendingOffsets // by producer id

	// Output of the call in progress.
	recs    []Record
	out     []Reply
	cur     *waiter // the waiter created by this call, if any
	curResp kmsg.Response
}

// New returns a coordinator that is loading: the owner feeds it the
// partition's records with Replay, then calls Loaded. Until then every
// request is answered COORDINATOR_LOAD_IN_PROGRESS.
func New(clk clock.Clock, cfg Config) *Coordinator {
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	return &Coordinator{
		clk:     clk,
		cfg:     cfg,
		groups:  make(map[string]*group),
		cgroups: make(map[string]*cgroup),
		offsets: make(map[string]map[string]map[int32]offset),
		pending: make(map[int64]pendingOffsets),
	}
}

// Loading reports whether the coordinator is still loading.
func (c *Coordinator) Loading() bool { return c.phase == loading }

// Replay applies one record of the partition while loading; it keeps no
// reference to r. Records of other group types (share and streams
// groups, KIP-848 regular expressions) are skipped. A record that does not decode is
// an error wrapping ErrCorruptRecord and changes nothing; whether to go on
// loading is the owner's call.
func (c *Coordinator) Replay(r Record) error {
	if c.phase != loading {
		return ErrNotLoading
	}
	return c.replay(r)
}

// Loaded ends loading, as Kafka's onLoaded: every loaded member's session
// starts now, a group over group.max.size rebalances, and the offsets
// retention check is armed.
func (c *Coordinator) Loaded() Result {
	if c.phase != loading {
		return c.finish(nil)
	}
	c.phase = active
	now := c.now()
	for _, id := range sortedKeys(c.groups) {
		g := c.groups[id]
		for _, m := range g.sorted() {
			c.scheduleHeartbeat(g, m.id, m.sessionTimeout)
		}
		if int64(len(g.members)) > int64(c.cfg.MaxSize) {
			c.prepareRebalance(g)
		}
	}
	c.loadedConsumers()
	c.timers.schedule(timerKey{kind: timerCleanup}, now.Add(c.cleanupInterval()))
	return c.finish(nil)
}

// Unload gives the partition up (it moved to another broker): every
// parked request is answered NOT_COORDINATOR and every later call too.
func (c *Coordinator) Unload() Result {
	for _, id := range sortedKeys(c.groups) {
		g := c.groups[id]
		for _, m := range g.sorted() {
			c.failWaiters(g, m, notCoordinator)
		}
	}
	c.phase = unloaded
	c.timers = timers{}
	return c.finish(nil)
}

// NextDeadline is the earliest time at which Tick has work; the owner arms
// a timer for it (clock.NewTimer) and calls Tick when it fires.
func (c *Coordinator) NextDeadline() (time.Time, bool) {
	if c.phase != active {
		return time.Time{}, false
	}
	return c.timers.next()
}

// Tick runs every timer due at the clock's current time: session
// timeouts, rebalance and sync timeouts, the initial rebalance delay and
// the offsets retention check.
func (c *Coordinator) Tick() Result {
	if c.phase != active {
		return c.finish(nil)
	}
	now := c.now()
	for {
		k, ok := c.timers.popDue(now)
		if !ok {
			break
		}
		c.fire(k)
	}
	return c.finish(nil)
}

func (c *Coordinator) fire(k timerKey) {
	if k.kind == timerCleanup {
		c.cleanupOffsets()
		c.timers.schedule(k, c.now().Add(c.cleanupInterval()))
		return
	}
	if k.kind == timerConsumerSession || k.kind == timerConsumerRevocation {
		c.fireConsumer(k)
		return
	}
	g := c.groups[k.group]
	if g == nil {
		return
	}
	switch k.kind {
	case timerHeartbeat:
		c.expireHeartbeat(g, k.member)
	case timerJoin:
		if g.state != PreparingRebalance {
			return
		}
		if g.initialJoin {
			c.tryCompleteInitialRebalance(g)
		} else {
			c.completeJoin(g)
		}
	case timerSync:
		c.expirePendingSync(g)
	}
}

// apply appends a record to the call's output and applies it, exactly as
// Replay would at load: the state changes only through replay.
func (c *Coordinator) apply(r Record) {
	c.recs = append(c.recs, r)
	if err := c.replay(r); err != nil {
		panic(fmt.Sprintf("group: replaying a record the coordinator wrote: %v", err))
	}
}

// finish hands the call's output over and resets it.
func (c *Coordinator) finish(resp kmsg.Response) Result {
	if resp == nil {
		resp = c.curResp
	}
	r := Result{Records: c.recs, Response: resp, Replies: c.out}
	c.recs, c.out, c.cur, c.curResp = nil, nil, nil, nil
	return r
}

// reply answers a parked request; the caller's own request becomes the
// call's Response.
func (c *Coordinator) reply(w *waiter, resp kmsg.Response) {
	resp.SetVersion(w.version)
	if w == c.cur {
		c.curResp = resp
		return
	}
	c.out = append(c.out, Reply{Ref: w.ref, Response: resp})
}

func (c *Coordinator) cleanupInterval() time.Duration {
	return max(c.cfg.OffsetsRetentionCheckInterval, time.Millisecond)
}

func (c *Coordinator) nextSeq() uint64 {
	c.seq++
	return c.seq
}
