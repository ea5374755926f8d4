package goclients

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
)

// TestSarama_ClusterAdmin drives sarama's ClusterAdmin through topic,
// config, record and group administration, once at the default
// Config.Version (2.8) and once at the newest sarama knows, so that both
// the middle and the top of Basket's advertised ranges are exercised.
func TestSarama_ClusterAdmin(t *testing.T) {
	b := startBroker(t)
	for _, v := range []sarama.KafkaVersion{sarama.DefaultVersion, sarama.MaxVersion} {
		t.Run(v.String(), func(t *testing.T) {
			cfg := saramaConfig(t)
			cfg.Version = v
			adm, err := sarama.NewClusterAdmin([]string{b.Addr}, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer adm.Close()
			prefix := "adm-" + strings.ReplaceAll(v.String(), ".", "-")
			t.Run("Cluster", func(t *testing.T) { saramaAdminCluster(t, b, adm) })
			t.Run("Topics", func(t *testing.T) { saramaAdminTopics(t, b, adm, prefix) })
			t.Run("Groups", func(t *testing.T) { saramaAdminGroups(t, b, adm, v, prefix) })
		})
	}
}

func saramaAdminCluster(t *testing.T, b *broker, adm sarama.ClusterAdmin) {
	brokers, controller, err := adm.DescribeCluster()
	if err != nil {
		t.Fatal(err)
	}
	if len(brokers) != 1 || brokers[0].ID() != 1 || brokers[0].Addr() != b.Addr || controller != 1 {
		t.Errorf("DescribeCluster: %d brokers (first %d at %s), controller %d; want broker 1 at %s, controller 1",
			len(brokers), brokers[0].ID(), brokers[0].Addr(), controller, b.Addr)
	}
	entries, err := adm.DescribeConfig(sarama.ConfigResource{Type: sarama.BrokerResource, Name: "1"})
	if err != nil {
		t.Fatal(err)
	}
	if e := findEntry(entries, "num.partitions"); e == nil || e.Value != "1" {
		t.Errorf("broker config num.partitions: %+v", e)
	}
}

func saramaAdminTopics(t *testing.T, b *broker, adm sarama.ClusterAdmin, prefix string) {
	topic := prefix + "-topic"
	retention := "3600000"
	detail := &sarama.TopicDetail{NumPartitions: 3, ReplicationFactor: 1,
		ConfigEntries: map[string]*string{"retention.ms": &retention}}
	if err := adm.CreateTopic(topic, detail, false); err != nil {
		t.Fatalf("CreateTopic: %v", err)
	}

	// Refusals, each with Kafka's error code.
	bogus := "bogus"
	for _, c := range []struct {
		name   string
		topic  string
		detail *sarama.TopicDetail
		want   sarama.KError
	}{
		{"exists", topic, detail, sarama.ErrTopicAlreadyExists},
		{"invalid name", prefix + "/bad", detail, sarama.ErrInvalidTopic},
		{"too long", strings.Repeat("x", 250), detail, sarama.ErrInvalidTopic},
		{"zero partitions", prefix + "-zero", &sarama.TopicDetail{NumPartitions: 0, ReplicationFactor: 1}, sarama.ErrInvalidPartitions},
		{"replication 3", prefix + "-rf3", &sarama.TopicDetail{NumPartitions: 1, ReplicationFactor: 3}, sarama.ErrInvalidReplicationFactor},
		{"bad config", prefix + "-cfg", &sarama.TopicDetail{NumPartitions: 1, ReplicationFactor: 1,
			ConfigEntries: map[string]*string{"cleanup.policy": &bogus}}, sarama.ErrInvalidConfig},
	} {
		for _, validateOnly := range []bool{false, true} {
			if err := adm.CreateTopic(c.topic, c.detail, validateOnly); !errors.Is(err, c.want) {
				t.Errorf("CreateTopic %s (validateOnly %v): %v, want %v", c.name, validateOnly, err, c.want)
			}
		}
	}
	// validateOnly checks a good request without creating the topic.
	if err := adm.CreateTopic(prefix+"-validate", &sarama.TopicDetail{NumPartitions: 2, ReplicationFactor: 1}, true); err != nil {
		t.Errorf("CreateTopic validateOnly: %v", err)
	}

	topics, err := adm.ListTopics()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := topics[prefix+"-validate"]; ok {
		t.Errorf("validateOnly created the topic")
	}
	for name := range topics {
		if strings.HasPrefix(name, prefix) && name != topic {
			t.Errorf("refused CreateTopic left topic %q", name)
		}
	}
	if d, ok := topics[topic]; !ok || d.NumPartitions != 3 || d.ReplicationFactor != 1 ||
		d.ConfigEntries["retention.ms"] == nil || *d.ConfigEntries["retention.ms"] != retention {
		t.Errorf("ListTopics %s: %+v (present %v)", topic, d, ok)
	}
	checkSaramaPartitions(t, adm, topic, 3)

	topicRes := sarama.ConfigResource{Type: sarama.TopicResource, Name: topic}
	entries, err := adm.DescribeConfig(topicRes)
	if err != nil {
		t.Fatal(err)
	}
	if e := findEntry(entries, "retention.ms"); e == nil || e.Value != retention || e.Default || e.Source != sarama.SourceTopic {
		t.Errorf("retention.ms after create: %+v", e)
	}
	if e := findEntry(entries, "cleanup.policy"); e == nil || e.Value != "delete" || !e.Default {
		t.Errorf("cleanup.policy after create: %+v", e)
	}

	// AlterConfigs replaces the topic's whole set: retention.ms goes back
	// to the default.
	maxBytes := "2000000"
	if err := adm.AlterConfig(sarama.TopicResource, topic, map[string]*string{"max.message.bytes": &maxBytes}, false); err != nil {
		t.Fatalf("AlterConfig: %v", err)
	}
	checkSaramaConfig(t, adm, topicRes, map[string]string{"max.message.bytes": maxBytes, "retention.ms": "604800000"})
	if err := adm.AlterConfig(sarama.TopicResource, topic, map[string]*string{"no.such.config": &maxBytes}, false); err == nil {
		t.Errorf("AlterConfig of an unknown key succeeded")
	}

	// DeleteRecords moves the log start offset; ListOffsets sees it.
	produceSarama(t, b, topic, 3, "rec", 60)
	if err := adm.DeleteRecords(topic, map[int32]int64{0: 4, 1: 10}); err != nil {
		t.Fatalf("DeleteRecords: %v", err)
	}
	if err := adm.DeleteRecords(topic, map[int32]int64{2: 21}); !errors.Is(err, sarama.ErrOffsetOutOfRange) {
		t.Errorf("DeleteRecords past the high watermark: %v, want %v", err, sarama.ErrOffsetOutOfRange)
	}
	offs, err := adm.ListOffsets(map[string]map[int32]int64{topic: {0: sarama.OffsetOldest, 1: sarama.OffsetOldest, 2: sarama.OffsetNewest}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[int32]int64{0: 4, 1: 10, 2: 20} {
		if r := offs[topic][p]; r == nil || (r.Err != nil && r.Err != sarama.ErrNoError) || r.Offset != want {
			t.Errorf("ListOffsets %s[%d]: %+v, want offset %d", topic, p, r, want)
		}
	}
	start, err := kadmClient(t, b).ListStartOffsets(testCtx(t, 30*time.Second), topic)
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := start.Lookup(topic, 0); o.Offset != 4 {
		t.Errorf("kgo sees %s[0] start at %d, want 4", topic, o.Offset)
	}

	compact, ms := "compact", "1000"
	set := sarama.IncrementalAlterConfigsOperationSet
	if err := adm.IncrementalAlterConfig(sarama.TopicResource, topic, map[string]sarama.IncrementalAlterConfigsEntry{
		"cleanup.policy": {Operation: set, Value: &compact},
		"segment.ms":     {Operation: set, Value: &ms},
	}, true); err != nil {
		t.Fatalf("IncrementalAlterConfig validateOnly: %v", err)
	}
	checkSaramaConfig(t, adm, topicRes, map[string]string{"cleanup.policy": "delete", "max.message.bytes": maxBytes})
	if err := adm.IncrementalAlterConfig(sarama.TopicResource, topic, map[string]sarama.IncrementalAlterConfigsEntry{
		"cleanup.policy":    {Operation: set, Value: &compact},
		"segment.ms":        {Operation: set, Value: &ms},
		"max.message.bytes": {Operation: sarama.IncrementalAlterConfigsOperationDelete},
	}, false); err != nil {
		t.Fatalf("IncrementalAlterConfig: %v", err)
	}
	checkSaramaConfig(t, adm, topicRes, map[string]string{"cleanup.policy": "compact", "segment.ms": ms, "max.message.bytes": "1048588"})
	// Kafka refuses DeleteRecords unless cleanup.policy includes delete
	// (Partition.deleteRecordsOnLeader).
	if err := adm.DeleteRecords(topic, map[int32]int64{0: 5}); !errors.Is(err, sarama.ErrPolicyViolation) {
		t.Errorf("DeleteRecords on a compacted topic: %v, want %v", err, sarama.ErrPolicyViolation)
	}

	// CreatePartitions: validateOnly changes nothing, shrinking is refused.
	if err := adm.CreatePartitions(topic, 7, nil, true); err != nil {
		t.Fatalf("CreatePartitions validateOnly: %v", err)
	}
	checkSaramaPartitions(t, adm, topic, 3)
	if err := adm.CreatePartitions(topic, 5, nil, false); err != nil {
		t.Fatalf("CreatePartitions: %v", err)
	}
	checkSaramaPartitions(t, adm, topic, 5)
	if err := adm.CreatePartitions(topic, 2, nil, false); !errors.Is(err, sarama.ErrInvalidPartitions) {
		t.Errorf("CreatePartitions to fewer: %v, want %v", err, sarama.ErrInvalidPartitions)
	}

	if err := adm.DeleteTopic(topic); err != nil {
		t.Fatalf("DeleteTopic: %v", err)
	}
	if err := adm.DeleteTopic(prefix + "-never"); !errors.Is(err, sarama.ErrUnknownTopicOrPartition) {
		t.Errorf("DeleteTopic of an unknown topic: %v", err)
	}
	waitFor(t, 30*time.Second, "the deleted topic to leave ListTopics", func() bool {
		topics, err := adm.ListTopics()
		_, ok := topics[topic]
		return err == nil && !ok
	})
}

func saramaAdminGroups(t *testing.T, b *broker, adm sarama.ClusterAdmin, v sarama.KafkaVersion, prefix string) {
	topic, group := prefix+"-gtopic", prefix+"-group"
	createTopic(t, b, topic, 2, nil)
	produceSarama(t, b, topic, 2, "g", 20)
	ch := make(chan consumed, 20)
	m := startSaramaMember(t, b, func(cfg *sarama.Config) { cfg.Version = v }, group, topic, "a", ch)
	collect(t, ch, 20, "g")
	wantOffsets := map[int32]int64{0: 10, 1: 10}
	waitFor(t, 30*time.Second, "the member's auto-commit", func() bool {
		return maps.Equal(saramaGroupOffsets(t, adm, group, topic), wantOffsets)
	})

	groups, err := adm.ListConsumerGroups()
	if err != nil {
		t.Fatal(err)
	}
	if groups[group] != "consumer" {
		t.Errorf("ListConsumerGroups: %v, want %s of type consumer", groups, group)
	}
	desc := describeSaramaGroup(t, adm, group)
	if desc.State != "Stable" || desc.ProtocolType != "consumer" || desc.Protocol != "range" || len(desc.Members) != 1 {
		t.Fatalf("DescribeConsumerGroups: state %q type %q protocol %q, %d members",
			desc.State, desc.ProtocolType, desc.Protocol, len(desc.Members))
	}
	for _, mem := range desc.Members {
		asg, err := mem.GetMemberAssignment()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(mem.ClientId, "-a") || !slices.Equal(asg.Topics[topic], []int32{0, 1}) {
			t.Errorf("member %s (client %s) assigned %v", mem.MemberId, mem.ClientId, asg.Topics)
		}
	}
	if err := adm.DeleteConsumerGroup(group); !errors.Is(err, sarama.ErrNonEmptyGroup) {
		t.Errorf("DeleteConsumerGroup with a member: %v, want %v", err, sarama.ErrNonEmptyGroup)
	}

	m.stop()
	if desc := describeSaramaGroup(t, adm, group); desc.State != "Empty" || len(desc.Members) != 0 {
		t.Errorf("after the member left: state %q, %d members", desc.State, len(desc.Members))
	}
	if _, err := adm.AlterConsumerGroupOffsets(group, map[string]map[int32]sarama.OffsetAndMetadata{
		topic: {0: {Offset: 3, Metadata: "rewound"}},
	}, nil); err != nil {
		t.Fatalf("AlterConsumerGroupOffsets: %v", err)
	}
	if err := adm.DeleteConsumerGroupOffset(group, topic, 1); err != nil {
		t.Fatalf("DeleteConsumerGroupOffset: %v", err)
	}
	if got := saramaGroupOffsets(t, adm, group, topic); !maps.Equal(got, map[int32]int64{0: 3, 1: -1}) {
		t.Errorf("offsets after alter and delete: %v", got)
	}

	if err := adm.DeleteConsumerGroup(group); err != nil {
		t.Fatalf("DeleteConsumerGroup: %v", err)
	}
	groups, err = adm.ListConsumerGroups()
	if _, ok := groups[group]; err != nil || ok {
		t.Errorf("ListConsumerGroups after delete: %v %v", groups, err)
	}
	if got := saramaGroupOffsets(t, adm, group, topic); !maps.Equal(got, map[int32]int64{0: -1, 1: -1}) {
		t.Errorf("offsets after the group was deleted: %v", got)
	}
	if err := adm.DeleteTopic(topic); err != nil {
		t.Fatalf("DeleteTopic: %v", err)
	}
}

func findEntry(entries []sarama.ConfigEntry, name string) *sarama.ConfigEntry {
	for i := range entries {
		if entries[i].Name == name {
			return &entries[i]
		}
	}
	return nil
}

func checkSaramaConfig(t *testing.T, adm sarama.ClusterAdmin, res sarama.ConfigResource, want map[string]string) {
	t.Helper()
	entries, err := adm.DescribeConfig(res)
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range want {
		if e := findEntry(entries, name); e == nil || e.Value != v {
			t.Errorf("%s %s: %+v, want %s", res.Name, name, e, v)
		}
	}
}

func checkSaramaPartitions(t *testing.T, adm sarama.ClusterAdmin, topic string, n int) {
	t.Helper()
	md, err := adm.DescribeTopics([]string{topic})
	if err != nil {
		t.Fatal(err)
	}
	if len(md) != 1 || md[0].Err != sarama.ErrNoError || len(md[0].Partitions) != n {
		t.Fatalf("DescribeTopics %s: %+v", topic, md)
	}
	for _, p := range md[0].Partitions {
		if p.Err != sarama.ErrNoError || p.Leader != 1 || !slices.Equal(p.Replicas, []int32{1}) || !slices.Equal(p.Isr, []int32{1}) {
			t.Errorf("DescribeTopics %s[%d]: %+v", topic, p.ID, p)
		}
	}
}

func describeSaramaGroup(t *testing.T, adm sarama.ClusterAdmin, group string) *sarama.GroupDescription {
	t.Helper()
	ds, err := adm.DescribeConsumerGroups([]string{group})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].GroupId != group || ds[0].Err != sarama.ErrNoError {
		t.Fatalf("DescribeConsumerGroups %s: %+v", group, ds)
	}
	return ds[0]
}

// saramaGroupOffsets is ListConsumerGroupOffsets for every partition of
// topic (-1: none committed).
func saramaGroupOffsets(t *testing.T, adm sarama.ClusterAdmin, group, topic string) map[int32]int64 {
	t.Helper()
	resp, err := adm.ListConsumerGroupOffsets(group, map[string][]int32{topic: {0, 1}})
	if err != nil {
		t.Fatal(err)
	}
	out := map[int32]int64{}
	for p, blk := range resp.Blocks[topic] {
		if blk.Err != sarama.ErrNoError {
			t.Fatalf("ListConsumerGroupOffsets %s %s[%d]: %v", group, topic, p, blk.Err)
		}
		out[p] = blk.Offset
	}
	return out
}
