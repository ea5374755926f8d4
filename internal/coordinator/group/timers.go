package group

import (
	"container/heap"
	"time"
)

// timerKind says what a deadline is for.
type timerKind int8

const (
	// timerHeartbeat is a member's (or a pending member's) session
	// deadline; for a member that joined as new it is the new-member join
	// timeout instead.
	timerHeartbeat timerKind = iota
	// timerJoin ends the join phase of a rebalance (rebalance timeout, or a
	// step of group.initial.rebalance.delay.ms).
	timerJoin
	// timerSync removes members that got their JoinGroup answer but have
	// not sent SyncGroup within the rebalance timeout.
	timerSync
	// timerCleanup is the periodic offsets retention check.
	timerCleanup
	// timerConsumerSession is a KIP-848 member's session deadline
	// (group.consumer.session.timeout.ms).
	timerConsumerSession
	// timerConsumerRevocation is a KIP-848 member's deadline to revoke
	// partitions (its rebalance timeout).
	timerConsumerRevocation
)

// timerKey names one deadline. Scheduling a key that is already scheduled
// moves it.
type timerKey struct {
	kind   timerKind
	group  string
	member string
}

type timerEntry struct {
	key   timerKey
	at    time.Time
	seq   uint64 // ties fire in scheduling order
	index int
}

// timers is a min-heap of deadlines addressable by key. It replaces
// Kafka's timing wheel; nothing fires by itself: Coordinator.Tick pops
// what is due.
type timers struct {
	byKey map[timerKey]*timerEntry
	h     timerHeap
	seq   uint64
}

func (t *timers) schedule(k timerKey, at time.Time) {
	if t.byKey == nil {
		t.byKey = make(map[timerKey]*timerEntry)
	}
	t.seq++
	if e, ok := t.byKey[k]; ok {
		e.at, e.seq = at, t.seq
		heap.Fix(&t.h, e.index)
		return
	}
	e := &timerEntry{key: k, at: at, seq: t.seq}
	t.byKey[k] = e
	heap.Push(&t.h, e)
}

func (t *timers) cancel(k timerKey) {
	e, ok := t.byKey[k]
	if !ok {
		return
	}
	delete(t.byKey, k)
	heap.Remove(&t.h, e.index)
}

// next is the earliest deadline.
func (t *timers) next() (time.Time, bool) {
	if len(t.h) == 0 {
		return time.Time{}, false
	}
	return t.h[0].at, true
}

// popDue removes and returns the earliest key whose deadline is not after
// now.
func (t *timers) popDue(now time.Time) (timerKey, bool) {
	if len(t.h) == 0 || t.h[0].at.After(now) {
		return timerKey{}, false
	}
	e := heap.Pop(&t.h).(*timerEntry)
	delete(t.byKey, e.key)
	return e.key, true
}

func (t *timers) len() int { return len(t.h) }

type timerHeap []*timerEntry

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *timerHeap) Push(x any) {
	e := x.(*timerEntry)
	e.index = len(*h)
	*h = append(*h, e)
}
func (h *timerHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return e
}

func (c *Coordinator) now() time.Time { return c.clk.Now() }
func (c *Coordinator) nowMs() int64   { return c.clk.Now().UnixMilli() }

// after is now plus ms, at least a millisecond ahead so that a timer never
// fires in the Tick that armed it.
func (c *Coordinator) after(ms int32) time.Time {
	return c.now().Add(time.Duration(max(ms, 1)) * time.Millisecond)
}

func (c *Coordinator) scheduleHeartbeat(g *group, memberID string, ms int32) {
	c.timers.schedule(timerKey{kind: timerHeartbeat, group: g.id, member: memberID}, c.after(ms))
}

func (c *Coordinator) cancelHeartbeat(g *group, memberID string) {
	c.timers.cancel(timerKey{kind: timerHeartbeat, group: g.id, member: memberID})
}
