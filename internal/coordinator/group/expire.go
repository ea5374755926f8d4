package group

// cleanupOffsets is the offsets retention check (every
// offsets.retention.check.interval.ms), as Kafka 2.1+ does it (KIP-211):
// the offsets of an Empty group expire offsets.retention.minutes after it
// became empty; a standalone group's (no protocol type), that long after
// each commit; a Stable consumer group's, only for topics none of its
// members subscribes to, counted from the commit. A commit with its own
// expire timestamp (OffsetCommit v2-v4 retention) expires then. An Empty
// group left without offsets is deleted. Expiry writes tombstones.
func (c *Coordinator) cleanupOffsets() {
	now := c.nowMs()
	retention := c.cfg.OffsetsRetention.Milliseconds()
	for _, id := range sortedKeys(c.groups) {
		g := c.groups[id]
		if c.expireOffsets(g, now, retention) && g.state == Empty {
			c.apply(groupTombstone(id))
		}
	}
	for _, id := range sortedKeys(c.cgroups) {
		if g := c.cgroups[id]; c.expireConsumerOffsets(g, now, retention) && len(g.members) == 0 && g.persisted {
			c.deleteCGroup(g)
		}
	}
}

// expireConsumerOffsets is expireOffsets for a KIP-848 group: an offset
// of a topic no member subscribes to expires offsets.retention.minutes
// after its commit (or at its own expire timestamp), as Kafka's
// ConsumerGroup.offsetExpirationCondition.
func (c *Coordinator) expireConsumerOffsets(g *cgroup, now, retention int64) bool {
	committed := c.offsets[g.id]
	all := true
	for _, t := range sortedKeys(committed) {
		if g.isSubscribedTo(t) {
			all = false
			continue
		}
		parts := committed[t]
		for _, p := range sortedPartitions(parts) {
			o := parts[p]
			expired := now-o.commitTime >= retention
			if o.expireTime >= 0 {
				expired = now >= o.expireTime
			}
			if expired {
				c.apply(offsetTombstone(g.id, t, p))
			} else {
				all = false
			}
		}
	}
	return all
}

// expireOffsets writes tombstones for g's expired offsets and reports
// whether none is left.
func (c *Coordinator) expireOffsets(g *group, now, retention int64) bool {
	committed := c.offsets[g.id]
	if len(committed) == 0 {
		return true
	}
	base, ok := g.expiryBase()
	if !ok {
		return false
	}
	all := true
	for _, t := range sortedKeys(committed) {
		if g.isSubscribedTo(t) {
			all = false
			continue
		}
		parts := committed[t]
		for _, p := range sortedPartitions(parts) {
			o := parts[p]
			expired := now-base(o) >= retention
			if o.expireTime >= 0 {
				expired = now >= o.expireTime
			}
			if expired {
				c.apply(offsetTombstone(g.id, t, p))
			} else {
				all = false
			}
		}
	}
	return all
}

// expiryBase is when an offset's retention starts counting, or false if
// the group's offsets do not expire in its current state.
func (g *group) expiryBase() (func(offset) int64, bool) {
	byCommit := func(o offset) int64 { return o.commitTime }
	switch {
	case g.protocolType == "":
		return byCommit, true
	case g.state == Empty && g.stateTime >= 0:
		t := g.stateTime
		return func(offset) int64 { return t }, true
	case g.state == Empty:
		return byCommit, true
	case g.state == Stable && g.protocolType == consumerProtocolType && g.subscribedKnown:
		return byCommit, true
	}
	return nil, false
}
