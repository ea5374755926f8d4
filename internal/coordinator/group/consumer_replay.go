package group

import "github.com/twmb/franz-go/pkg/kerr"

// replayConsumer applies one KIP-848 consumer group record (types 3-8).
// It is the only code that changes a consumer group's persisted state.
func (c *Coordinator) replayConsumer(r Record) error {
	k, err := decodeConsumerKey(r.Key)
	if err != nil {
		return err
	}
	g := c.cgroups[k.group]
	if r.Value == nil && g == nil {
		return nil // a tombstone of a group already gone
	}
	// Decode first: a corrupt record changes nothing.
	var (
		epoch int32
		subs  map[string]topicMeta
		meta  memberMeta
		tgt   assignment
		cur   currentAssignment
	)
	if r.Value != nil {
		switch k.typ {
		case consumerGroupMetadataType:
			epoch, err = decodeEpochValue(r.Value, "consumer group metadata")
		case consumerGroupTargetMetadataType:
			epoch, err = decodeEpochValue(r.Value, "consumer group target assignment metadata")
		case consumerGroupPartitionMetadataType:
			subs, err = decodePartitionMetadataValue(r.Value)
		case consumerGroupMemberMetadataType:
			meta, err = decodeMemberMetaValue(r.Value)
		case consumerGroupTargetMemberType:
			tgt, err = decodeTargetMemberValue(r.Value)
		case consumerGroupCurrentAssignmentType:
			cur, err = decodeCurrentAssignmentValue(r.Value)
		}
		if err != nil {
			return err
		}
		if g == nil {
			g = c.createCGroup(k.group)
		}
	}
	g.persisted = true
	switch k.typ {
	case consumerGroupMetadataType:
		if r.Value == nil {
			c.removeCGroup(g)
			return nil
		}
		g.epoch = epoch
	case consumerGroupTargetMetadataType:
		g.assignmentEpoch = epoch
	case consumerGroupPartitionMetadataType:
		if subs == nil {
			subs = map[string]topicMeta{}
		}
		g.subscription = subs
	case consumerGroupMemberMetadataType:
		if r.Value == nil {
			c.removeCMember(g, k.member)
			return nil
		}
		m := g.getOrAddMember(k.member)
		if m.meta.instanceID != nil && g.static[*m.meta.instanceID] == m.id {
			delete(g.static, *m.meta.instanceID)
		}
		m.meta = meta
		if meta.instanceID != nil {
			g.static[*meta.instanceID] = m.id
		}
	case consumerGroupTargetMemberType:
		if r.Value == nil {
			delete(g.target, k.member)
			return nil
		}
		g.target[k.member] = tgt
	case consumerGroupCurrentAssignmentType:
		m := g.members[k.member]
		if r.Value == nil {
			if m != nil {
				g.setOwners(m.cur.assigned, m.id, false)
				g.setOwners(m.cur.revoking, m.id, false)
				m.cur = currentAssignment{epoch: leaveEpoch, prevEpoch: m.cur.epoch}
			}
			return nil
		}
		if m == nil {
			m = g.getOrAddMember(k.member)
		}
		g.setOwners(m.cur.assigned, m.id, false)
		g.setOwners(m.cur.revoking, m.id, false)
		m.cur = cur
		g.setOwners(m.cur.assigned, m.id, true)
		g.setOwners(m.cur.revoking, m.id, true)
	}
	return nil
}

// createCGroup makes an empty consumer group. A classic group of the same
// id without members (a "simple" group holding offsets, or one the
// coordinator wrote a tombstone for just before) gives way, as in Kafka.
func (c *Coordinator) createCGroup(id string) *cgroup {
	if cg := c.groups[id]; cg != nil {
		c.removeGroup(id)
	}
	g := newCGroup(id)
	c.cgroups[id] = g
	return g
}

func (g *cgroup) getOrAddMember(id string) *cmember {
	m := g.members[id]
	if m == nil {
		m = &cmember{id: id, cur: currentAssignment{state: memberStable}}
		g.members[id] = m
	}
	return m
}

