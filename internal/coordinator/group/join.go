package group

import (
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// JoinGroup (key 11, v0-9) adds or refreshes a member and usually parks
// the request until the join phase of the rebalance ends; the answer then
// comes as a Reply. Answered at once: errors, MEMBER_ID_REQUIRED (v4+,
// KIP-394), a follower rejoining a Stable group with unchanged metadata,
// and a static member (KIP-345) replacing its old member id in a Stable
// group without changing the group's protocol.
func (c *Coordinator) JoinGroup(from Caller, req *kmsg.JoinGroupRequest) Result {
	if err := c.checkGroup(req.Group); err != nil {
		return c.finish(joinError(req.Version, err, req.MemberID))
	}
	st := time.Duration(req.SessionTimeoutMillis) * time.Millisecond
	if st < c.cfg.MinSessionTimeout || st > c.cfg.MaxSessionTimeout {
		return c.finish(joinError(req.Version, kerr.InvalidSessionTimeout, req.MemberID))
	}
	if cg := c.cgroups[req.Group]; cg != nil {
		// A KIP-848 group: Basket takes no classic members into it
		// (Kafka 4.0 can, as a migration step). An empty one gives way to
		// a classic group, as in Kafka; its offsets stay.
		if len(cg.members) > 0 {
			return c.finish(joinError(req.Version, kerr.InconsistentGroupProtocol, req.MemberID))
		}
		for _, r := range consumerTombstones(cg.id) {
			c.apply(r)
		}
	}
	g := c.groups[req.Group]
	if g == nil {
		if req.MemberID != "" {
			return c.finish(joinError(req.Version, kerr.UnknownMemberID, req.MemberID))
		}
		if req.ProtocolType == "" || len(req.Protocols) == 0 {
			return c.finish(joinError(req.Version, kerr.InconsistentGroupProtocol, ""))
		}
		// As Kafka, a new group is written down (empty) before anything
		// else happens to it.
		v := kmsg.NewGroupMetadataValue()
		v.CurrentStateTimestamp = c.nowMs()
		c.apply(groupMetadataRecord(req.Group, &v))
		g = c.groups[req.Group]
	}
	if !c.acceptJoining(g, req.MemberID) {
		if m := g.members[req.MemberID]; m != nil {
			c.dropMember(g, m)
		}
		if g.isPending(req.MemberID) {
			delete(g.pending, req.MemberID)
			c.cancelHeartbeat(g, req.MemberID)
		}
		return c.finish(joinError(req.Version, kerr.GroupMaxSizeReached, ""))
	}
	w := &waiter{ref: from.Ref, version: req.Version}
	c.cur = w
	if req.MemberID == "" {
		c.joinNew(g, from, req, w)
	} else {
		c.joinExisting(g, from, req, w)
	}
	return c.finish(nil)
}

// acceptJoining applies group.max.size as Kafka does: while preparing a
// rebalance, count the members that rejoined; otherwise the members.
func (c *Coordinator) acceptJoining(g *group, memberID string) bool {
	m := g.members[memberID]
	switch g.state {
	case PreparingRebalance:
		return (m != nil && m.join != nil) || int64(g.awaitingJoin) < int64(c.cfg.MaxSize)
	case CompletingRebalance, Stable:
		return m != nil || int64(len(g.members)) < int64(c.cfg.MaxSize)
	}
	return true
}

func (c *Coordinator) joinNew(g *group, from Caller, req *kmsg.JoinGroupRequest, w *waiter) {
	if !g.supportsProtocols(req.ProtocolType, req.Protocols) {
		c.reply(w, joinError(req.Version, kerr.InconsistentGroupProtocol, ""))
		return
	}
	id := c.newMemberID(from.ClientID, req.InstanceID)
	switch {
	case req.InstanceID != nil:
		if old := g.members[g.static[*req.InstanceID]]; old != nil {
			c.replaceStatic(g, req, w, old, id)
			return
		}
	case req.Version >= 4:
		// KIP-394: hand out an id and have the client join again with
		// it; the id is forgotten if unused within the session timeout.
		g.addPending(id, c.cfg.MaxPendingMembers, func(old string) { c.cancelHeartbeat(g, old) })
		c.scheduleHeartbeat(g, id, req.SessionTimeoutMillis)
		c.reply(w, joinError(req.Version, kerr.MemberIDRequired, id))
		return
	}
	c.addMemberAndRebalance(g, from, req, w, id)
}

func (c *Coordinator) joinExisting(g *group, from Caller, req *kmsg.JoinGroupRequest, w *waiter) {
	if !g.supportsProtocols(req.ProtocolType, req.Protocols) {
		c.reply(w, joinError(req.Version, kerr.InconsistentGroupProtocol, req.MemberID))
		return
	}
	if g.isPending(req.MemberID) {
		if req.InstanceID != nil { // pending ids are dynamic members'
			c.reply(w, joinError(req.Version, g.validateMember(req.MemberID, req.InstanceID), req.MemberID))
			return
		}
		c.addMemberAndRebalance(g, from, req, w, req.MemberID)
		return
	}
	if err := g.validateMember(req.MemberID, req.InstanceID); err != nil {
		c.reply(w, joinError(req.Version, err, req.MemberID))
		return
	}
	m := g.members[req.MemberID]
	switch g.state {
	case PreparingRebalance:
		c.updateMemberAndRebalance(g, m, req, w)
	case CompletingRebalance:
		if !m.matches(req.Protocols) {
			c.updateMemberAndRebalance(g, m, req, w)
			return
		}
		// Same metadata: the member missed its answer; repeat it.
		c.reply(w, g.joinResponse(m, m.id == g.leader))
	case Stable:
		// The leader rejoining forces a rebalance (it may have seen
		// metadata change); so does a member with new metadata.
		if m.id == g.leader || !m.matches(req.Protocols) {
			c.updateMemberAndRebalance(g, m, req, w)
			return
		}
		c.reply(w, g.joinResponse(m, false))
	default:
		c.reply(w, joinError(req.Version, kerr.UnknownMemberID, req.MemberID))
	}
}

func (c *Coordinator) addMemberAndRebalance(g *group, from Caller, req *kmsg.JoinGroupRequest, w *waiter, id string) {
	m := &member{
		id:               id,
		instanceID:       req.InstanceID,
		clientID:         from.ClientID,
		clientHost:       from.ClientHost,
		rebalanceTimeout: rebalanceTimeout(req),
		sessionTimeout:   req.SessionTimeoutMillis,
		assignment:       []byte{},
		protocolType:     req.ProtocolType,
		protocols:        req.Protocols,
		seq:              c.nextSeq(),
		isNew:            true,
	}
	if g.state == PreparingRebalance && g.prevState == Empty {
		g.newMemberAdded = true // extends the initial delay
	}
	g.add(m, w)
	// A new member cannot heartbeat while parked, and a client that gave
	// up would leave it behind: bound the wait.
	c.scheduleHeartbeat(g, id, durationMs(c.cfg.NewMemberJoinTimeout))
	c.maybePrepareRebalanceOrCompleteJoin(g)
}

func (c *Coordinator) updateMemberAndRebalance(g *group, m *member, req *kmsg.JoinGroupRequest, w *waiter) {
	if m.join != nil {
		// A retried join (another connection) supersedes the parked one.
		old := m.join
		g.setJoin(m, nil)
		c.reply(old, joinError(old.version, kerr.RebalanceInProgress, m.id))
	}
	g.updateProtocols(m, req)
	g.setJoin(m, w)
	c.maybePrepareRebalanceOrCompleteJoin(g)
}

func durationMs(d time.Duration) int32 {
	ms := d.Milliseconds()
	if ms > 1<<31-1 {
		return 1<<31 - 1
	}
	return int32(ms)
}

// newMemberID is Kafka's form: client id (or instance id), "-", a random
// UUID.
func (c *Coordinator) newMemberID(clientID string, instanceID *string) string {
	var b [16]byte
	if _, err := c.cfg.Rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("group: reading member id randomness: %v", err))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	prefix := clientID
	if instanceID != nil {
		prefix = *instanceID
	}
	return fmt.Sprintf("%s-%x-%x-%x-%x-%x", prefix, b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
