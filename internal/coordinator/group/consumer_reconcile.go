package group

import "github.com/twmb/franz-go/pkg/kmsg"

// reconcile moves a member one step towards its target assignment
// (Kafka's CurrentAssignmentBuilder). owned is what the member reported
// owning in this heartbeat, nil if it did not say. The rules:
//
//   - a member keeps the partitions of its target it already has;
//   - partitions it has that the target lacks are to be revoked: the
//     member stays at its epoch (UNREVOKED_PARTITIONS) until it reports
//     not owning them any more, then moves on;
//   - it gets a target partition only once no other member owns it
//     (assigned or pending revocation); until all are free it is
//     UNRELEASED_PARTITIONS at the target epoch;
//   - otherwise it is STABLE at the target epoch.
//
// So a partition is never owned by two members, and members not affected
// by a change keep consuming throughout: there is no stop-the-world
// rebalance.
func (g *cgroup) reconcile(m *cmember, owned []kmsg.ConsumerGroupHeartbeatRequestTopic) currentAssignment {
	cur := m.cur
	switch cur.state {
	case memberUnrevokedPartitions:
		if ownsAny(owned, cur.revoking) {
			return cur
		}
		return g.nextAssignment(m, cur.epoch+1, owned)
	case memberUnreleasedPartitions:
		return g.nextAssignment(m, cur.epoch, owned)
	default:
		if cur.epoch != g.assignmentEpoch {
			return g.nextAssignment(m, cur.epoch, owned)
		}
		return cur
	}
}

func (g *cgroup) nextAssignment(m *cmember, epoch int32, owned []kmsg.ConsumerGroupHeartbeatRequestTopic) currentAssignment {
	target := g.target[m.id]
	assigned, revoking := assignment{}, assignment{}
	unreleased := false
	for id, ps := range m.cur.assigned {
		for _, p := range ps {
			if target.has(id, p) {
				assigned.add(id, p)
			} else {
				revoking.add(id, p)
			}
		}
	}
	pending := assignment{}
	for id, ps := range target {
		for _, p := range ps {
			switch o := g.owner(id, p); {
			case assigned.has(id, p):
			case o == "":
				pending.add(id, p)
			default:
				unreleased = true
			}
		}
	}
	if revoking.size() > 0 && ownsAny(owned, revoking) {
		return currentAssignment{
			epoch: epoch, prevEpoch: m.cur.prevEpoch, state: memberUnrevokedPartitions,
			assigned: assigned, revoking: revoking,
		}.bumped(m.cur.epoch)
	}
	for id, ps := range pending {
		for _, p := range ps {
			assigned.add(id, p)
		}
	}
	state := memberStable
	if unreleased {
		state = memberUnreleasedPartitions
	}
	return currentAssignment{epoch: g.assignmentEpoch, state: state, assigned: assigned, revoking: assignment{}}.bumped(m.cur.epoch)
}

// bumped sets prevEpoch to from if the epoch changes, as Kafka's
// updateMemberEpoch; otherwise it keeps the member's previous epoch.
func (c currentAssignment) bumped(from int32) currentAssignment {
	if c.epoch != from {
		c.prevEpoch = from
	}
	return c
}

// ownsAny reports whether the member, by what it reported owning, still
// owns one of these partitions. A member that did not report (owned nil)
// is taken to own them.
func ownsAny(owned []kmsg.ConsumerGroupHeartbeatRequestTopic, a assignment) bool {
	if owned == nil {
		return true
	}
	for _, t := range owned {
		for _, p := range t.Partitions {
			if a.has(t.TopicID, p) {
				return true
			}
		}
	}
	return false
}

// ownedSubsetOf reports whether every reported partition is in a.
func ownedSubsetOf(owned []kmsg.ConsumerGroupHeartbeatRequestTopic, a assignment) bool {
	for _, t := range owned {
		for _, p := range t.Partitions {
			if !a.has(t.TopicID, p) {
				return false
			}
		}
	}
	return true
}
