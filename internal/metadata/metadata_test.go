package metadata

import (
	"context"
	"testing"

	"github.com/basketmq/basket/internal/log"
	"github.com/basketmq/basket/internal/vfs"
)

func str(s string) *string { return &s }

func createTopic(name string, id UUID, parts int) []Record {
	rs := []Record{{Topic: &TopicRecord{Name: name, ID: id}}}
	for p := range parts {
		rs = append(rs, Record{Partition: &PartitionRecord{TopicID: id, Partition: int32(p), Replicas: []int32{1}, ISR: []int32{1}, Leader: 1}})
	}
	return rs
}

func TestDelta_BuildsTopicsPartitionsConfigs(t *testing.T) {
	id := NewUUID()
	d := NewDelta(Empty())
	for i, r := range append(createTopic("orders", id, 3),
		Record{Config: &ConfigRecord{ResourceType: ResourceTopic, ResourceName: "orders", Name: "retention.ms", Value: str("1000")}},
		Record{Config: &ConfigRecord{ResourceType: ResourceBroker, ResourceName: "1", Name: "log.retention.ms", Value: str("5")}},
	) {
		if err := d.Replay(r, int64(i)); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
	}
	im := d.Image()
	tp, ok := im.Topic("orders")
	if !ok || tp.ID != id || len(tp.Partitions) != 3 || tp.Configs["retention.ms"] != "1000" {
		t.Fatalf("topic: %+v", tp)
	}
	if byID, _ := im.TopicByID(id); byID != tp {
		t.Fatal("TopicByID differs from Topic")
	}
	if im.BrokerConfigs("1")["log.retention.ms"] != "5" || im.Offset != 5 {
		t.Fatalf("broker configs %v, offset %d", im.BrokerConfigs("1"), im.Offset)
	}
	// Images are immutable: a later delta leaves this one alone.
	next, err := im.Apply(Record{RemoveTopic: &RemoveTopicRecord{ID: id}}, 6)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := next.Topic("orders"); ok {
		t.Fatal("topic survived removal")
	}
	if _, ok := im.Topic("orders"); !ok || len(im.Topics()) != 1 {
		t.Fatal("removal changed the earlier image")
	}
	next2, _ := im.Apply(Record{Config: &ConfigRecord{ResourceType: ResourceTopic, ResourceName: "orders", Name: "retention.ms"}}, 6)
	if tp.Configs["retention.ms"] != "1000" || next2.Topics()[0].Configs["retention.ms"] != "" {
		t.Fatal("config removal leaked into the earlier image")
	}
}

func TestDelta_RejectsRecordsThatDoNotFit(t *testing.T) {
	id := NewUUID()
	base, _ := Empty().Apply(Record{Topic: &TopicRecord{Name: "a", ID: id}}, 0)
	for name, r := range map[string]Record{
		"duplicate name":        {Topic: &TopicRecord{Name: "a", ID: NewUUID()}},
		"duplicate id":          {Topic: &TopicRecord{Name: "b", ID: id}},
		"zero id":               {Topic: &TopicRecord{Name: "b"}},
		"unknown topic":         {Partition: &PartitionRecord{TopicID: NewUUID()}},
		"partition gap":         {Partition: &PartitionRecord{TopicID: id, Partition: 1}},
		"config unknown topic":  {Config: &ConfigRecord{ResourceType: ResourceTopic, ResourceName: "zz", Name: "x"}},
		"unknown resource type": {Config: &ConfigRecord{ResourceType: 9, ResourceName: "a", Name: "x"}},
		"remove unknown":        {RemoveTopic: &RemoveTopicRecord{ID: NewUUID()}},
		"empty":                 {},
	} {
		if _, err := base.Apply(r, 1); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestUUID_TextRoundTrip(t *testing.T) {
	u := NewUUID()
	v, err := ParseUUID(u.String())
	if err != nil || v != u || len(u.String()) != 22 {
		t.Fatalf("%s -> %s, %v", u, v, err)
	}
	if _, err := ParseUUID("not-a-uuid"); err == nil {
		t.Fatal("parsed garbage")
	}
}

func TestStore_CommitSurvivesReopen(t *testing.T) {
	fs := vfs.NewFaultFS()
	opts := log.Options{FS: fs}
	s, err := OpenStore("/meta", opts)
	if err != nil {
		t.Fatal(err)
	}
	var seen []int64
	s.Subscribe(func(old, new *Image) { seen = append(seen, new.Offset) })
	id := NewUUID()
	if _, err := s.Commit(context.Background(), createTopic("orders", id, 4)...); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Commit(context.Background(), Record{Topic: &TopicRecord{Name: "orders", ID: NewUUID()}}); err == nil {
		t.Fatal("a record that does not apply was committed")
	}
	if _, err := s.Commit(context.Background(), Record{Config: &ConfigRecord{ResourceType: ResourceTopic, ResourceName: "orders", Name: "segment.bytes", Value: str("1024")}}); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 2 || seen[1] != 5 {
		t.Fatalf("subscriber saw offsets %v", seen)
	}
	// A power loss keeps every committed record: Commit waited for fsync.
	fs.PowerLoss(nil)
	s.Close()
	s2, err := OpenStore("/meta", opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	tp, ok := s2.Image().Topic("orders")
	if !ok || tp.ID != id || len(tp.Partitions) != 4 || tp.Configs["segment.bytes"] != "1024" || s2.Image().Offset != 5 {
		t.Fatalf("after reopen: %+v offset %d", tp, s2.Image().Offset)
	}
}
