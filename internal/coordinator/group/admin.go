package group

import (
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Group types as ListGroups v5+ reports them (KIP-848).
const (
	groupType         = "classic"
	consumerGroupType = "consumer"
)

// DescribeGroups (key 15, v0-5) describes groups in request order. An
// unknown group is reported Dead, without error before v6. Member
// metadata and the protocol are shown only for a Stable group.
func (c *Coordinator) DescribeGroups(_ Caller, req *kmsg.DescribeGroupsRequest) Result {
	resp := req.ResponseKind().(*kmsg.DescribeGroupsResponse)
	resp.Version = req.Version
	for _, id := range req.Groups {
		dg := kmsg.NewDescribeGroupsResponseGroup()
		dg.Group = id
		g := c.groups[id]
		switch err := c.checkGroup(id); {
		case err != nil:
			dg.ErrorCode = err.Code
		case g == nil:
			dg.State = Dead.String()
			if req.Version >= 6 {
				dg.ErrorCode = kerr.GroupIDNotFound.Code
			}
		default:
			dg.State, dg.ProtocolType = g.state.String(), g.protocolType
			if g.state == Stable {
				dg.Protocol = g.protocol
			}
			for _, m := range g.sorted() {
				dm := kmsg.NewDescribeGroupsResponseGroupMember()
				dm.MemberID, dm.InstanceID, dm.ClientID, dm.ClientHost = m.id, m.instanceID, m.clientID, m.clientHost
				dm.MemberAssignment = m.assignment
				if g.state == Stable {
					dm.ProtocolMetadata = m.metadata(g.protocol)
				}
				dg.Members = append(dg.Members, dm)
			}
		}
		resp.Groups = append(resp.Groups, dg)
	}
	return c.finish(resp)
}

// ListGroups (key 16, v0-5) lists the groups, sorted by id, filtered by
// state (v4+) and type (v5+), both case-insensitively.
func (c *Coordinator) ListGroups(_ Caller, req *kmsg.ListGroupsRequest) Result {
	resp := req.ResponseKind().(*kmsg.ListGroupsResponse)
	resp.Version = req.Version
	if err := c.unavailable(); err != nil {
		resp.ErrorCode = err.Code
		return c.finish(resp)
	}
	states, types := lowerSet(req.StatesFilter), lowerSet(req.TypesFilter)
	for _, id := range sortedKeys(c.groups) {
		g := c.groups[id]
		if !inFilter(states, g.state.String()) || !inFilter(types, groupType) {
			continue
		}
		lg := kmsg.NewListGroupsResponseGroup()
		lg.Group, lg.ProtocolType, lg.GroupState, lg.GroupType = id, g.protocolType, g.state.String(), groupType
		resp.Groups = append(resp.Groups, lg)
	}
	for _, id := range sortedKeys(c.cgroups) {
		g := c.cgroups[id]
		if st := g.state(); g.persisted && inFilter(states, st) && inFilter(types, consumerGroupType) {
			lg := kmsg.NewListGroupsResponseGroup()
			lg.Group, lg.ProtocolType, lg.GroupState, lg.GroupType = id, consumerProtocolType, st, consumerGroupType
			resp.Groups = append(resp.Groups, lg)
		}
	}
	slices.SortFunc(resp.Groups, func(a, b kmsg.ListGroupsResponseGroup) int { return strings.Compare(a.Group, b.Group) })
	return c.finish(resp)
}

func lowerSet(ss []string) map[string]bool {
	if len(ss) == 0 {
		return nil
	}
	m := make(map[string]bool, len(ss))
	for _, s := range ss {
		m[strings.ToLower(s)] = true
	}
	return m
}

func inFilter(filter map[string]bool, s string) bool {
	return filter == nil || filter[strings.ToLower(s)]
}

// DeleteGroups (key 42, v0-2) deletes Empty groups with their offsets:
// a tombstone per offset, then the group's. NON_EMPTY_GROUP for a group
// with members, GROUP_ID_NOT_FOUND for an unknown one.
func (c *Coordinator) DeleteGroups(_ Caller, req *kmsg.DeleteGroupsRequest) Result {
	resp := req.ResponseKind().(*kmsg.DeleteGroupsResponse)
	resp.Version = req.Version
	for _, id := range req.Groups {
		dg := kmsg.NewDeleteGroupsResponseGroup()
		dg.Group = id
		if err := c.deleteGroup(id); err != nil {
			dg.ErrorCode = err.Code
		}
		resp.Groups = append(resp.Groups, dg)
	}
	return c.finish(resp)
}

func (c *Coordinator) deleteGroup(id string) *kerr.Error {
	if err := c.checkGroup(id); err != nil {
		return err
	}
	if cg := c.cgroups[id]; cg != nil {
		return c.deleteCGroup(cg)
	}
	g := c.groups[id]
	switch {
	case g == nil:
		return kerr.GroupIDNotFound
	case g.state != Empty:
		return kerr.NonEmptyGroup
	}
	committed := c.offsets[id]
	for _, t := range sortedKeys(committed) {
		for _, p := range sortedPartitions(committed[t]) {
			c.apply(offsetTombstone(id, t, p))
		}
	}
	c.apply(groupTombstone(id))
	return nil
}

// OffsetDelete (key 47, v0) deletes a group's offsets of topics it does
// not consume: GROUP_SUBSCRIBED_TO_TOPIC for a topic in a member's
// consumer subscription, NON_EMPTY_GROUP for a non-consumer group with
// members.
func (c *Coordinator) OffsetDelete(_ Caller, req *kmsg.OffsetDeleteRequest) Result {
	resp := req.ResponseKind().(*kmsg.OffsetDeleteResponse)
	resp.Version = req.Version
	if err := c.checkGroup(req.Group); err != nil {
		resp.ErrorCode = err.Code
		return c.finish(resp)
	}
	g := c.groups[req.Group]
	subscribed := func(topic string) bool { return g.isSubscribedTo(topic) }
	if cg := c.cgroups[req.Group]; cg != nil {
		// A consumer group's offsets may go for any topic no member
		// subscribes to.
		g = &group{id: req.Group, state: Empty}
		subscribed = cg.isSubscribedTo
	}
	switch {
	case g == nil:
		resp.ErrorCode = kerr.GroupIDNotFound.Code
		return c.finish(resp)
	case g.state != Empty && g.protocolType != consumerProtocolType:
		resp.ErrorCode = kerr.NonEmptyGroup.Code
		return c.finish(resp)
	}
	for _, t := range req.Topics {
		rt := kmsg.NewOffsetDeleteResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewOffsetDeleteResponseTopicPartition()
			rp.Partition = p.Partition
			if subscribed(t.Topic) {
				rp.ErrorCode = kerr.GroupSubscribedToTopic.Code
			} else if _, ok := c.offsets[req.Group][t.Topic][p.Partition]; ok {
				c.apply(offsetTombstone(req.Group, t.Topic, p.Partition))
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return c.finish(resp)
}
