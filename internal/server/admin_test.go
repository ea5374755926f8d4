package server

import (
	"strings"
	"sync/atomic"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/basketmq/basket/internal/config"
	"github.com/basketmq/basket/internal/log"
	"github.com/basketmq/basket/internal/metadata"
)

// adminConfig is testConfig with topic configuration resolved through
// package config, as cmd/basket wires it: static props, dynamic broker
// configs published by the server, and per-topic overrides.
func adminConfig(t *testing.T, dir string, props map[string]string) Config {
	t.Helper()
	cfg := testConfig(t, dir)
	bc, err := config.NewBroker(props)
	if err != nil {
		t.Fatal(err)
	}
	current := new(atomic.Pointer[config.Broker])
	current.Store(bc)
	cfg.BrokerConfig, cfg.OnBrokerConfig = bc, current.Store
	cfg.ValidateTopicCfgs = config.ValidateTopicConfigs
	cfg.TopicLogConfig = func(tp *metadata.Topic) log.Config {
		c := current.Load().ResolveTopic(tp.Configs)
		lc := log.DefaultConfig()
		lc.SegmentBytes, lc.SegmentMs, lc.RetentionMs, lc.RetentionBytes = int64(c.SegmentBytes), c.SegmentMs, c.RetentionMs, c.RetentionBytes
		return lc
	}
	cfg.MaxMessageBytes = func(tp *metadata.Topic) int32 { return current.Load().ResolveTopic(tp.Configs).MaxMessageBytes }
	return cfg
}

func adminProduce(t *testing.T, cl *kgo.Client, r *kgo.Record, n int) {
	t.Helper()
	for i := range n {
		rec := *r
		rec.Value = value(i)
		if err := cl.ProduceSync(ctxT(t), &rec).FirstErr(); err != nil {
			t.Fatalf("produce to %s-%d: %v", r.Topic, r.Partition, err)
		}
	}
}

func wantErr(t *testing.T, what string, got, want error, msg, wantMsg string) {
	t.Helper()
	if got != want || !strings.Contains(msg, wantMsg) {
		t.Errorf("%s: %v (%q), want %v (%q)", what, got, msg, want, wantMsg)
	}
}

func TestAdmin_DeleteTopicsByNameAndIDThenRecreateEmpty(t *testing.T) {
	cfg := adminConfig(t, t.TempDir(), nil)
	b := startBroker(t, cfg)
	cl := newClient(t, b)
	adm := kadm.NewClient(cl)
	createTopic(t, adm, "by-name", 2)
	createTopic(t, adm, "by-id", 1)
	adminProduce(t, cl, &kgo.Record{Topic: "by-name"}, 10)
	adminProduce(t, cl, &kgo.Record{Topic: "by-id"}, 10)
	td, err := adm.ListTopics(ctxT(t), "by-name", "by-id")
	if err != nil {
		t.Fatal(err)
	}
	oldID := td["by-name"].ID

	rs, err := adm.DeleteTopics(ctxT(t), "by-name", "missing")
	if err != nil {
		t.Fatal(err)
	}
	if r := rs["by-name"]; r.Err != nil || r.ID != oldID {
		t.Fatalf("delete by name: %+v, want id %s", r, oldID)
	}
	wantErr(t, "delete unknown name", rs["missing"].Err, kerr.UnknownTopicOrPartition, rs["missing"].ErrMessage, `"missing" does not exist`)

	// KIP-516: v6 deletes by id; unknown ids, both or neither of name and
	// id, and duplicates are refused per topic.
	req := kmsg.NewPtrDeleteTopicsRequest()
	req.TimeoutMillis = 15000
	topic := func(name *string, id [16]byte) {
		rt := kmsg.NewDeleteTopicsRequestTopic()
		rt.Topic, rt.TopicID = name, id
		req.Topics = append(req.Topics, rt)
	}
	unknownID := metadata.NewUUID()
	topic(nil, td["by-id"].ID)
	topic(nil, unknownID)
	topic(kmsg.StringPtr("x"), unknownID)
	topic(nil, [16]byte{})
	topic(kmsg.StringPtr("dup"), [16]byte{})
	topic(kmsg.StringPtr("dup"), [16]byte{})
	resp, err := req.RequestWith(ctxT(t), cl)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, rt := range resp.Topics {
		got[derefOr(rt.Topic, metadata.UUID(rt.TopicID).String())] = errText(kerr.ErrorForCode(rt.ErrorCode)) + ": " + derefOr(rt.ErrorMessage, "")
	}
	for key, want := range map[string]string{
		"by-id":                  "<nil>",
		unknownID.String():       "UNKNOWN_TOPIC_ID",
		"x":                      "both topic name and topic id",
		metadata.UUID{}.String(): "Neither topic name nor id",
		"dup":                    "Duplicate topic name.",
	} {
		if g, ok := got[key]; !ok || !strings.Contains(g, want) {
			t.Errorf("delete %s: %q, want %q (all: %q)", key, g, want, got)
		}
	}
	if len(resp.Topics) != 5 {
		t.Errorf("%d results, want 5 (a duplicate is answered once): %q", len(resp.Topics), got)
	}

	// The logs are gone; the same name starts over, empty, with a new id.
	if _, ok := b.replicas.Partition("by-name", 0); ok {
		t.Fatal("deleted topic still has a partition")
	}
	createTopic(t, adm, "by-name", 1)
	meta := adminMetadata(t, cl, "by-name", "by-id")
	if meta["by-name"].TopicID == oldID || len(meta["by-name"].Partitions) != 1 || meta["by-id"].ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("after re-create: %+v", meta)
	}
	// v1-5 name topics in TopicNames.
	old := kadm.NewClient(newClient(t, b, kgo.MaxVersions(kversion.V2_4_0())))
	if rs, err := old.DeleteTopics(ctxT(t), "by-name"); err != nil || rs["by-name"].Err != nil {
		t.Fatalf("delete v4: %v %+v", err, rs)
	}
	createTopic(t, adm, "by-name", 1)
	if end := b.replicasEnd(t, "by-name"); end != 0 {
		t.Fatalf("re-created topic starts at %d, want an empty log", end)
	}
	ends, err := adm.ListEndOffsets(ctxT(t), "by-name")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := ends.Lookup("by-name", 0); o.Offset != 0 {
		t.Fatalf("re-created topic end offset %d", o.Offset)
	}

	// A restart brings back neither the deleted topic nor its data.
	cl.Close()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b2 := startBroker(t, cfg)
	meta = adminMetadata(t, newClient(t, b2), "by-name", "by-id")
	if meta["by-id"].ErrorCode != kerr.UnknownTopicOrPartition.Code || len(meta["by-name"].Partitions) != 1 || b2.replicasEnd(t, "by-name") != 0 {
		t.Fatalf("after restart: %+v", meta)
	}
}

