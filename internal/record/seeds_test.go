package record

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// The batches in testdata were produced by the franz-go client against
// franz-go's fake broker; testdata/recordgen is the program that wrote them
// and manifest.json says what each holds.

type seed struct {
	File    string `json:"file"`
	Codec   string `json:"codec"`
	Source  string `json:"source"`
	Records []struct {
		Key     *string `json:"key"`
		Value   *string `json:"value"`
		Headers []struct {
			Key   string  `json:"key"`
			Value *string `json:"value"`
		} `json:"headers"`
		Timestamp   int64 `json:"timestamp"`
		OffsetDelta int32 `json:"offsetDelta"`
	} `json:"records"`
	Control          string `json:"control"`
	CoordinatorEpoch int32  `json:"coordinatorEpoch"`

	batch []byte
}

func loadSeeds(t testing.TB) []seed {
	t.Helper()
	m, err := os.ReadFile(filepath.Join("testdata", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var seeds []seed
	if err := json.Unmarshal(m, &seeds); err != nil {
		t.Fatal(err)
	}
	for i := range seeds {
		if seeds[i].batch, err = os.ReadFile(filepath.Join("testdata", seeds[i].File)); err != nil {
			t.Fatal(err)
		}
	}
	return seeds
}

func nullable(s *string) []byte {
	if s == nil {
		return nil
	}
	return []byte(*s)
}

func TestSeeds_DecodeToWhatTheProducerSent(t *testing.T) {
	var d Decoder
	for _, s := range loadSeeds(t) {
		t.Run(s.File, func(t *testing.T) {
			h, recs, err := decodeAll(&d, s.batch)
			if err != nil {
				t.Fatal(err)
			}
			if got := h.Attributes.Codec().String(); got != s.Codec {
				t.Fatalf("codec %s, manifest says %s", got, s.Codec)
			}
			if s.Control != "" {
				checkMarker(t, &h, recs, s.Control, s.CoordinatorEpoch)
				return
			}
			if len(recs) != len(s.Records) {
				t.Fatalf("%d records, manifest has %d", len(recs), len(s.Records))
			}
			for i, want := range s.Records {
				r := recs[i]
				if !equalNullable(r.Key, nullable(want.Key)) || !equalNullable(r.Value, nullable(want.Value)) {
					t.Fatalf("record %d: key %q value %q, want %v %v", i, r.Key, r.Value, want.Key, want.Value)
				}
				if r.Timestamp(&h) != want.Timestamp || r.OffsetDelta != want.OffsetDelta {
					t.Fatalf("record %d: timestamp %d offset delta %d, want %d %d", i, r.Timestamp(&h), r.OffsetDelta, want.Timestamp, want.OffsetDelta)
				}
				if len(r.Headers) != len(want.Headers) {
					t.Fatalf("record %d: %d headers, want %d", i, len(r.Headers), len(want.Headers))
				}
				for j, wh := range want.Headers {
					if string(r.Headers[j].Key) != wh.Key || !equalNullable(r.Headers[j].Value, nullable(wh.Value)) {
						t.Fatalf("record %d header %d: %q=%q", i, j, r.Headers[j].Key, r.Headers[j].Value)
					}
				}
			}
		})
	}
}

func checkMarker(t *testing.T, h *Header, recs []Record, control string, epoch int32) {
	t.Helper()
	if !h.Attributes.Control() || !h.Attributes.Transactional() || len(recs) != 1 {
		t.Fatalf("marker batch: attributes %#x, %d records", uint16(h.Attributes), len(recs))
	}
	m, err := ParseEndTxnMarker(&recs[0])
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]ControlType{"commit": ControlCommit, "abort": ControlAbort}[control]
	if m.Type != want || m.CoordinatorEpoch != epoch {
		t.Fatalf("marker %+v, want %v epoch %d", m, want, epoch)
	}
}

// TestSeeds_ReencodeRoundTrips rebuilds every seed from its decoded records
// with AppendBatch. Uncompressed batches must come out byte for byte as the
// client or broker wrote them; compressed ones must decode to the same
// records.
func TestSeeds_ReencodeRoundTrips(t *testing.T) {
	var d Decoder
	for _, s := range loadSeeds(t) {
		t.Run(s.File, func(t *testing.T) {
			h, recs, err := decodeAll(&d, s.batch)
			if err != nil {
				t.Fatal(err)
			}
			spec := h.Spec()
			b := mustBatch(t, spec, recs, h.Attributes.Codec())
			if h.Attributes.Codec() == CodecNone && !bytes.Equal(b, s.batch) {
				t.Fatalf("re-encoded batch differs:\n got %x\nwant %x", b, s.batch)
			}
			_, again, err := decodeAll(&d, b)
			if err != nil {
				t.Fatal(err)
			}
			for i := range recs {
				if !again[i].Equal(&recs[i]) {
					t.Fatalf("record %d changed: %+v -> %+v", i, recs[i], again[i])
				}
			}
		})
	}
}

func TestSeeds_SpecialBatches(t *testing.T) {
	seeds := map[string][]byte{}
	for _, s := range loadSeeds(t) {
		seeds[s.File] = s.batch
	}
	if !isXerial(seeds["snappy_xerial.batch"][HeaderSize:]) || isXerial(seeds["snappy.batch"][HeaderSize:]) {
		t.Fatal("snappy_xerial.batch should be xerial-framed and snappy.batch raw")
	}
	// The compacted batch keeps offset deltas 0 and 2 with two records:
	// valid in a log, never from a producer.
	h, err := Validate(seeds["compacted.batch"])
	if err != nil || h.RecordsCount != 2 || h.LastOffsetDelta != 2 {
		t.Fatalf("compacted.batch: %+v %v", h, err)
	}
	if _, err := ValidateProduce(seeds["compacted.batch"]); err == nil {
		t.Fatal("ValidateProduce accepted a compacted batch")
	}
	if h, err := ValidateProduce(seeds["txn.batch"]); err != nil || !h.Attributes.Transactional() || h.ProducerID < 0 {
		t.Fatalf("txn.batch: %+v %v", h, err)
	}
	if _, err := ValidateProduce(seeds["control_commit.batch"]); err == nil {
		t.Fatal("ValidateProduce accepted a control batch")
	}
	for _, f := range []string{"none.batch", "gzip.batch", "snappy.batch", "lz4.batch", "zstd.batch"} {
		if h, err := ValidateProduce(seeds[f]); err != nil || h.ProducerID < 0 || h.BaseOffset != 0 {
			t.Fatalf("%s from an idempotent producer: %+v %v", f, h, err)
		}
	}
}
