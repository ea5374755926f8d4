package txn

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Record is one record of the __transaction_state partition this
// coordinator owns, in Kafka's format (docs/format/transaction-state.md):
// Key is a TxnMetadataKey (int16 record type 0, then the transactional
// id), Value a TxnMetadataValue (int16 version first); a nil Value is a
// tombstone. Records are the only persistent state; the caller owns the
// slices once returned.
type Record struct {
	Key, Value []byte
}

// The record type that starts every key (Kafka's
// CoordinatorRecordType.TRANSACTION_LOG), and the value versions written:
// 0 for classic clients, 1 (flexible, with the KIP-890 tagged fields) for
// transactions of clients on transaction version 2, as Kafka 4 does.
const (
	keyVersion          = 0
	valueVersionClassic = 0
	valueVersionTV2     = 1
)

// ErrCorruptRecord is returned by Replay for a record that cannot be
// decoded.
var ErrCorruptRecord = errors.New("txn: corrupt __transaction_state record")

// tp is one topic partition of a transaction.
type tp struct {
	topic     string
	partition int32
}

// meta is what a record says about one transactional id: the persisted
// part of its state.
type meta struct {
	producerID     int64
	prevProducerID int64 // -1 if none
	nextProducerID int64 // -1 if none
	producerEpoch  int16
	timeoutMs      int32
	state          State
	partitions     map[tp]struct{}
	startTime      int64 // Unix ms; -1 if no transaction started
	updateTime     int64 // Unix ms
	clientTV       int16 // the client's transaction version: 0, 1 or 2
}

func (m *meta) clone() meta {
	c := *m
	c.partitions = make(map[tp]struct{}, len(m.partitions))
	for p := range m.partitions {
		c.partitions[p] = struct{}{}
	}
	return c
}

// sortedPartitions returns the partitions by topic, each topic's sorted.
func (m *meta) sortedPartitions() ([]string, map[string][]int32) {
	byTopic := map[string][]int32{}
	for p := range m.partitions {
		byTopic[p.topic] = append(byTopic[p.topic], p.partition)
	}
	topics := make([]string, 0, len(byTopic))
	for t, ps := range byTopic {
		slices.Sort(ps)
		topics = append(topics, t)
	}
	sort.Strings(topics)
	return topics, byTopic
}

func txnKey(id string) []byte {
	k := kmsg.TxnMetadataKey{Version: keyVersion, TransactionalID: id}
	return k.AppendTo(nil)
}

func metaRecord(id string, m *meta) Record {
	v := kmsg.NewTxnMetadataValue()
	v.Version = valueVersionClassic
	if m.clientTV >= 2 {
		v.Version = valueVersionTV2
		v.PreviousProducerID, v.NextProducerID = m.prevProducerID, m.nextProducerID
		v.ClientTransactionVersion = m.clientTV
	}
	v.ProducerID, v.ProducerEpoch, v.TimeoutMillis = m.producerID, m.producerEpoch, m.timeoutMs
	v.State = kmsg.TransactionState(m.state)
	v.LastUpdateTimestamp, v.StartTimestamp = m.updateTime, m.startTime
	if m.state != Empty {
		topics, byTopic := m.sortedPartitions()
		v.Topics = []kmsg.TxnMetadataValueTopic{}
		for _, t := range topics {
			vt := kmsg.NewTxnMetadataValueTopic()
			vt.Topic, vt.Partitions = t, byTopic[t]
			v.Topics = append(v.Topics, vt)
		}
	}
	return Record{Key: txnKey(id), Value: v.AppendTo(nil)}
}

func tombstone(id string) Record { return Record{Key: txnKey(id)} }

// decodeKey returns the transactional id of a key; ok is false for a key
// of another record type, which loading skips.
func decodeKey(key []byte) (id string, ok bool, err error) {
	if len(key) < 2 {
		return "", false, fmt.Errorf("%w: key of %d bytes", ErrCorruptRecord, len(key))
	}
	if v := int16(binary.BigEndian.Uint16(key)); v != keyVersion {
		return "", false, nil
	}
	var k kmsg.TxnMetadataKey
	if err := k.ReadFrom(key); err != nil {
		return "", false, fmt.Errorf("%w: key: %v", ErrCorruptRecord, err)
	}
	return k.TransactionalID, true, nil
}

func decodeValue(value []byte) (meta, error) {
	if len(value) < 2 {
		return meta{}, fmt.Errorf("%w: value of %d bytes", ErrCorruptRecord, len(value))
	}
	if v := int16(binary.BigEndian.Uint16(value)); v < 0 || v > valueVersionTV2 {
		return meta{}, fmt.Errorf("%w: value version %d", ErrCorruptRecord, v)
	}
	var v kmsg.TxnMetadataValue
	if err := v.ReadFrom(value); err != nil {
		return meta{}, fmt.Errorf("%w: value: %v", ErrCorruptRecord, err)
	}
	if v.State < 0 || v.State > kmsg.TransactionState(PrepareEpochFence) {
		return meta{}, fmt.Errorf("%w: state %d", ErrCorruptRecord, v.State)
	}
	m := meta{
		producerID: v.ProducerID, prevProducerID: -1, nextProducerID: -1,
		producerEpoch: v.ProducerEpoch, timeoutMs: v.TimeoutMillis, state: State(v.State),
		partitions: map[tp]struct{}{}, startTime: v.StartTimestamp, updateTime: v.LastUpdateTimestamp,
	}
	if v.Version >= 1 {
		m.prevProducerID, m.nextProducerID, m.clientTV = v.PreviousProducerID, v.NextProducerID, v.ClientTransactionVersion
	}
	if m.state != Empty {
		for _, t := range v.Topics {
			for _, p := range t.Partitions {
				m.partitions[tp{t.Topic, p}] = struct{}{}
			}
		}
	}
	return m, nil
}
