package server

// Interop with kafkajs (2.2.4), a client without any flexible version
// (protocol.md §1.1-1.2; seen through a request-logging proxy in these
// scenarios: ApiVersions v2, Metadata v6, Produce v7, Fetch v11, ListOffsets
// v3, FindCoordinator v2, JoinGroup v5, SyncGroup/Heartbeat/LeaveGroup v3,
// OffsetCommit v5, OffsetFetch v4, InitProducerId v1, CreateTopics v3,
// DeleteTopics v1, CreatePartitions v1, DescribeConfigs v2, AlterConfigs v1,
// DeleteRecords v1, ListGroups v2, DescribeGroups v2, DeleteGroups v1) that
// knows only the classic transaction protocol (InitProducerId v1,
// AddPartitionsToTxn v1, EndTxn v1) and ignores the transaction.version
// feature. The scripts are in test/interop/kafkajs: txn.js commits, aborts
// and commits a transaction, commits an offset inside the first
// (AddOffsetsToTxn, TxnOffsetCommit), then reads the topic with
// read_committed and read_uncommitted consumers; clients.js has the admin
// client, the idempotent producer and consumer groups as subcommands. The
// tests skip without node or without `npm install` having been run in that
// directory (.ci/run does it).

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/record"
)

// kafkajsDir is the directory of the kafkajs scripts and their
// node_modules.
const kafkajsDir = "../../test/interop/kafkajs"

// requireKafkajs skips the test unless node and the kafkajs package are
// installed.
func requireKafkajs(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	if _, err := os.Stat(filepath.Join(kafkajsDir, "node_modules", "kafkajs")); err != nil {
		t.Skipf("kafkajs not installed (npm install --prefix %s)", kafkajsDir)
	}
	return node
}

func TestKafkajs_TransactionsAndReadCommitted(t *testing.T) {
	node := requireKafkajs(t)
	b := startBroker(t, txnTestConfig(t, t.TempDir()))
	adm := kadm.NewClient(newClient(t, b))
	createTopic(t, adm, "js-txn", 2)
	waitGroupCoordinator(t, adm, "js-offsets")

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "txn.js", b.Addr().String(), "js-txn")
	cmd.Dir = kafkajsDir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node txn.js: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderr.String())
	}
	var res struct {
		Committed   []string `json:"committed"`
		Uncommitted []string `json:"uncommitted"`
	}
	line := ""
	for l := range strings.SplitSeq(string(out), "\n") {
		if rest, ok := strings.CutPrefix(l, "RESULT "); ok {
			line = rest
		}
	}
	if err := json.Unmarshal([]byte(line), &res); err != nil {
		t.Fatalf("kafkajs output %q: %v\nstderr:\n%s", out, err, stderr.String())
	}
	if want := []string{"c1-0", "c1-1", "c1-2", "c3-0", "c3-1", "c3-2"}; !slices.Equal(res.Committed, want) {
		t.Errorf("read_committed saw %v, want %v", res.Committed, want)
	}
	if want := []string{"a2-0", "a2-1", "a2-2", "c1-0", "c1-1", "c1-2", "c3-0", "c3-1", "c3-2"}; !slices.Equal(res.Uncommitted, want) {
		t.Errorf("read_uncommitted saw %v, want %v", res.Uncommitted, want)
	}
	offs, err := adm.FetchOffsets(ctxT(t), "js-offsets")
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := offs.Lookup("js-txn", 0); !ok || o.At != 3 {
		t.Errorf("offset committed in the transaction: %+v (found %v), want 3", o, ok)
	}
}

