package api

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/partition"
	"github.com/basketmq/basket/internal/producerstate"
	"github.com/basketmq/basket/internal/record"
)

// produceTxn is the transactional side of one Produce request: the
// verification guards of the partitions whose transactional batches need
// the coordinator's word (KIP-890 part 1), and the coordinator's answers.
type produceTxn struct {
	verify  bool  // a TxnVerifier and a transactional id
	refused error // for every transactional batch
	guards  map[string]map[int32]partition.VerificationGuard
	codes   map[string]map[int32]int16 // the coordinator's answers
	epochV2 bool                       // Produce v12+: CONCURRENT_TRANSACTIONS passes through
}

// startTxnVerification finds the request's transactional batches and, for
// those whose producer has no transaction open in the partition, asks the
// coordinator in one call (add=true from Produce v12, KIP-890 part 2). It
// runs in the produce's first phase, so the request waits for the answer
// and requests stay in order.
//
// Under Produce v12 a CONCURRENT_TRANSACTIONS answer — the producer's
// previous transaction is still writing its markers, routine right after
// EndTxn v5 — is asked again every AddPartitionsRetryBackoff for up to
// AddPartitionsRetryBackoffMax before it goes to the client, as Kafka's
// ReplicaManager does (KAFKA-18654): clients wait much longer before
// retrying a produce themselves. Each attempt takes fresh verification
// guards, since the previous transaction's marker clears the partition's.
func (h *Handlers) startTxnVerification(ctx context.Context, req *kmsg.ProduceRequest) *produceTxn {
	t := &produceTxn{verify: h.TxnVerifier != nil && req.TransactionID != nil, epochV2: req.Version >= 12}
	if !t.verify {
		return t
	}
	backoff, limit := h.AddPartitionsRetryBackoff, h.AddPartitionsRetryBackoffMax
	if backoff <= 0 {
		backoff = defaultAddPartitionsRetryBackoff
	}
	if limit <= 0 {
		limit = defaultAddPartitionsRetryBackoffMax
	}
	for waited := time.Duration(0); ; waited += backoff {
		t.guards, t.codes, t.refused = nil, nil, nil
		h.verifyOnce(ctx, req, t)
		if !t.epochV2 || t.refused != nil || !anyConcurrent(t.codes) || waited+backoff > limit {
			return t
		}
		timer := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			timer.Stop()
			return t
		case <-timer.C:
		}
	}
}

// verifyOnce takes the verification guards of the partitions that need
// one and asks the coordinator about them, filling in t.
func (h *Handlers) verifyOnce(ctx context.Context, req *kmsg.ProduceRequest, t *produceTxn) {
	type producer struct {
		id    int64
		epoch int16
	}
	var producers []producer
	need := map[string][]int32{}
	for _, rt := range req.Topics {
		for _, rp := range rt.Partitions {
			hdr, err := record.ParseHeader(rp.Records)
			if err != nil || !hdr.Attributes.Transactional() || hdr.ProducerID < 0 {
				continue
			}
			if len(producers) == 0 || producers[0] != (producer{hdr.ProducerID, hdr.ProducerEpoch}) {
				producers = append(producers, producer{hdr.ProducerID, hdr.ProducerEpoch})
			}
			if len(producers) > 1 {
				t.refused = fmt.Errorf("%w: transactional records of more than one producer in one request", producerstate.ErrInvalidTxnState)
				return
			}
			p, ok := h.Partitions.Partition(rt.Topic, rp.Partition)
			if !ok {
				continue
			}
			guard, needed := p.StartTxnVerification(hdr.ProducerID, hdr.ProducerEpoch)
			if !needed {
				continue
			}
			if t.guards == nil {
				t.guards = map[string]map[int32]partition.VerificationGuard{}
			}
			if t.guards[rt.Topic] == nil {
				t.guards[rt.Topic] = map[int32]partition.VerificationGuard{}
			}
			t.guards[rt.Topic][rp.Partition] = guard
			need[rt.Topic] = append(need[rt.Topic], rp.Partition)
		}
	}
	if len(need) == 0 {
		return
	}
	pr := producers[0]
	codes, err := h.TxnVerifier.VerifyTxnPartitions(ctx, *req.TransactionID, pr.id, pr.epoch, req.Version >= 12, need)
	if err != nil {
		t.refused = fmt.Errorf("%w: verifying the transaction: %v", kerr.CoordinatorNotAvailable, err)
	}
	t.codes = codes
}

// append appends one partition's batch, with verification when the request
// needs it.
func (t *produceTxn) append(p *partition.Partition, topic string, part int32, batch []byte) (partition.AppendResult, error) {
	if !t.verify {
		return p.Append(batch)
	}
	hdr, err := record.ParseHeader(batch)
	if err != nil || !hdr.Attributes.Transactional() {
		return p.AppendVerified(batch, 0)
	}
	if t.refused != nil {
		return partition.AppendResult{}, t.translate(t.refused)
	}
	guard, asked := t.guards[topic][part]
	if asked {
		code, answered := t.codes[topic][part]
		if !answered {
			code = kerr.InvalidTxnState.Code
		}
		if code != 0 {
			return partition.AppendResult{}, t.translate(kerr.ErrorForCode(code))
		}
	}
	return p.AppendVerified(batch, guard)
}

// translate turns a coordinator's refusal into the error the produce
// answers, as Kafka's ReplicaManager does: retriable coordinator errors
// become NOT_ENOUGH_REPLICAS, which every client retries without a
// metadata refresh; CONCURRENT_TRANSACTIONS too, except under Produce v12+
// (KIP-890 part 2), where clients know it.
func (t *produceTxn) translate(err error) error {
	var ke *kerr.Error
	if !errors.As(err, &ke) {
		return err
	}
	switch ke {
	case kerr.InvalidTxnState:
		return fmt.Errorf("%w: the partition was not added to the transaction", producerstate.ErrInvalidTxnState)
	case kerr.NetworkException, kerr.CoordinatorLoadInProgress, kerr.CoordinatorNotAvailable, kerr.NotCoordinator:
		return fmt.Errorf("%w: unable to verify the partition was added to the transaction: %s", kerr.NotEnoughReplicas, ke.Message)
	case kerr.ConcurrentTransactions:
		if !t.epochV2 {
			return fmt.Errorf("%w: unable to verify the partition was added to the transaction: %s", kerr.NotEnoughReplicas, ke.Message)
		}
	}
	return err
}

// Kafka's add.partitions.to.txn.retry.backoff.ms and
// add.partitions.to.txn.retry.backoff.max.ms defaults (KAFKA-18654).
const (
	defaultAddPartitionsRetryBackoff    = 20 * time.Millisecond
	defaultAddPartitionsRetryBackoffMax = 100 * time.Millisecond
)

// anyConcurrent reports whether a verification answer holds
// CONCURRENT_TRANSACTIONS.
func anyConcurrent(codes map[string]map[int32]int16) bool {
	for _, ps := range codes {
		for _, c := range ps {
			if c == kerr.ConcurrentTransactions.Code {
				return true
			}
		}
	}
	return false
}
