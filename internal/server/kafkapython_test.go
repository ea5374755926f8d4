package server

// Interop with kafka-python 2.0.2 (Debian's python3-kafka), the client with
// the oldest request versions in our matrix (protocol.md §1.1-1.2): it
// sends ApiVersions v0, infers a broker version from the advertised ranges
// ("2.4.0" for Basket, from Produce v8) and picks its requests from that.
// Seen through a request-logging proxy in these scenarios: Metadata v0, v1
// and v5, Produce v7, Fetch v4, ListOffsets v1, FindCoordinator v0,
// JoinGroup v2, SyncGroup/Heartbeat/LeaveGroup v1, OffsetCommit v2,
// OffsetFetch v1 (v3 from the admin client), CreateTopics v3, DeleteTopics
// v3, DescribeConfigs v2, AlterConfigs v1, CreatePartitions v1, ListGroups
// v1, DescribeGroups v3, DeleteGroups v1. Its admin client raises on any
// error code without retrying.
//
// The scenarios are subcommands of test/interop/kafka-python/clients.py,
// run with /usr/bin/python3 (a python3 earlier on PATH may lack Debian's
// packages). The tests skip when kafka-python is not installed for it, and
// a codec's subtest skips when kafka-python cannot compress with it.
// Packages: python3-kafka, python3-snappy, python3-lz4, python3-zstandard.

import (
	"fmt"
	"maps"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/record"
)

const (
	// kafkaPythonDir holds the kafka-python scenarios.
	kafkaPythonDir = "../../test/interop/kafka-python"
	// kafkaPythonInterpreter is Debian's python, which python3-kafka and
	// the codec packages install into.
	kafkaPythonInterpreter = "/usr/bin/python3"
)

var (
	kafkaPythonOnce    sync.Once
	kafkaPythonVersion string
)

// requireKafkaPython skips the test unless kafka-python is importable by
// /usr/bin/python3, and logs its version.
func requireKafkaPython(t *testing.T) {
	t.Helper()
	kafkaPythonOnce.Do(func() {
		out, err := exec.Command(kafkaPythonInterpreter, "-c", "import kafka; print(kafka.__version__)").Output()
		if err == nil {
			kafkaPythonVersion = strings.TrimSpace(string(out))
		}
	})
	if kafkaPythonVersion == "" {
		t.Skipf("kafka-python not installed for %s: apt-get install python3-kafka", kafkaPythonInterpreter)
	}
	t.Logf("kafka-python %s", kafkaPythonVersion)
}

// requireKafkaPythonCodec skips the test unless kafka-python can compress
// with codec; all but gzip need a Debian package of their own.
func requireKafkaPythonCodec(t *testing.T, codec record.Codec) {
	t.Helper()
	need, ok := map[record.Codec]struct{ check, pkg string }{
		record.CodecSnappy: {"has_snappy", "python3-snappy"},
		record.CodecLZ4:    {"has_lz4", "python3-lz4"},
		record.CodecZstd:   {"has_zstd", "python3-zstandard"},
	}[codec]
	if !ok {
		return
	}
	script := "import sys; from kafka.codec import " + need.check + "; sys.exit(0 if " + need.check + "() else 1)"
	if err := exec.Command(kafkaPythonInterpreter, "-c", script).Run(); err != nil {
		t.Skipf("kafka-python cannot compress with %v (kafka.codec.%s() is false): apt-get install %s", codec, need.check, need.pkg)
	}
}

// kafkaPython runs the clients.py subcommand cmd against b and decodes its
// RESULT into result.
func kafkaPython(t *testing.T, b *Broker, result any, cmd string, args ...string) {
	t.Helper()
	runInterop(t, kafkaPythonDir, result, kafkaPythonInterpreter,
		append([]string{"clients.py", cmd, b.Addr().String()}, args...)...)
}

// pyError is an error a scenario expected and caught: the exception's
// class and its Kafka error code (0 and no name if nothing was raised).
type pyError struct {
	Name *string `json:"name"`
	Code int16   `json:"code"`
}

type pyGroupDescription struct {
	Error        int16  `json:"error"`
	Group        string `json:"group"`
	State        string `json:"state"`
	ProtocolType string `json:"protocol_type"`
	Protocol     string `json:"protocol"`
	Members      []struct {
		ClientID     string   `json:"client_id"`
		Assignment   []any    `json:"assignment"`
		Subscription []string `json:"subscription"`
	} `json:"members"`
}