// adminMetadata asks for topics afresh, bypassing the client's cache.
func adminMetadata(t *testing.T, cl *kgo.Client, topics ...string) map[string]kmsg.MetadataResponseTopic {
	t.Helper()
	req := kmsg.NewPtrMetadataRequest()
	for _, name := range topics {
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(name)
		req.Topics = append(req.Topics, rt)
	}
	resp, err := req.RequestWith(ctxT(t), cl)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]kmsg.MetadataResponseTopic{}
	for _, mt := range resp.Topics {
		out[derefOr(mt.Topic, "")] = mt
	}
	return out
}

func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func derefOr(s *string, or string) string {
	if s != nil {
		return *s
	}
	return or
}

func TestAdmin_DeleteTopicsDisabled(t *testing.T) {
	b := startBroker(t, adminConfig(t, t.TempDir(), map[string]string{"delete.topic.enable": "false"}))
	adm := kadm.NewClient(newClient(t, b))
	createTopic(t, adm, "kept", 1)
	rs, err := adm.DeleteTopics(ctxT(t), "kept")
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, "delete with delete.topic.enable=false", rs["kept"].Err, kerr.TopicDeletionDisabled, rs["kept"].ErrMessage, "disabled")
	// Before v3 there was no TOPIC_DELETION_DISABLED (KIP-322).
	old := kadm.NewClient(newClient(t, b, kgo.MaxVersions(kversion.V1_1_0())))
	rs, err = old.DeleteTopics(ctxT(t), "kept")
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, "delete v1 with delete.topic.enable=false", rs["kept"].Err, kerr.InvalidRequest, "", "")
	if _, ok := b.replicas.Partition("kept", 0); !ok {
		t.Fatal("topic deleted although deletion is disabled")
	}
}

