package config

import (
	"errors"
	"math"
	"strconv"
	"strings"
)

// entry is one parsed value. v holds int64 (Int, Short, Long), float64,
// bool, string (String, Class, Password) or []string; nil when null.
type entry struct {
	v    any
	text string // canonical text, as DescribeConfigs reports it; "" when null
	null bool
	src  Source
}

// parse trims raw, parses it as k.Type and validates it.
func (k *Key) parse(raw string) (entry, error) {
	s := strings.TrimSpace(raw)
	v, text, reason := parseValue(k.Type, s)
	if reason == nil && k.Validate != nil {
		reason = k.Validate(s)
	}
	if reason != nil {
		shown := raw
		if k.Sensitive {
			shown = "[hidden]"
		}
		return entry{}, &InvalidValueError{Name: k.Name, Value: shown, Reason: reason.Error()}
	}
	return entry{v: v, text: text}, nil
}

// defaultEntry is k's default value, or null.
func (k *Key) defaultEntry() entry {
	if k.Nullable {
		return entry{null: true, src: SourceDefaultConfig}
	}
	e, err := k.parse(k.Default)
	if err != nil {
		panic(err) // init checked every default
	}
	e.src = SourceDefaultConfig
	return e
}

// parseValue parses a trimmed value as t, returning it with its canonical
// text, or the reason it does not parse.
func parseValue(t Type, s string) (v any, text string, reason error) {
	switch t {
	case Boolean:
		switch {
		case strings.EqualFold(s, "true"):
			return true, "true", nil
		case strings.EqualFold(s, "false"):
			return false, "false", nil
		}
		return nil, "", errors.New("not a boolean (want true or false)")
	case Short, Int, Long:
		bits := map[Type]int{Short: 16, Int: 32, Long: 64}[t]
		n, err := strconv.ParseInt(s, 10, bits)
		if errors.Is(err, strconv.ErrRange) {
			return nil, "", errors.New("out of range for a " + strconv.Itoa(bits) + "-bit integer")
		}
		if err != nil {
			return nil, "", errors.New("not a number")
		}
		return n, strconv.FormatInt(n, 10), nil
	case Double:
		f, err := strconv.ParseFloat(s, 64)
		if errors.Is(err, strconv.ErrRange) {
			return nil, "", errors.New("out of range for a double")
		}
		if err != nil || math.IsNaN(f) {
			return nil, "", errors.New("not a number")
		}
		return f, javaDouble(f), nil
	case List:
		l := parseList(s)
		return l, strings.Join(l, ","), nil
	}
	return s, s, nil // String, Class, Password
}

// parseList splits a comma-separated list and trims each element, as Kafka
// does; the empty string is the empty list. Empty elements are kept so that
// validators can reject them.
func parseList(s string) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return []string{}
	}
	l := strings.Split(s, ",")
	for i := range l {
		l[i] = strings.TrimSpace(l[i])
	}
	return l
}

// javaDouble formats f as Java's Double.toString does, so DescribeConfigs
// shows "0.5" and "1.7976931348623157E308" like Kafka.
func javaDouble(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0 && math.Signbit(f):
		return "-0.0"
	case f == 0:
		return "0.0"
	}
	if a := math.Abs(f); a >= 1e-3 && a < 1e7 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	mant, exp, _ := strings.Cut(strconv.FormatFloat(f, 'e', -1, 64), "e")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	n, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(n)
}