func TestKafkaPython_AdminClient(t *testing.T) {
	requireKafkaPython(t)
	b := startBroker(t, interopAdminConfig(t))
	var res struct {
		APIVersion                []int                               `json:"api_version"`
		GroupsBefore              []string                            `json:"groups_before"`
		Create                    map[string]int16                    `json:"create"`
		CreateInvalid             pyError                             `json:"create_invalid"`
		CreateExisting            pyError                             `json:"create_existing"`
		CreateValidateOnly        map[string]int16                    `json:"create_validate_only"`
		CreateInvalidValidateOnly pyError                             `json:"create_invalid_validate_only"`
		Topics                    []string                            `json:"topics"`
		DescribeTopics            []pyTopic                           `json:"describe_topics"`
		ConfigsCreated            map[string]map[string]interopConfig `json:"configs_created"`
		ConfigsBroker             map[string]map[string]interopConfig `json:"configs_broker"`
		Alter                     map[string]int16                    `json:"alter"`
		AlterUnknown              map[string]int16                    `json:"alter_unknown"`
		ConfigsAltered            map[string]map[string]interopConfig `json:"configs_altered"`
		PartitionsGrow            map[string]int16                    `json:"partitions_grow"`
		PartitionsValidateOnly    map[string]int16                    `json:"partitions_validate_only"`
		PartitionsShrink          pyError                             `json:"partitions_shrink"`
		PartitionsAfter           int                                 `json:"partitions_after"`
		Group                     struct {
			Listed            [][2]string        `json:"listed"`
			DescribeLive      pyGroupDescription `json:"describe_live"`
			Offsets           [][4]any           `json:"offsets"`
			DescribeEmpty     pyGroupDescription `json:"describe_empty"`
			Delete            [][2]string        `json:"delete"`
			ListedAfterDelete []string           `json:"listed_after_delete"`
		} `json:"group"`
		Delete            map[string]int16 `json:"delete"`
		DeleteUnknown     pyError          `json:"delete_unknown"`
		TopicsAfterDelete []string         `json:"topics_after_delete"`
		LoadRetries       int              `json:"load_retries"`
	}
	kafkaPython(t, b, &res, "admin")
	t.Logf("kafka-python infers broker version %v; list_consumer_groups retried %d answers of COORDINATOR_LOAD_IN_PROGRESS", res.APIVersion, res.LoadRetries)

	// ListGroups on a broker without __consumer_offsets: an empty list.
	if len(res.GroupsBefore) != 0 {
		t.Errorf("groups before any existed: %v", res.GroupsBefore)
	}

	// CreateTopics v3.
	if want := map[string]int16{"py-admin": 0, "py-admin-2": 0}; !maps.Equal(res.Create, want) {
		t.Errorf("create_topics: %v, want %v", res.Create, want)
	}
	wantError(t, "create_topics with an invalid name", res.CreateInvalid, "InvalidTopicError", kerr.InvalidTopicException)
	wantError(t, "create_topics of an existing topic", res.CreateExisting, "TopicAlreadyExistsError", kerr.TopicAlreadyExists)
	wantError(t, "create_topics validate_only with an invalid name", res.CreateInvalidValidateOnly, "InvalidTopicError", kerr.InvalidTopicException)
	if want := map[string]int16{"py-admin-validated": 0}; !maps.Equal(res.CreateValidateOnly, want) {
		t.Errorf("create_topics validate_only: %v, want %v", res.CreateValidateOnly, want)
	}
	if want := []string{"py-admin", "py-admin-2"}; !slices.Equal(res.Topics, want) {
		t.Errorf("list_topics after creating: %v, want %v (validate_only creates nothing)", res.Topics, want)
	}

	// Metadata.
	if got, want := jsonString(t, res.DescribeTopics), `[{"topic":"py-admin","error":0,"internal":false,"partitions":[[0,1,[1],[1],0],[1,1,[1],[1],0],[2,1,[1],[1],0]]},`+
		`{"topic":"py-admin-2","error":0,"internal":false,"partitions":[[0,1,[1],[1],0]]}]`; got != want {
		t.Errorf("describe_topics: %s\nwant (partition, leader, replicas, isr, error) %s", got, want)
	}

	// DescribeConfigs v2 and AlterConfigs v1, whose set replaces the
	// topic's configs: max.message.bytes, set at creation, is back to its
	// default afterwards.
	created := res.ConfigsCreated["py-admin"]
	wantInteropConfig(t, "created topic", created, "retention.ms", "3600000", kmsg.ConfigSourceDynamicTopicConfig)
	wantInteropConfig(t, "created topic", created, "max.message.bytes", "200000", kmsg.ConfigSourceDynamicTopicConfig)
	wantInteropConfig(t, "created topic", created, "cleanup.policy", "delete", kmsg.ConfigSourceDefaultConfig)
	broker := res.ConfigsBroker["1"]
	if len(broker) != 2 || !broker["num.partitions"].ReadOnly {
		t.Errorf("broker configs asked for by name: %+v, want num.partitions (read-only) and log.retention.hours", broker)
	}
	wantInteropConfig(t, "broker", broker, "num.partitions", "1", kmsg.ConfigSourceDefaultConfig)
	wantInteropConfig(t, "broker", broker, "log.retention.hours", "168", kmsg.ConfigSourceDefaultConfig)
	if want := map[string]int16{"py-admin": 0}; !maps.Equal(res.Alter, want) {
		t.Errorf("alter_configs: %v, want %v", res.Alter, want)
	}
	if want := map[string]int16{"py-admin": kerr.InvalidConfig.Code}; !maps.Equal(res.AlterUnknown, want) {
		t.Errorf("alter_configs of an unknown config: %v, want %v (INVALID_CONFIG)", res.AlterUnknown, want)
	}
	altered := res.ConfigsAltered["py-admin"]
	if len(altered) != 2 {
		t.Errorf("configs asked for by name after alter_configs: %+v, want retention.ms and max.message.bytes", altered)
	}
	wantInteropConfig(t, "altered topic", altered, "retention.ms", "7200000", kmsg.ConfigSourceDynamicTopicConfig)
	wantInteropConfig(t, "altered topic", altered, "max.message.bytes", "1048588", kmsg.ConfigSourceDefaultConfig)
	adm := kadm.NewClient(newClient(t, b))
	rcs, err := adm.DescribeTopicConfigs(ctxT(t), "py-admin")
	if err != nil {
		t.Fatal(err)
	}
	rc, err := rcs.On("py-admin", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rc.Configs {
		if c.Source == kmsg.ConfigSourceDynamicTopicConfig && (c.Key != "retention.ms" || c.MaybeValue() != "7200000") {
			t.Errorf("kadm sees topic config %s=%s after alter_configs; only retention.ms=7200000 should be set", c.Key, c.MaybeValue())
		}
	}

	// CreatePartitions v1.
	if want := map[string]int16{"py-admin": 0}; !maps.Equal(res.PartitionsGrow, want) || !maps.Equal(res.PartitionsValidateOnly, want) {
		t.Errorf("create_partitions: %v, validate_only: %v; want %v", res.PartitionsGrow, res.PartitionsValidateOnly, want)
	}
	wantError(t, "create_partitions to fewer partitions", res.PartitionsShrink, "InvalidPartitionsError", kerr.InvalidPartitions)
	td, err := adm.ListTopics(ctxT(t), "py-admin")
	if err != nil {
		t.Fatal(err)
	}
	if res.PartitionsAfter != 5 || len(td["py-admin"].Partitions) != 5 {
		t.Errorf("py-admin has %d partitions (kadm: %d), want 5 (validate_only adds none)", res.PartitionsAfter, len(td["py-admin"].Partitions))
	}

	// Groups: ListGroups, DescribeGroups, OffsetFetch, DeleteGroups.
	g := res.Group
	if want := [][2]string{{"py-admin-group", "consumer"}}; !slices.Equal(g.Listed, want) {
		t.Errorf("list_consumer_groups: %v, want %v", g.Listed, want)
	}
	live := g.DescribeLive
	if live.Error != 0 || live.State != "Stable" || live.ProtocolType != "consumer" || live.Protocol != "range" || len(live.Members) != 1 {
		t.Fatalf("describe_consumer_groups of a live group: %+v, want Stable, consumer/range, one member", live)
	}
	m := live.Members[0]
	if got, want := jsonString(t, m.Assignment), `[["py-admin",[0,1,2,3,4]]]`; m.ClientID != "py-admin-member" || got != want || !slices.Equal(m.Subscription, []string{"py-admin"}) {
		t.Errorf("member %+v (assignment %s), want client py-admin-member subscribed to py-admin and assigned %s", m, got, want)
	}
	if got, want := jsonString(t, g.Offsets), `[["py-admin",0,1,"meta-0"],["py-admin",1,2,"meta-1"],["py-admin",2,3,"meta-2"],["py-admin",3,4,"meta-3"],["py-admin",4,5,"meta-4"]]`; got != want {
		t.Errorf("list_consumer_group_offsets: %s, want %s", got, want)
	}
	if e := g.DescribeEmpty; e.Error != 0 || e.State != "Empty" || len(e.Members) != 0 {
		t.Errorf("describe_consumer_groups after the member closed: %+v, want Empty", e)
	}
	if want := [][2]string{{"py-admin-group", "NoError"}, {"py-admin-missing", "GroupIdNotFoundError"}}; !slices.Equal(g.Delete, want) {
		t.Errorf("delete_consumer_groups: %v, want %v", g.Delete, want)
	}
	if len(g.ListedAfterDelete) != 0 {
		t.Errorf("list_consumer_groups after deleting: %v", g.ListedAfterDelete)
	}

	// DeleteTopics v3.
	if want := map[string]int16{"py-admin-2": 0}; !maps.Equal(res.Delete, want) {
		t.Errorf("delete_topics: %v, want %v", res.Delete, want)
	}
	wantError(t, "delete_topics of a missing topic", res.DeleteUnknown, "UnknownTopicOrPartitionError", kerr.UnknownTopicOrPartition)
	if want := []string{"__consumer_offsets", "py-admin"}; !slices.Equal(res.TopicsAfterDelete, want) {
		t.Errorf("list_topics after delete_topics: %v, want %v", res.TopicsAfterDelete, want)
	}
	if td, err := adm.ListTopics(ctxT(t)); err != nil || td.Has("py-admin-2") {
		t.Errorf("kadm still lists py-admin-2 after delete_topics (%v)", err)
	}
}

// pyTopic is a topic of describe_topics; each partition is (partition,
// leader, replicas, isr, error code).
type pyTopic struct {
	Topic      string   `json:"topic"`
	Error      int16    `json:"error"`
	Internal   bool     `json:"internal"`
	Partitions [][5]any `json:"partitions"`
}

func wantError(t *testing.T, what string, got pyError, name string, want *kerr.Error) {
	t.Helper()
	if got.Name == nil || *got.Name != name || got.Code != want.Code {
		t.Errorf("%s raised %s (error %d), want %s (%s)", what, derefOr(got.Name, "nothing"), got.Code, name, want.Message)
	}
}

func TestKafkaPython_ProducerEachCodecStoredCompressed(t *testing.T) {
	requireKafkaPython(t)
	b := startBroker(t, testConfig(t, t.TempDir()))
	adm := kadm.NewClient(newClient(t, b))
	for _, codec := range []record.Codec{record.CodecNone, record.CodecGzip, record.CodecSnappy, record.CodecLZ4, record.CodecZstd} {
		t.Run(codec.String(), func(t *testing.T) {
			requireKafkaPythonCodec(t, codec)
			topic := "py-" + codec.String()
			createTopic(t, adm, topic, 2)
			var res struct {
				Records []sentRecord `json:"records"`
			}
			kafkaPython(t, b, &res, "produce", topic, codec.String(), "60")
			if len(res.Records) != 60 {
				t.Fatalf("the script reports %d records, want 60", len(res.Records))
			}
			checkProducedRecords(t, b, topic, 2, codec, res.Records)
		})
	}
}

func TestKafkaPython_GroupSplitsCommitsAndResumes(t *testing.T) {
	requireKafkaPython(t)
	b := startBroker(t, groupConfig(t, t.TempDir()))
	interopGroupScenario(t, b, "kafka-python", "py-group", true, func(result any, cmd string, args ...string) {
		kafkaPython(t, b, result, cmd, args...)
	})
}

func TestKafkaPython_AssignSeekAndOffsetsByTime(t *testing.T) {
	requireKafkaPython(t)
	b := startBroker(t, groupConfig(t, t.TempDir()))
	prod := plainProducer(t, b)
	adm := kadm.NewClient(prod)
	const topic = "py-assign"
	createTopic(t, adm, topic, 2)
	// Ten records a second apart in each partition, an hour ago.
	base := time.Now().Add(-time.Hour).Truncate(time.Second).UnixMilli()
	var recs []*kgo.Record
	for p := range int32(2) {
		for i := range 10 {
			recs = append(recs, &kgo.Record{Topic: topic, Partition: p, Timestamp: timeMillis(base + int64(i)*1000),
				Value: []byte(fmt.Sprintf("r-%d-%d", p, i))})
		}
	}
	if err := prod.ProduceSync(ctxT(t), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	// Partition 1 starts at offset 2.
	del := kadm.Offsets{}
	del.Add(kadm.Offset{Topic: topic, Partition: 1, At: 2})
	if dr, err := adm.DeleteRecords(ctxT(t), del); err != nil || dr.Error() != nil {
		t.Fatalf("DeleteRecords: %v %v", err, dr.Error())
	}

	var res struct {
		Assignment           []int32              `json:"assignment"`
		Beginning            map[string]int64     `json:"beginning"`
		End                  map[string]int64     `json:"end"`
		ForTimes             map[string]*[2]int64 `json:"for_times"`
		ForTimesFuture       map[string]*[2]int64 `json:"for_times_future"`
		AfterSeek            [][3]any             `json:"after_seek"`
		PositionBeginning    map[string]int64     `json:"position_beginning"`
		AfterSeekToBeginning [][3]any             `json:"after_seek_to_beginning"`
		PositionEnd          int64                `json:"position_end"`
		Committed            int64                `json:"committed"`
	}
	kafkaPython(t, b, &res, "assign", topic, "py-assign", strconv.FormatInt(base+4500, 10))

	if !slices.Equal(res.Assignment, []int32{0, 1}) {
		t.Errorf("assignment %v, want [0 1]", res.Assignment)
	}
	if want := map[string]int64{"0": 0, "1": 2}; !maps.Equal(res.Beginning, want) {
		t.Errorf("beginning_offsets %v, want %v", res.Beginning, want)
	}
	if want := map[string]int64{"0": 10, "1": 10}; !maps.Equal(res.End, want) {
		t.Errorf("end_offsets %v, want %v", res.End, want)
	}
	// The first record at or after base+4.5s is the one at base+5s, offset 5.
	for _, p := range []string{"0", "1"} {
		if got := res.ForTimes[p]; got == nil || *got != [2]int64{5, base + 5000} {
			t.Errorf("offsets_for_times partition %s: %v, want offset 5 at %d", p, got, base+5000)
		}
		if got, ok := res.ForTimesFuture[p]; !ok || got != nil {
			t.Errorf("offsets_for_times after the last record, partition %s: %v (present %v), want None", p, got, ok)
		}
	}
	wantRead := func(what string, got [][3]any, p int32, offsets ...int64) {
		t.Helper()
		if len(got) != len(offsets) {
			t.Fatalf("%s: read %v, want offsets %v", what, got, offsets)
		}
		for i, o := range offsets {
			want := [3]any{float64(o), float64(base + o*1000), fmt.Sprintf("r-%d-%d", p, o)}
			if got[i] != want {
				t.Errorf("%s: record %d is %v, want %v", what, i, got[i], want)
			}
		}
	}
	wantRead("poll after seek(p0, 5)", res.AfterSeek, 0, 5, 6, 7)
	if want := map[string]int64{"0": 0, "1": 2}; !maps.Equal(res.PositionBeginning, want) {
		t.Errorf("positions after seek_to_beginning %v, want %v", res.PositionBeginning, want)
	}
	wantRead("poll of p1 after seek_to_beginning", res.AfterSeekToBeginning, 1, 2)
	if res.PositionEnd != 10 {
		t.Errorf("position after seek_to_end: %d, want 10", res.PositionEnd)
	}
	if res.Committed != 7 {
		t.Errorf("committed after commit at 7: %d", res.Committed)
	}
	offs, err := adm.FetchOffsets(ctxT(t), "py-assign")
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := offs.Lookup(topic, 0); !ok || o.At != 7 || o.Metadata != "assigned" {
		t.Errorf("kadm sees the assigned consumer's commit as %+v (found %v), want 7 with metadata \"assigned\"", o, ok)
	}
}
