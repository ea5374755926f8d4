package api

// DescribeConfigs (key 32), versions 1-4 (Kafka 4.0's floor is 1).
//
// Describes topic (2) and broker (4) resources; other types are
// INVALID_REQUEST. A topic lists every topic key with its effective value:
// its override, or else the broker default (ResolveTopic over the image's
// overrides). A broker named by this node's id lists every broker key with
// its own value (synonyms unresolved: an unset log.retention.ms is null); the
// broker "" is the cluster-wide default and, as in Kafka, lists only the
// keys set dynamically at that level. Another broker id, or a name that is
// not a number, is INVALID_REQUEST; an unknown topic is
// UNKNOWN_TOPIC_OR_PARTITION, an invalid name INVALID_TOPIC_EXCEPTION.
//
// Sources (v1+, KIP-226): TOPIC_CONFIG (1), DYNAMIC_BROKER_CONFIG (2, set
// at runtime for this broker), DYNAMIC_DEFAULT_BROKER_CONFIG (3, for all
// brokers), STATIC_BROKER_CONFIG (4) and DEFAULT_CONFIG (5). Synonyms (v1+,
// IncludeSynonyms) list every value that could supply a key, in precedence
// order: the topic override, then for each key of the synonym chain
// (retention.ms → log.retention.ms → .minutes → .hours) its dynamic,
// dynamic-default, static and default values. Sensitive keys have null
// values. ReadOnly is the key's (topic keys never are). A non-empty
// ConfigNames keeps only the keys named. v2 only changed throttling
// (KIP-219); v3 adds the config type and, with IncludeDocumentation, the
// key's doc (KIP-569); v4 is flexible (KIP-482).

import (
	"context"
	"maps"
	"slices"
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/config"
	"github.com/basketmq/basket/internal/controller"
	"github.com/basketmq/basket/internal/metadata"
)

func init() { register(32, 1, 1, 4, now((*Handlers).describeConfigs)) }

type (
	describedConfig = kmsg.DescribeConfigsResponseResourceConfig
	configSynonym   = kmsg.DescribeConfigsResponseResourceConfigConfigSynonym
)

func (h *Handlers) describeConfigs(_ context.Context, r kmsg.Request) (kmsg.Response, error) {
	req := r.(*kmsg.DescribeConfigsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeConfigsResponse)
	v := h.configLayers()
	for _, rr := range req.Resources {
		res := kmsg.NewDescribeConfigsResponseResource()
		res.ResourceType, res.ResourceName = rr.ResourceType, rr.ResourceName
		var cfgs []describedConfig
		var err *controller.Error
		switch rr.ResourceType {
		case kmsg.ConfigResourceTypeTopic:
			cfgs, err = v.topic(rr.ResourceName)
		case kmsg.ConfigResourceTypeBroker:
			cfgs, err = v.broker(rr.ResourceName)
		default:
			err = &controller.Error{Code: kerr.InvalidRequest, Message: "Unsupported resource type: " + rr.ResourceType.String()}
		}
		if err != nil {
			res.ErrorCode, res.ErrorMessage = err.Code.Code, &err.Message
		}
		for _, c := range cfgs {
			if len(rr.ConfigNames) > 0 && !slices.Contains(rr.ConfigNames, c.Name) {
				continue
			}
			if !req.IncludeSynonyms {
				c.ConfigSynonyms = nil
			}
			if !req.IncludeDocumentation {
				c.Documentation = nil
			}
			res.Configs = append(res.Configs, c)
		}
		resp.Resources = append(resp.Resources, res)
	}
	return resp, nil
}

// configLayers is one request's view of the broker configuration layers.
type configLayers struct {
	im          *metadata.Image
	self        string
	static, eff *config.Broker    // eff = static with the dynamic layers
	node, def   map[string]string // dynamic configs: this broker's, the cluster default's
}

func (h *Handlers) configLayers() *configLayers {
	v := &configLayers{im: h.Image(), self: itoa(h.Node.ID), static: h.BrokerConfig}
	if v.static == nil {
		v.static, _ = config.NewBroker(nil)
	}
	v.node, v.def = v.im.BrokerConfigs(v.self), v.im.BrokerConfigs("")
	eff, err := v.static.WithDynamic(controller.DynamicBrokerConfigs(v.im, h.Node.ID))
	if err != nil {
		h.Logger.Warn("dynamic broker configs in the metadata do not apply", "err", err)
		eff = v.static
	}
	v.eff = eff
	return v
}

