package config

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
)

// Broker is a resolved broker configuration: every broker key has a value
// (possibly null) and a source. It is immutable once built and safe for
// concurrent use.
//
// Typed getters (Int, Long, ...) return the effective value, after synonyms
// are resolved: Long("log.retention.ms") is the retention in milliseconds
// whether it was configured as ms, minutes or hours. Value and Source
// describe the key itself, as DescribeConfigs reports it: an unset
// log.retention.ms is null with SourceDefaultConfig.
type Broker struct {
	static map[string]entry // defaults overlaid with static props
	vals   map[string]entry // static overlaid with the dynamic layer
}

// synonym is one member of a precedence chain; scale converts its unit to
// the chain head's (hours to milliseconds).
type synonym struct {
	name  string
	scale int64
}

// chains lists, per head key, the keys that can supply its value, highest
// precedence first. The first one configured wins; if none is, the first
// non-null default does.
var chains = map[string][]synonym{
	"log.retention.ms":      {{"log.retention.ms", 1}, {"log.retention.minutes", 60_000}, {"log.retention.hours", 3_600_000}},
	"log.roll.ms":           {{"log.roll.ms", 1}, {"log.roll.hours", 3_600_000}},
	"log.roll.jitter.ms":    {{"log.roll.jitter.ms", 1}, {"log.roll.jitter.hours", 3_600_000}},
	"log.flush.interval.ms": {{"log.flush.interval.ms", 1}, {"log.flush.scheduler.interval.ms", 1}},
	"log.dirs":              {{"log.dirs", 1}, {"log.dir", 1}},
	"advertised.listeners":  {{"advertised.listeners", 1}, {"listeners", 1}},
}

// NewBroker applies props (server.properties plus --override pairs) over the
// defaults. It rejects keys that are not broker keys and values that fail
// their validators, reporting every problem (one line each, sorted by key)
// in one error; the parts are *UnknownKeyError and *InvalidValueError.
func NewBroker(props map[string]string) (*Broker, error) {
	static := make(map[string]entry, len(brokerKeys))
	for _, k := range brokerKeys {
		static[k.Name] = k.defaultEntry()
	}
	if err := overlay(static, props, SourceStaticBrokerConfig); err != nil {
		return nil, err
	}
	b := &Broker{static: static, vals: static}
	if err := errors.Join(b.crossCheck()...); err != nil {
		return nil, err
	}
	return b, nil
}

// WithDynamic returns a copy of b whose dynamic layer is exactly props
// (source SourceDynamicBrokerConfig): pass the complete set of dynamic
// configs each time; a key left out reverts to its static value. ReadOnly
// keys are rejected with *ReadOnlyError. b itself is unchanged.
func (b *Broker) WithDynamic(props map[string]string) (*Broker, error) {
	vals := make(map[string]entry, len(b.static))
	for name, e := range b.static {
		vals[name] = e
	}
	if err := overlay(vals, props, SourceDynamicBrokerConfig); err != nil {
		return nil, err
	}
	nb := &Broker{static: b.static, vals: vals}
	if err := errors.Join(nb.crossCheck()...); err != nil {
		return nil, err
	}
	return nb, nil
}

func overlay(vals map[string]entry, props map[string]string, src Source) error {
	names := make([]string, 0, len(props))
	for name := range props {
		names = append(names, name)
	}
	sort.Strings(names)
	var errs []error
	for _, name := range names {
		k, ok := registry[name]
		switch {
		case !ok || !k.Scope.Has(ScopeBroker):
			errs = append(errs, &UnknownKeyError{Name: name, Scope: ScopeBroker})
			continue
		case src == SourceDynamicBrokerConfig && k.ReadOnly:
			errs = append(errs, &ReadOnlyError{Name: name})
			continue
		}
		e, err := k.parse(props[name])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		e.src = src
		vals[name] = e
	}
	return errors.Join(errs...)
}

// crossCheck enforces rules that span keys.
func (b *Broker) crossCheck() []error {
	var errs []error
	for _, p := range [][2]string{
		{"log.cleaner.min.compaction.lag.ms", "log.cleaner.max.compaction.lag.ms"},
		{"group.min.session.timeout.ms", "group.max.session.timeout.ms"},
	} {
		if lo, hi := b.Long(p[0]), b.Long(p[1]); lo > hi {
			errs = append(errs, fmt.Errorf("configuration %s (%d) must not exceed %s (%d)", p[0], lo, p[1], hi))
		}
	}
	names := map[string]bool{}
	for _, l := range b.Listeners() {
		names[l.Name] = true
	}
	for _, l := range b.AdvertisedListeners() {
		if !names[l.Name] {
			errs = append(errs, fmt.Errorf("configuration advertised.listeners names listener %s, which listeners does not define", l.Name))
		}
	}
	return errs
}