func TestAdmin_CreatePartitionsGrowsOnly(t *testing.T) {
	b := startBroker(t, adminConfig(t, t.TempDir(), nil))
	cl := newClient(t, b)
	adm := kadm.NewClient(cl)
	createTopic(t, adm, "t", 1)

	rs, err := adm.ValidateCreatePartitions(ctxT(t), 4, "t")
	if err != nil || rs.Error() != nil {
		t.Fatalf("validate_only: %v %v", err, rs.Error())
	}
	if n := len(adminMetadata(t, cl, "t")["t"].Partitions); n != 1 {
		t.Fatalf("validate_only created partitions: %d", n)
	}
	if rs, err = adm.CreatePartitions(ctxT(t), 2, "t"); err != nil || rs.Error() != nil {
		t.Fatalf("grow: %v %v", err, rs.Error())
	}
	if n := len(adminMetadata(t, cl, "t")["t"].Partitions); n != 3 {
		t.Fatalf("%d partitions after adding 2 to 1", n)
	}
	for _, c := range []struct {
		set  int
		want string
	}{
		{2, "The topic t currently has 3 partition(s); 2 would not be an increase."},
		{3, "Topic already has 3 partition(s)."},
	} {
		rs, err := adm.UpdatePartitions(ctxT(t), c.set, "t")
		if err != nil {
			t.Fatal(err)
		}
		wantErr(t, "set partitions", rs["t"].Err, kerr.InvalidPartitions, rs["t"].ErrMessage, c.want)
	}
	rs, _ = adm.UpdatePartitions(ctxT(t), 2, "missing")
	wantErr(t, "unknown topic", rs["missing"].Err, kerr.UnknownTopicOrPartition, rs["missing"].ErrMessage, "")

	// Manual assignments may name only this broker, one list per new
	// partition.
	req := kmsg.NewPtrCreatePartitionsRequest()
	req.TimeoutMillis = 15000
	add := func(topic string, count int32, replicas ...[]int32) {
		rt := kmsg.NewCreatePartitionsRequestTopic()
		rt.Topic, rt.Count = topic, count
		for _, r := range replicas {
			a := kmsg.NewCreatePartitionsRequestTopicAssignment()
			a.Replicas = r
			rt.Assignment = append(rt.Assignment, a)
		}
		req.Topics = append(req.Topics, rt)
	}
	createTopic(t, adm, "other-broker", 1)
	createTopic(t, adm, "too-few", 1)
	createTopic(t, adm, "manual", 1)
	add("other-broker", 2, []int32{2})
	add("too-few", 3, []int32{1})
	add("manual", 2, []int32{1})
	add("dup", 2)
	add("dup", 3)
	resp, err := req.RequestWith(ctxT(t), cl)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"other-broker": "INVALID_REPLICA_ASSIGNMENT: The manual partition assignment includes broker 2, but no such broker is registered.",
		"too-few":      "INVALID_REPLICA_ASSIGNMENT: Attempted to add 2 additional partition(s), but only 1 assignment(s) were specified.",
		"manual":       "<nil>: ",
		"dup":          "INVALID_REQUEST: Duplicate topic name.",
	}
	if len(resp.Topics) != len(want) {
		t.Errorf("%d results, want %d", len(resp.Topics), len(want))
	}
	for _, rt := range resp.Topics {
		got := errText(kerr.ErrorForCode(rt.ErrorCode))
		got = strings.SplitN(got, ":", 2)[0] + ": " + derefOr(rt.ErrorMessage, "")
		if got != want[rt.Topic] {
			t.Errorf("%s: %q, want %q", rt.Topic, got, want[rt.Topic])
		}
	}

	// The new partitions have logs: a fresh client produces to and consumes
	// from partition 2.
	prod := newClient(t, b, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	adminProduce(t, prod, &kgo.Record{Topic: "t", Partition: 2}, 5)
	cons := newClient(t, b, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"t": {2: kgo.NewOffset().AtStart()}}))
	for seen := 0; seen < 5; {
		fs := cons.PollFetches(ctxT(t))
		if err := fs.Err0(); err != nil {
			t.Fatal(err)
		}
		seen += fs.NumRecords()
	}
}

// find returns the named config of a described resource.
func find(t *testing.T, rc kadm.ResourceConfig, key string) kadm.Config {
	t.Helper()
	for _, c := range rc.Configs {
		if c.Key == key {
			return c
		}
	}
	t.Fatalf("%s: no config %s", rc.Name, key)
	return kadm.Config{}
}

// wantConfig checks a config's value and source, and its synonyms as
// "source:key=value" strings.
func wantConfig(t *testing.T, c kadm.Config, value string, src kmsg.ConfigSource, synonyms ...string) {
	t.Helper()
	var syns []string
	for _, s := range c.Synonyms {
		syns = append(syns, s.Source.String()+":"+s.Key+"="+derefOr(s.Value, "null"))
	}
	if derefOr(c.Value, "null") != value || c.Source != src || strings.Join(syns, " ") != strings.Join(synonyms, " ") {
		t.Errorf("%s = %s (%s) %q, want %s (%s) %q", c.Key, derefOr(c.Value, "null"), c.Source, syns, value, src, synonyms)
	}
}

