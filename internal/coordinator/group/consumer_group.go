package group

import (
	"regexp"
	"slices"
)

// Member epochs with a meaning of their own in ConsumerGroupHeartbeat
// (KIP-848).
const (
	joinEpoch        = 0  // (re)joining
	leaveEpoch       = -1 // leaving for good
	leaveStaticEpoch = -2 // a static member leaving for a while (a restart)
)

// cmember is one member of a KIP-848 consumer group: its subscription
// (ConsumerGroupMemberMetadata) and where it is on its way to its target
// assignment (ConsumerGroupCurrentMemberAssignment). Both are persisted.
type cmember struct {
	id   string
	meta memberMeta
	cur  currentAssignment
}

// cgroup is one KIP-848 consumer group. Every field but the derived ones
// (owners, static, resolved) is what the group's records say; the derived
// ones are rebuilt as records replay.
type cgroup struct {
	id              string
	epoch           int32                // group epoch (ConsumerGroupMetadata)
	subscription    map[string]topicMeta // ConsumerGroupPartitionMetadata, by topic name
	assignmentEpoch int32                // ConsumerGroupTargetAssignmentMetadata
	target          map[string]assignment
	members         map[string]*cmember
	persisted       bool // a record of this group has been replayed

	static map[string]string             // instance id -> member id
	owners map[[16]byte]map[int32]string // partition -> member owning it (assigned or revoking)

	// resolved is each regex's topics as of the last heartbeat that
	// looked at the topic image (imageVersion): members' regex
	// subscriptions. In memory only; a loaded group resolves again on its
	// first heartbeat.
	resolved     map[string][]string
	imageVersion int64
}

func newCGroup(id string) *cgroup {
	return &cgroup{
		id:           id,
		subscription: map[string]topicMeta{},
		target:       map[string]assignment{},
		members:      map[string]*cmember{},
		static:       map[string]string{},
		owners:       map[[16]byte]map[int32]string{},
		resolved:     map[string][]string{},
		imageVersion: -1,
	}
}

// Consumer group states, as Kafka's ConsumerGroupState names them in
// ListGroups and ConsumerGroupDescribe.
const (
	cgEmpty       = "Empty"
	cgAssigning   = "Assigning"
	cgReconciling = "Reconciling"
	cgStable      = "Stable"
)

// state is derived as Kafka derives it: Empty without members, Assigning
// while the target assignment lags the group epoch, Reconciling while a
// member has not reached the target, else Stable.
func (g *cgroup) state() string {
	switch {
	case len(g.members) == 0:
		return cgEmpty
	case g.epoch > g.assignmentEpoch:
		return cgAssigning
	}
	for _, m := range g.members {
		if m.cur.epoch != g.assignmentEpoch || m.cur.state != memberStable {
			return cgReconciling
		}
	}
	return cgStable
}

// owner is the member owning a partition, "" if it is free.
func (g *cgroup) owner(id [16]byte, p int32) string { return g.owners[id][p] }

func (g *cgroup) setOwners(a assignment, member string, own bool) {
	for id, ps := range a {
		parts := g.owners[id]
		if parts == nil {
			if !own {
				continue
			}
			parts = map[int32]string{}
			g.owners[id] = parts
		}
		for _, p := range ps {
			switch {
			case own:
				parts[p] = member
			case parts[p] == member:
				delete(parts, p)
			}
		}
		if len(parts) == 0 {
			delete(g.owners, id)
		}
	}
}

// subscribedNames is every topic some member subscribes to, by name or
// through its resolved regex; except, when skip is not "", that member.
func (g *cgroup) subscribedNames(skip string) map[string]struct{} {
	names := map[string]struct{}{}
	for id, m := range g.members {
		if id == skip {
			continue
		}
		for _, t := range m.meta.topics {
			names[t] = struct{}{}
		}
		if m.meta.regex != nil {
			for _, t := range g.resolved[*m.meta.regex] {
				names[t] = struct{}{}
			}
		}
	}
	return names
}

