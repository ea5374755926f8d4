package record

import "testing"

func TestEndTxnMarker_RoundTrips(t *testing.T) {
	for _, m := range []EndTxnMarker{{ControlCommit, 0}, {ControlAbort, 7}, {ControlCommit, -1 << 31}} {
		spec := BatchSpec{ProducerID: 3, ProducerEpoch: 1, BaseSequence: NoSequence, BaseTimestamp: 5, Control: true, Transactional: true}
		b := mustBatch(t, spec, []Record{m.Record()}, CodecNone)
		var d Decoder
		h, recs, err := decodeAll(&d, b)
		if err != nil {
			t.Fatal(err)
		}
		if !h.Attributes.Control() || len(recs) != 1 {
			t.Fatalf("header %+v with %d records", h, len(recs))
		}
		got, err := ParseEndTxnMarker(&recs[0])
		if err != nil || got != m {
			t.Fatalf("ParseEndTxnMarker = %+v, %v; want %+v", got, err, m)
		}
	}
}

func TestParseEndTxnMarker_RejectsMalformed(t *testing.T) {
	good := EndTxnMarker{Type: ControlCommit, CoordinatorEpoch: 4}.Record()
	cases := []struct {
		name       string
		key, value []byte
	}{
		{"key short", []byte{0, 0, 0}, good.Value},
		{"key null", nil, good.Value},
		{"key version negative", []byte{0x80, 0, 0, 1}, good.Value},
		{"type not a marker", []byte{0, 0, 0, 2}, good.Value},
		{"value short", good.Key, []byte{0, 0, 0, 0, 4}},
		{"value version negative", good.Key, []byte{0xff, 0xff, 0, 0, 0, 4}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseEndTxnMarker(&Record{Key: tc.key, Value: tc.value})
			wantKind(t, err, ErrCorrupt)
		})
	}
	// A later key version may add fields; the type is still read.
	if typ, err := ParseControlKey([]byte{0, 1, 0, 0, 9, 9}); err != nil || typ != ControlAbort {
		t.Fatalf("ParseControlKey(version 1) = %v, %v", typ, err)
	}
	if s := ControlType(3).String(); s != "control type 3" {
		t.Fatalf("String() = %q", s)
	}
}
