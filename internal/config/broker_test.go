package config

import (
	"errors"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
)

func newBroker(t *testing.T, props map[string]string) *Broker {
	t.Helper()
	b, err := NewBroker(props)
	if err != nil {
		t.Fatalf("NewBroker(%v): %v", props, err)
	}
	return b
}

func TestNewBroker_Defaults(t *testing.T) {
	b := newBroker(t, nil)
	if got := b.List("listeners"); !slices.Equal(got, []string{"PLAINTEXT://127.0.0.1:9092"}) {
		t.Errorf("listeners = %q", got)
	}
	if got := b.List("log.dirs"); !slices.Equal(got, []string{"./data"}) {
		t.Errorf("log.dirs = %q", got)
	}
	checks := []struct {
		name string
		got  any
		want any
	}{
		{"node.id", b.Int("node.id"), int32(1)},
		{"num.partitions", b.Int("num.partitions"), int32(1)},
		{"message.max.bytes", b.Int("message.max.bytes"), int32(1048588)},
		{"log.retention.ms", b.Long("log.retention.ms"), int64(604800000)},
		{"log.roll.ms", b.Long("log.roll.ms"), int64(604800000)},
		{"log.roll.jitter.ms", b.Long("log.roll.jitter.ms"), int64(0)},
		{"log.flush.interval.ms", b.Long("log.flush.interval.ms"), int64(math.MaxInt64)},
		{"log.flush.interval.messages", b.Long("log.flush.interval.messages"), int64(math.MaxInt64)},
		{"group.max.size", b.Int("group.max.size"), int32(math.MaxInt32)},
		{"offsets.topic.replication.factor", b.Int("offsets.topic.replication.factor"), int32(1)},
		{"auto.create.topics.enable", b.Bool("auto.create.topics.enable"), true},
		{"unclean.leader.election.enable", b.Bool("unclean.leader.election.enable"), false},
		{"log.cleaner.min.cleanable.ratio", b.Double("log.cleaner.min.cleanable.ratio"), 0.5},
		{"log.cleaner.io.max.bytes.per.second", b.Double("log.cleaner.io.max.bytes.per.second"), math.MaxFloat64},
		{"compression.type", b.String("compression.type"), "producer"},
		{"basket.log.flush.policy", b.String("basket.log.flush.policy"), "sync"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	for _, k := range BrokerKeys() {
		v, ok := b.Value(k.Name)
		if ok == k.Nullable || (ok && v != k.Default) || b.Source(k.Name) != SourceDefaultConfig {
			t.Errorf("%s: Value = %q, %v; Source = %d; want the default", k.Name, v, ok, b.Source(k.Name))
		}
	}
}

func TestNewBroker_RejectsUnknownKey(t *testing.T) {
	for _, name := range []string{"foo.bar", "retention.ms", "segment.bytes"} {
		_, err := NewBroker(map[string]string{name: "1"})
		var uk *UnknownKeyError
		if !errors.As(err, &uk) || uk.Name != name {
			t.Errorf("NewBroker(%s) = %v, want *UnknownKeyError", name, err)
			continue
		}
		if want := `unknown configuration "` + name + `"`; err.Error() != want {
			t.Errorf("error %q, want %q", err, want)
		}
	}
}

func TestNewBroker_RejectsInvalidValue(t *testing.T) {
	_, err := NewBroker(map[string]string{"log.segment.bytes": "abc"})
	if want := `invalid value "abc" for configuration log.segment.bytes: not a number`; err == nil || err.Error() != want {
		t.Errorf("got %v, want %q", err, want)
	}
}

func TestNewBroker_ReportsEveryProblemSorted(t *testing.T) {
	_, err := NewBroker(map[string]string{"zz": "1", "num.partitions": "0", "aa": "1"})
	want := `unknown configuration "aa"` + "\n" +
		`invalid value "0" for configuration num.partitions: must be at least 1` + "\n" +
		`unknown configuration "zz"`
	if err == nil || err.Error() != want {
		t.Errorf("got:\n%v\nwant:\n%s", err, want)
	}
}

func TestNewBroker_CrossKeyRules(t *testing.T) {
	tests := []struct {
		props map[string]string
		want  string
	}{
		{map[string]string{"log.cleaner.min.compaction.lag.ms": "10", "log.cleaner.max.compaction.lag.ms": "5"},
			"log.cleaner.min.compaction.lag.ms (10) must not exceed log.cleaner.max.compaction.lag.ms (5)"},
		{map[string]string{"group.min.session.timeout.ms": "1900000"},
			"group.min.session.timeout.ms (1900000) must not exceed group.max.session.timeout.ms (1800000)"},
		{map[string]string{"advertised.listeners": "SSL://h:9093"},
			"advertised.listeners names listener SSL"},
	}
	for _, tt := range tests {
		_, err := NewBroker(tt.props)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewBroker(%v) = %v, want %q", tt.props, err, tt.want)
		}
	}
}

func TestRetentionPrecedence(t *testing.T) {
	tests := []struct {
		name   string
		props  map[string]string
		wantMs int64
		src    Source
	}{
		{"default 168 hours", nil, 168 * 3_600_000, SourceDefaultConfig},
		{"hours", map[string]string{"log.retention.hours": "1"}, 3_600_000, SourceStaticBrokerConfig},
		{"minutes beat hours", map[string]string{"log.retention.hours": "1", "log.retention.minutes": "2"}, 120_000, SourceStaticBrokerConfig},
		{"ms beats minutes", map[string]string{"log.retention.minutes": "2", "log.retention.ms": "500"}, 500, SourceStaticBrokerConfig},
		{"ms beats all", map[string]string{"log.retention.hours": "1", "log.retention.minutes": "2", "log.retention.ms": "7"}, 7, SourceStaticBrokerConfig},
		{"ms -1 forever", map[string]string{"log.retention.ms": "-1"}, -1, SourceStaticBrokerConfig},
		{"hours -1 forever", map[string]string{"log.retention.hours": "-1"}, -1, SourceStaticBrokerConfig},
		{"minutes -1 forever", map[string]string{"log.retention.minutes": "-1", "log.retention.hours": "5"}, -1, SourceStaticBrokerConfig},
		{"hours set to default still counts", map[string]string{"log.retention.hours": "168"}, 168 * 3_600_000, SourceStaticBrokerConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBroker(t, tt.props)
			if got := b.Long("log.retention.ms"); got != tt.wantMs {
				t.Errorf("log.retention.ms = %d, want %d", got, tt.wantMs)
			}
			c := b.ResolveTopic(nil)
			if c.RetentionMs != tt.wantMs || c.Sources["retention.ms"] != tt.src {
				t.Errorf("topic retention.ms = %d (source %d), want %d (source %d)", c.RetentionMs, c.Sources["retention.ms"], tt.wantMs, tt.src)
			}
		})
	}
	// The key's own value stays what DescribeConfigs shows: null when unset.
	b := newBroker(t, map[string]string{"log.retention.hours": "1"})
	if v, ok := b.Value("log.retention.ms"); ok || b.Source("log.retention.ms") != SourceDefaultConfig {
		t.Errorf("own log.retention.ms = %q, %v; want null default", v, ok)
	}
	if v, ok := b.Value("log.retention.hours"); !ok || v != "1" || b.Source("log.retention.hours") != SourceStaticBrokerConfig {
		t.Errorf("own log.retention.hours = %q, %v", v, ok)
	}
}