// removeCMember drops a member (its ConsumerGroupMemberMetadata
// tombstone), freeing what it still owned and its timers.
func (c *Coordinator) removeCMember(g *cgroup, id string) {
	m := g.members[id]
	if m == nil {
		return
	}
	g.setOwners(m.cur.assigned, id, false)
	g.setOwners(m.cur.revoking, id, false)
	if m.meta.instanceID != nil && g.static[*m.meta.instanceID] == id {
		delete(g.static, *m.meta.instanceID)
	}
	delete(g.members, id)
	c.cancelConsumerTimers(g.id, id)
}

// removeCGroup deletes a consumer group (its ConsumerGroupMetadata
// tombstone). Its offsets have their own tombstones.
func (c *Coordinator) removeCGroup(g *cgroup) {
	for id := range g.members {
		c.cancelConsumerTimers(g.id, id)
	}
	delete(c.cgroups, g.id)
}

// consumerTombstones are the records deleting an empty consumer group, in
// Kafka's order: target assignment epoch, subscription metadata, then the
// group epoch record whose tombstone removes the group.
func consumerTombstones(id string) []Record {
	return []Record{
		{Key: consumerKey{typ: consumerGroupTargetMetadataType, group: id}.appendTo(nil)},
		{Key: consumerKey{typ: consumerGroupPartitionMetadataType, group: id}.appendTo(nil)},
		{Key: consumerKey{typ: consumerGroupMetadataType, group: id}.appendTo(nil)},
	}
}

// deleteCGroup writes the tombstones of an empty consumer group and of
// its offsets.
func (c *Coordinator) deleteCGroup(g *cgroup) *kerr.Error {
	if len(g.members) > 0 {
		return kerr.NonEmptyGroup
	}
	c.tombstoneOffsets(g.id)
	for _, r := range consumerTombstones(g.id) {
		c.apply(r)
	}
	return nil
}

func (c *Coordinator) tombstoneOffsets(id string) {
	committed := c.offsets[id]
	for _, t := range sortedKeys(committed) {
		for _, p := range sortedPartitions(committed[t]) {
			c.apply(offsetTombstone(id, t, p))
		}
	}
}

// consumer group record builders.

func cgEpochRecord(group string, epoch int32) Record {
	return Record{Key: consumerKey{typ: consumerGroupMetadataType, group: group}.appendTo(nil), Value: epochValue(epoch)}
}

func cgSubscriptionRecord(group string, epoch int32, subs map[string]topicMeta) Record {
	return Record{Key: consumerKey{typ: consumerGroupPartitionMetadataType, group: group}.appendTo(nil),
		Value: partitionMetadataValue(epoch, subs)}
}

func cgMemberRecord(group, member string, m *memberMeta) Record {
	k := consumerKey{typ: consumerGroupMemberMetadataType, group: group, member: member}.appendTo(nil)
	if m == nil {
		return Record{Key: k}
	}
	return Record{Key: k, Value: memberMetaValue(m)}
}

func cgTargetMemberRecord(group, member string, a assignment) Record {
	k := consumerKey{typ: consumerGroupTargetMemberType, group: group, member: member}.appendTo(nil)
	if a == nil {
		return Record{Key: k}
	}
	return Record{Key: k, Value: targetMemberValue(a)}
}

func cgTargetEpochRecord(group string, epoch int32) Record {
	return Record{Key: consumerKey{typ: consumerGroupTargetMetadataType, group: group}.appendTo(nil), Value: epochValue(epoch)}
}

func cgCurrentRecord(group, member string, cur *currentAssignment) Record {
	k := consumerKey{typ: consumerGroupCurrentAssignmentType, group: group, member: member}.appendTo(nil)
	if cur == nil {
		return Record{Key: k}
	}
	return Record{Key: k, Value: currentAssignmentValue(cur)}
}
