// Command recordgen writes the record batches in internal/record/testdata:
// real batches produced by the franz-go client (kgo) against franz-go's fake
// broker (kfake), running in this process.
//
// It lives in its own module so that the product's go.mod does not gain kgo
// or kfake. Run it from this directory:
//
//	go run . -out ..
//
// For every file it writes, manifest.json records what the producer sent, so
// the tests in package record can check the decoded records against it.
//
// What comes from where:
//
//   - none, gzip, snappy, lz4, zstd .batch: the RecordBatch bytes of a
//     ProduceRequest, captured on the way into kfake (idempotent producer,
//     so ProducerID and BaseSequence are set; BaseOffset is 0 as clients
//     send it).
//   - snappy_large.batch: the same for 48 records of 1 KiB, so that the
//     records are larger than one 32 KiB xerial block.
//   - snappy_xerial.batch: derived here from snappy_large.batch. kgo sends raw
//     snappy; the Java producer sends snappy in the xerial framing. We had
//     no Java producer, so this program re-frames the records the way the
//     Java producer does (see xerial.go) and fixes Length and CRC.
//   - txn.batch: a transactional batch from a ProduceRequest.
//   - control_commit.batch, control_abort.batch: transaction markers kfake
//     wrote, read back with a raw FetchRequest.
//   - compacted.batch: the first batch of a compacted topic after kfake's
//     Compact, read back with a raw FetchRequest; it has fewer records than
//     its offset range.
package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// baseTime is the timestamp of the first record of every batch, so the
// files do not depend on the clock.
const baseTime = 1700000000000

type recordJSON struct {
	Key       *string      `json:"key"`
	Value     *string      `json:"value"`
	Headers   []headerJSON `json:"headers,omitempty"`
	Timestamp int64        `json:"timestamp"`
	// OffsetDelta is the record's position in its batch, which differs
	// from its index only after compaction.
	OffsetDelta int32 `json:"offsetDelta"`
}

type headerJSON struct {
	Key   string  `json:"key"`
	Value *string `json:"value"`
}

type entry struct {
	File    string       `json:"file"`
	Codec   string       `json:"codec"`
	Source  string       `json:"source"`
	Records []recordJSON `json:"records,omitempty"`
	// Control batches: the marker type and, from the value, the
	// coordinator epoch.
	Control          string `json:"control,omitempty"`
	CoordinatorEpoch int32  `json:"coordinatorEpoch,omitempty"`
}

type generator struct {
	out      string
	cluster  *kfake.Cluster
	mu       sync.Mutex
	captured [][]byte
	manifest []entry
}

func main() {
	out := flag.String("out", "..", "directory to write the .batch files and manifest.json into")
	flag.Parse()
	if err := run(*out); err != nil {
		log.Fatal(err)
	}
}

func run(out string) error {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "seeds", "large", "txn"))
	if err != nil {
		return err
	}
	defer c.Close()
	g := &generator{out: out, cluster: c}
	c.ControlKey(int16(kmsg.Produce), g.capture)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	codecs := []struct {
		name  string
		codec kgo.CompressionCodec
	}{
		{"none", kgo.NoCompression()},
		{"gzip", kgo.GzipCompression()},
		{"snappy", kgo.SnappyCompression()},
		{"lz4", kgo.Lz4Compression()},
		{"zstd", kgo.ZstdCompression()},
	}
	for _, cc := range codecs {
		if err := g.produce(ctx, cc.name+".batch", cc.name, cc.codec, "seeds", smallRecords()); err != nil {
			return err
		}
	}
	if err := g.produce(ctx, "snappy_large.batch", "snappy", kgo.SnappyCompression(), "large", largeRecords()); err != nil {
		return err
	}
	if err := g.writeXerial("snappy_large.batch", "snappy_xerial.batch"); err != nil {
		return err
	}
	if err := g.transactions(ctx); err != nil {
		return err
	}
	if err := g.compacted(ctx); err != nil {
		return err
	}
	b, err := json.MarshalIndent(g.manifest, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "manifest.json"), append(b, '\n'), 0o644)
}

// capture runs inside kfake for every ProduceRequest: it copies the batch
// bytes and lets kfake handle the request as usual.
func (g *generator) capture(req kmsg.Request) (kmsg.Response, error, bool) {
	g.cluster.KeepControl()
	pr := req.(*kmsg.ProduceRequest)
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, t := range pr.Topics {
		for _, p := range t.Partitions {
			if len(p.Records) > 0 {
				g.captured = append(g.captured, append([]byte(nil), p.Records...))
			}
		}
	}
	return nil, nil, false
}

func (g *generator) takeCaptured() [][]byte {
	g.mu.Lock()
	defer g.mu.Unlock()
	c := g.captured
	g.captured = nil
	return c
}

// produce sends recs with one client and codec, expecting them to leave in
// exactly one batch, and writes that batch to file.
func (g *generator) produce(ctx context.Context, file, codecName string, codec kgo.CompressionCodec, topic string, recs []*kgo.Record) error {
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(g.cluster.ListenAddrs()...),
		kgo.DefaultProduceTopic(topic),
		kgo.ProducerBatchCompression(codec),
		kgo.ProducerLinger(time.Minute), // hold the records until Flush
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
	)
	if err != nil {
		return err
	}
	defer cl.Close()
	g.takeCaptured()
	if err := produceAll(ctx, cl, recs); err != nil {
		return err
	}
	batches := g.takeCaptured()
	if len(batches) != 1 {
		return fmt.Errorf("%s: captured %d batches, want 1", file, len(batches))
	}
	b := batches[0]
	if got := codecOf(b); got != codecName {
		return fmt.Errorf("%s: batch codec is %s, want %s (records not compressible enough?)", file, got, codecName)
	}
	return g.write(file, codecName, "kgo ProduceRequest", b, recs)
}

func produceAll(ctx context.Context, cl *kgo.Client, recs []*kgo.Record) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for _, r := range recs {
		wg.Add(1)
		cl.Produce(ctx, r, func(_ *kgo.Record, err error) {
			defer wg.Done()
			mu.Lock()
			defer mu.Unlock()
			if err != nil && first == nil {
				first = err
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		return err
	}
	wg.Wait()
	return first
}

func (g *generator) write(file, codec, source string, b []byte, recs []*kgo.Record) error {
	if err := os.WriteFile(filepath.Join(g.out, file), b, 0o644); err != nil {
		return err
	}
	e := entry{File: file, Codec: codec, Source: source}
	for i, r := range recs {
		j := toJSON(r)
		j.OffsetDelta = int32(i)
		e.Records = append(e.Records, j)
	}
	g.manifest = append(g.manifest, e)
	return nil
}

func codecOf(b []byte) string {
	names := []string{"none", "gzip", "snappy", "lz4", "zstd"}
	c := int(binary.BigEndian.Uint16(b[21:]) & 7)
	if c < len(names) {
		return names[c]
	}
	return fmt.Sprintf("codec(%d)", c)
}

func toJSON(r *kgo.Record) recordJSON {
	j := recordJSON{Key: str(r.Key), Value: str(r.Value), Timestamp: r.Timestamp.UnixMilli()}
	for _, h := range r.Headers {
		j.Headers = append(j.Headers, headerJSON{Key: h.Key, Value: str(h.Value)})
	}
	return j
}

func str(b []byte) *string {
	if b == nil {
		return nil
	}
	s := string(b)
	return &s
}
