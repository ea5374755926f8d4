package config

import "fmt"

// InvalidValueError reports a value that does not parse as its key's type or
// fails its validator. Kafka answers such values with INVALID_CONFIG.
type InvalidValueError struct {
	Name   string // the key
	Value  string // the value as given; "[hidden]" for sensitive keys
	Reason string // what is wrong, e.g. "not a number"
}

func (e *InvalidValueError) Error() string {
	return fmt.Sprintf("invalid value %q for configuration %s: %s", e.Value, e.Name, e.Reason)
}

// UnknownKeyError reports a key that is not in the table for the scope it was
// used in: a topic-only key in server.properties, or a broker key in
// CreateTopics. Kafka answers unknown topic configs with INVALID_CONFIG.
type UnknownKeyError struct {
	Name  string
	Scope Scope // where it was used: ScopeBroker or ScopeTopic
}

func (e *UnknownKeyError) Error() string {
	if e.Scope == ScopeTopic {
		return fmt.Sprintf("unknown topic configuration %q", e.Name)
	}
	return fmt.Sprintf("unknown configuration %q", e.Name)
}

// ReadOnlyError reports an attempt to change a ReadOnly key at runtime.
type ReadOnlyError struct {
	Name string
}

func (e *ReadOnlyError) Error() string {
	return fmt.Sprintf("configuration %s is read-only: it cannot be changed while the broker runs", e.Name)
}