func (v *configLayers) topic(name string) ([]describedConfig, *controller.Error) {
	if err := controller.ValidateTopicName(name); err != nil {
		return nil, err
	}
	t, ok := v.im.Topic(name)
	if !ok {
		return nil, &controller.Error{Code: kerr.UnknownTopicOrPartition, Message: "topic " + strconv.Quote(name) + " does not exist"}
	}
	tc := v.eff.ResolveTopic(t.Configs)
	var out []describedConfig
	for _, k := range config.TopicKeys() {
		brokerNames := config.Synonyms(k.Name)
		if k.Scope == config.ScopeTopic {
			brokerNames = brokerNames[1:] // the topic key itself is not a broker key
		}
		var syns []configSynonym
		if o, ok := t.Configs[k.Name]; ok {
			syns = append(syns, synonym(k.Name, o, config.SourceTopicConfig))
		}
		syns = append(syns, v.brokerSynonyms(brokerNames)...)
		value, src := tc.Values[k.Name], tc.Sources[k.Name]
		if src == config.SourceDynamicBrokerConfig {
			src = v.dynamicSource(brokerNames)
		}
		out = append(out, describe(k, &value, src, false, syns))
	}
	return out, nil
}

func (v *configLayers) broker(name string) ([]describedConfig, *controller.Error) {
	if name == "" {
		var out []describedConfig
		for _, n := range slices.Sorted(maps.Keys(v.def)) {
			if k, ok := config.Lookup(n); ok {
				value := v.def[n]
				syns := slices.DeleteFunc(v.brokerSynonyms(config.Synonyms(n)), func(s configSynonym) bool {
					return s.Source != kmsg.ConfigSourceDynamicDefaultBrokerConfig
				})
				out = append(out, describe(k, &value, config.SourceDynamicDefaultBrokerConfig, k.ReadOnly, syns))
			}
		}
		return out, nil
	}
	id, err := strconv.ParseInt(name, 10, 32)
	if err != nil {
		return nil, &controller.Error{Code: kerr.InvalidRequest, Message: "Broker id must be an integer, but it is: " + name}
	}
	if itoa(int32(id)) != v.self {
		return nil, &controller.Error{Code: kerr.InvalidRequest, Message: "Unexpected broker id, expected " + v.self + " or empty string, but received " + name}
	}
	var out []describedConfig
	for _, k := range config.BrokerKeys() {
		var value *string
		if s, ok := v.eff.Value(k.Name); ok {
			value = &s
		}
		src := v.eff.Source(k.Name)
		if src == config.SourceDynamicBrokerConfig {
			src = v.dynamicSource([]string{k.Name})
		}
		out = append(out, describe(k, value, src, k.ReadOnly, v.brokerSynonyms(config.Synonyms(k.Name))))
	}
	return out, nil
}

// brokerSynonyms lists, for each broker key in names (highest precedence
// first), the values its layers hold, highest layer first.
func (v *configLayers) brokerSynonyms(names []string) []configSynonym {
	var out []configSynonym
	for _, n := range names {
		if s, ok := v.node[n]; ok {
			out = append(out, synonym(n, s, config.SourceDynamicBrokerConfig))
		}
		if s, ok := v.def[n]; ok {
			out = append(out, synonym(n, s, config.SourceDynamicDefaultBrokerConfig))
		}
		if s, ok := v.static.Value(n); ok && v.static.Source(n) == config.SourceStaticBrokerConfig {
			out = append(out, synonym(n, s, config.SourceStaticBrokerConfig))
		}
		if k, ok := config.Lookup(n); ok && !k.Nullable {
			out = append(out, synonym(n, k.Default, config.SourceDefaultConfig))
		}
	}
	return out
}

// dynamicSource tells which dynamic layer supplied a value that came from
// the first of names set dynamically: this broker's or the cluster default.
func (v *configLayers) dynamicSource(names []string) config.Source {
	for _, n := range names {
		if _, ok := v.node[n]; ok {
			return config.SourceDynamicBrokerConfig
		}
		if _, ok := v.def[n]; ok {
			return config.SourceDynamicDefaultBrokerConfig
		}
	}
	return config.SourceDynamicBrokerConfig
}

func synonym(name, value string, src config.Source) configSynonym {
	s := kmsg.NewDescribeConfigsResponseResourceConfigConfigSynonym()
	s.Name, s.Value, s.Source = name, &value, kmsg.ConfigSource(src)
	return s
}

func describe(k *config.Key, value *string, src config.Source, readOnly bool, syns []configSynonym) describedConfig {
	c := kmsg.NewDescribeConfigsResponseResourceConfig()
	c.Name, c.Value, c.ReadOnly, c.IsSensitive = k.Name, value, readOnly, k.Sensitive
	c.Source, c.IsDefault = kmsg.ConfigSource(src), src == config.SourceDefaultConfig
	doc := k.Doc
	c.ConfigType, c.Documentation = kmsg.ConfigType(k.Type.Code()), &doc
	c.ConfigSynonyms = syns
	if k.Sensitive {
		c.Value = nil
		for i := range c.ConfigSynonyms {
			c.ConfigSynonyms[i].Value = nil
		}
	}
	return c
}
