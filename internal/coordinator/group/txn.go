package group

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/record"
)

// TxnBatch, on a Result, makes its Records one transactional batch of
// the producer: TxnOffsetCommit's offsets, or with Control a transaction
// marker.
type TxnBatch struct {
	ProducerID    int64
	ProducerEpoch int16
	Control       bool
}

// pendingOffsets are one producer's transactional offsets not yet
// committed or aborted: group -> topic -> partition.
type pendingOffsets map[string]map[string]map[int32]offset

// TxnOffsetCommit (key 28, v0-4) writes offsets as part of the
// producer's transaction: they are pending, invisible to OffsetFetch
// (which answers UNSTABLE_OFFSET_COMMIT for them with require_stable),
// until the transaction's COMMIT marker reaches this partition, and
// dropped by its ABORT marker. That the partition was added to the
// transaction (AddOffsetsToTxn) is checked by the caller with the
// transaction coordinator. A member id or generation, when given (v3+),
// must be the group's (UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION,
// FENCED_INSTANCE_ID); a group that does not exist is created when the
// offsets commit, as for OffsetCommit from outside a generation.
func (c *Coordinator) TxnOffsetCommit(_ Caller, req *kmsg.TxnOffsetCommitRequest) Result {
	resp := req.ResponseKind().(*kmsg.TxnOffsetCommitResponse)
	resp.Version = req.Version
	err := c.checkGroup(req.Group)
	if err == nil {
		err = c.validateTxnCommit(req)
	}
	now := c.nowMs()
	for _, t := range req.Topics {
		rt := kmsg.NewTxnOffsetCommitResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewTxnOffsetCommitResponseTopicPartition()
			rp.Partition = p.Partition
			switch md := deref(p.Metadata); {
			case err != nil:
				rp.ErrorCode = err.Code
			case len(md) > c.cfg.OffsetMetadataMaxBytes:
				rp.ErrorCode = kerr.OffsetMetadataTooLarge.Code
			default:
				o := offset{offset: p.Offset, leaderEpoch: -1, metadata: md, commitTime: now, expireTime: -1}
				if req.Version >= 2 {
					o.leaderEpoch = p.LeaderEpoch
				}
				r := offsetRecord(req.Group, t.Topic, p.Partition, o)
				c.recs = append(c.recs, r)
				if err := c.replayTxnOffset(r, req.ProducerID); err != nil {
					panic(fmt.Sprintf("group: replaying a record the coordinator wrote: %v", err))
				}
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	res := c.finish(resp)
	if len(res.Records) > 0 {
		res.Txn = &TxnBatch{ProducerID: req.ProducerID, ProducerEpoch: req.ProducerEpoch}
	}
	return res
}

func (c *Coordinator) validateTxnCommit(req *kmsg.TxnOffsetCommitRequest) *kerr.Error {
	if cg := c.cgroups[req.Group]; cg != nil {
		// A KIP-848 group: the generation field carries the member epoch,
		// and a mismatch is ILLEGAL_GENERATION for a transactional commit
		// (Kafka's ConsumerGroup.validateOffsetCommit). No member id and
		// generation -1 is a commit from outside the group.
		if req.MemberID == "" && req.Generation < 0 {
			return nil
		}
		m := cg.members[req.MemberID]
		switch {
		case m == nil:
			return kerr.UnknownMemberID
		case req.Generation != m.cur.epoch:
			return kerr.IllegalGeneration
		}
		return nil
	}
	g := c.groups[req.Group]
	if g == nil || req.Version < 3 {
		return nil
	}
	if req.MemberID != "" || req.InstanceID != nil {
		if err := g.validateMember(req.MemberID, req.InstanceID); err != nil {
			return err
		}
	}
	if req.Generation >= 0 && req.Generation != g.generation {
		return kerr.IllegalGeneration
	}
	return nil
}

// WriteTxnMarker applies a transaction marker of the producer to this
// partition: with commit its pending offsets become the committed ones
// (unless a later plain commit superseded them), else they are dropped.
// The Result holds the marker as a control record (Txn set, Control) and
// a *kmsg.WriteTxnMarkersResponse with one partition's error code.
func (c *Coordinator) WriteTxnMarker(producerID int64, producerEpoch int16, coordinatorEpoch int32, commit bool) Result {
	resp := kmsg.NewPtrWriteTxnMarkersResponse()
	m := kmsg.NewWriteTxnMarkersResponseMarker()
	m.ProducerID = producerID
	mt := kmsg.NewWriteTxnMarkersResponseMarkerTopic()
	mp := kmsg.NewWriteTxnMarkersResponseMarkerTopicPartition()
	if err := c.unavailable(); err != nil {
		mp.ErrorCode = err.Code
	} else {
		typ := record.ControlAbort
		if commit {
			typ = record.ControlCommit
		}
		r := record.EndTxnMarker{Type: typ, CoordinatorEpoch: coordinatorEpoch}.Record()
		c.recs = append(c.recs, Record{Key: r.Key, Value: r.Value})
		c.replayTxnMarker(producerID, commit)
	}
	mt.Partitions = append(mt.Partitions, mp)
	m.Topics = append(m.Topics, mt)
	resp.Markers = append(resp.Markers, m)
	res := c.finish(resp)
	if len(res.Records) > 0 {
		res.Txn = &TxnBatch{ProducerID: producerID, ProducerEpoch: producerEpoch, Control: true}
	}
	return res
}

// ReplayTxnOffset applies, while loading, one record of a transactional
// batch of the producer: an offset commit that stays pending until the
// producer's marker.
func (c *Coordinator) ReplayTxnOffset(r Record, producerID int64) error {
	if c.phase != loading {
		return ErrNotLoading
	}
	return c.replayTxnOffset(r, producerID)
}

// ReplayTxnMarker applies, while loading, a transaction marker of the
// producer.
func (c *Coordinator) ReplayTxnMarker(producerID int64, commit bool) error {
	if c.phase != loading {
		return ErrNotLoading
	}
	c.replayTxnMarker(producerID, commit)
	return nil
}

func (c *Coordinator) replayTxnOffset(r Record, producerID int64) error {
	typ, err := recordType(r.Key)
	if err != nil {
		return err
	}
	if typ != 0 && typ != 1 {
		return nil // only offsets are written in transactions
	}
	var k kmsg.OffsetCommitKey
	if err := k.ReadFrom(r.Key); err != nil {
		return fmt.Errorf("%w: offset commit key: %v", ErrCorruptRecord, err)
	}
	pending := c.pending[producerID]
	if r.Value == nil {
		delete(pending[k.Group][k.Topic], k.Partition)
		return nil
	}
	o, err := decodeOffsetValue(r.Value)
	if err != nil {
		return err
	}
	o.order = c.nextSeq()
	if pending == nil {
		pending = pendingOffsets{}
		c.pending[producerID] = pending
	}
	topics := pending[k.Group]
	if topics == nil {
		topics = map[string]map[int32]offset{}
		pending[k.Group] = topics
	}
	if topics[k.Topic] == nil {
		topics[k.Topic] = map[int32]offset{}
	}
	topics[k.Topic][k.Partition] = o
	return nil
}

func (c *Coordinator) replayTxnMarker(producerID int64, commit bool) {
	pending := c.pending[producerID]
	delete(c.pending, producerID)
	if !commit {
		return
	}
	for _, id := range sortedKeys(pending) {
		if c.groups[id] == nil && c.cgroups[id] == nil {
			c.groups[id] = newGroup(id)
		}
		for topic, parts := range pending[id] {
			for p, o := range parts {
				if cur, ok := c.offsets[id][topic][p]; ok && cur.order > o.order {
					continue // a plain commit written after this one wins
				}
				c.setOffset(id, topic, p, o)
			}
		}
	}
}

// hasPending reports whether a transaction has offsets pending for the
// partition of the group.
func (c *Coordinator) hasPending(group, topic string, partition int32) bool {
	for _, pending := range c.pending {
		if _, ok := pending[group][topic][partition]; ok {
			return true
		}
	}
	return false
}
