package controller

import (
	"context"
	"maps"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/basketmq/basket/internal/config"
	"github.com/basketmq/basket/internal/log"
	"github.com/basketmq/basket/internal/metadata"
	"github.com/basketmq/basket/internal/vfs"
)

func newAdminController(t *testing.T) (*metadata.Store, *Controller) {
	t.Helper()
	s, err := metadata.OpenStore("/meta", log.Options{FS: vfs.NewFaultFS()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	c := New(s, Options{NodeID: 1, DefaultPartitions: 1, ValidateTopicConfigs: config.ValidateTopicConfigs})
	if errs := c.CreateTopics(context.Background(), []CreateTopic{{Name: "t", Partitions: 2, ReplicationFactor: 1}}, false); errs[0] != nil {
		t.Fatal(errs[0])
	}
	return s, c
}

func code(e *Error) *kerr.Error {
	if e == nil {
		return nil
	}
	return e.Code
}

func TestNextConfigs_Operations(t *testing.T) {
	str := func(s string) *string { return &s }
	current := map[string]string{"retention.ms": "1", "cleanup.policy": "compact"}
	tests := []struct {
		name    string
		ops     []ConfigOp
		replace bool
		want    map[string]string
		err     *kerr.Error
	}{
		{"set and delete", []ConfigOp{{"segment.bytes", OpSet, str("100")}, {"retention.ms", OpDelete, nil}}, false,
			map[string]string{"segment.bytes": "100", "cleanup.policy": "compact"}, nil},
		{"replace drops keys not named", []ConfigOp{{"segment.bytes", OpSet, str("100")}}, true,
			map[string]string{"segment.bytes": "100"}, nil},
		{"append skips present elements", []ConfigOp{{"cleanup.policy", OpAppend, str("delete,compact")}}, false,
			map[string]string{"retention.ms": "1", "cleanup.policy": "compact,delete"}, nil},
		{"subtract", []ConfigOp{{"cleanup.policy", OpSubtract, str("compact")}}, false,
			map[string]string{"retention.ms": "1", "cleanup.policy": ""}, nil},
		{"append starts from the default", []ConfigOp{{"log.cleanup.policy", OpAppend, str("compact")}}, true,
			map[string]string{"log.cleanup.policy": "delete,compact"}, nil},
		{"append to a non-list", []ConfigOp{{"retention.ms", OpAppend, str("2")}}, false, nil, kerr.InvalidConfig},
		{"append to an unknown key", []ConfigOp{{"nope", OpAppend, str("2")}}, false, nil, kerr.InvalidConfig},
		{"unknown operation", []ConfigOp{{"retention.ms", OpType(9), str("2")}}, false, nil, kerr.InvalidRequest},
		{"null set", []ConfigOp{{"retention.ms", OpSet, nil}}, false, nil, kerr.InvalidRequest},
	}
	for _, tt := range tests {
		got, err := NextConfigs(current, tt.ops, tt.replace)
		if code(err) != tt.err || err == nil && !maps.Equal(got, tt.want) {
			t.Errorf("%s: %v %v, want %v %v", tt.name, got, err, tt.want, tt.err)
		}
	}
	if current["retention.ms"] != "1" || len(current) != 2 {
		t.Errorf("NextConfigs modified its input: %v", current)
	}
}

func TestAlterConfigs_TopicAndBroker(t *testing.T) {
	s, c := newAdminController(t)
	ctx := context.Background()
	v := func(s string) *string { return &s }
	errs := c.AlterConfigs(ctx, []AlterConfigs{
		{Type: metadata.ResourceTopic, Name: "t", Ops: []ConfigOp{{"retention.ms", OpSet, v("5")}}},
		{Type: metadata.ResourceTopic, Name: "t", Ops: []ConfigOp{{"retention.ms", OpSet, v("-7")}}},
		{Type: metadata.ResourceTopic, Name: "missing", Ops: []ConfigOp{{"retention.ms", OpSet, v("5")}}},
		{Type: metadata.ResourceTopic, Name: "", Ops: nil},
		{Type: metadata.ResourceTopic, Name: "bad/name", Ops: nil},
		{Type: metadata.ResourceBroker, Name: "", Ops: []ConfigOp{{"log.retention.ms", OpSet, v("9")}}},
		{Type: metadata.ResourceBroker, Name: "-1", Ops: nil},
		{Type: metadata.ResourceType(8), Name: "1", Ops: nil},
	}, false)
	want := []*kerr.Error{nil, kerr.InvalidConfig, kerr.UnknownTopicOrPartition, kerr.InvalidRequest, kerr.InvalidTopicException, nil, kerr.InvalidRequest, kerr.InvalidRequest}
	for i, w := range want {
		if code(errs[i]) != w {
			t.Errorf("resource %d: %v, want %v", i, errs[i], w)
		}
	}
	im := s.Image()
	if tp, _ := im.Topic("t"); tp.Configs["retention.ms"] != "5" || im.BrokerConfigs("")["log.retention.ms"] != "9" {
		t.Fatalf("configs not committed: %v %v", tp.Configs, im.BrokerConfigs(""))
	}
	if got := DynamicBrokerConfigs(im, 1); got["log.retention.ms"] != "9" {
		t.Errorf("DynamicBrokerConfigs = %v", got)
	}
	// validate_only and no-op changes write nothing.
	off := im.Offset
	c.AlterConfigs(ctx, []AlterConfigs{{Type: metadata.ResourceTopic, Name: "t", Ops: []ConfigOp{{"retention.ms", OpSet, v("6")}}}}, true)
	c.AlterConfigs(ctx, []AlterConfigs{{Type: metadata.ResourceTopic, Name: "t", Ops: []ConfigOp{{"retention.ms", OpSet, v("5")}}}}, false)
	if s.Image().Offset != off {
		t.Errorf("metadata log moved from %d to %d", off, s.Image().Offset)
	}
}

func TestCreatePartitions_ValidatesLikeKafka(t *testing.T) {
	s, c := newAdminController(t)
	errs := c.CreatePartitions(context.Background(), []CreatePartitions{
		{Topic: "t", Count: 2},
		{Topic: "t", Count: 1},
		{Topic: "missing", Count: 3},
		{Topic: "t", Count: 4, Assignment: [][]int32{{1}}},
		{Topic: "t", Count: 3, Assignment: [][]int32{{}}},
		{Topic: "t", Count: 3, Assignment: [][]int32{{1, 1}}},
		{Topic: "t", Count: 3, Assignment: [][]int32{{2}}},
		{Topic: "t", Count: 1 << 30},
		{Topic: "t", Count: 3, Assignment: [][]int32{{1}}},
	}, false)
	want := []*kerr.Error{kerr.InvalidPartitions, kerr.InvalidPartitions, kerr.UnknownTopicOrPartition, kerr.InvalidReplicaAssignment,
		kerr.InvalidReplicaAssignment, kerr.InvalidReplicaAssignment, kerr.InvalidReplicaAssignment, kerr.PolicyViolation, nil}
	for i, w := range want {
		if code(errs[i]) != w {
			t.Errorf("topic %d: %v, want %v", i, errs[i], w)
		}
	}
	if tp, _ := s.Image().Topic("t"); len(tp.Partitions) != 3 {
		t.Fatalf("%d partitions, want 3", len(tp.Partitions))
	}
	if errs := c.CreatePartitions(context.Background(), []CreatePartitions{{Topic: "t", Count: 5}}, true); errs[0] != nil {
		t.Fatal(errs[0])
	}
	if tp, _ := s.Image().Topic("t"); len(tp.Partitions) != 3 {
		t.Fatal("validate_only added partitions")
	}
}

func TestDeleteTopics_NameAndIDOfTheSameTopic(t *testing.T) {
	s, c := newAdminController(t)
	tp, _ := s.Image().Topic("t")
	res := c.DeleteTopics(context.Background(), []DeleteTopic{{Name: "t"}, {ID: tp.ID}, {Name: "missing"}, {ID: metadata.NewUUID()}})
	want := []*kerr.Error{kerr.InvalidRequest, kerr.InvalidRequest, kerr.UnknownTopicOrPartition, kerr.UnknownTopicID}
	for i, w := range want {
		if code(res[i].Err) != w {
			t.Errorf("entry %d: %+v, want %v", i, res[i], w)
		}
	}
	if _, ok := s.Image().Topic("t"); !ok {
		t.Fatal("topic deleted despite the conflicting request")
	}
	res = c.DeleteTopics(context.Background(), []DeleteTopic{{ID: tp.ID}})
	if res[0].Err != nil || res[0].Name != "t" {
		t.Fatalf("delete by id: %+v", res[0])
	}
	if _, ok := s.Image().Topic("t"); ok {
		t.Fatal("topic still in the image")
	}
}