func TestSynonymPrecedence(t *testing.T) {
	tests := []struct {
		name  string
		props map[string]string
		key   string
		want  any
	}{
		{"roll hours", map[string]string{"log.roll.hours": "2"}, "log.roll.ms", int64(7_200_000)},
		{"roll ms beats hours", map[string]string{"log.roll.hours": "2", "log.roll.ms": "10"}, "log.roll.ms", int64(10)},
		{"jitter hours", map[string]string{"log.roll.jitter.hours": "1"}, "log.roll.jitter.ms", int64(3_600_000)},
		{"flush falls back to scheduler", map[string]string{"log.flush.scheduler.interval.ms": "1000"}, "log.flush.interval.ms", int64(1000)},
		{"flush ms beats scheduler", map[string]string{"log.flush.scheduler.interval.ms": "1000", "log.flush.interval.ms": "5"}, "log.flush.interval.ms", int64(5)},
	}
	for _, tt := range tests {
		b := newBroker(t, tt.props)
		if got := b.Long(tt.key); got != tt.want {
			t.Errorf("%s: %s = %v, want %v", tt.name, tt.key, got, tt.want)
		}
	}
	lists := []struct {
		props map[string]string
		want  []string
	}{
		{map[string]string{"log.dir": "/old"}, []string{"/old"}},
		{map[string]string{"log.dir": "/old", "log.dirs": "/a,/b"}, []string{"/a", "/b"}},
		{map[string]string{"log.dirs": "./data"}, []string{"./data"}},
	}
	for _, tt := range lists {
		if got := newBroker(t, tt.props).List("log.dirs"); !slices.Equal(got, tt.want) {
			t.Errorf("%v: log.dirs = %q, want %q", tt.props, got, tt.want)
		}
	}
}