// effective resolves name's synonym chain, if it heads one.
func (b *Broker) effective(name string) entry {
	chain := chains[name]
	if chain == nil {
		return b.vals[name]
	}
	pick := slices.IndexFunc(chain, func(s synonym) bool { return b.vals[s.name].src != SourceDefaultConfig })
	if pick < 0 {
		pick = slices.IndexFunc(chain, func(s synonym) bool { return !b.vals[s.name].null })
	}
	if pick < 0 {
		return b.vals[name]
	}
	e := b.vals[chain[pick].name]
	if s := chain[pick].scale; s != 1 {
		n := e.v.(int64) * s
		if n < 0 {
			n = -1 // Kafka: any negative retention means forever
		}
		e.v, e.text = n, strconv.FormatInt(n, 10)
	}
	return e
}

// get returns the effective entry of broker key name, panicking if name is
// not a broker key of one of the types allowed: asking for the wrong key is a
// programming error, like a bad flag name.
func (b *Broker) get(name string, allowed ...Type) entry {
	k, ok := registry[name]
	if !ok || !k.Scope.Has(ScopeBroker) {
		panic("config: no broker key " + strconv.Quote(name))
	}
	if !slices.Contains(allowed, k.Type) {
		panic(fmt.Sprintf("config: %s is of type %s", name, k.Type))
	}
	return b.effective(name)
}

// Int returns the effective value of an Int or Short key.
func (b *Broker) Int(name string) int32 {
	n, _ := b.get(name, Int, Short).v.(int64)
	return int32(n)
}

// Long returns the effective value of a Long, Int or Short key.
func (b *Broker) Long(name string) int64 {
	n, _ := b.get(name, Long, Int, Short).v.(int64)
	return n
}

// Bool returns the effective value of a Boolean key.
func (b *Broker) Bool(name string) bool {
	v, _ := b.get(name, Boolean).v.(bool)
	return v
}

// Double returns the effective value of a Double key.
func (b *Broker) Double(name string) float64 {
	f, _ := b.get(name, Double).v.(float64)
	return f
}

// String returns the effective value of a String, Class or Password key;
// "" when null.
func (b *Broker) String(name string) string {
	s, _ := b.get(name, String, Class, Password).v.(string)
	return s
}

// List returns the effective value of a List key; nil when null. The caller
// owns the returned slice.
func (b *Broker) List(name string) []string {
	l, _ := b.get(name, List).v.([]string)
	return slices.Clone(l)
}

// Value returns the canonical text of name's own value, as DescribeConfigs
// reports it, and false when the value is null. Synonyms are not resolved.
// It returns "", false for a name that is not a broker key.
func (b *Broker) Value(name string) (string, bool) {
	e, ok := b.vals[name]
	return e.text, ok && !e.null
}

// Source returns where name's own value came from; 0 (Kafka's UNKNOWN) for a
// name that is not a broker key.
func (b *Broker) Source(name string) Source { return b.vals[name].src }

// Listeners returns the parsed listeners.
func (b *Broker) Listeners() []Listener {
	l, _ := parseListeners(b.effective("listeners").text, false)
	return l
}

// AdvertisedListeners returns the listeners to hand to clients:
// advertised.listeners, or listeners when it is unset. A listener whose host
// is empty or a wildcard is returned as is; the server must substitute a
// reachable host.
func (b *Broker) AdvertisedListeners() []Listener {
	l, _ := parseListeners(b.effective("advertised.listeners").text, false)
	return l
}

// Synonyms returns the keys that can supply name's value, highest precedence
// first, starting with name itself: for "retention.ms" that is retention.ms,
// log.retention.ms, log.retention.minutes, log.retention.hours. These are
// the synonyms DescribeConfigs lists. The advertised.listeners fallback to
// listeners is not a synonym. It returns nil for an unknown name.
func Synonyms(name string) []string {
	k, ok := registry[name]
	if !ok {
		return nil
	}
	out := []string{name}
	if k.Scope == ScopeTopic {
		out = append(out, k.BrokerDefault)
		name = k.BrokerDefault
	}
	for head, chain := range chains {
		if head == "advertised.listeners" {
			continue
		}
		if i := slices.IndexFunc(chain, func(s synonym) bool { return s.name == name }); i >= 0 {
			for _, s := range chain[i+1:] {
				out = append(out, s.name)
			}
		}
	}
	return out
}
