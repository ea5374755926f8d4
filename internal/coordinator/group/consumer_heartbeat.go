package group

import (
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// hbError is a ConsumerGroupHeartbeat failure: a Kafka error code and the
// message Kafka would send with it.
type hbError struct {
	err *kerr.Error
	msg string
}

func hbErr(err *kerr.Error, format string, args ...any) *hbError {
	return &hbError{err: err, msg: fmt.Sprintf(format, args...)}
}

// ConsumerGroupHeartbeat (key 68, v0-1) is the KIP-848 consumer group
// protocol: joining (member epoch 0), heartbeating with the member's epoch
// and owned partitions, leaving (-1) and a static member's temporary
// leave (-2). Every heartbeat is answered at once, with the member's epoch
// and, when it changed or the member needs it, its assignment. img is
// the cluster's topics now; the coordinator reads it only during the
// call.
func (c *Coordinator) ConsumerGroupHeartbeat(from Caller, req *kmsg.ConsumerGroupHeartbeatRequest, img TopicImage) Result {
	resp := req.ResponseKind().(*kmsg.ConsumerGroupHeartbeatResponse)
	resp.HeartbeatIntervalMillis = durationMs(c.cfg.ConsumerHeartbeatInterval)
	req = c.staticLeaveInstance(req)
	var e *hbError
	if err := c.unavailable(); err != nil {
		e = &hbError{err: err}
	} else if e = c.validateHeartbeat(req); e == nil {
		if req.MemberEpoch < 0 {
			e = c.consumerLeave(req, resp)
		} else {
			e = c.consumerHeartbeat(from, req, img, resp)
		}
	}
	if e != nil {
		resp.ErrorCode = e.err.Code
		if e.msg != "" {
			resp.ErrorMessage = kmsg.StringPtr(e.msg)
		}
		resp.MemberID, resp.MemberEpoch, resp.Assignment, resp.HeartbeatIntervalMillis = nil, 0, nil, 0
	}
	return c.finish(resp)
}

// staticLeaveInstance fills in the instance id of a static member's
// temporary leave (epoch -2) sent without one, from the member's own
// record. Kafka rejects such a leave (INVALID_REQUEST, "InstanceId can't
// be null."), but franz-go (v1.22) sends it so; rejecting it would keep
// the member's instance id held until its session expires, and the
// restart KIP-848 static membership is for would reassign partitions.
func (c *Coordinator) staticLeaveInstance(req *kmsg.ConsumerGroupHeartbeatRequest) *kmsg.ConsumerGroupHeartbeatRequest {
	if req.MemberEpoch != leaveStaticEpoch || req.InstanceID != nil {
		return req
	}
	g := c.cgroups[req.Group]
	if g == nil {
		return req
	}
	if m := g.members[req.MemberID]; m != nil && m.meta.instanceID != nil {
		r := *req
		r.InstanceID = m.meta.instanceID
		return &r
	}
	return req
}

// validateHeartbeat checks the request's fields as Kafka does:
// INVALID_REQUEST for missing or malformed ones, UNSUPPORTED_ASSIGNOR,
// INVALID_REGULAR_EXPRESSION.
func (c *Coordinator) validateHeartbeat(req *kmsg.ConsumerGroupHeartbeatRequest) *hbError {
	switch {
	case req.Group == "":
		return hbErr(kerr.InvalidRequest, "GroupId can't be empty.")
	case (req.Version >= 1 || req.MemberEpoch != joinEpoch) && req.MemberID == "":
		return hbErr(kerr.InvalidRequest, "MemberId can't be empty.")
	case req.InstanceID != nil && *req.InstanceID == "":
		return hbErr(kerr.InvalidRequest, "InstanceId can't be empty.")
	case req.RackID != nil && *req.RackID == "":
		return hbErr(kerr.InvalidRequest, "RackId can't be empty.")
	case req.MemberEpoch < leaveStaticEpoch:
		return hbErr(kerr.InvalidRequest, "MemberEpoch is invalid.")
	case req.MemberEpoch == leaveStaticEpoch && req.InstanceID == nil:
		return hbErr(kerr.InvalidRequest, "InstanceId can't be null.")
	}
	if req.MemberEpoch == joinEpoch {
		switch {
		case req.RebalanceTimeoutMillis == -1:
			return hbErr(kerr.InvalidRequest, "RebalanceTimeoutMs must be provided in first request.")
		case req.Topics == nil || len(req.Topics) > 0:
			return hbErr(kerr.InvalidRequest, "TopicPartitions must be empty when (re-)joining.")
		case req.SubscribedTopicNames == nil && req.SubscribedTopicRegex == nil:
			return hbErr(kerr.InvalidRequest, "Either SubscribedTopicNames or SubscribedTopicRegex must be non-null when (re-)joining.")
		}
	}
	if req.RebalanceTimeoutMillis < -1 {
		return hbErr(kerr.InvalidRequest, "RebalanceTimeoutMs must be -1 or positive.")
	}
	if a := req.ServerAssignor; a != nil && !slices.Contains(c.cfg.ConsumerAssignors, *a) {
		return hbErr(kerr.UnsupportedAssignor, "ServerAssignor %s is not supported. Supported assignors: %v.", *a, c.cfg.ConsumerAssignors)
	}
	if re := req.SubscribedTopicRegex; re != nil && *re != "" {
		if _, err := compileRegex(*re); err != nil {
			return hbErr(kerr.InvalidRegularExpression, "SubscribedTopicRegex `%s` is not a valid regular expression: %v.", *re, err)
		}
	}
	for _, t := range req.Topics {
		for _, p := range t.Partitions {
			if p < 0 {
				return hbErr(kerr.InvalidRequest, "TopicPartitions has a negative partition.")
			}
		}
	}
	return nil
}

// consumerHeartbeat serves a join (epoch 0) or a heartbeat (epoch > 0).
func (c *Coordinator) consumerHeartbeat(from Caller, req *kmsg.ConsumerGroupHeartbeatRequest, img TopicImage, resp *kmsg.ConsumerGroupHeartbeatResponse) *hbError {
	joining := req.MemberEpoch == joinEpoch
	g, e := c.consumerGroupFor(req.Group, joining)
	if e != nil {
		return e
	}
	memberID := req.MemberID
	if memberID == "" { // v0 join: the coordinator names the member
		memberID = c.newMemberUUID()
	}
	m, replaced, e := c.heartbeatMember(g, req, memberID)
	if e != nil {
		if !g.persisted {
			delete(c.cgroups, g.id)
		}
		return e
	}
	if replaced != nil {
		c.replaceStaticCMember(g, replaced, memberID)
		m = g.members[memberID]
	}

	// The member's subscription.
	var old memberMeta
	isNew := m == nil
	if !isNew {
		old = m.meta
	}
	meta := updatedMeta(old, from, req)
	if isNew || !meta.equal(&old) {
		c.apply(cgMemberRecord(g.id, memberID, &meta))
		m = g.members[memberID]
	}
	// A new member, or a member subscribing to something else, makes a
	// new group epoch.
	bump := isNew || !equalStrings(old.topics, meta.topics) || !eqPtr(old.regex, meta.regex)

	// The topics the group subscribes to, as the image has them now.
	g.resolveRegexes(img)
	if subs := g.subscriptionFor(img); !equalSubscription(subs, g.subscription) {
		c.apply(cgSubscriptionRecord(g.id, g.epoch, subs))
		bump = true
	}
	if bump {
		c.apply(cgEpochRecord(g.id, g.epoch+1))
	}
	if g.epoch > g.assignmentEpoch {
		c.updateTargetAssignment(g)
	}

	// One step of the member towards its target.
	before := m.cur
	next := g.reconcile(m, req.Topics)
	if !next.equal(&before) {
		c.apply(cgCurrentRecord(g.id, m.id, &next))
	}
	c.scheduleConsumerSession(g, m)
	c.scheduleRevocation(g, m, before)

	resp.MemberID = kmsg.StringPtr(m.id)
	resp.MemberEpoch = m.cur.epoch
	full := req.RebalanceTimeoutMillis != -1 && (req.SubscribedTopicNames != nil || req.SubscribedTopicRegex != nil) && req.Topics != nil
	// The assignment goes out when the member joins, when it changed, when
	// the member sent everything (it may have lost track), and when it
	// came with its previous epoch (it lost the answer that carried it).
	if joining || full || !before.assigned.equal(m.cur.assigned) || req.MemberEpoch != m.cur.epoch {
		resp.Assignment = responseAssignment(m.cur.assigned)
	}
	return nil
}

// consumerGroupFor finds the consumer group of a heartbeat, creating it
// (in memory, until its first record) for a join. An empty classic group
// of the id gives way as in Kafka: its tombstone is written and its
// offsets stay. A classic group with members is another protocol's:
// GROUP_ID_NOT_FOUND, as Kafka answers when it may not convert the group
// (Basket does not convert groups between protocols).
func (c *Coordinator) consumerGroupFor(id string, create bool) (*cgroup, *hbError) {
	if g := c.cgroups[id]; g != nil {
		return g, nil
	}
	if !create {
		return nil, hbErr(kerr.GroupIDNotFound, "Consumer group %s not found.", id)
	}
	if cg := c.groups[id]; cg != nil {
		if cg.state != Empty || len(cg.members) > 0 {
			return nil, hbErr(kerr.GroupIDNotFound, "Group %s is not a consumer group.", id)
		}
		c.apply(groupTombstone(id))
	}
	g := newCGroup(id)
	c.cgroups[id] = g
	return g, nil
}

// heartbeatMember finds the member a heartbeat is from, nil for a new
// one, and checks its epoch. replaced is the static member a join with a
// known group.instance.id takes over.
func (c *Coordinator) heartbeatMember(g *cgroup, req *kmsg.ConsumerGroupHeartbeatRequest, memberID string) (m, replaced *cmember, e *hbError) {
	joining := req.MemberEpoch == joinEpoch
	if req.InstanceID != nil {
		old := g.members[g.static[*req.InstanceID]]
		switch {
		case joining && old == nil:
			m = g.members[memberID]
		case joining && old.id == memberID:
			// The member itself rejoining (after FENCED_MEMBER_EPOCH or
			// a lost answer): Kafka answers UNRELEASED_INSTANCE_ID until
			// the session ends; Basket takes it back in place, as a
			// dynamic member's rejoin.
			m = old
		case joining && old.cur.epoch != leaveStaticEpoch:
			return nil, nil, hbErr(kerr.UnreleasedInstanceID, "Static member %s with instance id %s cannot join the group because the instance id is owned by %s member.", memberID, *req.InstanceID, old.id)
		case joining:
			return nil, old, nil
		case old == nil:
			return nil, nil, hbErr(kerr.UnknownMemberID, "Instance id %s is unknown.", *req.InstanceID)
		case old.id != memberID:
			return nil, nil, hbErr(kerr.FencedInstanceID, "Static member %s with instance id %s was fenced by member %s.", memberID, *req.InstanceID, old.id)
		default:
			m = old
		}
	} else {
		m = g.members[memberID]
		if m == nil && !joining {
			return nil, nil, hbErr(kerr.UnknownMemberID, "Member %s is not a member of group %s.", memberID, g.id)
		}
	}
	if m == nil && int64(len(g.members)) >= int64(c.cfg.ConsumerMaxSize) {
		return nil, nil, hbErr(kerr.GroupMaxSizeReached, "The consumer group has reached its maximum capacity of %d members.", c.cfg.ConsumerMaxSize)
	}
	if m != nil && !joining {
		if e := checkMemberEpoch(m, req); e != nil {
			return nil, nil, e
		}
	}
	return m, nil, nil
}

// checkMemberEpoch fences a heartbeat from the future, or from the past
// unless it is the previous epoch with no partition beyond the current
// assignment (the answer that bumped the epoch was lost).
func checkMemberEpoch(m *cmember, req *kmsg.ConsumerGroupHeartbeatRequest) *hbError {
	got, want := req.MemberEpoch, m.cur.epoch
	switch {
	case got > want:
		return hbErr(kerr.FencedMemberEpoch, "The consumer group member has a greater member epoch (%d) than the one known by the group coordinator (%d). The member must abandon all its partitions and rejoin.", got, want)
	case got < want && (got != m.cur.prevEpoch || !ownedSubsetOf(req.Topics, m.cur.assigned)):
		return hbErr(kerr.FencedMemberEpoch, "The consumer group member has a smaller member epoch (%d) than the one known by the group coordinator (%d). The member must abandon all its partitions and rejoin.", got, want)
	}
	return nil
}

// updatedMeta is the member's subscription after this heartbeat: fields
// sent replace those known; null means unchanged.
func updatedMeta(old memberMeta, from Caller, req *kmsg.ConsumerGroupHeartbeatRequest) memberMeta {
	m := old
	m.clientID, m.clientHost = from.ClientID, from.ClientHost
	if req.InstanceID != nil {
		m.instanceID = req.InstanceID
	}
	if req.RackID != nil {
		m.rackID = req.RackID
	}
	if req.RebalanceTimeoutMillis != -1 {
		m.rebalanceTimeout = req.RebalanceTimeoutMillis
	}
	if req.SubscribedTopicNames != nil {
		ts := slices.Clone(req.SubscribedTopicNames)
		slices.Sort(ts)
		m.topics = slices.Compact(ts)
	}
	if req.SubscribedTopicRegex != nil {
		m.regex = req.SubscribedTopicRegex
		if *m.regex == "" {
			m.regex = nil
		}
	}
	if req.ServerAssignor != nil {
		m.assignor = req.ServerAssignor
	}
	return m
}

func responseAssignment(a assignment) *kmsg.ConsumerGroupHeartbeatResponseAssignment {
	ra := kmsg.NewConsumerGroupHeartbeatResponseAssignment()
	ra.Topics = []kmsg.ConsumerGroupHeartbeatResponseAssignmentTopic{}
	for _, id := range a.sortedIDs() {
		t := kmsg.NewConsumerGroupHeartbeatResponseAssignmentTopic()
		t.TopicID, t.Partitions = id, slices.Clone(a[id])
		ra.Topics = append(ra.Topics, t)
	}
	return &ra
}

// newMemberUUID names a member for a v0 join: a random UUID, base64url
// without padding as Kafka's Uuid.toString.
func (c *Coordinator) newMemberUUID() string {
	var b [16]byte
	if _, err := c.cfg.Rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("group: reading member id randomness: %v", err))
	}
	return encodeUUID(b)
}
