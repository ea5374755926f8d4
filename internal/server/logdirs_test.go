package server

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/api"
)

// DescribeLogDirs (KIP-113, v4 KIP-827) through kadm: the one data
// directory, every partition's size, no offset lag, the file system's
// total and usable bytes.
func TestLogDirs_DescribeAll(t *testing.T) {
	dir := t.TempDir()
	b := startBroker(t, compactionConfig(t, dir))
	cl := newClient(t, b, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	adm := kadm.NewClient(cl)
	createTopic(t, adm, "sized", 2)
	if err := cl.ProduceSync(ctxT(t), &kgo.Record{Topic: "sized", Partition: 0, Value: value(1)}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	described, err := adm.DescribeAllLogDirs(ctxT(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	dirs := described[b.cfg.NodeID]
	if len(dirs) != 1 {
		t.Fatalf("log dirs %+v, want one", dirs)
	}
	for path, d := range dirs {
		if d.Err != nil || path != b.data.Path() || d.TotalBytes <= 0 || d.UsableBytes <= 0 || d.UsableBytes > d.TotalBytes {
			t.Fatalf("dir %s: %+v", path, d)
		}
		parts := d.Topics["sized"]
		if len(parts) != 2 {
			t.Fatalf("partitions of sized: %+v", parts)
		}
		for _, p := range parts {
			if p.OffsetLag != 0 || p.IsFuture || (p.Partition == 0) != (p.Size > 0) {
				t.Errorf("partition %d: %+v", p.Partition, p)
			}
		}
	}
}

// Basket's extension: compacted partitions carry the cleaner's dirty
// ratio in a tagged field that other clients skip.
func TestLogDirs_DirtyRatioOfCompactedTopics(t *testing.T) {
	b := startBroker(t, compactionConfig(t, t.TempDir()))
	cl := newClient(t, b, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	adm := kadm.NewClient(cl)
	resp, err := adm.CreateTopic(ctxT(t), 1, 1, map[string]*string{"cleanup.policy": kadm.StringPtr("compact"),
		"min.cleanable.dirty.ratio": kadm.StringPtr("0.99")}, "table")
	if err != nil || resp.Err != nil {
		t.Fatal(err, resp.Err)
	}
	createTopic(t, adm, "plain", 1)
	for i := range 10 {
		r := &kgo.Record{Topic: "table", Key: []byte("k"), Value: value(i)}
		if err := cl.ProduceSync(ctxT(t), r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	req := kmsg.NewPtrDescribeLogDirsRequest()
	dresp, err := req.RequestWith(ctxT(t), cl)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, d := range dresp.Dirs {
		for _, dt := range d.Topics {
			for i := range dt.Partitions {
				ratio, ok := api.DirtyRatioOf(&dt.Partitions[i])
				seen[dt.Topic] = ok
				if ok && (ratio < 0 || ratio > 1) {
					t.Errorf("%s: dirty ratio %v", dt.Topic, ratio)
				}
			}
		}
	}
	if !seen["table"] || seen["plain"] {
		t.Fatalf("dirty ratio reported for %v, want the compacted topic only", seen)
	}
}
