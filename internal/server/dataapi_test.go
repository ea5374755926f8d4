package server

import (
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func produceN(t *testing.T, cl *kgo.Client, topic string, n int) {
	t.Helper()
	for i := range n {
		if err := cl.ProduceSync(ctxT(t), &kgo.Record{Topic: topic, Value: value(i)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestBroker_DeleteRecordsAdvancesLogStart(t *testing.T) {
	b := startBroker(t, testConfig(t, t.TempDir()))
	cl := newClient(t, b)
	adm := kadm.NewClient(cl)
	createTopic(t, adm, "t", 1)
	produceN(t, cl, "t", 10)
	os := kadm.Offsets{}
	os.Add(kadm.Offset{Topic: "t", Partition: 0, At: 4})
	res, err := adm.DeleteRecords(ctxT(t), os)
	if err != nil || res["t"][0].Err != nil || res["t"][0].LowWatermark != 4 {
		t.Fatalf("DeleteRecords: %+v %v", res["t"][0], err)
	}
	starts, err := adm.ListStartOffsets(ctxT(t), "t")
	if err != nil || starts["t"][0].Offset != 4 {
		t.Fatalf("start offset after DeleteRecords: %+v %v", starts["t"][0], err)
	}
	os = kadm.Offsets{}
	os.Add(kadm.Offset{Topic: "t", Partition: 0, At: 11})
	res, _ = adm.DeleteRecords(ctxT(t), os)
	if res["t"][0].Err != kerr.OffsetOutOfRange {
		t.Fatalf("DeleteRecords past the high watermark: %v", res["t"][0].Err)
	}
}

func TestBroker_ListOffsetsByTimestamp(t *testing.T) {
	b := startBroker(t, testConfig(t, t.TempDir()))
	cl := newClient(t, b)
	adm := kadm.NewClient(cl)
	createTopic(t, adm, "t", 1)
	for i, ts := range []int64{1000, 2000, 3000} {
		r := &kgo.Record{Topic: "t", Value: value(i)}
		r.Timestamp = timeMillis(ts)
		if err := cl.ProduceSync(ctxT(t), r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	got, err := adm.ListOffsetsAfterMilli(ctxT(t), 1500, "t")
	if err != nil || got["t"][0].Offset != 1 || got["t"][0].Timestamp != 2000 {
		t.Fatalf("offset after 1500: %+v %v", got["t"][0], err)
	}
	end, _ := adm.ListEndOffsets(ctxT(t), "t")
	if end["t"][0].Offset != 3 {
		t.Fatalf("end offset %d", end["t"][0].Offset)
	}
	req := kmsg.NewPtrListOffsetsRequest()
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = "t"
	rp := kmsg.NewListOffsetsRequestTopicPartition()
	rp.Timestamp = -3 // KIP-734: the record with the largest timestamp
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctxT(t), cl)
	if err != nil || resp.Topics[0].Partitions[0].Offset != 2 || resp.Topics[0].Partitions[0].Timestamp != 3000 {
		t.Fatalf("max timestamp: %+v %v", resp, err)
	}
}

func TestBroker_OffsetForLeaderEpoch(t *testing.T) {
	b := startBroker(t, testConfig(t, t.TempDir()))
	cl := newClient(t, b)
	createTopic(t, kadm.NewClient(cl), "t", 1)
	produceN(t, cl, "t", 5)
	req := kmsg.NewPtrOffsetForLeaderEpochRequest()
	rt := kmsg.NewOffsetForLeaderEpochRequestTopic()
	rt.Topic = "t"
	for _, epoch := range []int32{0, 1} {
		rp := kmsg.NewOffsetForLeaderEpochRequestTopicPartition()
		rp.LeaderEpoch, rp.CurrentLeaderEpoch = epoch, -1
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctxT(t), cl)
	if err != nil {
		t.Fatal(err)
	}
	ps := resp.Topics[0].Partitions
	if ps[0].EndOffset != 5 || ps[0].LeaderEpoch != 0 || ps[1].EndOffset != -1 {
		t.Fatalf("OffsetForLeaderEpoch: %+v", ps)
	}
}

// Kafka refuses DeleteRecords on a topic whose cleanup.policy lacks delete
// (Partition.deleteRecordsOnLeader: POLICY_VIOLATION); compact,delete
// allows it.
func TestBroker_DeleteRecordsNeedsDeletePolicy(t *testing.T) {
	b := startBroker(t, testConfig(t, t.TempDir()))
	cl := newClient(t, b)
	adm := kadm.NewClient(cl)
	for policy, want := range map[string]error{"compact": kerr.PolicyViolation, "compact,delete": nil, "delete": nil} {
		topic := "t-" + strings.ReplaceAll(policy, ",", "-")
		resp, err := adm.CreateTopic(ctxT(t), 1, 1, map[string]*string{"cleanup.policy": &policy}, topic)
		if err != nil || resp.Err != nil {
			t.Fatalf("create %s: %v %v", topic, err, resp.Err)
		}
		for i := range 3 {
			r := &kgo.Record{Topic: topic, Key: []byte("k"), Value: value(i)}
			if err := cl.ProduceSync(ctxT(t), r).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
		os := kadm.Offsets{}
		os.Add(kadm.Offset{Topic: topic, Partition: 0, At: 2})
		res, err := adm.DeleteRecords(ctxT(t), os)
		if err != nil || res[topic][0].Err != want {
			t.Fatalf("DeleteRecords with cleanup.policy=%s: %v %v, want %v", policy, res[topic][0].Err, err, want)
		}
		wantStart := int64(2)
		if want != nil {
			wantStart = 0
		}
		starts, err := adm.ListStartOffsets(ctxT(t), topic)
		if err != nil || starts[topic][0].Offset != wantStart {
			t.Fatalf("cleanup.policy=%s: log start %+v %v, want %d", policy, starts[topic][0], err, wantStart)
		}
	}
}
