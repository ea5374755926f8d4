package group

import (
	"bytes"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// replay applies one record. It is the only code that changes the
// persisted state: groups' GroupMetadata fields, group existence, and
// committed offsets. A live coordinator replays each record it writes, the
// moment it writes it; a loading one replays the partition.
func (c *Coordinator) replay(r Record) error {
	typ, err := recordType(r.Key)
	if err != nil {
		return err
	}
	switch typ {
	case 0, 1:
		var k kmsg.OffsetCommitKey
		if err := k.ReadFrom(r.Key); err != nil {
			return fmt.Errorf("%w: offset commit key: %v", ErrCorruptRecord, err)
		}
		if r.Value == nil {
			c.removeOffset(k.Group, k.Topic, k.Partition)
			return nil
		}
		o, err := decodeOffsetValue(r.Value)
		if err != nil {
			return err
		}
		o.order = c.nextSeq()
		if c.groups[k.Group] == nil && c.cgroups[k.Group] == nil {
			// Offsets committed outside any membership (assign-mode
			// consumers, admin tools) make a "simple" group: Empty, with
			// no protocol type.
			c.groups[k.Group] = newGroup(k.Group)
		}
		c.setOffset(k.Group, k.Topic, k.Partition, o)
		return nil
	case 2:
		var k kmsg.GroupMetadataKey
		if err := k.ReadFrom(r.Key); err != nil {
			return fmt.Errorf("%w: group metadata key: %v", ErrCorruptRecord, err)
		}
		if r.Value == nil {
			c.removeGroup(k.Group)
			return nil
		}
		var v kmsg.GroupMetadataValue
		if err := v.ReadFrom(r.Value); err != nil {
			return fmt.Errorf("%w: group metadata value: %v", ErrCorruptRecord, err)
		}
		c.replayGroup(k.Group, &v)
		return nil
	case consumerGroupMetadataType, consumerGroupPartitionMetadataType, consumerGroupMemberMetadataType,
		consumerGroupTargetMetadataType, consumerGroupTargetMemberType, consumerGroupCurrentAssignmentType:
		return c.replayConsumer(r)
	default:
		return nil // other group types' records
	}
}

// replayGroup makes the group what the record says: its generation,
// protocol, leader and members with their assignments, Stable if it has
// members, else Empty. Members that stay keep their rebalance bookkeeping
// (full protocol lists, parked requests, sessions).
func (c *Coordinator) replayGroup(id string, v *kmsg.GroupMetadataValue) {
	g := c.groups[id]
	if g == nil {
		g = newGroup(id)
		c.groups[id] = g
	}
	protocol := deref(v.Protocol)
	old := g.members
	g.members = make(map[string]*member, len(v.Members))
	g.static = make(map[string]string)
	g.supported = make(map[string]int)
	g.awaitingJoin = 0
	g.protocolType, g.protocol, g.generation = v.ProtocolType, protocol, v.Generation
	g.leader, g.stateTime = deref(v.Leader), v.CurrentStateTimestamp

	for i := range v.Members {
		rm := &v.Members[i]
		m := old[rm.MemberID]
		delete(old, rm.MemberID)
		if m == nil {
			m = &member{id: rm.MemberID, seq: c.nextSeq()}
		}
		if m.protocols == nil || !bytes.Equal(m.metadata(protocol), rm.Subscription) {
			m.protocols = []kmsg.JoinGroupRequestProtocol{{Name: protocol, Metadata: bytes.Clone(rm.Subscription)}}
		}
		m.instanceID, m.clientID, m.clientHost = rm.InstanceID, rm.ClientID, rm.ClientHost
		m.sessionTimeout, m.rebalanceTimeout = rm.SessionTimeoutMillis, rm.RebalanceTimeoutMillis
		if m.rebalanceTimeout < 0 { // v0 records: Kafka uses the session timeout
			m.rebalanceTimeout = m.sessionTimeout
		}
		m.protocolType, m.assignment = v.ProtocolType, bytes.Clone(rm.Assignment)
		if m.assignment == nil {
			m.assignment = []byte{}
		}
		m.isNew = false
		g.members[m.id] = m
		g.countProtocols(m, 1)
		if m.join != nil {
			g.awaitingJoin++
		}
		if m.instanceID != nil {
			g.static[*m.instanceID] = m.id
		}
	}
	// A live coordinator answers a member's parked requests before writing
	// a record without it; this is a safety net, never reached there.
	for _, mid := range sortedKeys(old) {
		c.failWaiters(g, old[mid], kerr.UnknownMemberID)
		c.cancelHeartbeat(g, mid)
	}
	for mid := range g.pendingSync {
		if g.members[mid] == nil {
			delete(g.pendingSync, mid)
		}
	}
	g.prevState = g.state
	g.state = Empty
	if len(g.members) > 0 {
		g.state = Stable
	}
	g.computeSubscribed()
}

// removeGroup deletes a group (its tombstone) with all its timers. Its
// offsets have their own tombstones.
func (c *Coordinator) removeGroup(id string) {
	g := c.groups[id]
	if g == nil {
		return
	}
	for _, m := range g.sorted() {
		c.failWaiters(g, m, kerr.UnknownMemberID)
		c.cancelHeartbeat(g, m.id)
	}
	for pid := range g.pending {
		c.cancelHeartbeat(g, pid)
	}
	c.timers.cancel(timerKey{kind: timerJoin, group: id})
	c.timers.cancel(timerKey{kind: timerSync, group: id})
	g.state = Dead
	delete(c.groups, id)
}

func (c *Coordinator) setOffset(group, topic string, partition int32, o offset) {
	topics := c.offsets[group]
	if topics == nil {
		topics = make(map[string]map[int32]offset)
		c.offsets[group] = topics
	}
	parts := topics[topic]
	if parts == nil {
		parts = make(map[int32]offset)
		topics[topic] = parts
	}
	parts[partition] = o
}

func (c *Coordinator) removeOffset(group, topic string, partition int32) {
	topics := c.offsets[group]
	if topics == nil {
		return
	}
	delete(topics[topic], partition)
	if len(topics[topic]) == 0 {
		delete(topics, topic)
	}
	if len(topics) == 0 {
		delete(c.offsets, group)
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