// waitGroupCoordinator returns once the coordinator of group has loaded.
// kafkajs 2.2.4 names error 14 GROUP_LOAD_IN_PROGRESS but retries only on
// "COORDINATOR_LOAD_IN_PROGRESS", so its TxnOffsetCommit gives up, and its
// consumer crashes on JoinGroup, if the group's __consumer_offsets
// partition is still loading (as it is right after the topic's creation,
// against Kafka as well). kgo retries the load: once it fetches the group's
// offsets, the coordinator is up.
func waitGroupCoordinator(t *testing.T, adm *kadm.Client, group string) {
	t.Helper()
	if _, err := adm.FetchOffsets(ctxT(t), group); err != nil {
		t.Fatal(err)
	}
}

// kafkajs runs the clients.js subcommand cmd against b and decodes its
// RESULT into result.
func kafkajs(t *testing.T, b *Broker, result any, cmd string, args ...string) {
	t.Helper()
	node := requireKafkajs(t)
	runInterop(t, kafkajsDir, result, node, append([]string{"clients.js", cmd, b.Addr().String()}, args...)...)
}

// jsError is an error a scenario expected and caught: the error class,
// the broker's error type, and those of an aggregated error's parts.
type jsError struct {
	Name  string   `json:"name"`
	Type  *string  `json:"type"`
	Types []string `json:"types"`
}

func wantJSError(t *testing.T, what string, got *jsError, name, typ string, types ...string) {
	t.Helper()
	if got == nil {
		t.Errorf("%s threw nothing, want %s %s %v", what, name, typ, types)
		return
	}
	if got.Name != name || derefOr(got.Type, "") != typ || !slices.Equal(got.Types, types) {
		t.Errorf("%s threw %s type %q %v, want %s type %q %v", what, got.Name, derefOr(got.Type, ""), got.Types, name, typ, types)
	}
}