func describeTopic(t *testing.T, adm *kadm.Client, topic string) kadm.ResourceConfig {
	t.Helper()
	rcs, err := adm.DescribeTopicConfigs(ctxT(t), topic)
	if err != nil || len(rcs) != 1 {
		t.Fatalf("describe %s: %v %+v", topic, err, rcs)
	}
	return rcs[0]
}

func describeBroker(t *testing.T, adm *kadm.Client, brokers ...int32) kadm.ResourceConfig {
	t.Helper()
	rcs, err := adm.DescribeBrokerConfigs(ctxT(t), brokers...)
	if err != nil || len(rcs) != 1 || rcs[0].Err != nil {
		t.Fatalf("describe brokers %v: %v %+v", brokers, err, rcs)
	}
	return rcs[0]
}

func TestAdmin_DescribeTopicConfigs(t *testing.T) {
	b := startBroker(t, adminConfig(t, t.TempDir(), map[string]string{"node.id": "1", "log.segment.bytes": "2000", "log.retention.hours": "2"}))
	cl := newClient(t, b)
	adm := kadm.NewClient(cl)
	if r, err := adm.CreateTopic(ctxT(t), 1, 1, map[string]*string{"retention.ms": kmsg.StringPtr("1000")}, "t"); err != nil || r.Err != nil {
		t.Fatal(err, r.Err)
	}
	rc := describeTopic(t, adm, "t")
	if rc.Err != nil || len(rc.Configs) != len(config.TopicKeys()) {
		t.Fatalf("%d configs (err %v), want every topic key (%d)", len(rc.Configs), rc.Err, len(config.TopicKeys()))
	}
	wantConfig(t, find(t, rc, "retention.ms"), "1000", kmsg.ConfigSourceDynamicTopicConfig,
		"DYNAMIC_TOPIC_CONFIG:retention.ms=1000", "STATIC_BROKER_CONFIG:log.retention.hours=2", "DEFAULT_CONFIG:log.retention.hours=168")
	wantConfig(t, find(t, rc, "segment.bytes"), "2000", kmsg.ConfigSourceStaticBrokerConfig,
		"STATIC_BROKER_CONFIG:log.segment.bytes=2000", "DEFAULT_CONFIG:log.segment.bytes=1073741824")
	wantConfig(t, find(t, rc, "compression.type"), "producer", kmsg.ConfigSourceDefaultConfig, "DEFAULT_CONFIG:compression.type=producer")
	wantConfig(t, find(t, rc, "min.cleanable.dirty.ratio"), "0.5", kmsg.ConfigSourceDefaultConfig, "DEFAULT_CONFIG:log.cleaner.min.cleanable.ratio=0.5")

	rcs, err := adm.DescribeTopicConfigs(ctxT(t), "missing")
	if err != nil || len(rcs) != 1 {
		t.Fatal(err, rcs)
	}
	wantErr(t, "describe unknown topic", rcs[0].Err, kerr.UnknownTopicOrPartition, rcs[0].ErrMessage, "")

	// v3+: types, documentation on request, and ConfigNames filtering.
	req := kmsg.NewPtrDescribeConfigsRequest()
	req.IncludeDocumentation = true
	rr := kmsg.NewDescribeConfigsRequestResource()
	rr.ResourceType, rr.ResourceName, rr.ConfigNames = kmsg.ConfigResourceTypeTopic, "t", []string{"cleanup.policy", "nope"}
	bad := kmsg.NewDescribeConfigsRequestResource()
	bad.ResourceType, bad.ResourceName = kmsg.ConfigResourceTypeTopic, "bad name"
	req.Resources = append(req.Resources, rr, bad)
	resp, err := req.RequestWith(ctxT(t), cl)
	if err != nil {
		t.Fatal(err)
	}
	r0 := resp.Resources[0]
	if len(r0.Configs) != 1 || r0.Configs[0].ConfigType != kmsg.ConfigTypeList || derefOr(r0.Configs[0].Documentation, "") == "" ||
		r0.Configs[0].ConfigSynonyms != nil || r0.Configs[0].ReadOnly {
		t.Errorf("filtered describe: %+v", r0.Configs)
	}
	if resp.Resources[1].ErrorCode != kerr.InvalidTopicException.Code {
		t.Errorf("invalid topic name: %+v", resp.Resources[1])
	}
}

