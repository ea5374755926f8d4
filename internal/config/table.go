package config

import (
	"fmt"
	"sort"
)

// Type is the value type of a configuration key. Each constant's value is the
// ConfigType code Kafka's DescribeConfigs response (v3+) carries for it.
type Type int8

// The configuration types, numbered as in DescribeConfigs' ConfigType.
const (
	Boolean  Type = 1
	String   Type = 2
	Int      Type = 3 // 32-bit signed
	Short    Type = 4 // 16-bit signed
	Long     Type = 5 // 64-bit signed
	Double   Type = 6
	List     Type = 7 // comma-separated strings
	Class    Type = 8
	Password Type = 9 // a String that is never shown
)

// Code is the ConfigType code sent in DescribeConfigs responses.
func (t Type) Code() int8 { return int8(t) }

// String is the lower-case name Kafka's documentation uses: "long", "list"...
func (t Type) String() string {
	switch t {
	case Boolean:
		return "boolean"
	case String:
		return "string"
	case Int:
		return "int"
	case Short:
		return "short"
	case Long:
		return "long"
	case Double:
		return "double"
	case List:
		return "list"
	case Class:
		return "class"
	case Password:
		return "password"
	}
	return fmt.Sprintf("Type(%d)", int8(t))
}

// Scope says where a key may be set: in the broker's configuration, as a
// per-topic override, or both (compression.type, min.insync.replicas and
// unclean.leader.election.enable carry the same name at both levels).
type Scope uint8

// The scopes; ScopeBoth is ScopeBroker|ScopeTopic.
const (
	ScopeBroker Scope = 1 << iota
	ScopeTopic
	ScopeBoth = ScopeBroker | ScopeTopic
)

// Has reports whether s includes every scope in t.
func (s Scope) Has(t Scope) bool { return s&t == t }

// Source is where an effective value came from, numbered as DescribeConfigs'
// ConfigSource.
type Source int8

// The sources Basket reports. Kafka's other codes (UNKNOWN=0,
// DYNAMIC_BROKER_LOGGER_CONFIG=6, ...) are not produced by this package.
const (
	SourceTopicConfig                Source = 1 // a per-topic override
	SourceDynamicBrokerConfig        Source = 2 // set at runtime for this broker
	SourceDynamicDefaultBrokerConfig Source = 3 // set at runtime for all brokers
	SourceStaticBrokerConfig         Source = 4 // server.properties or --override
	SourceDefaultConfig              Source = 5 // the table's default
)

// Key describes one configuration key. Keys live in a package-level table
// and are shared: callers must treat a *Key as read-only.
type Key struct {
	// Name is Kafka's key name, e.g. "log.retention.ms".
	Name string
	// Type is the value type; Check parses values by it.
	Type Type
	// Default is the textual default, in the canonical form DescribeConfigs
	// reports. It is meaningless when Nullable is set.
	Default string
	// Nullable means the default is null: the key is unset unless
	// configured, and something else (usually a synonym) supplies the value.
	Nullable bool
	// Doc is a one-line description, shown by WriteHelp.
	Doc string
	// Sensitive values (passwords) must never be returned by
	// DescribeConfigs or written to logs.
	Sensitive bool
	// ReadOnly keys are fixed for the life of the process: they cannot be
	// altered dynamically (AlterConfigs on the broker resource).
	ReadOnly bool
	// Validate checks a value that already parsed as Type. It returns only
	// the reason ("must be at least 1"); Check adds the key and value. Nil
	// accepts every value of the type.
	Validate func(string) error
	// Scope says where the key may be set.
	Scope Scope
	// BrokerDefault, for a key with topic scope, names the broker key whose
	// effective value is the topic's default ("log.retention.ms" for
	// "retention.ms"). Keys in ScopeBoth name themselves.
	BrokerDefault string
}

// Check reports whether value is acceptable for k: it must parse as k.Type
// and pass k.Validate. Surrounding whitespace is ignored, as Kafka does. The
// error is an *InvalidValueError naming the key.
func (k *Key) Check(value string) error {
	_, err := k.parse(value)
	return err
}

var (
	registry   map[string]*Key
	brokerKeys []*Key
	topicKeys  []*Key
)

func init() {
	registry = make(map[string]*Key)
	add := func(defs []Key, scope Scope) {
		for i := range defs {
			k := &defs[i]
			k.Scope = scope
			if scope == ScopeBoth {
				k.BrokerDefault = k.Name
			}
			if _, dup := registry[k.Name]; dup {
				panic("config: duplicate key " + k.Name)
			}
			if !k.Nullable {
				if e, err := k.parse(k.Default); err != nil || e.text != k.Default {
					panic(fmt.Sprintf("config: bad default %q for %s: %v", k.Default, k.Name, err))
				}
			}
			registry[k.Name] = k
		}
	}
	add(brokerDefs, ScopeBroker)
	add(sharedDefs, ScopeBoth)
	add(topicDefs, ScopeTopic)
	for _, k := range registry {
		if k.Scope.Has(ScopeBroker) {
			brokerKeys = append(brokerKeys, k)
		}
		if k.Scope.Has(ScopeTopic) {
			topicKeys = append(topicKeys, k)
			if d := registry[k.BrokerDefault]; d == nil || !d.Scope.Has(ScopeBroker) || d.Type != k.Type {
				panic("config: bad broker default for topic key " + k.Name)
			}
		}
	}
	byName := func(ks []*Key) func(i, j int) bool {
		return func(i, j int) bool { return ks[i].Name < ks[j].Name }
	}
	sort.Slice(brokerKeys, byName(brokerKeys))
	sort.Slice(topicKeys, byName(topicKeys))
}

// Lookup returns the key called name, whatever its scope.
func Lookup(name string) (*Key, bool) {
	k, ok := registry[name]
	return k, ok
}

// BrokerKeys returns every key that may be set on a broker, sorted by name.
// The slice is a fresh copy; the keys are shared and must not be modified.
func BrokerKeys() []*Key { return append([]*Key(nil), brokerKeys...) }

// TopicKeys returns every key that may be set on a topic, sorted by name.
// The slice is a fresh copy; the keys are shared and must not be modified.
func TopicKeys() []*Key { return append([]*Key(nil), topicKeys...) }