// isSubscribedTo reports whether a member consumes topic (offsets of such
// topics neither expire nor may be deleted): by name, by a resolved regex,
// or as the subscription metadata last recorded (which covers regexes a
// freshly loaded group has not resolved yet).
func (g *cgroup) isSubscribedTo(topic string) bool {
	if _, ok := g.subscription[topic]; ok {
		return true
	}
	_, ok := g.subscribedNames("")[topic]
	return ok
}

// memberTopics is the topics one member subscribes to, sorted.
func (g *cgroup) memberTopics(m *memberMeta) []string {
	set := map[string]struct{}{}
	for _, t := range m.topics {
		set[t] = struct{}{}
	}
	if m.regex != nil {
		for _, t := range g.resolved[*m.regex] {
			set[t] = struct{}{}
		}
	}
	return sortedKeys(set)
}

// resolveRegexes matches the members' regexes (KIP-848
// SubscribedTopicRegex: RE2 syntax, matching the whole topic name) against
// the image's topics, once per image version.
func (g *cgroup) resolveRegexes(img TopicImage) {
	want := map[string]struct{}{}
	for _, m := range g.members {
		if m.meta.regex != nil {
			want[*m.meta.regex] = struct{}{}
		}
	}
	fresh := img.Version() != g.imageVersion
	for re := range g.resolved {
		if _, ok := want[re]; !ok {
			delete(g.resolved, re)
		}
	}
	var names []string
	for re := range want {
		if _, ok := g.resolved[re]; ok && !fresh {
			continue
		}
		if names == nil {
			names = img.TopicNames()
		}
		g.resolved[re] = matchTopics(re, names)
	}
	g.imageVersion = img.Version()
}

// compileRegex compiles a subscription regex to match whole names, as
// Java's Pattern.matches does.
func compileRegex(re string) (*regexp.Regexp, error) {
	return regexp.Compile(`^(?:` + re + `)$`)
}

func matchTopics(re string, names []string) []string {
	rx, err := compileRegex(re)
	if err != nil {
		return nil // validated on the way in; a loaded one may not be
	}
	var out []string
	for _, n := range names {
		if rx.MatchString(n) {
			out = append(out, n)
		}
	}
	return out
}

// TopicImage is the cluster's topics as a KIP-848 group coordinator needs
// them: consumer groups subscribe by name (or regex) but assign by topic
// id, and a change of partitions means a new target assignment. The owner
// passes its current metadata in with every ConsumerGroupHeartbeat and
// ConsumerGroupDescribe; the coordinator reads it only during that call.
// Implementations must be safe to read (they are immutable snapshots).
type TopicImage interface {
	// Topic returns a topic's id and partition count.
	Topic(name string) (id [16]byte, partitions int32, ok bool)
	// TopicName returns the name of the topic with this id.
	TopicName(id [16]byte) (string, bool)
	// TopicNames lists every topic, sorted.
	TopicNames() []string
	// Version changes whenever the topics may have.
	Version() int64
}

// subscriptionFor is the metadata of the topics the members subscribe to
// that exist in img.
func (g *cgroup) subscriptionFor(img TopicImage) map[string]topicMeta {
	out := map[string]topicMeta{}
	for name := range g.subscribedNames("") {
		if id, n, ok := img.Topic(name); ok {
			out[name] = topicMeta{id: id, partitions: n}
		}
	}
	return out
}

func equalSubscription(a, b map[string]topicMeta) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// sortedMembers returns the members sorted by id.
func (g *cgroup) sortedMembers() []*cmember {
	ms := make([]*cmember, 0, len(g.members))
	for _, m := range g.members {
		ms = append(ms, m)
	}
	slices.SortFunc(ms, func(a, b *cmember) int {
		switch {
		case a.id < b.id:
			return -1
		case a.id > b.id:
			return 1
		}
		return 0
	})
	return ms
}