func TestKafkajs_AdminClient(t *testing.T) {
	requireKafkajs(t)
	b := startBroker(t, interopAdminConfig(t))
	// Records a second apart, an hour ago.
	base := time.Now().Add(-time.Hour).Truncate(time.Second).UnixMilli()
	var res struct {
		GroupsBefore              []string                            `json:"groupsBefore"`
		Create                    bool                                `json:"create"`
		CreateExisting            bool                                `json:"createExisting"`
		CreateInvalid             *jsError                            `json:"createInvalid"`
		CreateValidateOnly        bool                                `json:"createValidateOnly"`
		CreateInvalidValidateOnly *jsError                            `json:"createInvalidValidateOnly"`
		Topics                    []string                            `json:"topics"`
		Metadata                  []any                               `json:"metadata"`
		ConfigsCreated            map[string]map[string]interopConfig `json:"configsCreated"`
		ConfigsBroker             map[string]map[string]interopConfig `json:"configsBroker"`
		Alter                     [][2]any                            `json:"alter"`
		AlterValidateOnly         [][2]any                            `json:"alterValidateOnly"`
		AlterUnknown              *jsError                            `json:"alterUnknown"`
		ConfigsAltered            map[string]map[string]interopConfig `json:"configsAltered"`
		PartitionsShrink          *jsError                            `json:"partitionsShrink"`
		PartitionsAfter           int                                 `json:"partitionsAfter"`
		OffsetsBeforeDelete       [][3]int64                          `json:"offsetsBeforeDelete"`
		OffsetsAfterDelete        [][3]int64                          `json:"offsetsAfterDelete"`
		OffsetsByTimestamp        [][2]int64                          `json:"offsetsByTimestamp"`
		OffsetsByFutureTimestamp  [][2]int64                          `json:"offsetsByFutureTimestamp"`
		Group                     struct {
			Listed            [][2]string `json:"listed"`
			DescribeLive      jsGroup     `json:"describeLive"`
			DescribeEmpty     jsGroup     `json:"describeEmpty"`
			OffsetsSet        [][3]any    `json:"offsetsSet"`
			OffsetsReset      [][3]any    `json:"offsetsReset"`
			Delete            [][2]any    `json:"delete"`
			DeleteMissing     *jsError    `json:"deleteMissing"`
			ListedAfterDelete []string    `json:"listedAfterDelete"`
		} `json:"group"`
		DeleteUnknown     *jsError `json:"deleteUnknown"`
		TopicsAfterDelete []string `json:"topicsAfterDelete"`
		LoadRetries       int      `json:"loadRetries"`
	}
	kafkajs(t, b, &res, "admin", strconv.FormatInt(base, 10))
	t.Logf("listGroups retried %d answers of COORDINATOR_LOAD_IN_PROGRESS", res.LoadRetries)

	// ListGroups on a broker without __consumer_offsets: an empty list.
	if len(res.GroupsBefore) != 0 {
		t.Errorf("groups before any existed: %v", res.GroupsBefore)
	}

	// CreateTopics v3: kafkajs reports true when it created the topics,
	// false when they all existed.
	if !res.Create || res.CreateExisting {
		t.Errorf("createTopics: %v, of an existing topic: %v; want true, false", res.Create, res.CreateExisting)
	}
	wantJSError(t, "createTopics with an invalid name", res.CreateInvalid, "KafkaJSAggregateError", "", "INVALID_TOPIC_EXCEPTION")
	wantJSError(t, "createTopics validateOnly with an invalid name", res.CreateInvalidValidateOnly, "KafkaJSAggregateError", "", "INVALID_TOPIC_EXCEPTION")
	if !res.CreateValidateOnly {
		t.Errorf("createTopics validateOnly: %v", res.CreateValidateOnly)
	}
	if want := []string{"js-admin", "js-admin-2"}; !slices.Equal(res.Topics, want) {
		t.Errorf("listTopics after creating: %v, want %v (validateOnly creates nothing)", res.Topics, want)
	}

	// Metadata v6: (partition, leader, replicas, isr, error) per partition.
	if got, want := jsonString(t, res.Metadata), `[{"name":"js-admin","partitions":[[0,1,[1],[1],0],[1,1,[1],[1],0],[2,1,[1],[1],0]]},{"name":"js-admin-2","partitions":[[0,1,[1],[1],0]]}]`; got != want {
		t.Errorf("fetchTopicMetadata: %s, want %s", got, want)
	}

	// DescribeConfigs and AlterConfigs (which replaces the topic's configs:
	// max.message.bytes is back to its default; validateOnly changes
	// nothing).
	created := res.ConfigsCreated["js-admin"]
	wantInteropConfig(t, "created topic", created, "retention.ms", "3600000", kmsg.ConfigSourceDynamicTopicConfig)
	wantInteropConfig(t, "created topic", created, "max.message.bytes", "200000", kmsg.ConfigSourceDynamicTopicConfig)
	wantInteropConfig(t, "created topic", created, "cleanup.policy", "delete", kmsg.ConfigSourceDefaultConfig)
	broker := res.ConfigsBroker["1"]
	if len(broker) != 2 || !broker["num.partitions"].ReadOnly {
		t.Errorf("broker configs asked for by name: %+v, want num.partitions (read-only) and log.retention.hours", broker)
	}
	wantInteropConfig(t, "broker", broker, "num.partitions", "1", kmsg.ConfigSourceDefaultConfig)
	if got := jsonString(t, res.Alter) + jsonString(t, res.AlterValidateOnly); got != `[["js-admin",0]][["js-admin",0]]` {
		t.Errorf("alterConfigs, then with validateOnly: %s", got)
	}
	wantJSError(t, "alterConfigs of an unknown config", res.AlterUnknown, "KafkaJSProtocolError", "INVALID_CONFIG")
	altered := res.ConfigsAltered["js-admin"]
	if len(altered) != 2 {
		t.Errorf("configs asked for by name after alterConfigs: %+v, want retention.ms and max.message.bytes", altered)
	}
	wantInteropConfig(t, "altered topic", altered, "retention.ms", "7200000", kmsg.ConfigSourceDynamicTopicConfig)
	wantInteropConfig(t, "altered topic", altered, "max.message.bytes", "1048588", kmsg.ConfigSourceDefaultConfig)

	// CreatePartitions: 3 to 5, validateOnly to 8 changes nothing, 2 fails.
	wantJSError(t, "createPartitions to fewer partitions", res.PartitionsShrink, "KafkaJSProtocolError", "INVALID_PARTITIONS")
	adm := kadm.NewClient(newClient(t, b))
	td, err := adm.ListTopics(ctxT(t), "js-admin")
	if err != nil {
		t.Fatal(err)
	}
	if res.PartitionsAfter != 5 || len(td["js-admin"].Partitions) != 5 {
		t.Errorf("js-admin has %d partitions (kadm: %d), want 5", res.PartitionsAfter, len(td["js-admin"].Partitions))
	}

	// ListOffsets v3 (fetchTopicOffsets, fetchTopicOffsetsByTimestamp,
	// which falls back to the high watermark where no record is that new)
	// and DeleteRecords (deleteTopicRecords).
	if got, want := jsonString(t, res.OffsetsBeforeDelete), `[[0,0,10],[1,0,10],[2,0,0],[3,0,0],[4,0,0]]`; got != want {
		t.Errorf("fetchTopicOffsets (partition, low, high): %s, want %s", got, want)
	}
	if got, want := jsonString(t, res.OffsetsAfterDelete), `[[0,0,10],[1,2,10],[2,0,0],[3,0,0],[4,0,0]]`; got != want {
		t.Errorf("fetchTopicOffsets after deleteTopicRecords to 2 in partition 1: %s, want %s", got, want)
	}
	if got, want := jsonString(t, res.OffsetsByTimestamp), `[[0,5],[1,5],[2,0],[3,0],[4,0]]`; got != want {
		t.Errorf("fetchTopicOffsetsByTimestamp(base+4.5s): %s, want %s", got, want)
	}
	if got, want := jsonString(t, res.OffsetsByFutureTimestamp), `[[0,10],[1,10],[2,0],[3,0],[4,0]]`; got != want {
		t.Errorf("fetchTopicOffsetsByTimestamp(an hour ahead): %s, want %s", got, want)
	}

	// Groups.
	g := res.Group
	if want := [][2]string{{"js-admin-live", "consumer"}}; !slices.Equal(g.Listed, want) {
		t.Errorf("listGroups: %v, want %v", g.Listed, want)
	}
	live := g.DescribeLive
	if live.ErrorCode != 0 || live.State != "Stable" || live.ProtocolType != "consumer" || live.Protocol != "RoundRobinAssigner" || len(live.Members) != 1 {
		t.Fatalf("describeGroups of a live group: %+v, want Stable, consumer/RoundRobinAssigner, one member", live)
	}
	m := live.Members[0]
	if got := jsonString(t, m.Assignment); m.ClientID != "basket-interop" || m.ClientHost != "/127.0.0.1" || got != `{"js-admin":[0,1,2,3,4]}` || !slices.Equal(m.Subscription, []string{"js-admin"}) {
		t.Errorf("member %+v (assignment %s), want client basket-interop from /127.0.0.1, subscribed to and assigned all of js-admin", m, got)
	}
	if e := g.DescribeEmpty; e.ErrorCode != 0 || e.State != "Empty" || len(e.Members) != 0 {
		t.Errorf("describeGroups after the member left: %+v, want Empty", e)
	}
	// setOffsets commits what it is given; resetOffsets commits -2, which
	// kafkajs consumers read as "earliest" (Kafka stores it as given).
	if got, want := jsonString(t, g.OffsetsSet), `[[0,7,null],[1,4,null],[2,-1,null],[3,-1,null],[4,-1,null]]`; got != want {
		t.Errorf("fetchOffsets after setOffsets: %s, want %s", got, want)
	}
	if got, want := jsonString(t, g.OffsetsReset), `[[0,-2,null],[1,-2,null],[2,-2,null],[3,-2,null],[4,-2,null]]`; got != want {
		t.Errorf("fetchOffsets after resetOffsets earliest: %s, want %s", got, want)
	}
	if got, want := jsonString(t, g.Delete), `[["js-admin-group",0],["js-admin-live",0]]`; got != want {
		t.Errorf("deleteGroups: %s, want %s", got, want)
	}
	wantJSError(t, "deleteGroups of a missing group", g.DeleteMissing, "KafkaJSDeleteGroupsError", "", "GROUP_ID_NOT_FOUND")
	if len(g.ListedAfterDelete) != 0 {
		t.Errorf("listGroups after deleteGroups: %v", g.ListedAfterDelete)
	}

	// DeleteTopics.
	wantJSError(t, "deleteTopics of a missing topic", res.DeleteUnknown, "KafkaJSNumberOfRetriesExceeded", "UNKNOWN_TOPIC_OR_PARTITION")
	if want := []string{"__consumer_offsets", "js-admin"}; !slices.Equal(res.TopicsAfterDelete, want) {
		t.Errorf("listTopics after deleteTopics: %v, want %v", res.TopicsAfterDelete, want)
	}
	if td, err := adm.ListTopics(ctxT(t)); err != nil || td.Has("js-admin-2") {
		t.Errorf("kadm still lists js-admin-2 after deleteTopics (%v)", err)
	}
}

