package replica

import (
	"log/slog"
	"strconv"
	"testing"

	"github.com/basketmq/basket/internal/log"
	"github.com/basketmq/basket/internal/metadata"
	"github.com/basketmq/basket/internal/record"
	"github.com/basketmq/basket/internal/vfs"
)

func topicImage(t *testing.T, base *metadata.Image, name string, id metadata.UUID, parts int, configs map[string]string) *metadata.Image {
	t.Helper()
	d := metadata.NewDelta(base)
	recs := []metadata.Record{{Topic: &metadata.TopicRecord{Name: name, ID: id}}}
	for p := range parts {
		recs = append(recs, metadata.Record{Partition: &metadata.PartitionRecord{TopicID: id, Partition: int32(p), Replicas: []int32{1}, ISR: []int32{1}, Leader: 1}})
	}
	for k, v := range configs {
		recs = append(recs, metadata.Record{Config: &metadata.ConfigRecord{ResourceType: metadata.ResourceTopic, ResourceName: name, Name: k, Value: &v}})
	}
	for i, r := range recs {
		if err := d.Replay(r, int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	return d.Image()
}

// configFor reads segment.bytes from the topic's overrides.
func configFor(t *metadata.Topic) log.Config {
	c := log.DefaultConfig()
	if v, ok := t.Configs["segment.bytes"]; ok {
		c.SegmentBytes, _ = strconv.ParseInt(v, 10, 64)
	}
	return c
}

func TestManager_FollowsTheImage(t *testing.T) {
	fs := vfs.NewFaultFS()
	dir, err := log.OpenDir("/d", log.Options{FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	m := NewManager(dir, 1, true, configFor, slog.New(slog.DiscardHandler))
	id := metadata.NewUUID()
	im := topicImage(t, metadata.Empty(), "orders", id, 2, nil)
	if err := m.Apply(im); err != nil {
		t.Fatal(err)
	}
	p, ok := m.Partition("orders", 1)
	if !ok {
		t.Fatal("partition 1 not hosted")
	}
	batch, _ := record.AppendBatch(nil, record.BatchSpec{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1}, []record.Record{{Value: []byte("x")}}, record.CodecNone)
	if _, err := p.Append(batch); err != nil {
		t.Fatal(err)
	}

	// A config change reaches the live log.
	v := "1048576"
	next, err := im.Apply(metadata.Record{Config: &metadata.ConfigRecord{ResourceType: metadata.ResourceTopic, ResourceName: "orders", Name: "segment.bytes", Value: &v}}, 10)
	if err != nil {
		t.Fatal(err)
	}
	m.Apply(next)
	if p.Log().Config().SegmentBytes != 1<<20 {
		t.Fatalf("segment.bytes not applied: %d", p.Log().Config().SegmentBytes)
	}

	// Deleting the topic deletes its logs; recreating the name starts empty.
	gone, _ := next.Apply(metadata.Record{RemoveTopic: &metadata.RemoveTopicRecord{ID: id}}, 11)
	if err := m.Apply(gone); err != nil {
		t.Fatal(err)
	}
	if _, ok := m.Partition("orders", 0); ok || len(dir.Logs()) != 0 {
		t.Fatalf("logs left after the topic was removed: %d", len(dir.Logs()))
	}
	again := topicImage(t, gone, "orders", metadata.NewUUID(), 1, nil)
	m.Apply(again)
	p2, ok := m.Partition("orders", 0)
	if !ok || p2.Log().LogEndOffset() != 0 {
		t.Fatal("recreated topic is not empty")
	}

	// A log on disk that no topic names is deleted at startup.
	if _, err := dir.CreateLog(log.TopicPartition{Topic: "orphan", Partition: 0}, log.DefaultConfig()); err != nil {
		t.Fatal(err)
	}
	m.Apply(again)
	if _, ok := dir.Log(log.TopicPartition{Topic: "orphan", Partition: 0}); ok {
		t.Fatal("orphaned log kept")
	}
}

// A topic deleted and recreated while the broker was down: the log on disk
// belongs to the old topic id and must not be served as the new topic's.
func TestManager_LogOfAnOlderTopicWithTheSameNameIsDropped(t *testing.T) {
	fs := vfs.NewFaultFS()
	dir, _ := log.OpenDir("/d", log.Options{FS: fs})
	m := NewManager(dir, 1, true, configFor, slog.New(slog.DiscardHandler))
	m.Apply(topicImage(t, metadata.Empty(), "orders", metadata.NewUUID(), 1, nil))
	p, _ := m.Partition("orders", 0)
	batch, _ := record.AppendBatch(nil, record.BatchSpec{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1}, []record.Record{{Value: []byte("old")}}, record.CodecNone)
	p.Append(batch)
	m.Close()
	dir.Close()

	dir2, _ := log.OpenDir("/d", log.Options{FS: fs})
	defer dir2.Close()
	m2 := NewManager(dir2, 1, true, configFor, slog.New(slog.DiscardHandler))
	if err := m2.Apply(topicImage(t, metadata.Empty(), "orders", metadata.NewUUID(), 1, nil)); err != nil {
		t.Fatal(err)
	}
	p2, ok := m2.Partition("orders", 0)
	if !ok || p2.Log().LogEndOffset() != 0 {
		t.Fatal("the new topic was given the old topic's log")
	}
}
