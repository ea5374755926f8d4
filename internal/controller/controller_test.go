package controller

import (
	"context"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/basketmq/basket/internal/log"
	"github.com/basketmq/basket/internal/metadata"
	"github.com/basketmq/basket/internal/vfs"
)

func openController(t *testing.T, fs vfs.FS) (*metadata.Store, *Controller) {
	t.Helper()
	s, err := metadata.OpenStore("/meta", log.Options{FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	return s, New(s, Options{NodeID: 1, DefaultPartitions: 3})
}

func TestValidateTopicName(t *testing.T) {
	for name, ok := range map[string]bool{
		"orders": true, "a.b_c-D9": true, strings.Repeat("x", 249): true,
		"": false, ".": false, "..": false, strings.Repeat("x", 250): false, "a b": false, "a/b": false, "ü": false,
	} {
		if err := ValidateTopicName(name); (err == nil) != ok {
			t.Errorf("ValidateTopicName(%q) = %v", name, err)
		}
	}
}

func TestCreateTopics_ValidatesLikeKafka(t *testing.T) {
	s, c := openController(t, vfs.NewFaultFS())
	defer s.Close()
	errs := c.CreateTopics(context.Background(), []CreateTopic{
		{Name: "ok", Partitions: -1, ReplicationFactor: -1},
		{Name: "ok", Partitions: 1, ReplicationFactor: 1},       // duplicate in one request
		{Name: "bad name", Partitions: 1, ReplicationFactor: 1}, // invalid name
		{Name: "zero", Partitions: 0, ReplicationFactor: 1},
		{Name: "rf3", Partitions: 1, ReplicationFactor: 3},
		{Name: "o.k", Partitions: 1, ReplicationFactor: 1}, // collides with a later "o_k"
		{Name: "o_k", Partitions: 1, ReplicationFactor: 1},
	}, false)
	want := []*kerr.Error{nil, kerr.TopicAlreadyExists, kerr.InvalidTopicException, kerr.InvalidPartitions, kerr.InvalidReplicationFactor, nil, kerr.InvalidTopicException}
	for i, w := range want {
		if got := errs[i]; (got == nil) != (w == nil) || got != nil && got.Code != w {
			t.Errorf("topic %d: %v, want %v", i, got, w)
		}
	}
	if tp, ok := s.Image().Topic("ok"); !ok || len(tp.Partitions) != 3 {
		t.Fatalf("topic with -1 partitions: %+v", tp)
	}
	if errs := c.CreateTopics(context.Background(), []CreateTopic{{Name: "dry", Partitions: 2, ReplicationFactor: 1}}, true); errs[0] != nil {
		t.Fatal(errs[0])
	}
	if _, ok := s.Image().Topic("dry"); ok {
		t.Fatal("validate_only created the topic")
	}
}

func TestNextProducerID_NeverRepeatsAcrossRestarts(t *testing.T) {
	fs := vfs.NewFaultFS()
	seen := map[int64]bool{}
	for restart := range 3 {
		s, c := openController(t, fs)
		for range producerIDBlock + 10 {
			id, err := c.NextProducerID(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if seen[id] {
				t.Fatalf("restart %d: producer id %d handed out twice", restart, id)
			}
			seen[id] = true
		}
		fs.PowerLoss(nil) // ids are reserved durably before use
		s.Close()
	}
}