func TestAdmin_DescribeBrokerConfigs(t *testing.T) {
	b := startBroker(t, adminConfig(t, t.TempDir(), map[string]string{"node.id": "1", "log.retention.minutes": "30"}))
	cl := newClient(t, b)
	adm := kadm.NewClient(cl)
	rc := describeBroker(t, adm, 1)
	if len(rc.Configs) != len(config.BrokerKeys()) {
		t.Fatalf("%d configs, want every broker key (%d)", len(rc.Configs), len(config.BrokerKeys()))
	}
	wantConfig(t, find(t, rc, "node.id"), "1", kmsg.ConfigSourceStaticBrokerConfig, "STATIC_BROKER_CONFIG:node.id=1", "DEFAULT_CONFIG:node.id=1")
	// Each key reports its own value; the chain is in the synonyms.
	wantConfig(t, find(t, rc, "log.retention.ms"), "null", kmsg.ConfigSourceDefaultConfig,
		"STATIC_BROKER_CONFIG:log.retention.minutes=30", "DEFAULT_CONFIG:log.retention.hours=168")
	wantConfig(t, find(t, rc, "log.retention.minutes"), "30", kmsg.ConfigSourceStaticBrokerConfig,
		"STATIC_BROKER_CONFIG:log.retention.minutes=30", "DEFAULT_CONFIG:log.retention.hours=168")
	// The cluster default lists only what was set dynamically at that level.
	if rc := describeBroker(t, adm); len(rc.Configs) != 0 {
		t.Errorf("cluster default with nothing set: %+v", rc.Configs)
	}

	req := kmsg.NewPtrDescribeConfigsRequest()
	for _, r := range []struct {
		typ  kmsg.ConfigResourceType
		name string
	}{{kmsg.ConfigResourceTypeBroker, "2"}, {kmsg.ConfigResourceTypeBroker, "x"}, {kmsg.ConfigResourceTypeBrokerLogger, "1"}} {
		rr := kmsg.NewDescribeConfigsRequestResource()
		rr.ResourceType, rr.ResourceName = r.typ, r.name
		req.Resources = append(req.Resources, rr)
	}
	resp, err := req.RequestWith(ctxT(t), cl.Broker(1))
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"Unexpected broker id, expected 1 or empty string, but received 2", "Broker id must be an integer, but it is: x", "BROKER_LOGGER"} {
		r := resp.Resources[i]
		if r.ErrorCode != kerr.InvalidRequest.Code || !strings.Contains(derefOr(r.ErrorMessage, ""), want) || len(r.Configs) != 0 {
			t.Errorf("resource %s: code %d %q, want INVALID_REQUEST %q", r.ResourceName, r.ErrorCode, derefOr(r.ErrorMessage, ""), want)
		}
	}
}

