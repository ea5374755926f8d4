package main

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"

	"github.com/klauspost/compress/snappy"
)

// Java's snappy-java (xerial) stream: an 8-byte magic, a big-endian int32
// version and an int32 minimum compatible version (both 1), then blocks, each
// a big-endian int32 length followed by that many bytes of raw snappy. The
// Java writer cuts its input into 32 KiB blocks.
var xerialMagic = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}

const xerialBlock = 32 << 10

// writeXerial reads a raw-snappy batch written earlier, re-frames its
// records as a Java producer would, and writes the result with a corrected
// Length and CRC. The records, and so the manifest entry, stay the same.
func (g *generator) writeXerial(from, to string) error {
	src, err := os.ReadFile(filepath.Join(g.out, from))
	if err != nil {
		return err
	}
	records, err := snappy.Decode(nil, src[61:])
	if err != nil {
		return fmt.Errorf("%s: %w", from, err)
	}
	framed := append([]byte(nil), xerialMagic...)
	framed = binary.BigEndian.AppendUint32(framed, 1)
	framed = binary.BigEndian.AppendUint32(framed, 1)
	blocks := 0
	for rest := records; len(rest) > 0; blocks++ {
		n := min(len(rest), xerialBlock)
		block := snappy.Encode(nil, rest[:n])
		framed = binary.BigEndian.AppendUint32(framed, uint32(len(block)))
		framed = append(framed, block...)
		rest = rest[n:]
	}
	if blocks < 2 {
		return fmt.Errorf("%s: records fit one xerial block; make them larger", from)
	}
	b := append(append([]byte(nil), src[:61]...), framed...)
	binary.BigEndian.PutUint32(b[8:], uint32(len(b)-12))
	binary.BigEndian.PutUint32(b[17:], crc32.Checksum(b[21:], crc32.MakeTable(crc32.Castagnoli)))
	if err := os.WriteFile(filepath.Join(g.out, to), b, 0o644); err != nil {
		return err
	}
	for _, e := range g.manifest {
		if e.File == from {
			e.File, e.Source = to, "snappy_large.batch re-framed as xerial by recordgen (no Java producer available)"
			g.manifest = append(g.manifest, e)
			return nil
		}
	}
	return fmt.Errorf("%s: not in the manifest", from)
}
