package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/basketmq/basket/internal/log"
	"github.com/basketmq/basket/internal/producerstate"
	"github.com/basketmq/basket/internal/record"
)

// dumpLogCommand is `basket dump-log`, like kafka-dump-log.sh.
func dumpLogCommand() *cobra.Command {
	var d dumper
	cmd := &cobra.Command{
		Use:   "dump-log PATH...",
		Short: "Decode segment, index, time-index and producer snapshot files of a data directory",
		Long: `Decode the files of a partition directory, as kafka-dump-log.sh does: a
segment (.log) is printed batch by batch (offsets, timestamps, producer id,
epoch and sequence, codec, CRC check) with one line per record; an offset index
(.index) entry by entry as offset and position; a time index (.timeindex) as
timestamp and offset; a producer state snapshot (.snapshot) producer by
producer with its latest batches. A PATH that is a directory dumps every such
file in it.

--print-data adds each record's key, value and headers. --format json prints
one JSON object per batch or index entry, per line. A file that ends inside a
batch or holds bytes that are not a batch is reported with the position, after
everything before it has been printed, and the command exits 1.`,
		Example: `  basket dump-log data/orders-0/00000000000000000000.log --print-data
  basket dump-log data/orders-0/00000000000000000000.index
  basket dump-log data/orders-0 --format json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, paths []string) error {
			switch d.format {
			case "text", "table", "json":
			default:
				return fmt.Errorf("--format must be text or json, got %q", d.format)
			}
			d.w = cmd.OutOrStdout()
			var errs []error
			for _, p := range paths {
				if err := d.dumpPath(p); err != nil {
					errs = append(errs, err)
				}
			}
			return errors.Join(errs...)
		},
	}
	cmd.Flags().BoolVar(&d.printData, "print-data", false, "print record keys, values and headers")
	cmd.Flags().StringVar(&d.format, "format", "text", "output format: text or json (one object per line)")
	return cmd
}

// dumper writes decoded files to w.
type dumper struct {
	w         io.Writer
	printData bool
	format    string
	dec       record.Decoder
}

func (d *dumper) dumpPath(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return d.dumpFile(path)
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return err
	}
	var names []string
	for _, e := range entries {
		if _, kind, ok := log.ParseFileName(e.Name()); ok && !e.IsDir() && dumpKinds[kind] {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return fmt.Errorf("%s: no .log, .index, .timeindex or .snapshot files", path)
	}
	var errs []error
	for _, n := range names {
		if err := d.dumpFile(filepath.Join(path, n)); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (d *dumper) dumpFile(path string) error {
	base, kind, ok := log.ParseFileName(filepath.Base(path))
	if !ok {
		return fmt.Errorf("%s: not a segment file (want NNNNNNNNNNNNNNNNNNNN.log, .index, .timeindex or .snapshot)", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if d.format != "json" {
		fmt.Fprintf(d.w, "Dumping %s\n", path)
	}
	switch kind {
	case "log":
		err = d.dumpSegment(f, fi.Size())
	case "index", "timeindex", "snapshot":
		if fi.Size() > 1<<30 {
			return fmt.Errorf("%s: %d bytes is too large for an .%s file", path, fi.Size(), kind)
		}
		b, rerr := io.ReadAll(f)
		if rerr != nil {
			return rerr
		}
		switch kind {
		case "index":
			err = d.dumpIndex(b, base)
		case "timeindex":
			err = d.dumpTimeIndex(b, base)
		default:
			err = d.dumpSnapshot(b, base)
		}
	default:
		return fmt.Errorf("%s: cannot decode .%s files (only .log, .index, .timeindex and .snapshot)", path, kind)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func (d *dumper) dumpIndex(b []byte, base int64) error {
	entries, err := log.DecodeIndex(b)
	for _, e := range entries {
		off := base + int64(e.RelativeOffset)
		if d.format == "json" {
			writeJSONLine(d.w, map[string]int64{"offset": off, "position": int64(e.Position)})
		} else {
			fmt.Fprintf(d.w, "offset: %d position: %d\n", off, e.Position)
		}
	}
	return err
}

func (d *dumper) dumpTimeIndex(b []byte, base int64) error {
	entries, err := log.DecodeTimeIndex(b)
	for _, e := range entries {
		off := base + int64(e.RelativeOffset)
		if d.format == "json" {
			writeJSONLine(d.w, map[string]int64{"timestamp": e.Timestamp, "offset": off})
		} else {
			fmt.Fprintf(d.w, "timestamp: %d offset: %d\n", e.Timestamp, off)
		}
	}
	return err
}

// dumpKinds are the files dump-log decodes.
var dumpKinds = map[string]bool{"log": true, "index": true, "timeindex": true, "snapshot": true}

// dumpedProducer is one producer of a .snapshot file in JSON output.
type dumpedProducer struct {
	ProducerID            int64                 `json:"producer_id"`
	ProducerEpoch         int16                 `json:"producer_epoch"`
	LastUpdateMs          int64                 `json:"last_update_ms"`
	CoordinatorEpoch      int32                 `json:"coordinator_epoch"`
	CurrentTxnFirstOffset int64                 `json:"current_txn_first_offset"`
	Batches               []dumpedProducerBatch `json:"batches"`
}

type dumpedProducerBatch struct {
	FirstSeq     int32 `json:"first_sequence"`
	LastSeq      int32 `json:"last_sequence"`
	FirstOffset  int64 `json:"first_offset"`
	LastOffset   int64 `json:"last_offset"`
	MaxTimestamp int64 `json:"max_timestamp"`
}

func (d *dumper) dumpSnapshot(b []byte, offset int64) error {
	entries, err := producerstate.DecodeSnapshot(b, offset)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if d.format == "json" {
			p := dumpedProducer{e.ProducerID, e.ProducerEpoch, e.LastUpdateMs, e.CoordinatorEpoch, e.CurrentTxnFirstOffset, []dumpedProducerBatch{}}
			for _, m := range e.Batches {
				p.Batches = append(p.Batches, dumpedProducerBatch{m.FirstSeq, m.LastSeq, m.FirstOffset, m.LastOffset, m.MaxTimestamp})
			}
			writeJSONLine(d.w, p)
			continue
		}
		fmt.Fprintf(d.w, "producerId: %d producerEpoch: %d coordinatorEpoch: %d currentTxnFirstOffset: %d lastTimestamp: %d\n",
			e.ProducerID, e.ProducerEpoch, e.CoordinatorEpoch, e.CurrentTxnFirstOffset, e.LastUpdateMs)
		for _, m := range e.Batches {
			fmt.Fprintf(d.w, "| firstSequence: %d lastSequence: %d firstOffset: %d lastOffset: %d maxTimestamp: %d\n",
				m.FirstSeq, m.LastSeq, m.FirstOffset, m.LastOffset, m.MaxTimestamp)
		}
	}
	return nil
}

// dumpedBatch and dumpedRecord are the JSON form of dump-log's output.
type dumpedBatch struct {
	Position             int64          `json:"position"`
	BaseOffset           int64          `json:"base_offset"`
	LastOffset           int64          `json:"last_offset"`
	Count                int32          `json:"count"`
	Size                 int64          `json:"size"`
	PartitionLeaderEpoch int32          `json:"partition_leader_epoch"`
	Magic                int8           `json:"magic"`
	CRC                  uint32         `json:"crc"`
	CRCValid             bool           `json:"crc_valid"`
	Invalid              string         `json:"invalid,omitempty"`
	Codec                string         `json:"compression"`
	TimestampType        string         `json:"timestamp_type"`
	BaseTimestamp        int64          `json:"base_timestamp"`
	MaxTimestamp         int64          `json:"max_timestamp"`
	ProducerID           int64          `json:"producer_id"`
	ProducerEpoch        int16          `json:"producer_epoch"`
	BaseSequence         int32          `json:"base_sequence"`
	Transactional        bool           `json:"transactional"`
	Control              bool           `json:"control"`
	Records              []dumpedRecord `json:"records"`
	RecordsError         string         `json:"records_error,omitempty"`
}

type dumpedRecord struct {
	Offset      int64        `json:"offset"`
	Timestamp   int64        `json:"timestamp"`
	KeySize     int64        `json:"key_size"`
	ValueSize   int64        `json:"value_size"`
	Sequence    int32        `json:"sequence"`
	Control     string       `json:"control,omitempty"`
	Key         *string      `json:"key,omitempty"`
	KeyBase64   bool         `json:"key_base64,omitempty"`
	Value       *string      `json:"value,omitempty"`
	ValueBase64 bool         `json:"value_base64,omitempty"`
	Headers     []jsonHeader `json:"headers,omitempty"`

	// text is the --print-data part of the text form.
	text string
}

func (d *dumper) dumpSegment(r io.ReaderAt, size int64) error {
	return log.ScanSegmentFile(r, size, func(sb *log.SegmentBatch) error {
		b := d.batch(sb)
		if d.format == "json" {
			return writeJSONLine(d.w, b)
		}
		d.writeBatch(b)
		return nil
	})
}

func (d *dumper) batch(sb *log.SegmentBatch) dumpedBatch {
	h := &sb.Header
	tsType := "CreateTime"
	if h.Attributes.LogAppendTime() {
		tsType = "LogAppendTime"
	}
	b := dumpedBatch{Position: sb.Position, BaseOffset: h.BaseOffset, LastOffset: h.LastOffset(), Count: h.RecordsCount,
		Size: h.Size(), PartitionLeaderEpoch: h.PartitionLeaderEpoch, Magic: h.Magic, CRC: h.CRC, CRCValid: true,
		Codec: h.Attributes.Codec().String(), TimestampType: tsType, BaseTimestamp: h.BaseTimestamp, MaxTimestamp: h.MaxTimestamp,
		ProducerID: h.ProducerID, ProducerEpoch: h.ProducerEpoch, BaseSequence: h.BaseSequence,
		Transactional: h.Attributes.Transactional(), Control: h.Attributes.Control(), Records: []dumpedRecord{}}
	if sb.Invalid != nil {
		b.Invalid = sb.Invalid.Error()
		b.CRCValid = !strings.Contains(b.Invalid, "CRC")
		return b
	}
	err := d.dec.Records(sb.Batch, func(h *record.Header, r *record.Record) error {
		dr := dumpedRecord{Offset: r.Offset(h), Timestamp: r.Timestamp(h), KeySize: nullableLen(r.Key), ValueSize: nullableLen(r.Value), Sequence: -1}
		if h.BaseSequence >= 0 {
			dr.Sequence = int32((int64(h.BaseSequence) + int64(r.OffsetDelta)) % (1 << 31))
		}
		if h.Attributes.Control() {
			if t, err := record.ParseControlKey(r.Key); err == nil {
				dr.Control = t.String()
			} else {
				dr.Control = err.Error()
			}
		}
		if d.printData {
			dr.Key, dr.KeyBase64 = jsonBytes(r.Key)
			dr.Value, dr.ValueBase64 = jsonBytes(r.Value)
			hs := make([]string, len(r.Headers))
			for i, rh := range r.Headers {
				jh := jsonHeader{Key: string(rh.Key)}
				jh.Value, jh.ValueBase64 = jsonBytes(rh.Value)
				dr.Headers = append(dr.Headers, jh)
				hs[i] = strconv.Quote(string(rh.Key)) + "=" + quoteNullable(rh.Value)
			}
			dr.text = fmt.Sprintf(" headers: [%s] key: %s payload: %s", strings.Join(hs, ", "), quoteNullable(r.Key), quoteNullable(r.Value))
		}
		b.Records = append(b.Records, dr)
		return nil
	})
	if err != nil {
		b.RecordsError = err.Error()
	}
	return b
}

func (d *dumper) writeBatch(b dumpedBatch) {
	fmt.Fprintf(d.w, "baseOffset: %d lastOffset: %d count: %d baseSequence: %d lastSequence: %d producerId: %d producerEpoch: %d partitionLeaderEpoch: %d isTransactional: %t isControl: %t position: %d %s: %d size: %d magic: %d compresscodec: %s crcValid: %t\n",
		b.BaseOffset, b.LastOffset, b.Count, b.BaseSequence, lastSequence(b), b.ProducerID, b.ProducerEpoch, b.PartitionLeaderEpoch,
		b.Transactional, b.Control, b.Position, b.TimestampType, b.MaxTimestamp, b.Size, b.Magic, b.Codec, b.CRCValid)
	if b.Invalid != "" {
		fmt.Fprintf(d.w, "| invalid batch: %s\n", b.Invalid)
		return
	}
	for _, r := range b.Records {
		fmt.Fprintf(d.w, "| offset: %d %s: %d keySize: %d valueSize: %d sequence: %d", r.Offset, b.TimestampType, r.Timestamp, r.KeySize, r.ValueSize, r.Sequence)
		if r.Control != "" {
			fmt.Fprintf(d.w, " endTxnMarker: %s", r.Control)
		}
		fmt.Fprintln(d.w, r.text)
	}
	if b.RecordsError != "" {
		fmt.Fprintf(d.w, "| records cannot be decoded: %s\n", b.RecordsError)
	}
}

func lastSequence(b dumpedBatch) int32 {
	if b.BaseSequence < 0 {
		return -1
	}
	return int32((int64(b.BaseSequence) + b.LastOffset - b.BaseOffset) % (1 << 31))
}

// quoteNullable renders a key, value or header value for the text dump:
// null for null, otherwise Go-quoted so control bytes stay visible.
func quoteNullable(b []byte) string {
	if b == nil {
		return "null"
	}
	return strconv.Quote(string(b))
}
