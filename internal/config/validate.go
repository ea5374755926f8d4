package config

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Validators. Each receives a trimmed value that already parsed as its key's
// type, and returns only the reason it is unacceptable.

// atLeast accepts integers >= min.
func atLeast(min int64) func(string) error {
	return func(s string) error {
		if n, _ := strconv.ParseInt(s, 10, 64); n < min {
			return fmt.Errorf("must be at least %d", min)
		}
		return nil
	}
}

// between accepts doubles in [min, max].
func between(min, max float64) func(string) error {
	return func(s string) error {
		if f, _ := strconv.ParseFloat(s, 64); f < min || f > max {
			return fmt.Errorf("must be between %s and %s", javaDouble(min), javaDouble(max))
		}
		return nil
	}
}

// positive accepts doubles > 0.
func positive(s string) error {
	if f, _ := strconv.ParseFloat(s, 64); f <= 0 {
		return errors.New("must be greater than 0")
	}
	return nil
}

// oneOf accepts exactly one of vals (case-sensitive, as Kafka's ValidString).
func oneOf(vals ...string) func(string) error {
	return func(s string) error {
		for _, v := range vals {
			if s == v {
				return nil
			}
		}
		return fmt.Errorf("must be one of: %s", strings.Join(vals, ", "))
	}
}

// listOf accepts a list, possibly empty, of distinct elements from vals.
func listOf(vals ...string) func(string) error {
	in := oneOf(vals...)
	return func(s string) error {
		l := parseList(s)
		if err := distinct(l); err != nil {
			return err
		}
		for _, e := range l {
			if err := in(e); err != nil {
				return fmt.Errorf("element %q %v", e, err)
			}
		}
		return nil
	}
}

// nonEmptyList accepts a list of at least one distinct, non-empty element.
func nonEmptyList(s string) error {
	l := parseList(s)
	if len(l) == 0 {
		return errors.New("must not be empty")
	}
	return distinct(l)
}

func distinct(l []string) error {
	seen := make(map[string]bool, len(l))
	for _, e := range l {
		if e == "" {
			return errors.New("list elements must not be empty")
		}
		if seen[e] {
			return fmt.Errorf("element %q appears more than once", e)
		}
		seen[e] = true
	}
	return nil
}

// Listener is one entry of listeners or advertised.listeners.
type Listener struct {
	Name string // upper-cased, e.g. "PLAINTEXT"
	Host string // "" binds every interface
	Port int
}

// Addr is host:port, suitable for net.Listen and net.Dial.
func (l Listener) Addr() string { return net.JoinHostPort(l.Host, strconv.Itoa(l.Port)) }

// ParseListener parses NAME://host:port. The host may be empty or a
// bracketed IPv6 address; the name is upper-cased, as Kafka does.
func ParseListener(s string) (Listener, error) {
	name, addr, ok := strings.Cut(s, "://")
	if !ok {
		return Listener{}, fmt.Errorf("listener %q is not of the form NAME://host:port", s)
	}
	if name == "" || strings.IndexFunc(name, func(r rune) bool {
		return !(r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) >= 0 {
		return Listener{}, fmt.Errorf("listener name %q must be letters, digits, '_' or '-'", name)
	}
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return Listener{}, fmt.Errorf("listener %q is not of the form NAME://host:port", s)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return Listener{}, fmt.Errorf("listener %q has an invalid port", s)
	}
	return Listener{Name: strings.ToUpper(name), Host: host, Port: port}, nil
}

// parseListeners parses a listener list: at least one, names distinct.
// Advertised listeners must name a host clients can reach.
func parseListeners(s string, advertised bool) ([]Listener, error) {
	var out []Listener
	seen := map[string]bool{}
	for _, e := range parseList(s) {
		l, err := ParseListener(e)
		if err != nil {
			return nil, err
		}
		if advertised && (l.Host == "" || l.Host == "0.0.0.0" || l.Host == "::") {
			return nil, fmt.Errorf("listener %q must advertise a host clients can reach", e)
		}
		if seen[l.Name] {
			return nil, fmt.Errorf("listener name %s appears more than once", l.Name)
		}
		seen[l.Name] = true
		out = append(out, l)
	}
	if len(out) == 0 {
		return nil, errors.New("must name at least one listener")
	}
	return out, nil
}

func validListeners(advertised bool) func(string) error {
	return func(s string) error {
		_, err := parseListeners(s, advertised)
		return err
	}
}
