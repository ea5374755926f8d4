package goclients

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// TestKafkago_Client drives kafka-go's request-level kafka.Client:
// ApiVersions, CreateTopics (with refusals), Metadata, CreatePartitions,
// ListOffsets (first, last, by time), OffsetCommit and OffsetFetch outside a
// group generation, DescribeConfigs, ListGroups, DescribeGroups,
// DeleteGroups and DeleteTopics. Changes kafka-go does not refresh its
// metadata cache for (CreatePartitions, DeleteTopics) are checked with kadm.
func TestKafkago_Client(t *testing.T) {
	b := startBroker(t)
	ctx := testCtx(t, 90*time.Second)
	cl := &kafka.Client{Addr: kafka.TCP(b.Addr), Timeout: 30 * time.Second, Transport: kafkagoTransport(t)}
	adm := kadmClient(t, b)
	topicA, topicB, group := "kafkago-client-a", "kafkago-client-b", "kafkago-client-g"

	av, err := cl.ApiVersions(ctx, &kafka.ApiVersionsRequest{})
	if err != nil || av.Error != nil {
		t.Fatalf("ApiVersions: %v %v", err, av.Error)
	}
	ranges := map[int][2]int{}
	for _, k := range av.ApiKeys {
		ranges[k.ApiKey] = [2]int{k.MinVersion, k.MaxVersion}
	}
	// What kafka-go negotiates or hard-codes (protocol.md §1.1).
	for key, v := range map[int]int{0: 8, 1: 10, 2: 1, 3: 6, 8: 2, 9: 1, 10: 0, 11: 2, 12: 0, 13: 0, 14: 0, 19: 5} {
		if r, ok := ranges[key]; !ok || r[0] > v || r[1] < v {
			t.Errorf("ApiVersions: key %d advertised %v, does not cover v%d", key, r, v)
		}
	}

	created, err := cl.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{
		{Topic: topicA, NumPartitions: 3, ReplicationFactor: 1,
			ConfigEntries: []kafka.ConfigEntry{{ConfigName: "retention.ms", ConfigValue: "3600000"}}},
		{Topic: topicB, NumPartitions: 1, ReplicationFactor: 1},
	}})
	if err != nil {
		t.Fatalf("CreateTopics: %v", err)
	}
	for name, err := range created.Errors {
		if err != nil {
			t.Fatalf("CreateTopics %s: %v", name, err)
		}
	}
	refused, err := cl.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{
		{Topic: topicA, NumPartitions: 1, ReplicationFactor: 1},
		{Topic: "kafkago/bad", NumPartitions: 1, ReplicationFactor: 1},
	}})
	if err != nil {
		t.Fatalf("CreateTopics: %v", err)
	}
	if !errors.Is(refused.Errors[topicA], kafka.TopicAlreadyExists) || !errors.Is(refused.Errors["kafkago/bad"], kafka.InvalidTopic) {
		t.Errorf("CreateTopics refusals: %v", refused.Errors)
	}

	md, err := cl.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topicA, topicB}})
	if err != nil {
		t.Fatalf("Metadata: %v", err)
	}
	if md.Controller.ID != 1 || len(md.Brokers) != 1 || fmt.Sprintf("%s:%d", md.Brokers[0].Host, md.Brokers[0].Port) != b.Addr {
		t.Errorf("Metadata: controller %+v, brokers %+v", md.Controller, md.Brokers)
	}
	parts := map[string]int{}
	for _, tp := range md.Topics {
		if tp.Error != nil {
			t.Errorf("Metadata %s: %v", tp.Name, tp.Error)
		}
		for _, p := range tp.Partitions {
			if p.Leader.ID != 1 || p.Error != nil {
				t.Errorf("Metadata %s[%d]: leader %d, %v", tp.Name, p.ID, p.Leader.ID, p.Error)
			}
		}
		parts[tp.Name] = len(tp.Partitions)
	}
	if parts[topicA] != 3 || parts[topicB] != 1 {
		t.Errorf("Metadata partitions: %v", parts)
	}

	cp, err := cl.CreatePartitions(ctx, &kafka.CreatePartitionsRequest{Topics: []kafka.TopicPartitionsConfig{{Name: topicA, Count: 5}}})
	if err != nil || cp.Errors[topicA] != nil {
		t.Fatalf("CreatePartitions: %v %v", err, cp.Errors)
	}
	if cp, err := cl.CreatePartitions(ctx, &kafka.CreatePartitionsRequest{Topics: []kafka.TopicPartitionsConfig{{Name: topicA, Count: 2}}}); err != nil || !errors.Is(cp.Errors[topicA], kafka.InvalidPartitionNumber) {
		t.Errorf("CreatePartitions to fewer: %v %v", err, cp.Errors)
	}
	if td, err := adm.ListTopics(ctx, topicA); err != nil || len(td[topicA].Partitions) != 5 {
		t.Errorf("kadm sees %d partitions of %s (%v), want 5", len(td[topicA].Partitions), topicA, err)
	}

	// ListOffsets: earliest, latest and by timestamp (the first record at
	// or after it) in one call. kafka-go sends one request per entry and
	// keys its Offsets map by the offset found, valued with the time asked
	// for, not the record's.
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	msgs := make([]kafka.Message, 10)
	for i := range msgs {
		msgs[i] = kafka.Message{Value: fmt.Appendf(nil, "b %d", i), Time: base.Add(time.Duration(i) * time.Second)}
	}
	writeLeader(t, b, topicB, 0, msgs...)
	lo, err := cl.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{
		topicB: {kafka.FirstOffsetOf(0), kafka.LastOffsetOf(0), kafka.TimeOffsetOf(0, base.Add(2500*time.Millisecond))},
	}})
	if err != nil {
		t.Fatalf("ListOffsets: %v", err)
	}
	if po := lo.Topics[topicB]; len(po) != 1 || po[0].Error != nil || po[0].FirstOffset != 0 || po[0].LastOffset != 10 ||
		len(po[0].Offsets) != 1 || !po[0].Offsets[3].Equal(base.Add(2500*time.Millisecond)) {
		t.Errorf("ListOffsets %s: %+v, want first 0, last 10, offset 3 for the time", topicB, po)
	}

	// OffsetCommit with no generation (an admin's or a simple consumer's
	// commit), then OffsetFetch. The first group request creates
	// __consumer_offsets; while its coordinator loads, Basket answers
	// COORDINATOR_LOAD_IN_PROGRESS, retriable, as Kafka does. kafka.Client
	// is request-level and leaves the retry to its caller.
	var oc *kafka.OffsetCommitResponse
	waitFor(t, 30*time.Second, "OffsetCommit past COORDINATOR_LOAD_IN_PROGRESS", func() bool {
		oc, err = cl.OffsetCommit(ctx, &kafka.OffsetCommitRequest{GroupID: group, GenerationID: -1,
			Topics: map[string][]kafka.OffsetCommit{topicB: {{Partition: 0, Offset: 7, Metadata: "seven"}}}})
		return err != nil || len(oc.Topics[topicB]) != 1 || !errors.Is(oc.Topics[topicB][0].Error, kafka.GroupLoadInProgress)
	})
	if err != nil {
		t.Fatalf("OffsetCommit: %v", err)
	}
	if ps := oc.Topics[topicB]; len(ps) != 1 || ps[0].Error != nil {
		t.Fatalf("OffsetCommit: %+v", oc.Topics)
	}
	of, err := cl.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topicB: {0}, topicA: {0}}})
	if err != nil || of.Error != nil {
		t.Fatalf("OffsetFetch: %v %v", err, of.Error)
	}
	if ps := of.Topics[topicB]; len(ps) != 1 || ps[0].CommittedOffset != 7 || ps[0].Metadata != "seven" || ps[0].Error != nil {
		t.Errorf("OffsetFetch %s: %+v", topicB, ps)
	}
	if ps := of.Topics[topicA]; len(ps) != 1 || ps[0].CommittedOffset != -1 || ps[0].Error != nil {
		t.Errorf("OffsetFetch %s (nothing committed): %+v", topicA, ps)
	}
	if c := committed(t, b, group, topicB); c[0] != 7 {
		t.Errorf("kadm sees %s committed at %v, want 7", group, c)
	}

	dc, err := cl.DescribeConfigs(ctx, &kafka.DescribeConfigsRequest{Resources: []kafka.DescribeConfigRequestResource{
		{ResourceType: kafka.ResourceTypeTopic, ResourceName: topicA, ConfigNames: []string{"retention.ms", "cleanup.policy"}},
		{ResourceType: kafka.ResourceTypeBroker, ResourceName: "1", ConfigNames: []string{"num.partitions"}},
	}})
	if err != nil {
		t.Fatalf("DescribeConfigs: %v", err)
	}
	got := map[string]kafka.DescribeConfigResponseConfigEntry{}
	for _, res := range dc.Resources {
		if res.Error != nil {
			t.Errorf("DescribeConfigs %s: %v", res.ResourceName, res.Error)
		}
		for _, e := range res.ConfigEntries {
			got[res.ResourceName+" "+e.ConfigName] = e
		}
	}
	if e := got[topicA+" retention.ms"]; e.ConfigValue != "3600000" || e.IsDefault || e.ConfigSource != 1 {
		t.Errorf("retention.ms: %+v, want 3600000 from the topic (source 1)", e)
	}
	if e := got[topicA+" cleanup.policy"]; e.ConfigValue != "delete" || e.ConfigSource != 5 {
		t.Errorf("cleanup.policy: %+v, want the default delete (source 5)", e)
	}
	if e := got["1 num.partitions"]; e.ConfigValue != "1" {
		t.Errorf("num.partitions: %+v", e)
	}
	if len(got) != 3 {
		t.Errorf("DescribeConfigs returned %d entries, want the 3 asked for", len(got))
	}

	lg, err := cl.ListGroups(ctx, &kafka.ListGroupsRequest{})
	if err != nil || lg.Error != nil || !slices.ContainsFunc(lg.Groups, func(g kafka.ListGroupsResponseGroup) bool { return g.GroupID == group }) {
		t.Errorf("ListGroups: %+v %v", lg, err)
	}
	dg, err := cl.DescribeGroups(ctx, &kafka.DescribeGroupsRequest{GroupIDs: []string{group}})
	if err != nil || len(dg.Groups) != 1 || dg.Groups[0].Error != nil || dg.Groups[0].GroupState != "Empty" || len(dg.Groups[0].Members) != 0 {
		t.Errorf("DescribeGroups: %+v %v", dg, err)
	}
	del, err := cl.DeleteGroups(ctx, &kafka.DeleteGroupsRequest{GroupIDs: []string{group}})
	if err != nil || del.Errors[group] != nil {
		t.Errorf("DeleteGroups: %v %v", err, del.Errors)
	}
	if c := committed(t, b, group, topicB); len(c) != 0 {
		t.Errorf("offsets after DeleteGroups: %v", c)
	}

	dt, err := cl.DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: []string{topicA, topicB}})
	if err != nil || dt.Errors[topicA] != nil || dt.Errors[topicB] != nil {
		t.Fatalf("DeleteTopics: %v %v", err, dt.Errors)
	}
	if dt, err := cl.DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: []string{topicA}}); err != nil || !errors.Is(dt.Errors[topicA], kafka.UnknownTopicOrPartition) {
		t.Errorf("DeleteTopics of a deleted topic: %v %v", err, dt.Errors)
	}
	waitFor(t, 30*time.Second, "the topics to leave kadm's ListTopics", func() bool {
		td, err := adm.ListTopics(ctx)
		return err == nil && !td.Has(topicA) && !td.Has(topicB)
	})
}
