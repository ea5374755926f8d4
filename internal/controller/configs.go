package controller

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/basketmq/basket/internal/config"
	"github.com/basketmq/basket/internal/metadata"
)

// OpType is one IncrementalAlterConfigs operation, numbered as Kafka's
// AlterConfigOp.OpType.
type OpType int8

// The operations. APPEND and SUBTRACT apply only to list-typed keys.
const (
	OpSet      OpType = 0 // set the value
	OpDelete   OpType = 1 // remove the override: back to the default
	OpAppend   OpType = 2 // add list elements not yet present
	OpSubtract OpType = 3 // remove list elements
)

// ConfigOp is one change to one key. Value is nil only for OpDelete.
type ConfigOp struct {
	Name  string
	Op    OpType
	Value *string
}

// AlterConfigs is one resource of an AlterConfigs or IncrementalAlterConfigs
// request.
type AlterConfigs struct {
	Type metadata.ResourceType
	// Name is the topic, or the broker id ("" for the cluster default).
	Name string
	Ops  []ConfigOp
	// Replace is the legacy AlterConfigs: Ops (all OpSet) become the whole
	// set of the resource's configs, and keys they do not name are removed.
	Replace bool
}

// NextConfigs applies ops to a resource's current configs and returns the
// new set; current is not modified. APPEND and SUBTRACT start from the
// key's default when it has no value, as Kafka's controller does, and split
// values on commas. A non-list key gets INVALID_CONFIG, an unknown operation
// or a missing value INVALID_REQUEST.
func NextConfigs(current map[string]string, ops []ConfigOp, replace bool) (map[string]string, *Error) {
	next := map[string]string{}
	if !replace {
		maps.Copy(next, current)
	}
	for _, op := range ops {
		if op.Op != OpDelete && op.Value == nil {
			return nil, errorf(kerr.InvalidRequest, "Null value not supported for : %s", op.Name)
		}
		switch op.Op {
		case OpSet:
			next[op.Name] = *op.Value
		case OpDelete:
			delete(next, op.Name)
		case OpAppend, OpSubtract:
			k, ok := config.Lookup(op.Name)
			verb := map[OpType]string{OpAppend: "APPEND", OpSubtract: "SUBTRACT"}[op.Op]
			if !ok || k.Type != config.List {
				return nil, errorf(kerr.InvalidConfig, "Can't %s to key %s because its type is not LIST.", verb, op.Name)
			}
			old, set := next[op.Name]
			if !set && !k.Nullable {
				old = k.Default
			}
			parts := splitList(old)
			for _, v := range splitList(*op.Value) {
				if op.Op == OpSubtract {
					parts = slices.DeleteFunc(parts, func(p string) bool { return p == v })
				} else if !slices.Contains(parts, v) {
					parts = append(parts, v)
				}
			}
			next[op.Name] = strings.Join(parts, ",")
		default:
			return nil, errorf(kerr.InvalidRequest, "Unknown operation type %d", op.Op)
		}
	}
	return next, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// DynamicBrokerConfigs returns the dynamic configs that apply to broker
// nodeID: the cluster-wide defaults overlaid with its own. The caller owns
// the map.
func DynamicBrokerConfigs(im *metadata.Image, nodeID int32) map[string]string {
	out := maps.Clone(im.BrokerConfigs(""))
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, im.BrokerConfigs(strconv.Itoa(int(nodeID))))
	return out
}

// AlterConfigs changes the configs of each resource and, unless
// validateOnly, commits each resource's changes as ConfigRecords (one
// commit per resource; nothing when nothing changes). It returns one error
// (nil for success) per resource, in order.
//
// Topic configs are validated here, on the whole resulting set, with
// Options.ValidateTopicConfigs (INVALID_CONFIG); an unknown topic is
// UNKNOWN_TOPIC_OR_PARTITION. Broker configs are validated by the broker
// that received the request, against its static configuration, before it
// calls this (as Kafka's ConfigAdminManager does); here only the broker
// name is checked.
func (c *Controller) AlterConfigs(ctx context.Context, alters []AlterConfigs, validateOnly bool) []*Error {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*Error, len(alters))
	for i, a := range alters {
		recs, err := c.configRecords(c.store.Image(), a)
		if err != nil {
			out[i] = err
			continue
		}
		if validateOnly {
			continue
		}
		if _, err := c.store.Commit(ctx, recs...); err != nil {
			out[i] = errorf(kerr.UnknownServerError, "committing configs of %q: %v", a.Name, err)
		}
	}
	return out
}

func (c *Controller) configRecords(im *metadata.Image, a AlterConfigs) ([]metadata.Record, *Error) {
	var current map[string]string
	switch a.Type {
	case metadata.ResourceTopic:
		if a.Name == "" {
			return nil, errorf(kerr.InvalidRequest, "Default topic resources are not allowed.")
		}
		if err := ValidateTopicName(a.Name); err != nil {
			return nil, err
		}
		t, exists := im.Topic(a.Name)
		if exists {
			current = t.Configs
		}
		next, err := NextConfigs(current, a.Ops, a.Replace)
		if err != nil {
			return nil, err
		}
		if c.opts.ValidateTopicConfigs != nil {
			ptrs := make(map[string]*string, len(next))
			for k, v := range next {
				ptrs[k] = &v
			}
			if err := c.opts.ValidateTopicConfigs(ptrs); err != nil {
				return nil, errorf(kerr.InvalidConfig, "%v", err)
			}
		}
		if !exists {
			return nil, errorf(kerr.UnknownTopicOrPartition, "topic %q does not exist", a.Name)
		}
		return diffConfigs(a.Type, a.Name, current, next), nil
	case metadata.ResourceBroker:
		if a.Name != "" {
			id, err := strconv.ParseInt(a.Name, 10, 32)
			if err != nil {
				return nil, errorf(kerr.InvalidRequest, "Unable to parse broker name as a base 10 number.")
			}
			if id < 0 {
				return nil, errorf(kerr.InvalidRequest, "Invalid negative broker ID.")
			}
		}
		current = im.BrokerConfigs(a.Name)
		next, err := NextConfigs(current, a.Ops, a.Replace)
		if err != nil {
			return nil, err
		}
		return diffConfigs(a.Type, a.Name, current, next), nil
	}
	return nil, errorf(kerr.InvalidRequest, "Unknown resource type %d", a.Type)
}

// diffConfigs returns the records that turn current into next, sorted by
// key.
func diffConfigs(typ metadata.ResourceType, name string, current, next map[string]string) []metadata.Record {
	var recs []metadata.Record
	rec := func(key string, v *string) {
		recs = append(recs, metadata.Record{Config: &metadata.ConfigRecord{ResourceType: typ, ResourceName: name, Name: key, Value: v}})
	}
	for _, k := range slices.Sorted(maps.Keys(next)) {
		if old, ok := current[k]; !ok || old != next[k] {
			v := next[k]
			rec(k, &v)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(current)) {
		if _, ok := next[k]; !ok {
			rec(k, nil)
		}
	}
	return recs
}
