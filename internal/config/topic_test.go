package config

import (
	"errors"
	"maps"
	"math"
	"reflect"
	"strings"
	"testing"
)

func ptr(s string) *string { return &s }

func TestValidateTopicConfigs(t *testing.T) {
	tests := []struct {
		name string
		cfgs map[string]*string
		want string // "" for success; otherwise the whole error text
	}{
		{"empty", nil, ""},
		{"good values", map[string]*string{"retention.ms": ptr("-1"), "cleanup.policy": ptr("compact,delete"), "compression.type": ptr("zstd")}, ""},
		{"nil deletes", map[string]*string{"segment.bytes": nil}, ""},
		{"unknown key", map[string]*string{"foo.bar": ptr("1")}, `unknown topic configuration "foo.bar"`},
		{"unknown even when deleting", map[string]*string{"foo.bar": nil}, `unknown topic configuration "foo.bar"`},
		{"broker-only key", map[string]*string{"log.retention.ms": ptr("1")}, `unknown topic configuration "log.retention.ms"`},
		{"bad value", map[string]*string{"segment.bytes": ptr("abc")}, `invalid value "abc" for configuration segment.bytes: not a number`},
		{"all problems sorted", map[string]*string{"segment.ms": ptr("0"), "a.b": ptr("1")},
			`unknown topic configuration "a.b"` + "\n" + `invalid value "0" for configuration segment.ms: must be at least 1`},
		{"compaction lag conflict", map[string]*string{"min.compaction.lag.ms": ptr("10"), "max.compaction.lag.ms": ptr(" 5")},
			"configuration min.compaction.lag.ms (10) must not exceed max.compaction.lag.ms (5)"},
		{"compaction lag fine", map[string]*string{"min.compaction.lag.ms": ptr("5"), "max.compaction.lag.ms": ptr("5")}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateTopicConfigs(tt.cfgs)
			if tt.want == "" {
				if err != nil {
					t.Errorf("got %v, want nil", err)
				}
				return
			}
			if err == nil || err.Error() != tt.want {
				t.Errorf("got %v, want %q", err, tt.want)
			}
		})
	}
	var uk *UnknownKeyError
	if err := ValidateTopicConfigs(map[string]*string{"x": nil}); !errors.As(err, &uk) || uk.Scope != ScopeTopic {
		t.Errorf("unknown key error type: %T", err)
	}
}

func TestTopicDefaultsFollowBroker(t *testing.T) {
	// An unconfigured broker gives every topic key its own table default.
	defaults := newBroker(t, nil).TopicDefaults()
	for _, k := range TopicKeys() {
		if defaults[k.Name] != k.Default {
			t.Errorf("%s: default broker gives %q, table says %q", k.Name, defaults[k.Name], k.Default)
		}
	}
	if len(defaults) != len(TopicKeys()) {
		t.Errorf("%d defaults for %d keys", len(defaults), len(TopicKeys()))
	}

	b := newBroker(t, map[string]string{
		"log.retention.hours":             "1",
		"log.roll.hours":                  "2",
		"message.max.bytes":               "2000000",
		"log.cleanup.policy":              "compact",
		"compression.type":                "lz4",
		"log.cleaner.min.cleanable.ratio": "0.75",
		"log.flush.scheduler.interval.ms": "3000",
		"log.preallocate":                 "true",
		"min.insync.replicas":             "2",
	})
	got := b.TopicDefaults()
	for name, want := range map[string]string{
		"retention.ms":              "3600000",
		"segment.ms":                "7200000",
		"max.message.bytes":         "2000000",
		"cleanup.policy":            "compact",
		"compression.type":          "lz4",
		"min.cleanable.dirty.ratio": "0.75",
		"flush.ms":                  "3000",
		"preallocate":               "true",
		"min.insync.replicas":       "2",
		"segment.bytes":             "1073741824",
	} {
		if got[name] != want {
			t.Errorf("TopicDefaults()[%s] = %q, want %q", name, got[name], want)
		}
	}
}

