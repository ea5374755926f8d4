package config

import (
	"slices"
	"strings"
	"testing"
)

func TestType_KafkaCodes(t *testing.T) {
	want := map[Type]int8{Boolean: 1, String: 2, Int: 3, Short: 4, Long: 5, Double: 6, List: 7, Class: 8, Password: 9}
	for typ, code := range want {
		if typ.Code() != code {
			t.Errorf("%s.Code() = %d, want %d", typ, typ.Code(), code)
		}
	}
	if Long.String() != "long" || Type(42).String() != "Type(42)" {
		t.Errorf("String() = %q, %q", Long.String(), Type(42).String())
	}
}

func TestSource_KafkaCodes(t *testing.T) {
	for src, code := range map[Source]int8{
		SourceTopicConfig: 1, SourceDynamicBrokerConfig: 2, SourceDynamicDefaultBrokerConfig: 3,
		SourceStaticBrokerConfig: 4, SourceDefaultConfig: 5,
	} {
		if int8(src) != code {
			t.Errorf("source %d, want %d", src, code)
		}
	}
}

func TestLookup(t *testing.T) {
	tests := []struct {
		name  string
		scope Scope
		typ   Type
	}{
		{"log.retention.ms", ScopeBroker, Long},
		{"retention.ms", ScopeTopic, Long},
		{"compression.type", ScopeBoth, String},
		{"min.insync.replicas", ScopeBoth, Int},
		{"offsets.topic.replication.factor", ScopeBroker, Short},
		{"log.cleaner.min.cleanable.ratio", ScopeBroker, Double},
		{"basket.log.flush.policy", ScopeBroker, String},
	}
	for _, tt := range tests {
		k, ok := Lookup(tt.name)
		if !ok {
			t.Errorf("Lookup(%q) not found", tt.name)
			continue
		}
		if k.Scope != tt.scope || k.Type != tt.typ {
			t.Errorf("%s: scope %d type %s, want %d %s", tt.name, k.Scope, k.Type, tt.scope, tt.typ)
		}
	}
	if _, ok := Lookup("foo.bar"); ok {
		t.Error(`Lookup("foo.bar") found a key`)
	}
}

func TestKeys_SortedAndScoped(t *testing.T) {
	for _, tc := range []struct {
		name  string
		keys  []*Key
		scope Scope
	}{{"broker", BrokerKeys(), ScopeBroker}, {"topic", TopicKeys(), ScopeTopic}} {
		if !slices.IsSortedFunc(tc.keys, func(a, b *Key) int { return strings.Compare(a.Name, b.Name) }) {
			t.Errorf("%s keys not sorted", tc.name)
		}
		for _, k := range tc.keys {
			if !k.Scope.Has(tc.scope) {
				t.Errorf("%s keys include %s with scope %d", tc.name, k.Name, k.Scope)
			}
			if k.Doc == "" {
				t.Errorf("%s has no doc", k.Name)
			}
		}
	}
	if n := len(TopicKeys()); n != 23 {
		t.Errorf("%d topic keys, want 23", n)
	}
	// The returned slice is a copy.
	ks := BrokerKeys()
	ks[0] = nil
	if BrokerKeys()[0] == nil {
		t.Error("BrokerKeys returned the registry's own slice")
	}
}

func TestTopicKeys_BrokerDefaultLink(t *testing.T) {
	want := map[string]string{
		"retention.ms":              "log.retention.ms",
		"segment.ms":                "log.roll.ms",
		"segment.jitter.ms":         "log.roll.jitter.ms",
		"max.message.bytes":         "message.max.bytes",
		"segment.index.bytes":       "log.index.size.max.bytes",
		"file.delete.delay.ms":      "log.segment.delete.delay.ms",
		"flush.ms":                  "log.flush.interval.ms",
		"min.cleanable.dirty.ratio": "log.cleaner.min.cleanable.ratio",
		"compression.type":          "compression.type",
		"preallocate":               "log.preallocate",
	}
	for name, def := range want {
		k, _ := Lookup(name)
		if k.BrokerDefault != def {
			t.Errorf("%s.BrokerDefault = %q, want %q", name, k.BrokerDefault, def)
		}
	}
	for _, k := range TopicKeys() {
		d, ok := Lookup(k.BrokerDefault)
		if !ok || !d.Scope.Has(ScopeBroker) || d.Type != k.Type {
			t.Errorf("%s: broker default %q missing or of another type", k.Name, k.BrokerDefault)
		}
	}
}

func TestJavaDouble(t *testing.T) {
	for f, want := range map[float64]string{
		0.5: "0.5", 0: "0.0", 1: "1.0", 1e7: "1.0E7", 1.5e-4: "1.5E-4", 123456.75: "123456.75",
		1.7976931348623157e308: "1.7976931348623157E308",
	} {
		if got := javaDouble(f); got != want {
			t.Errorf("javaDouble(%v) = %q, want %q", f, got, want)
		}
	}
}