// Topic and broker config changes, incremental and legacy, are visible in
// DescribeConfigs, apply to live logs at once and survive a restart.
func TestAdmin_AlterConfigsApplyAndSurviveRestart(t *testing.T) {
	cfg := adminConfig(t, t.TempDir(), map[string]string{"node.id": "1"})
	b := startBroker(t, cfg)
	cl := newClient(t, b)
	adm := kadm.NewClient(cl)
	createTopic(t, adm, "t", 1)
	createTopic(t, adm, "plain", 1)
	adminProduce(t, cl, &kgo.Record{Topic: "t"}, 5)
	set := func(name, value string) kadm.AlterConfig {
		return kadm.AlterConfig{Op: kadm.SetConfig, Name: name, Value: kmsg.StringPtr(value)}
	}
	alter := func(configs ...kadm.AlterConfig) {
		t.Helper()
		rs, err := adm.AlterTopicConfigs(ctxT(t), configs, "t")
		if err != nil || len(rs) != 1 || rs[0].Err != nil {
			t.Fatalf("alter %+v: %v %+v", configs, err, rs)
		}
	}

	// IncrementalAlterConfigs: SET, then APPEND/SUBTRACT on a list.
	alter(set("segment.bytes", "1000"), set("retention.ms", "5000"))
	alter(kadm.AlterConfig{Op: kadm.AppendConfig, Name: "cleanup.policy", Value: kmsg.StringPtr("compact")})
	if c := find(t, describeTopic(t, adm, "t"), "cleanup.policy"); derefOr(c.Value, "") != "delete,compact" {
		t.Fatalf("after APPEND: %s", derefOr(c.Value, "null"))
	}
	alter(kadm.AlterConfig{Op: kadm.SubtractConfig, Name: "cleanup.policy", Value: kmsg.StringPtr("delete")})
	rc := describeTopic(t, adm, "t")
	wantConfig(t, find(t, rc, "cleanup.policy"), "compact", kmsg.ConfigSourceDynamicTopicConfig,
		"DYNAMIC_TOPIC_CONFIG:cleanup.policy=compact", "DEFAULT_CONFIG:log.cleanup.policy=delete")
	wantConfig(t, find(t, rc, "segment.bytes"), "1000", kmsg.ConfigSourceDynamicTopicConfig,
		"DYNAMIC_TOPIC_CONFIG:segment.bytes=1000", "DEFAULT_CONFIG:log.segment.bytes=1073741824")

	// The live log took the new configuration: it rolls at 1000 bytes.
	p, _ := b.replicas.Partition("t", 0)
	if lc := p.Log().Config(); lc.SegmentBytes != 1000 || lc.RetentionMs != 5000 {
		t.Fatalf("live log config: segment.bytes %d retention.ms %d", lc.SegmentBytes, lc.RetentionMs)
	}
	segs := p.Log().NumSegments()
	adminProduce(t, cl, &kgo.Record{Topic: "t"}, 30)
	if p.Log().NumSegments() <= segs {
		t.Fatalf("log did not roll at segment.bytes=1000: %d segments", p.Log().NumSegments())
	}

	// Refusals, each with Kafka's code; validate_only changes nothing.
	for _, c := range []struct {
		topic   string
		configs []kadm.AlterConfig
		err     error
		msg     string
	}{
		{"t", []kadm.AlterConfig{set("retention.ms", "-5")}, kerr.InvalidConfig, "retention.ms"},
		{"t", []kadm.AlterConfig{set("log.retention.ms", "5")}, kerr.InvalidConfig, `unknown topic configuration "log.retention.ms"`},
		{"t", []kadm.AlterConfig{{Op: kadm.AppendConfig, Name: "retention.ms", Value: kmsg.StringPtr("1")}}, kerr.InvalidConfig, "Can't APPEND to key retention.ms because its type is not LIST."},
		{"t", []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "retention.ms"}}, kerr.InvalidRequest, "Null value not supported for : retention.ms"},
		{"t", []kadm.AlterConfig{set("retention.ms", "1"), set("retention.ms", "2")}, kerr.InvalidRequest, "duplicate config keys"},
		{"missing", []kadm.AlterConfig{set("retention.ms", "1")}, kerr.UnknownTopicOrPartition, ""},
	} {
		rs, err := adm.AlterTopicConfigs(ctxT(t), c.configs, c.topic)
		if err != nil || len(rs) != 1 {
			t.Fatal(err, rs)
		}
		wantErr(t, "alter "+c.topic, rs[0].Err, c.err, rs[0].ErrMessage, c.msg)
	}
	if rs, err := adm.ValidateAlterTopicConfigs(ctxT(t), []kadm.AlterConfig{set("retention.ms", "9")}, "t"); err != nil || rs[0].Err != nil {
		t.Fatal(err, rs)
	}
	if c := find(t, describeTopic(t, adm, "t"), "retention.ms"); derefOr(c.Value, "") != "5000" {
		t.Fatalf("validate_only changed retention.ms to %s", derefOr(c.Value, "null"))
	}

	// Legacy AlterConfigs replaces the whole set: segment.bytes and
	// cleanup.policy fall back to their defaults.
	rs, err := adm.AlterTopicConfigsState(ctxT(t), []kadm.AlterConfig{set("retention.ms", "7000")}, "t")
	if err != nil || rs[0].Err != nil {
		t.Fatal(err, rs)
	}
	rc = describeTopic(t, adm, "t")
	wantConfig(t, find(t, rc, "segment.bytes"), "1073741824", kmsg.ConfigSourceDefaultConfig, "DEFAULT_CONFIG:log.segment.bytes=1073741824")
	wantConfig(t, find(t, rc, "retention.ms"), "7000", kmsg.ConfigSourceDynamicTopicConfig,
		"DYNAMIC_TOPIC_CONFIG:retention.ms=7000", "DEFAULT_CONFIG:log.retention.hours=168")
	if lc := p.Log().Config(); lc.SegmentBytes != 1<<30 || lc.RetentionMs != 7000 {
		t.Fatalf("live log config after the legacy alter: segment.bytes %d retention.ms %d", lc.SegmentBytes, lc.RetentionMs)
	}

	// Dynamic broker configs: this broker, then the cluster default (KIP-226).
	// The legacy alter replaces this broker's whole dynamic set.
	if rs, err := adm.AlterBrokerConfigs(ctxT(t), []kadm.AlterConfig{set("message.max.bytes", "5000")}, 1); err != nil || rs[0].Err != nil {
		t.Fatal(err, rs)
	}
	if rs, err := adm.AlterBrokerConfigsState(ctxT(t), []kadm.AlterConfig{set("log.retention.ms", "1234")}, 1); err != nil || rs[0].Err != nil {
		t.Fatal(err, rs)
	}
	if rs, err := adm.AlterBrokerConfigs(ctxT(t), []kadm.AlterConfig{set("log.segment.bytes", "4096")}); err != nil || rs[0].Err != nil {
		t.Fatal(err, rs)
	}
	for _, c := range []struct {
		brokers []int32
		configs []kadm.AlterConfig
		msg     string
	}{
		{[]int32{1}, []kadm.AlterConfig{set("node.id", "7")}, "node.id is read-only"},
		{nil, []kadm.AlterConfig{set("log.segment.bytes", "1")}, "must be at least 14"},
		{[]int32{1}, []kadm.AlterConfig{set("no.such.key", "1")}, `unknown configuration "no.such.key"`},
	} {
		rs, err := adm.AlterBrokerConfigs(ctxT(t), c.configs, c.brokers...)
		if err != nil || len(rs) != 1 {
			t.Fatal(err, rs)
		}
		wantErr(t, "alter broker", rs[0].Err, kerr.InvalidRequest, rs[0].ErrMessage, c.msg)
	}

	check := func(b *Broker, adm *kadm.Client) {
		t.Helper()
		rc := describeBroker(t, adm, 1)
		wantConfig(t, find(t, rc, "log.retention.ms"), "1234", kmsg.ConfigSourceDynamicBrokerConfig,
			"DYNAMIC_BROKER_CONFIG:log.retention.ms=1234", "DEFAULT_CONFIG:log.retention.hours=168")
		wantConfig(t, find(t, rc, "log.segment.bytes"), "4096", kmsg.ConfigSourceDynamicDefaultBrokerConfig,
			"DYNAMIC_DEFAULT_BROKER_CONFIG:log.segment.bytes=4096", "DEFAULT_CONFIG:log.segment.bytes=1073741824")
		wantConfig(t, find(t, rc, "message.max.bytes"), "1048588", kmsg.ConfigSourceDefaultConfig, "DEFAULT_CONFIG:message.max.bytes=1048588")
		def := describeBroker(t, adm)
		if len(def.Configs) != 1 {
			t.Errorf("cluster default lists %d configs, want 1", len(def.Configs))
		}
		wantConfig(t, find(t, def, "log.segment.bytes"), "4096", kmsg.ConfigSourceDynamicDefaultBrokerConfig,
			"DYNAMIC_DEFAULT_BROKER_CONFIG:log.segment.bytes=4096")
		rc = describeTopic(t, adm, "plain")
		wantConfig(t, find(t, rc, "segment.bytes"), "4096", kmsg.ConfigSourceDynamicDefaultBrokerConfig,
			"DYNAMIC_DEFAULT_BROKER_CONFIG:log.segment.bytes=4096", "DEFAULT_CONFIG:log.segment.bytes=1073741824")
		wantConfig(t, find(t, rc, "retention.ms"), "1234", kmsg.ConfigSourceDynamicBrokerConfig,
			"DYNAMIC_BROKER_CONFIG:log.retention.ms=1234", "DEFAULT_CONFIG:log.retention.hours=168")
		wantConfig(t, find(t, describeTopic(t, adm, "t"), "retention.ms"), "7000", kmsg.ConfigSourceDynamicTopicConfig,
			"DYNAMIC_TOPIC_CONFIG:retention.ms=7000", "DYNAMIC_BROKER_CONFIG:log.retention.ms=1234", "DEFAULT_CONFIG:log.retention.hours=168")
		p, _ := b.replicas.Partition("plain", 0)
		if lc := p.Log().Config(); lc.SegmentBytes != 4096 || lc.RetentionMs != 1234 {
			t.Errorf("topic defaults on the live log: segment.bytes %d retention.ms %d", lc.SegmentBytes, lc.RetentionMs)
		}
		p, _ = b.replicas.Partition("t", 0)
		if lc := p.Log().Config(); lc.SegmentBytes != 4096 || lc.RetentionMs != 7000 {
			t.Errorf("live log of t: segment.bytes %d retention.ms %d", lc.SegmentBytes, lc.RetentionMs)
		}
	}
	check(b, adm)

	cl.Close()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b2 := startBroker(t, cfg)
	check(b2, kadm.NewClient(newClient(t, b2)))
}

