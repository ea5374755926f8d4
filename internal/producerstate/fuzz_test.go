package producerstate

import (
	"bytes"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/basketmq/basket/internal/vfs"
)

// FuzzLoadSnapshot puts arbitrary bytes in a partition directory as the
// snapshot at offset mid of a real log and loads it. Load must not panic
// or fail. Bytes decode rejects must be deleted and give exactly the state
// of a full replay; bytes it accepts must be a canonical snapshot (they
// re-encode to themselves) and give that state plus the replay above mid.
func FuzzLoadSnapshot(f *testing.F) {
	fs := vfs.NewFaultFS()
	l := newTestLog(f, fs)
	w := newWorkload(f, l, 7)
	w.run(20)
	mid := l.LogEndOffset()
	atMid := w.s.encode(mid)
	w.run(20)
	full := replayAll(f, l)

	f.Add(atMid)
	f.Add(New().encode(mid))
	f.Add(New().encode(mid + 1))
	f.Add(atMid[:len(atMid)-1])
	f.Add(append(bytes.Clone(atMid), 0))
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{0xff}, headerSize+entryFixedSize))

	name := snapshotName(mid)
	path := filepath.Join(l.Path(), name)
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := vfs.WriteFileAtomic(fs, l.Path(), name, data); err != nil {
			t.Fatal(err)
		}
		got, err := Load(fs, l.Path(), l)
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		snap, derr := decode(data, mid)
		if derr != nil {
			assertSameState(t, got, full)
			if slices.Contains(fs.Files(), path) {
				t.Fatalf("corrupt snapshot not deleted (%v)", derr)
			}
			return
		}
		if again := snap.encode(mid); !bytes.Equal(again, data) {
			t.Fatalf("accepted a non-canonical snapshot:\n got %x\nre-encoded %x", data, again)
		}
		if err := replay(l, snap, mid, mid, nil); err != nil {
			t.Fatal(err)
		}
		assertSameState(t, got, snap)
	})
}

// FuzzDecodeSnapshot gives decode well-checksummed snapshots with an
// arbitrary body, which random bytes almost never are, so that the fuzzer
// reaches the structural checks behind the CRC. Whatever decode accepts
// must re-encode to the same bytes and be usable by Check and Update.
func FuzzDecodeSnapshot(f *testing.F) {
	s, off := sampleState(f)
	f.Add(s.encode(off)[bodyOffset:], off)
	f.Add(New().encode(5)[bodyOffset:], int64(5))
	f.Fuzz(func(t *testing.T, body []byte, offset int64) {
		b := make([]byte, bodyOffset, bodyOffset+len(body))
		copy(b, snapshotMagic)
		b[versionOffset+1] = snapshotVersion
		b = reseal(append(b, body...))
		s, err := decode(b, offset)
		if err != nil {
			return
		}
		if again := s.encode(offset); !bytes.Equal(again, b) {
			t.Fatalf("accepted a non-canonical snapshot:\n got %x\nre-encoded %x", b, again)
		}
		if offset < 0 || offset == math.MaxInt64 {
			return
		}
		// Any accepted state stays well-formed through Check and Update.
		for id, p := range s.producers {
			h := hdr(id, p.epoch, addSeq(p.lastSeq(), 1), 1)
			s.Check(h)
			h.BaseOffset = offset
			s.Update(h, 0)
		}
		if _, err := decode(s.encode(offset+1), offset+1); err != nil {
			t.Fatalf("state after Update does not snapshot: %v", err)
		}
	})
}
