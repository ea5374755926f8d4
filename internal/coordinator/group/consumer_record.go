package group

import (
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kbin"
)

// The records of KIP-848 consumer groups, in Apache Kafka 4.0's formats
// (group-coordinator's ConsumerGroup*Key/Value schemas). kmsg has no types
// for them, so they are encoded here. A key is the int16 record type and
// the key's fields (non-flexible: int16-length strings); a value is the
// int16 value version 0 and the value's fields, flexible (compact strings
// and arrays, a tagged-field section closing every struct). Byte layouts
// are in docs/format/consumer-offsets.md.
const (
	consumerGroupMetadataType          = 3 // key: group; value: group epoch
	consumerGroupPartitionMetadataType = 4 // key: group; value: subscribed topics' metadata
	consumerGroupMemberMetadataType    = 5 // key: group, member; value: subscription
	consumerGroupTargetMetadataType    = 6 // key: group; value: assignment epoch
	consumerGroupTargetMemberType      = 7 // key: group, member; value: target partitions
	consumerGroupCurrentAssignmentType = 8 // key: group, member; value: epochs, state, partitions
)

// consumerKey is a decoded consumer group record key; member is "" for the
// group-level types.
type consumerKey struct {
	typ    int16
	group  string
	member string
}

func (k consumerKey) hasMember() bool {
	switch k.typ {
	case consumerGroupMemberMetadataType, consumerGroupTargetMemberType, consumerGroupCurrentAssignmentType:
		return true
	}
	return false
}

func (k consumerKey) appendTo(dst []byte) []byte {
	dst = kbin.AppendInt16(dst, k.typ)
	dst = kbin.AppendString(dst, k.group)
	if k.hasMember() {
		dst = kbin.AppendString(dst, k.member)
	}
	return dst
}

func decodeConsumerKey(b []byte) (consumerKey, error) {
	r := kbin.Reader{Src: b}
	k := consumerKey{typ: r.Int16()}
	k.group = r.String()
	if k.hasMember() {
		k.member = r.String()
	}
	if err := r.Complete(); err != nil {
		return k, fmt.Errorf("%w: consumer group key type %d: %v", ErrCorruptRecord, k.typ, err)
	}
	return k, nil
}

// assignment is a set of partitions by topic id, each list sorted and
// without duplicates. A nil or empty map is no partitions.
type assignment map[[16]byte][]int32

func (a assignment) size() int {
	n := 0
	for _, ps := range a {
		n += len(ps)
	}
	return n
}

func (a assignment) has(id [16]byte, p int32) bool {
	_, ok := slices.BinarySearch(a[id], p)
	return ok
}

func (a assignment) equal(b assignment) bool {
	if a.size() != b.size() {
		return false
	}
	for id, ps := range a {
		if len(ps) > 0 && !slices.Equal(ps, b[id]) {
			return false
		}
	}
	return true
}

