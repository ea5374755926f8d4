package config

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestBroker_WithDynamic(t *testing.T) {
	b := newBroker(t, map[string]string{"log.retention.hours": "1", "log.segment.bytes": "1000"})
	d, err := b.WithDynamic(map[string]string{"log.retention.ms": "42", "message.max.bytes": "2000"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Long("log.retention.ms") != 42 || d.Source("log.retention.ms") != SourceDynamicBrokerConfig {
		t.Errorf("dynamic retention = %d (source %d)", d.Long("log.retention.ms"), d.Source("log.retention.ms"))
	}
	if d.Int("log.segment.bytes") != 1000 || d.Source("log.segment.bytes") != SourceStaticBrokerConfig {
		t.Error("static value lost under the dynamic layer")
	}
	if c := d.ResolveTopic(nil); c.MaxMessageBytes != 2000 || c.Sources["max.message.bytes"] != SourceDynamicBrokerConfig {
		t.Errorf("topic max.message.bytes = %d (source %d)", c.MaxMessageBytes, c.Sources["max.message.bytes"])
	}
	if b.Long("log.retention.ms") != 3_600_000 {
		t.Error("WithDynamic changed the original")
	}
	// Replacing the dynamic layer drops keys left out.
	d2, err := d.WithDynamic(nil)
	if err != nil || d2.Long("log.retention.ms") != 3_600_000 {
		t.Errorf("after clearing: %d, %v", d2.Long("log.retention.ms"), err)
	}

	_, err = b.WithDynamic(map[string]string{"node.id": "2"})
	var ro *ReadOnlyError
	if !errors.As(err, &ro) || ro.Name != "node.id" || !strings.Contains(err.Error(), "node.id is read-only") {
		t.Errorf("read-only change: %v", err)
	}
	for props, want := range map[string]string{
		"retention.ms":        `unknown configuration "retention.ms"`,
		"min.insync.replicas": `invalid value "0" for configuration min.insync.replicas`,
	} {
		if _, err := b.WithDynamic(map[string]string{props: "0"}); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("WithDynamic(%s) = %v, want %q", props, err, want)
		}
	}
	_, err = b.WithDynamic(map[string]string{"log.cleaner.min.compaction.lag.ms": "10", "log.cleaner.max.compaction.lag.ms": "5"})
	if err == nil {
		t.Error("WithDynamic skipped the cross-key rules")
	}
}

func TestSynonyms(t *testing.T) {
	tests := map[string][]string{
		"retention.ms":          {"retention.ms", "log.retention.ms", "log.retention.minutes", "log.retention.hours"},
		"log.retention.minutes": {"log.retention.minutes", "log.retention.hours"},
		"segment.ms":            {"segment.ms", "log.roll.ms", "log.roll.hours"},
		"flush.ms":              {"flush.ms", "log.flush.interval.ms", "log.flush.scheduler.interval.ms"},
		"log.dirs":              {"log.dirs", "log.dir"},
		"compression.type":      {"compression.type"},
		"max.message.bytes":     {"max.message.bytes", "message.max.bytes"},
		"advertised.listeners":  {"advertised.listeners"},
		"foo.bar":               nil,
	}
	for name, want := range tests {
		if got := Synonyms(name); !slices.Equal(got, want) {
			t.Errorf("Synonyms(%s) = %q, want %q", name, got, want)
		}
	}
}
