package cleaner

import (
	"github.com/basketmq/basket/internal/record"
)

// filter decides what of one batch survives (Kafka's cleanInto with its
// RecordFilter) and returns the bytes to write, or nil to drop the batch:
//
//   - a data batch of an aborted transaction loses every record
//     (txnTracker, from the aborted-transaction index);
//   - a transaction marker (control batch) stays as it is while a batch of
//     its transaction was seen in this clean; an ABORT marker that stays
//     sets r.index, the entry the cleaned segment's .txnindex keeps for it.
//     Once no batch of its transaction is left, a marker is treated as a
//     tombstone: the first clean stamps its batch with a delete horizon,
//     and a clean after the horizon removes it (Kafka since KIP-534);
//   - a data record survives if it lies above the mapped section, or it
//     has a key whose latest offset in the map is its own (or the key is
//     not mapped), and it is not a tombstone past its batch's delete
//     horizon; records without a key are dropped, as Kafka does;
//   - a batch whose records all survive is written as it was, unless it
//     holds a tombstone or a removable marker and has no delete horizon
//     yet: then it is rewritten with the horizon now + delete.retention.ms
//     in BaseTimestamp and the DeleteHorizon attribute (KIP-534), the record
//     timestamp deltas adjusted so every record keeps its timestamp;
//   - a batch that lost records is rewritten with the survivors, keeping
//     its offsets (BaseOffset, LastOffsetDelta), producer fields and codec;
//     the new CRC covers it;
//   - a batch left with no record is dropped, unless it is the last batch
//     of an active producer (keep it for its sequence and epoch) or
//     keepLast is set: then its header stays as an empty batch.
func (r *round) filter(batch []byte, h *record.Header, keepLast bool) ([]byte, error) {
	r.stats.RecordsRead += int64(h.RecordsCount)
	r.index = nil
	retainEmpty := keepLast
	if p, ok := r.t.bound.Producers[h.ProducerID]; ok && h.ProducerID >= 0 {
		if p.LastDataOffset >= 0 {
			retainEmpty = retainEmpty || h.LastOffset() == p.LastDataOffset
		} else {
			retainEmpty = retainEmpty || (h.Attributes.Control() && h.ProducerEpoch == p.Epoch)
		}
	}
	keepAll := false // a marker before its delete horizon
	if h.Attributes.Control() {
		typ, ok, err := r.w.controlType(batch)
		if err != nil {
			return nil, err
		}
		discard, entry := r.txn.onControl(h, typ, ok)
		if !discard {
			r.index = entry
			return batch, nil
		}
		if h.Attributes.DeleteHorizon() && r.now >= h.BaseTimestamp {
			return r.dropRecords(h, retainEmpty)
		}
		keepAll = true
	} else if r.txn.onData(h) {
		return r.dropRecords(h, retainEmpty)
	}
	w := r.w
	// A plain batch whose liveness the map pass counted needs no second
	// look at its records when all or none of them survive (live.go).
	if lv, ok := w.live.lookup(h.BaseOffset); ok && lv.plain && !keepAll && h.LastOffset() <= r.latest {
		switch lv.live {
		case 0:
			return r.dropRecords(h, retainEmpty)
		case h.RecordsCount:
			return batch, nil
		}
	}
	kept := w.kept[:0]
	tombstone := false
	// The map pass checked the CRC of every data batch it decoded.
	w.dec.TrustCRC = h.LastOffset() >= r.t.firstDirty && h.LastOffset() <= r.latest
	defer func() { w.dec.TrustCRC = false }()
	horizonPassed := h.Attributes.DeleteHorizon() && r.now >= h.BaseTimestamp
	err := w.dec.Keys(batch, func(bh *record.Header, k *record.RecordKey) error {
		off := bh.BaseOffset + int64(k.OffsetDelta)
		if off <= r.latest && !keepAll {
			if k.Key == nil {
				return nil
			}
			if found := w.m.get(k.Key); off < found {
				return nil
			}
			if k.NullValue && horizonPassed {
				return nil
			}
		}
		tombstone = tombstone || (k.NullValue && !keepAll)
		kept = append(kept, *k)
		return nil
	})
	w.kept = kept
	if err != nil {
		return nil, err
	}
	r.stats.RecordsRemoved += int64(int(h.RecordsCount) - len(kept))
	needHorizon := (tombstone || keepAll) && !h.Attributes.DeleteHorizon()
	switch {
	case len(kept) == 0 && !retainEmpty:
		return nil, nil
	case len(kept) == int(h.RecordsCount) && !needHorizon:
		return batch, nil
	case len(kept) == 0:
		return r.emptyBatch(h)
	}
	spec := h.Spec()
	var shift int64
	if needHorizon {
		horizon := r.now + r.cfg.DeleteRetentionMs
		shift = h.BaseTimestamp - horizon
		spec.BaseTimestamp, spec.DeleteHorizon = horizon, true
	}
	// The kept records' bytes are still where Keys found them: parse
	// each in full to write it again.
	recs, hdrs := w.recs[:0], w.hdrs[:0]
	for i := range kept {
		rec, err := w.dec.Record(&kept[i])
		if err != nil {
			return nil, err
		}
		c := *rec
		c.TimestampDelta += shift
		if len(rec.Headers) > 0 {
			at := len(hdrs)
			hdrs = append(hdrs, rec.Headers...)
			c.Headers = hdrs[at:len(hdrs):len(hdrs)]
		}
		recs = append(recs, c)
	}
	w.recs, w.hdrs = recs, hdrs
	out, err := record.AppendBatch(w.rewritten(), spec, recs, h.Attributes.Codec())
	w.out2 = out
	clear(recs)
	clear(hdrs)
	return out, err
}

// dropRecords drops every record of the batch: the batch goes, or stays
// empty when retainEmpty.
func (r *round) dropRecords(h *record.Header, retainEmpty bool) ([]byte, error) {
	r.stats.RecordsRemoved += int64(h.RecordsCount)
	if !retainEmpty {
		return nil, nil
	}
	return r.emptyBatch(h)
}

// emptyBatch is the header of h with no records: offsets, producer fields
// and attributes kept, the delete horizon cleared.
func (r *round) emptyBatch(h *record.Header) ([]byte, error) {
	spec := h.Spec()
	spec.BaseTimestamp, spec.DeleteHorizon = h.MaxTimestamp, false
	out, err := record.AppendBatch(r.w.rewritten(), spec, nil, record.CodecNone)
	r.w.out2 = out
	return out, err
}

// rewritten is the buffer a rewritten batch is built in, separate from the
// arena its records come from.
func (w *worker) rewritten() []byte { return w.out2[:0] }
