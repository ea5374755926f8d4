package group

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Record is one record of the __consumer_offsets partition this
// coordinator owns, in Kafka's own format: Key starts with an int16 record
// type (0 or 1: OffsetCommitKey, 2: GroupMetadataKey), Value with an int16
// value version. A nil Value is a tombstone. Records are the only
// persistent state; the caller owns the slices once returned.
type Record struct {
	Key, Value []byte
}

// Key versions (record types) and value versions written. They are those
// Apache Kafka 3.x and 4.x write, so either can load the other's
// partition: GroupMetadataValue v3 (KIP-345 instance ids) and
// OffsetCommitValue v3 (KIP-320 leader epoch), or v1 when the commit
// carries an explicit expire timestamp (OffsetCommit v2-v4 with a
// retention time).
const (
	offsetCommitKeyVersion  = 1
	groupMetadataKeyVersion = 2

	groupMetadataValueVersion       = 3
	offsetCommitValueVersion        = 3
	offsetCommitValueVersionExpires = 1
)

// ErrCorruptRecord is returned by Replay for a record that cannot be
// decoded.
var ErrCorruptRecord = errors.New("group: corrupt __consumer_offsets record")

// offset is one committed offset.
type offset struct {
	offset      int64
	leaderEpoch int32 // -1 if unknown
	metadata    string
	commitTime  int64 // Unix ms
	expireTime  int64 // Unix ms; -1: expires by offsets.retention.minutes
	// order is when the record was replayed, in this coordinator's
	// sequence: a transaction's offsets do not overwrite a plain commit
	// written after them.
	order uint64
}

func groupKey(id string) []byte {
	k := kmsg.GroupMetadataKey{Version: groupMetadataKeyVersion, Group: id}
	return k.AppendTo(nil)
}

func groupMetadataRecord(id string, v *kmsg.GroupMetadataValue) Record {
	v.Version = groupMetadataValueVersion
	return Record{Key: groupKey(id), Value: v.AppendTo(nil)}
}

func groupTombstone(id string) Record { return Record{Key: groupKey(id)} }

func offsetKey(group, topic string, partition int32) []byte {
	k := kmsg.OffsetCommitKey{Version: offsetCommitKeyVersion, Group: group, Topic: topic, Partition: partition}
	return k.AppendTo(nil)
}

func offsetRecord(group, topic string, partition int32, o offset) Record {
	v := kmsg.NewOffsetCommitValue()
	v.Version = offsetCommitValueVersion
	if o.expireTime >= 0 {
		v.Version = offsetCommitValueVersionExpires
	}
	v.Offset, v.LeaderEpoch, v.Metadata = o.offset, o.leaderEpoch, o.metadata
	v.CommitTimestamp, v.ExpireTimestamp = o.commitTime, o.expireTime
	return Record{Key: offsetKey(group, topic, partition), Value: v.AppendTo(nil)}
}

func offsetTombstone(group, topic string, partition int32) Record {
	return Record{Key: offsetKey(group, topic, partition)}
}

// recordType is the int16 that starts a key.
func recordType(key []byte) (int16, error) {
	if len(key) < 2 {
		return 0, fmt.Errorf("%w: key of %d bytes", ErrCorruptRecord, len(key))
	}
	return int16(binary.BigEndian.Uint16(key)), nil
}

func decodeOffsetValue(b []byte) (offset, error) {
	var v kmsg.OffsetCommitValue
	if err := v.ReadFrom(b); err != nil {
		return offset{}, fmt.Errorf("%w: offset commit value: %v", ErrCorruptRecord, err)
	}
	o := offset{offset: v.Offset, leaderEpoch: -1, metadata: v.Metadata, commitTime: v.CommitTimestamp, expireTime: -1}
	if v.Version >= 3 {
		o.leaderEpoch = v.LeaderEpoch
	}
	if v.Version == 1 {
		o.expireTime = v.ExpireTimestamp
	}
	return o, nil
}
