package group

import (
	"github.com/twmb/franz-go/pkg/kbin"
)

// memberMeta is ConsumerGroupMemberMetadataValue: what a member sent
// about itself (its subscription).
type memberMeta struct {
	instanceID       *string
	rackID           *string
	clientID         string
	clientHost       string
	topics           []string // sorted
	regex            *string
	rebalanceTimeout int32 // ms
	assignor         *string
}

func (m *memberMeta) equal(o *memberMeta) bool {
	return eqPtr(m.instanceID, o.instanceID) && eqPtr(m.rackID, o.rackID) &&
		m.clientID == o.clientID && m.clientHost == o.clientHost &&
		equalStrings(m.topics, o.topics) && eqPtr(m.regex, o.regex) &&
		m.rebalanceTimeout == o.rebalanceTimeout && eqPtr(m.assignor, o.assignor)
}

func eqPtr(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func memberMetaValue(m *memberMeta) []byte {
	b := valueHeader()
	b = kbin.AppendCompactNullableString(b, m.instanceID)
	b = kbin.AppendCompactNullableString(b, m.rackID)
	b = kbin.AppendCompactString(b, m.clientID)
	b = kbin.AppendCompactString(b, m.clientHost)
	b = appendStrings(b, m.topics)
	b = kbin.AppendCompactNullableString(b, m.regex)
	b = kbin.AppendInt32(b, m.rebalanceTimeout)
	b = kbin.AppendCompactNullableString(b, m.assignor)
	return kbin.AppendUvarint(b, 0)
}

func decodeMemberMetaValue(b []byte) (memberMeta, error) {
	const what = "consumer group member metadata"
	r, err := readValue(b, what)
	if err != nil {
		return memberMeta{}, err
	}
	var m memberMeta
	m.instanceID = r.CompactNullableString()
	m.rackID = r.CompactNullableString()
	m.clientID = r.CompactString()
	m.clientHost = r.CompactString()
	m.topics = readStrings(r)
	m.regex = r.CompactNullableString()
	m.rebalanceTimeout = r.Int32()
	m.assignor = r.CompactNullableString()
	skipTags(r)
	return m, finishValue(r, what)
}

func targetMemberValue(a assignment) []byte {
	b := appendAssignment(valueHeader(), a)
	return kbin.AppendUvarint(b, 0)
}

func decodeTargetMemberValue(b []byte) (assignment, error) {
	const what = "consumer group target assignment member"
	r, err := readValue(b, what)
	if err != nil {
		return nil, err
	}
	a := readAssignment(r)
	skipTags(r)
	return a, finishValue(r, what)
}

// Member states of ConsumerGroupCurrentMemberAssignmentValue, Kafka's
// MemberState values.
const (
	memberStable               int8 = 1 // has its target assignment (or all it can get)
	memberUnrevokedPartitions  int8 = 2 // must give partitions up first
	memberUnreleasedPartitions int8 = 3 // waits for partitions others still own
)

var memberStateNames = map[int8]string{
	memberStable: "stable", memberUnrevokedPartitions: "unrevoked_partitions",
	memberUnreleasedPartitions: "unreleased_partitions",
}

// currentAssignment is ConsumerGroupCurrentMemberAssignmentValue: where a
// member is in its reconciliation towards the target assignment.
type currentAssignment struct {
	epoch     int32
	prevEpoch int32
	state     int8
	assigned  assignment // the member owns these
	revoking  assignment // the member must give these up
}

func (c *currentAssignment) equal(o *currentAssignment) bool {
	return c.epoch == o.epoch && c.prevEpoch == o.prevEpoch && c.state == o.state &&
		c.assigned.equal(o.assigned) && c.revoking.equal(o.revoking)
}

func currentAssignmentValue(c *currentAssignment) []byte {
	b := valueHeader()
	b = kbin.AppendInt32(b, c.epoch)
	b = kbin.AppendInt32(b, c.prevEpoch)
	b = kbin.AppendInt8(b, c.state)
	b = appendAssignment(b, c.assigned)
	b = appendAssignment(b, c.revoking)
	return kbin.AppendUvarint(b, 0)
}

func decodeCurrentAssignmentValue(b []byte) (currentAssignment, error) {
	const what = "consumer group current member assignment"
	r, err := readValue(b, what)
	if err != nil {
		return currentAssignment{}, err
	}
	var c currentAssignment
	c.epoch = r.Int32()
	c.prevEpoch = r.Int32()
	c.state = r.Int8()
	c.assigned = readAssignment(r)
	c.revoking = readAssignment(r)
	skipTags(r)
	return c, finishValue(r, what)
}
