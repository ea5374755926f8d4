package group

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// OffsetCommit (key 8, v0-9) commits offsets: from a member of the current
// generation, or from a consumer outside any generation (generation -1,
// no member id, as assign-mode clients and admin tools send) when the
// group is Empty or does not exist; the latter creates a "simple" group.
// Metadata strings are kept as sent. Every committed partition is one
// OffsetCommit record; the answer must wait until they are durable.
func (c *Coordinator) OffsetCommit(_ Caller, req *kmsg.OffsetCommitRequest) Result {
	resp := req.ResponseKind().(*kmsg.OffsetCommitResponse)
	resp.Version = req.Version
	err := c.checkGroup(req.Group)
	g := c.groups[req.Group]
	if cg := c.cgroups[req.Group]; err == nil && cg != nil {
		err = validateConsumerCommit(cg, req)
	} else if err == nil {
		err = c.validateCommit(g, req)
	}
	if err == nil && g != nil && (g.state == Stable || g.state == PreparingRebalance) {
		if m := g.members[req.MemberID]; m != nil {
			c.scheduleHeartbeat(g, m.id, m.sessionTimeout) // a commit is a sign of life
		}
	}
	now := c.nowMs()
	expire := int64(-1)
	if req.Version >= 2 && req.Version <= 4 && req.RetentionTimeMillis >= 0 {
		expire = now + req.RetentionTimeMillis // per-commit retention, before KIP-211
	}
	for _, t := range req.Topics {
		rt := kmsg.NewOffsetCommitResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewOffsetCommitResponseTopicPartition()
			rp.Partition = p.Partition
			switch md := deref(p.Metadata); {
			case err != nil:
				rp.ErrorCode = err.Code
			case len(md) > c.cfg.OffsetMetadataMaxBytes:
				rp.ErrorCode = kerr.OffsetMetadataTooLarge.Code
			default:
				o := offset{offset: p.Offset, leaderEpoch: -1, metadata: md, commitTime: now, expireTime: expire}
				if req.Version >= 6 {
					o.leaderEpoch = p.LeaderEpoch
				}
				if req.Version == 1 && p.Timestamp >= 0 {
					o.commitTime = p.Timestamp
				}
				c.apply(offsetRecord(req.Group, t.Topic, p.Partition, o))
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return c.finish(resp)
}

func (c *Coordinator) validateCommit(g *group, req *kmsg.OffsetCommitRequest) *kerr.Error {
	if g == nil {
		switch {
		case req.Generation < 0:
			return nil
		case req.Version >= 9:
			return kerr.GroupIDNotFound
		default:
			return kerr.IllegalGeneration
		}
	}
	if req.Generation < 0 && g.state == Empty {
		return nil
	}
	if req.Generation >= 0 || req.MemberID != "" || req.InstanceID != nil {
		if err := g.validateMember(req.MemberID, req.InstanceID); err != nil {
			return err
		}
		if req.Generation != g.generation {
			return kerr.IllegalGeneration
		}
	} else if g.state != Empty {
		return kerr.UnknownMemberID
	}
	if g.state == CompletingRebalance {
		// The member has its new generation but not its assignment yet.
		return kerr.RebalanceInProgress
	}
	return nil
}

// OffsetFetch (key 9, v0-9; batched groups from v8) returns committed
// offsets: of the listed partitions (-1 for none), or all of a group's
// when no topics are given. With require_stable (v7+, KIP-447) a
// partition with transactional offsets pending (TxnOffsetCommit whose
// transaction has not ended) is answered UNSTABLE_OFFSET_COMMIT, so the
// consumer retries until the transaction completes; without it the last
// committed offset is answered.
func (c *Coordinator) OffsetFetch(_ Caller, req *kmsg.OffsetFetchRequest) Result {
	resp := req.ResponseKind().(*kmsg.OffsetFetchResponse)
	resp.Version = req.Version
	if req.Version >= 8 {
		for _, rg := range req.Groups {
			if err := c.validateConsumerFetch(rg); err != nil {
				fg := kmsg.NewOffsetFetchResponseGroup()
				fg.Group, fg.ErrorCode = rg.Group, err.Code
				resp.Groups = append(resp.Groups, fg)
				continue
			}
			resp.Groups = append(resp.Groups, c.fetchGroup(rg.Group, rg.Topics, req.RequireStable))
		}
		return c.finish(resp)
	}
	var topics []kmsg.OffsetFetchRequestGroupTopic
	if req.Topics != nil {
		topics = []kmsg.OffsetFetchRequestGroupTopic{}
	}
	for _, t := range req.Topics {
		rt := kmsg.NewOffsetFetchRequestGroupTopic()
		rt.Topic, rt.Partitions = t.Topic, t.Partitions
		topics = append(topics, rt)
	}
	fg := c.fetchGroup(req.Group, topics, req.RequireStable)
	resp.ErrorCode = fg.ErrorCode
	if fg.ErrorCode != 0 && req.Version < 2 {
		// v0-1 have no group error: every asked partition carries it.
		fg = listed(topics, func(string, int32) (offset, bool) { return offset{}, false })
		for i := range fg.Topics {
			for j := range fg.Topics[i].Partitions {
				fg.Topics[i].Partitions[j].ErrorCode = resp.ErrorCode
			}
		}
	}
	for _, t := range fg.Topics {
		rt := kmsg.NewOffsetFetchResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewOffsetFetchResponseTopicPartition()
			rp.Partition, rp.Offset, rp.LeaderEpoch = p.Partition, p.Offset, p.LeaderEpoch
			rp.Metadata, rp.ErrorCode = p.Metadata, p.ErrorCode
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return c.finish(resp)
}

func (c *Coordinator) fetchGroup(id string, topics []kmsg.OffsetFetchRequestGroupTopic, requireStable bool) kmsg.OffsetFetchResponseGroup {
	if err := c.checkGroup(id); err != nil {
		fg := kmsg.NewOffsetFetchResponseGroup()
		fg.Group, fg.ErrorCode = id, err.Code
		return fg
	}
	var committed map[string]map[int32]offset
	if c.groups[id] != nil || c.cgroups[id] != nil {
		committed = c.offsets[id]
	}
	if topics != nil {
		fg := listed(topics, func(t string, p int32) (offset, bool) {
			o, ok := committed[t][p]
			return o, ok
		})
		fg.Group = id
		c.markUnstable(&fg, requireStable)
		return fg
	}
	fg := kmsg.NewOffsetFetchResponseGroup()
	fg.Group = id
	for _, t := range sortedKeys(committed) {
		ft := kmsg.NewOffsetFetchResponseGroupTopic()
		ft.Topic = t
		for _, p := range sortedPartitions(committed[t]) {
			ft.Partitions = append(ft.Partitions, fetched(p, committed[t][p], true))
		}
		fg.Topics = append(fg.Topics, ft)
	}
	c.markUnstable(&fg, requireStable)
	return fg
}

// markUnstable answers UNSTABLE_OFFSET_COMMIT for the partitions of fg
// with transactional offsets pending, if the request requires stable
// offsets.
func (c *Coordinator) markUnstable(fg *kmsg.OffsetFetchResponseGroup, requireStable bool) {
	if !requireStable || len(c.pending) == 0 {
		return
	}
	for i := range fg.Topics {
		ft := &fg.Topics[i]
		for j := range ft.Partitions {
			fp := &ft.Partitions[j]
			if fp.ErrorCode == 0 && c.hasPending(fg.Group, ft.Topic, fp.Partition) {
				fp.Offset, fp.LeaderEpoch, fp.ErrorCode = -1, -1, kerr.UnstableOffsetCommit.Code
			}
		}
	}
}

// listed answers the asked partitions from lookup.
func listed(topics []kmsg.OffsetFetchRequestGroupTopic, lookup func(string, int32) (offset, bool)) kmsg.OffsetFetchResponseGroup {
	fg := kmsg.NewOffsetFetchResponseGroup()
	for _, t := range topics {
		ft := kmsg.NewOffsetFetchResponseGroupTopic()
		ft.Topic = t.Topic
		for _, p := range t.Partitions {
			o, ok := lookup(t.Topic, p)
			ft.Partitions = append(ft.Partitions, fetched(p, o, ok))
		}
		fg.Topics = append(fg.Topics, ft)
	}
	return fg
}

func fetched(p int32, o offset, ok bool) kmsg.OffsetFetchResponseGroupTopicPartition {
	fp := kmsg.NewOffsetFetchResponseGroupTopicPartition()
	fp.Partition, fp.Offset, fp.LeaderEpoch, fp.Metadata = p, -1, -1, kmsg.StringPtr("")
	if ok {
		fp.Offset, fp.LeaderEpoch, fp.Metadata = o.offset, o.leaderEpoch, kmsg.StringPtr(o.metadata)
	}
	return fp
}