// sortedIDs is the topic ids with partitions, in byte order.
func (a assignment) sortedIDs() [][16]byte {
	ids := make([][16]byte, 0, len(a))
	for id, ps := range a {
		if len(ps) > 0 {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, func(x, y [16]byte) int { return compareIDs(x, y) })
	return ids
}

func compareIDs(x, y [16]byte) int {
	for i := range x {
		if x[i] != y[i] {
			return int(x[i]) - int(y[i])
		}
	}
	return 0
}

// add puts p into the assignment, keeping the topic's list sorted.
func (a assignment) add(id [16]byte, p int32) {
	ps := a[id]
	i, ok := slices.BinarySearch(ps, p)
	if !ok {
		a[id] = slices.Insert(ps, i, p)
	}
}

func (a assignment) clone() assignment {
	out := make(assignment, len(a))
	for id, ps := range a {
		if len(ps) > 0 {
			out[id] = slices.Clone(ps)
		}
	}
	return out
}

// appendAssignment writes the [TopicPartitions] array: topic id, then the
// partitions, then an empty tagged-field section per topic.
func appendAssignment(dst []byte, a assignment) []byte {
	ids := a.sortedIDs()
	dst = kbin.AppendCompactArrayLen(dst, len(ids))
	for _, id := range ids {
		dst = kbin.AppendUuid(dst, id)
		dst = kbin.AppendCompactArrayLen(dst, len(a[id]))
		for _, p := range a[id] {
			dst = kbin.AppendInt32(dst, p)
		}
		dst = kbin.AppendUvarint(dst, 0)
	}
	return dst
}

func readAssignment(r *kbin.Reader) assignment {
	n := r.CompactArrayLen()
	a := make(assignment, max(n, 0))
	for range max(n, 0) {
		id := r.Uuid()
		np := r.CompactArrayLen()
		for range max(np, 0) {
			if p := r.Int32(); p >= 0 {
				a.add(id, p)
			}
		}
		skipTags(r)
	}
	return a
}

// skipTags reads a tagged-field section, dropping every field: the ones
// Kafka defines here (metadata hash, classic member metadata, assignment
// epochs) are either never written by Basket or recomputed.
func skipTags(r *kbin.Reader) {
	n := r.Uvarint()
	for i := uint32(0); i < n && r.Ok(); i++ {
		r.Uvarint() // tag
		r.Span(int(r.Uvarint()))
	}
}

func appendStrings(dst []byte, ss []string) []byte {
	dst = kbin.AppendCompactArrayLen(dst, len(ss))
	for _, s := range ss {
		dst = kbin.AppendCompactString(dst, s)
	}
	return dst
}

func readStrings(r *kbin.Reader) []string {
	n := r.CompactArrayLen()
	ss := make([]string, 0, max(n, 0))
	for range max(n, 0) {
		ss = append(ss, r.CompactString())
	}
	return ss
}

// consumerValueVersion is the only value version of every consumer group
// record.
const consumerValueVersion = 0

func valueHeader() []byte { return kbin.AppendInt16(nil, consumerValueVersion) }

// readValue starts decoding a value: its version must be 0.
func readValue(b []byte, what string) (*kbin.Reader, error) {
	r := &kbin.Reader{Src: b}
	if v := r.Int16(); !r.Ok() || v != consumerValueVersion {
		return nil, fmt.Errorf("%w: %s value version %d", ErrCorruptRecord, what, v)
	}
	return r, nil
}

func finishValue(r *kbin.Reader, what string) error {
	if err := r.Complete(); err != nil {
		return fmt.Errorf("%w: %s value: %v", ErrCorruptRecord, what, err)
	}
	return nil
}

// epochValue is ConsumerGroupMetadataValue (the group epoch) and
// ConsumerGroupTargetAssignmentMetadataValue (the assignment epoch): an
// int32 and tags.
func epochValue(epoch int32) []byte {
	b := kbin.AppendInt32(valueHeader(), epoch)
	return kbin.AppendUvarint(b, 0)
}

func decodeEpochValue(b []byte, what string) (int32, error) {
	r, err := readValue(b, what)
	if err != nil {
		return 0, err
	}
	e := r.Int32()
	skipTags(r)
	return e, finishValue(r, what)
}

// topicMeta is one subscribed topic in ConsumerGroupPartitionMetadataValue.
type topicMeta struct {
	id         [16]byte
	partitions int32
}

// partitionMetadataValue is ConsumerGroupPartitionMetadataValue: epoch,
// then per topic (by name) id, name, partition count and an empty rack
// list. Basket knows no racks.
func partitionMetadataValue(epoch int32, topics map[string]topicMeta) []byte {
	b := kbin.AppendInt32(valueHeader(), epoch)
	names := sortedKeys(topics)
	b = kbin.AppendCompactArrayLen(b, len(names))
	for _, name := range names {
		t := topics[name]
		b = kbin.AppendUuid(b, t.id)
		b = kbin.AppendCompactString(b, name)
		b = kbin.AppendInt32(b, t.partitions)
		b = kbin.AppendCompactArrayLen(b, 0)
		b = kbin.AppendUvarint(b, 0)
	}
	return kbin.AppendUvarint(b, 0)
}

func decodePartitionMetadataValue(b []byte) (map[string]topicMeta, error) {
	const what = "consumer group partition metadata"
	r, err := readValue(b, what)
	if err != nil {
		return nil, err
	}
	r.Int32() // epoch: Kafka's own bookkeeping
	n := r.CompactArrayLen()
	topics := make(map[string]topicMeta, max(n, 0))
	for range max(n, 0) {
		var t topicMeta
		t.id = r.Uuid()
		name := r.CompactString()
		t.partitions = r.Int32()
		racks := r.CompactArrayLen()
		for range max(racks, 0) {
			r.Int32()
			readStrings(r)
			skipTags(r)
		}
		skipTags(r)
		if r.Ok() {
			topics[name] = t
		}
	}
	skipTags(r)
	return topics, finishValue(r, what)
}