// kadm has no DescribeCluster call; kadm's admin requests ride the same
// client, so the raw request goes through it.
func TestAdmin_DescribeCluster(t *testing.T) {
	b := startBroker(t, adminConfig(t, t.TempDir(), nil))
	cl := newClient(t, b)
	describe := func(endpointType int8, ops bool) *kmsg.DescribeClusterResponse {
		t.Helper()
		req := kmsg.NewPtrDescribeClusterRequest()
		req.EndpointType, req.IncludeClusterAuthorizedOperations = endpointType, ops
		resp, err := req.RequestWith(ctxT(t), cl)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	resp := describe(1, false)
	host, port := b.handlers.Node.Host, b.handlers.Node.Port
	if resp.ErrorCode != 0 || resp.ClusterID != b.ClusterID() || resp.ControllerID != 1 || resp.EndpointType != 1 || len(resp.Brokers) != 1 ||
		resp.Brokers[0].NodeID != 1 || resp.Brokers[0].Host != host || resp.Brokers[0].Port != port || resp.Brokers[0].Rack != nil {
		t.Fatalf("describe cluster: %+v", resp)
	}
	if resp.ClusterAuthorizedOperations != -2147483648 {
		t.Errorf("authorized operations not requested: %d", resp.ClusterAuthorizedOperations)
	}
	ops := kadm.DecodeACLOperations(describe(1, true).ClusterAuthorizedOperations)
	if len(ops) != 7 {
		t.Errorf("cluster operations: %v", ops)
	}
	if r := describe(2, false); r.ErrorCode != kerr.MismatchedEndpointType.Code || len(r.Brokers) != 0 {
		t.Errorf("controllers asked of a broker: %+v", r)
	}
	if r := describe(3, false); r.ErrorCode != kerr.UnsupportedEndpointType.Code || derefOr(r.ErrorMessage, "") != "Unsupported endpoint type 3" {
		t.Errorf("unknown endpoint type: %+v", r)
	}
}

// Hostile or nonsensical admin requests get error codes, never a crash or
// a closed connection.
func TestAdmin_HostileRequestsAreAnswered(t *testing.T) {
	b := startBroker(t, adminConfig(t, t.TempDir(), nil))
	cl := newClient(t, b)
	createTopic(t, kadm.NewClient(cl), "t", 1)
	del := kmsg.NewPtrDeleteTopicsRequest()
	del.Topics = []kmsg.DeleteTopicsRequestTopic{{}, {Topic: kmsg.StringPtr("")}, {TopicID: [16]byte{15: 1}}}
	parts := kmsg.NewPtrCreatePartitionsRequest()
	parts.Topics = []kmsg.CreatePartitionsRequestTopic{
		{Topic: "t", Count: -5}, {Topic: "t", Count: 1 << 31 / 2}, {Topic: "", Count: 2},
		{Topic: "t", Count: 3, Assignment: []kmsg.CreatePartitionsRequestTopicAssignment{{}, {Replicas: []int32{-1}}}},
	}
	desc := kmsg.NewPtrDescribeConfigsRequest()
	desc.Resources = []kmsg.DescribeConfigsRequestResource{{ResourceType: 0}, {ResourceType: 2, ResourceName: ""}, {ResourceType: 4, ResourceName: "-1"}, {ResourceType: 4, ResourceName: "99999999999"}}
	alter := kmsg.NewPtrAlterConfigsRequest()
	alter.Resources = []kmsg.AlterConfigsRequestResource{
		{ResourceType: 2, ResourceName: "", Configs: []kmsg.AlterConfigsRequestResourceConfig{{Name: "retention.ms", Value: kmsg.StringPtr("1")}}},
		{ResourceType: 2, ResourceName: "t", Configs: []kmsg.AlterConfigsRequestResourceConfig{{Name: ""}}},
		{ResourceType: 4, ResourceName: "x"}, {ResourceType: 4, ResourceName: "x"}, {ResourceType: 99},
	}
	inc := kmsg.NewPtrIncrementalAlterConfigsRequest()
	inc.Resources = []kmsg.IncrementalAlterConfigsRequestResource{
		{ResourceType: 2, ResourceName: "t", Configs: []kmsg.IncrementalAlterConfigsRequestResourceConfig{{Name: "cleanup.policy", Op: -3, Value: kmsg.StringPtr("x")}}},
		{ResourceType: 2, ResourceName: "t", Configs: []kmsg.IncrementalAlterConfigsRequestResourceConfig{{Name: "cleanup.policy", Op: 2, Value: kmsg.StringPtr(",,")}}},
		{ResourceType: 4, ResourceName: "1", Configs: []kmsg.IncrementalAlterConfigsRequestResourceConfig{{Name: "log.cleanup.policy", Op: 3, Value: kmsg.StringPtr("delete")}}},
		{ResourceType: 4, ResourceName: "", Configs: []kmsg.IncrementalAlterConfigsRequestResourceConfig{{Name: "", Op: 1}}},
	}
	for _, req := range []kmsg.Request{del, parts, desc, alter, inc} {
		if _, err := cl.Broker(1).Request(ctxT(t), req); err != nil {
			t.Fatalf("%s: %v", kmsg.NameForKey(req.Key()), err)
		}
	}
	// The broker still serves, and "t" is unharmed.
	if n := len(adminMetadata(t, cl, "t")["t"].Partitions); n != 1 {
		t.Fatalf("t has %d partitions", n)
	}
}