func TestBroker_Listeners(t *testing.T) {
	b := newBroker(t, map[string]string{"listeners": "PLAINTEXT://:9092,SSL://0.0.0.0:9093"})
	want := []Listener{{"PLAINTEXT", "", 9092}, {"SSL", "0.0.0.0", 9093}}
	if got := b.Listeners(); !slices.Equal(got, want) {
		t.Errorf("Listeners = %+v", got)
	}
	if got := b.AdvertisedListeners(); !slices.Equal(got, want) {
		t.Errorf("AdvertisedListeners falls back to %+v, want %+v", got, want)
	}
	b = newBroker(t, map[string]string{"listeners": "PLAINTEXT://:9092", "advertised.listeners": "plaintext://b1:9092"})
	if got := b.AdvertisedListeners(); !slices.Equal(got, []Listener{{"PLAINTEXT", "b1", 9092}}) {
		t.Errorf("AdvertisedListeners = %+v", got)
	}
}

func TestBroker_CanonicalValues(t *testing.T) {
	b := newBroker(t, map[string]string{
		"num.partitions": " 3 ", "delete.topic.enable": "FALSE", "log.cleanup.policy": "compact , delete",
		"log.cleaner.min.cleanable.ratio": ".25",
	})
	for name, want := range map[string]string{
		"num.partitions": "3", "delete.topic.enable": "false", "log.cleanup.policy": "compact,delete",
		"log.cleaner.min.cleanable.ratio": "0.25",
	} {
		if got, _ := b.Value(name); got != want {
			t.Errorf("Value(%s) = %q, want %q", name, got, want)
		}
	}
	if v, ok := b.Value("foo.bar"); ok || v != "" || b.Source("foo.bar") != 0 {
		t.Errorf("unknown key: Value = %q, %v; Source = %d", v, ok, b.Source("foo.bar"))
	}
}

func TestBroker_GetterPanicsOnMisuse(t *testing.T) {
	b := newBroker(t, nil)
	for name, get := range map[string]func(){
		"unknown":        func() { b.Long("foo.bar") },
		"topic key":      func() { b.Long("retention.ms") },
		"int as bool":    func() { b.Bool("num.partitions") },
		"long as int":    func() { b.Int("log.retention.ms") },
		"list as string": func() { b.String("log.dirs") },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			get()
		}()
	}
}

func TestBroker_ConcurrentReads(t *testing.T) {
	b := newBroker(t, map[string]string{"log.retention.minutes": "5"})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				_ = b.Long("log.retention.ms")
				_ = b.TopicDefaults()
				c := b.ResolveTopic(map[string]string{"segment.bytes": "1024"})
				c.CleanupPolicy = append(c.CleanupPolicy, "x") // callers own what they get
				l := b.List("log.dirs")
				l[0] = "mutated"
			}
		}()
	}
	wg.Wait()
	if got := b.List("log.dirs")[0]; got != "./data" {
		t.Errorf("a caller's mutation leaked: %q", got)
	}
}
