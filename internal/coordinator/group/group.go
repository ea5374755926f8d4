package group

import (
	"bytes"
	"cmp"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// consumerProtocolType is the protocol type of Kafka consumers; only their
// subscriptions are decoded (OffsetDelete, offsets expiry).
const consumerProtocolType = "consumer"

// waiter is a parked JoinGroup or SyncGroup: where its answer goes and at
// which version to encode it.
type waiter struct {
	ref     any
	version int16
}

// member is one member of a classic group. Fields marked (persisted) are
// written in GroupMetadata records; the rest is rebalance bookkeeping.
type member struct {
	id               string  // (persisted)
	instanceID       *string // (persisted) group.instance.id, KIP-345
	clientID         string  // (persisted)
	clientHost       string  // (persisted)
	rebalanceTimeout int32   // (persisted) ms
	sessionTimeout   int32   // (persisted) ms
	assignment       []byte  // (persisted) never nil once set
	protocolType     string  // the group's, when the member joined

	// protocols are the member's supported protocols in preference order.
	// Only the group protocol's metadata is persisted (the subscription),
	// so a member loaded from a record supports just that one.
	protocols []kmsg.JoinGroupRequestProtocol
	seq       uint64  // join order: leader choice, response order
	isNew     bool    // joined, not yet through a completed join phase
	join      *waiter // parked JoinGroup
	sync      *waiter // parked SyncGroup
}

func (m *member) metadata(protocol string) []byte {
	for _, p := range m.protocols {
		if p.Name == protocol {
			return p.Metadata
		}
	}
	return nil
}

// matches reports whether protos equals the member's protocols, in order.
func (m *member) matches(protos []kmsg.JoinGroupRequestProtocol) bool {
	return slices.EqualFunc(m.protocols, protos, func(a, b kmsg.JoinGroupRequestProtocol) bool {
		return a.Name == b.Name && bytes.Equal(a.Metadata, b.Metadata)
	})
}

// hasSatisfiedHeartbeat: a member parked in a rebalance needs no
// heartbeat, except a new member, whose parked join is bounded.
func (m *member) hasSatisfiedHeartbeat() bool {
	return !m.isNew && (m.join != nil || m.sync != nil)
}

// group is one classic group. Fields marked (persisted) are those of a
// GroupMetadata record; they equal the last such record whenever the group
// is Empty or Stable, and run ahead of it in memory during a rebalance,
// as in Kafka.
type group struct {
	id           string
	state        State
	prevState    State
	stateTime    int64  // (persisted) Unix ms of the last transition, -1 if unknown
	protocolType string // (persisted) "" until a member joins
	protocol     string // (persisted) "" while none is selected
	generation   int32  // (persisted)
	leader       string // (persisted) "" if none
	members      map[string]*member
	static       map[string]string // instance id -> member id
	supported    map[string]int    // protocol name -> members supporting it
	awaitingJoin int

	pending     map[string]struct{} // KIP-394 ids handed out, not yet joined
	pendingFIFO []string            // pending ids, oldest first (may hold stale ids)
	pendingSync map[string]struct{} // members answered a join, not yet synced

	newMemberAdded                 bool  // a member joined during the initial delay
	initialJoin                    bool  // the join timer is an initial-delay step
	initialDelay, initialRemaining int32 // ms

	syncGeneration int32 // generation the sync timer was armed for

	subscribed      map[string]struct{} // topics of the consumer subscriptions
	subscribedKnown bool
}

func newGroup(id string) *group {
	return &group{
		id:          id,
		stateTime:   -1,
		members:     make(map[string]*member),
		static:      make(map[string]string),
		supported:   make(map[string]int),
		pending:     make(map[string]struct{}),
		pendingSync: make(map[string]struct{}),
	}
}

// sorted returns the members in join order.
func (g *group) sorted() []*member {
	ms := make([]*member, 0, len(g.members))
	for _, m := range g.members {
		ms = append(ms, m)
	}
	slices.SortFunc(ms, func(a, b *member) int { return cmp.Compare(a.seq, b.seq) })
	return ms
}

func (g *group) transition(to State, nowMs int64) {
	g.prevState, g.state, g.stateTime = g.state, to, nowMs
}

// validateMember checks a request's member id and instance id (KIP-345):
// a known instance id with another member id is a fenced, stale instance.
func (g *group) validateMember(memberID string, instanceID *string) *kerr.Error {
	if instanceID != nil {
		cur, ok := g.static[*instanceID]
		if !ok {
			return kerr.UnknownMemberID
		}
		if cur != memberID {
			return kerr.FencedInstanceID
		}
	}
	if _, ok := g.members[memberID]; !ok {
		return kerr.UnknownMemberID
	}
	return nil
}

// supportsProtocols reports whether a member with these protocols may
// join: an empty group takes any non-empty protocol type and list; a
// non-empty one needs the same type and a protocol every member supports.
func (g *group) supportsProtocols(ptype string, protos []kmsg.JoinGroupRequestProtocol) bool {
	if g.state == Empty {
		return ptype != "" && len(protos) > 0
	}
	if ptype != g.protocolType {
		return false
	}
	for _, p := range protos {
		if g.supported[p.Name] == len(g.members) {
			return true
		}
	}
	return false
}

// selectProtocol runs Kafka's vote: among the protocols every member
// supports, each member votes for its most preferred; most votes wins,
// ties going to the protocol voted for first in join order. protosOf
// gives a member's protocols (so a replacement can be evaluated before it
// happens). It returns "" for a group without members.
func (g *group) selectProtocol(protosOf func(*member) []kmsg.JoinGroupRequestProtocol) string {
	ms := g.sorted()
	count := make(map[string]int)
	for _, m := range ms {
		for _, p := range uniqueNames(protosOf(m)) {
			count[p]++
		}
	}
	votes := make(map[string]int)
	var order []string
	for _, m := range ms {
		for _, p := range protosOf(m) {
			if count[p.Name] != len(ms) {
				continue
			}
			if votes[p.Name] == 0 {
				order = append(order, p.Name)
			}
			votes[p.Name]++
			break
		}
	}
	best := ""
	for _, p := range order {
		if best == "" || votes[p] > votes[best] {
			best = p
		}
	}
	return best
}

func ownProtocols(m *member) []kmsg.JoinGroupRequestProtocol { return m.protocols }

func uniqueNames(protos []kmsg.JoinGroupRequestProtocol) []string {
	names := make([]string, 0, len(protos))
	for _, p := range protos {
		if !slices.Contains(names, p.Name) {
			names = append(names, p.Name)
		}
	}
	return names
}

func (g *group) countProtocols(m *member, delta int) {
	for _, name := range uniqueNames(m.protocols) {
		g.supported[name] += delta
		if g.supported[name] == 0 {
			delete(g.supported, name)
		}
	}
}
