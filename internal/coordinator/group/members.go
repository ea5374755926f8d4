package group

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// add puts m into the group, parked on w if w is not nil. The first member
// sets the protocol type and becomes leader if there is none.
func (g *group) add(m *member, w *waiter) {
	if m.instanceID != nil {
		g.static[*m.instanceID] = m.id
	}
	if len(g.members) == 0 {
		g.protocolType = m.protocolType
	}
	if g.leader == "" {
		g.leader = m.id
	}
	g.members[m.id] = m
	g.countProtocols(m, 1)
	g.setJoin(m, w)
	delete(g.pending, m.id)
}

// remove takes a member out; its waiters must have been answered. A
// removed leader is replaced by the earliest remaining member.
func (g *group) remove(id string) {
	m, ok := g.members[id]
	if !ok {
		return
	}
	g.countProtocols(m, -1)
	if m.join != nil {
		g.awaitingJoin--
	}
	if m.instanceID != nil && g.static[*m.instanceID] == id {
		delete(g.static, *m.instanceID)
	}
	delete(g.members, id)
	delete(g.pendingSync, id)
	if g.leader == id {
		g.leader = ""
		if ms := g.sorted(); len(ms) > 0 {
			g.leader = ms[0].id
		}
	}
}

// setJoin parks (or, with nil, unparks) a member's JoinGroup.
func (g *group) setJoin(m *member, w *waiter) {
	switch {
	case w != nil && m.join == nil:
		g.awaitingJoin++
	case w == nil && m.join != nil:
		g.awaitingJoin--
	}
	m.join = w
}

// updateProtocols replaces a member's protocols and timeouts from a join.
func (g *group) updateProtocols(m *member, req *kmsg.JoinGroupRequest) {
	g.countProtocols(m, -1)
	m.protocols = req.Protocols
	g.countProtocols(m, 1)
	m.rebalanceTimeout = rebalanceTimeout(req)
	m.sessionTimeout = req.SessionTimeoutMillis
}

func (g *group) hasAllMembersJoined() bool {
	return len(g.members) == g.awaitingJoin && len(g.pending) == 0
}

// maybeElectNewJoinedLeader keeps the leader if it rejoined, else picks
// the earliest member that did; false if nobody rejoined or there are no
// members.
func (g *group) maybeElectNewJoinedLeader() bool {
	l, ok := g.members[g.leader]
	if !ok {
		return false
	}
	if l.join != nil {
		return true
	}
	for _, m := range g.sorted() {
		if m.join != nil {
			g.leader = m.id
			return true
		}
	}
	return false
}

// rebalanceTimeoutMs is the largest rebalance timeout of the members.
func (g *group) rebalanceTimeoutMs() int32 {
	var ms int32
	for _, m := range g.members {
		ms = max(ms, m.rebalanceTimeout)
	}
	return ms
}

// computeSubscribed decodes the members' consumer subscriptions for the
// group protocol. Unknown (subscribedKnown false) for other protocol
// types, before a protocol is chosen, or if a subscription does not parse.
func (g *group) computeSubscribed() {
	g.subscribed, g.subscribedKnown = nil, false
	if g.protocolType != consumerProtocolType {
		return
	}
	topics := make(map[string]struct{})
	if len(g.members) > 0 {
		if g.protocol == "" {
			return
		}
		for _, m := range g.members {
			var meta kmsg.ConsumerMemberMetadata
			if err := meta.ReadFrom(m.metadata(g.protocol)); err != nil {
				return
			}
			for _, t := range meta.Topics {
				topics[t] = struct{}{}
			}
		}
	}
	g.subscribed, g.subscribedKnown = topics, true
}

// isSubscribedTo reports whether the members consume topic; when that is
// unknown, a consumer group counts as subscribed to everything.
func (g *group) isSubscribedTo(topic string) bool {
	if g.subscribedKnown {
		_, ok := g.subscribed[topic]
		return ok
	}
	return g.protocolType == consumerProtocolType
}

// addPending records a member id handed out with MEMBER_ID_REQUIRED,
// first forgetting the oldest ids (passed to evict) to keep at most max.
func (g *group) addPending(id string, max int, evict func(string)) {
	for len(g.pending) >= max && len(g.pendingFIFO) > 0 {
		old := g.pendingFIFO[0]
		g.pendingFIFO = g.pendingFIFO[1:]
		if _, ok := g.pending[old]; ok {
			delete(g.pending, old)
			evict(old)
		}
	}
	g.pending[id] = struct{}{}
	g.pendingFIFO = append(g.pendingFIFO, id)
	if len(g.pendingFIFO) > 2*len(g.pending)+16 {
		g.pendingFIFO = slices.DeleteFunc(g.pendingFIFO, func(id string) bool {
			_, ok := g.pending[id]
			return !ok
		})
	}
}

func (g *group) isPending(id string) bool {
	_, ok := g.pending[id]
	return ok
}

func rebalanceTimeout(req *kmsg.JoinGroupRequest) int32 {
	if req.Version == 0 || req.RebalanceTimeoutMillis < 0 {
		return req.SessionTimeoutMillis // v0 has none: Kafka uses the session timeout
	}
	return req.RebalanceTimeoutMillis
}