// jsGroup is a group as describeGroups reports it, member metadata and
// assignment decoded with kafkajs's AssignerProtocol.
type jsGroup struct {
	ErrorCode    int16  `json:"errorCode"`
	GroupID      string `json:"groupId"`
	State        string `json:"state"`
	ProtocolType string `json:"protocolType"`
	Protocol     string `json:"protocol"`
	Members      []struct {
		ClientID     string           `json:"clientId"`
		ClientHost   string           `json:"clientHost"`
		Subscription []string         `json:"subscription"`
		Assignment   map[string][]int `json:"assignment"`
	} `json:"members"`
}

// The idempotent producer (InitProducerId v1, Produce v7 with acks -1)
// with the codecs kafkajs has built in: every batch is stored with the
// codec and carries the producer's id, with sequences that continue from
// one batch to the next.
func TestKafkajs_IdempotentProducerStoredCodec(t *testing.T) {
	requireKafkajs(t)
	b := startBroker(t, testConfig(t, t.TempDir()))
	adm := kadm.NewClient(newClient(t, b))
	for _, codec := range []record.Codec{record.CodecNone, record.CodecGzip} {
		t.Run(codec.String(), func(t *testing.T) {
			topic := "js-" + codec.String()
			createTopic(t, adm, topic, 2)
			var res struct {
				Records []sentRecord `json:"records"`
			}
			kafkajs(t, b, &res, "produce", topic, codec.String(), "60")
			if len(res.Records) != 60 {
				t.Fatalf("the script reports %d records, want 60", len(res.Records))
			}
			checkProducedRecords(t, b, topic, 2, codec, res.Records)
			producers := map[int64]bool{}
			for p := range int32(2) {
				next := int32(0)
				for _, h := range storedBatches(t, b, topic, p) {
					if h.ProducerID < 0 || h.BaseSequence != next {
						t.Fatalf("%s-%d: batch at %d has producer id %d, base sequence %d; want an id and sequence %d", topic, p, h.BaseOffset, h.ProducerID, h.BaseSequence, next)
					}
					next += h.RecordsCount
					producers[h.ProducerID] = true
				}
			}
			if len(producers) != 1 {
				t.Errorf("batches carry producer ids %v, want one", slices.Collect(maps.Keys(producers)))
			}
		})
	}
}

func TestKafkajs_GroupSplitsCommitsAndResumes(t *testing.T) {
	requireKafkajs(t)
	b := startBroker(t, groupConfig(t, t.TempDir()))
	interopGroupScenario(t, b, "kafkajs", "js-group", false, func(result any, cmd string, args ...string) {
		kafkajs(t, b, result, cmd, args...)
	})
}