func TestResolveTopic(t *testing.T) {
	b := newBroker(t, map[string]string{"log.retention.hours": "1", "log.segment.bytes": "4096"})
	c := b.ResolveTopic(map[string]string{
		"retention.ms":   "1000",
		"cleanup.policy": "compact,delete",
		"segment.ms":     "not-a-number", // invalid: ignored in favour of the default
		"foo.bar":        "x",            // unknown: ignored
	})
	want := TopicConfig{
		CleanupPolicy:               []string{"compact", "delete"},
		CompressionType:             "producer",
		DeleteRetentionMs:           86_400_000,
		FileDeleteDelayMs:           60_000,
		FlushMessages:               math.MaxInt64,
		FlushMs:                     math.MaxInt64,
		IndexIntervalBytes:          4096,
		MaxCompactionLagMs:          math.MaxInt64,
		MaxMessageBytes:             1048588,
		MessageTimestampType:        "CreateTime",
		MessageTimestampBeforeMaxMs: math.MaxInt64,
		MessageTimestampAfterMaxMs:  3_600_000,
		MinCleanableDirtyRatio:      0.5,
		MinCompactionLagMs:          0,
		MinInsyncReplicas:           1,
		Preallocate:                 false,
		RetentionBytes:              -1,
		RetentionMs:                 1000,
		SegmentBytes:                4096,
		SegmentIndexBytes:           10485760,
		SegmentJitterMs:             0,
		SegmentMs:                   604_800_000,
		UncleanLeaderElectionEnable: false,
	}
	got := c
	got.Values, got.Sources = nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ResolveTopic:\n got %+v\nwant %+v", got, want)
	}
	sources := map[string]Source{
		"retention.ms":     SourceTopicConfig,
		"cleanup.policy":   SourceTopicConfig,
		"segment.bytes":    SourceStaticBrokerConfig,
		"segment.ms":       SourceDefaultConfig,
		"compression.type": SourceDefaultConfig,
	}
	for name, want := range sources {
		if c.Sources[name] != want {
			t.Errorf("Sources[%s] = %d, want %d", name, c.Sources[name], want)
		}
	}
	if len(c.Sources) != len(TopicKeys()) || len(c.Values) != len(TopicKeys()) {
		t.Errorf("%d sources, %d values for %d keys", len(c.Sources), len(c.Values), len(TopicKeys()))
	}
	if c.Values["retention.ms"] != "1000" || c.Values["cleanup.policy"] != "compact,delete" || c.Values["segment.bytes"] != "4096" {
		t.Errorf("Values = %v", c.Values)
	}
	if !c.Compact() || !c.Delete() {
		t.Error("Compact/Delete do not reflect cleanup.policy")
	}
	// Every key is settable through an override.
	overrides := map[string]string{}
	for _, k := range TopicKeys() {
		overrides[k.Name] = k.Default
	}
	all := b.ResolveTopic(overrides)
	for name, src := range all.Sources {
		if src != SourceTopicConfig {
			t.Errorf("%s: source %d with an override", name, src)
		}
	}
	if !maps.Equal(all.Values, overrides) {
		t.Errorf("Values with overrides = %v", all.Values)
	}
}

func TestTopicConfig_CheckConflicts(t *testing.T) {
	b := newBroker(t, map[string]string{"log.cleaner.max.compaction.lag.ms": "100"})
	if err := b.ResolveTopic(map[string]string{"min.compaction.lag.ms": "50"}).CheckConflicts(); err != nil {
		t.Errorf("got %v", err)
	}
	err := b.ResolveTopic(map[string]string{"min.compaction.lag.ms": "500"}).CheckConflicts()
	if err == nil || !strings.Contains(err.Error(), "min.compaction.lag.ms (500) must not exceed max.compaction.lag.ms (100)") {
		t.Errorf("got %v", err)
	}
}
