package group

import (
	"cmp"
	"slices"
)

// Server-side assignors of KIP-848 groups. Both are deterministic
// functions of their input: the same members, subscriptions, topics and
// previous target give the same target, so replaying a log reproduces
// what was written.
const (
	assignorUniform = "uniform"
	assignorRange   = "range"
)

// assignMember is one member as an assignor sees it.
type assignMember struct {
	id         string
	instanceID *string
	topics     [][16]byte // subscribed topics that exist, sorted
	prev       assignment // its current target
}

// assignSpec is an assignor's input: the members sorted by id and the
// partition count of every subscribed topic.
type assignSpec struct {
	members []assignMember
	topics  map[[16]byte]int32
}

type tp struct {
	topic     [16]byte
	partition int32
}

func assign(name string, spec assignSpec) map[string]assignment {
	if name == assignorRange {
		return rangeAssign(spec)
	}
	return uniformAssign(spec)
}

// uniformAssign spreads the partitions evenly over the members subscribed
// to them, moving as few as it can from the previous target (Kafka's
// UniformAssignor: balanced and sticky). It keeps every previous
// assignment still valid, hands out the rest to the least loaded eligible
// member, then moves partitions from a member to an eligible one with at
// least two fewer until no such move is left.
func uniformAssign(spec assignSpec) map[string]assignment {
	eligible := map[[16]byte][]int{} // topic -> indexes of members subscribed
	for i, m := range spec.members {
		for _, t := range m.topics {
			eligible[t] = append(eligible[t], i)
		}
	}
	owner := map[tp]int{}
	count := make([]int, len(spec.members))
	var all []tp
	for _, t := range sortedTopicIDs(spec.topics) {
		if len(eligible[t]) == 0 {
			continue
		}
		for p := range spec.topics[t] {
			all = append(all, tp{t, p})
		}
	}
	// Sticky: previous owners keep what they may still have, capped at
	// the most a balanced share could give them.
	quota := 0
	if len(spec.members) > 0 {
		quota = (len(all) + len(spec.members) - 1) / len(spec.members)
	}
	for i, m := range spec.members {
		for _, t := range m.prev.sortedIDs() {
			if !slices.Contains(m.topics, t) {
				continue
			}
			for _, p := range m.prev[t] {
				k := tp{t, p}
				if _, taken := owner[k]; taken || p >= spec.topics[t] || count[i] >= quota {
					continue
				}
				owner[k] = i
				count[i]++
			}
		}
	}
	// The rest, partitions with fewer candidates first.
	rest := slices.DeleteFunc(slices.Clone(all), func(k tp) bool { _, ok := owner[k]; return ok })
	slices.SortStableFunc(rest, func(a, b tp) int { return cmp.Compare(len(eligible[a.topic]), len(eligible[b.topic])) })
	for _, k := range rest {
		best := -1
		for _, i := range eligible[k.topic] {
			if best < 0 || count[i] < count[best] {
				best = i
			}
		}
		owner[k] = best
		count[best]++
	}
	// Balance.
	for moved := true; moved; {
		moved = false
		for _, k := range all {
			from := owner[k]
			to := from
			for _, i := range eligible[k.topic] {
				if count[i] < count[to] {
					to = i
				}
			}
			if count[from]-count[to] >= 2 {
				owner[k] = to
				count[from]--
				count[to]++
				moved = true
			}
		}
	}
	return collect(spec, all, owner)
}

// rangeAssign gives each member a contiguous range of every topic it
// subscribes to: for a topic with P partitions and N subscribed members
// (sorted by instance id when they have one, else member id), each gets
// P/N, and the first P%N one more (Kafka's RangeAssignor).
func rangeAssign(spec assignSpec) map[string]assignment {
	owner := map[tp]int{}
	var all []tp
	for _, t := range sortedTopicIDs(spec.topics) {
		var subs []int
		for i, m := range spec.members {
			if slices.Contains(m.topics, t) {
				subs = append(subs, i)
			}
		}
		if len(subs) == 0 {
			continue
		}
		slices.SortStableFunc(subs, func(a, b int) int {
			return cmp.Compare(rangeKey(spec.members[a]), rangeKey(spec.members[b]))
		})
		n := spec.topics[t]
		per, extra := n/int32(len(subs)), n%int32(len(subs))
		next := int32(0)
		for j, i := range subs {
			size := per
			if int32(j) < extra {
				size++
			}
			for p := next; p < next+size; p++ {
				owner[tp{t, p}] = i
				all = append(all, tp{t, p})
			}
			next += size
		}
	}
	return collect(spec, all, owner)
}

func rangeKey(m assignMember) string {
	if m.instanceID != nil {
		return *m.instanceID
	}
	return m.id
}

func collect(spec assignSpec, all []tp, owner map[tp]int) map[string]assignment {
	out := make(map[string]assignment, len(spec.members))
	for _, m := range spec.members {
		out[m.id] = assignment{}
	}
	for _, k := range all {
		out[spec.members[owner[k]].id].add(k.topic, k.partition)
	}
	return out
}

func sortedTopicIDs(m map[[16]byte]int32) [][16]byte {
	ids := make([][16]byte, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, compareIDs)
	return ids
}
