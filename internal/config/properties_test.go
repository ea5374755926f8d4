package config

import (
	"maps"
	"strings"
	"testing"
)

func TestParseProperties_JavaSyntax(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want map[string]string
	}{
		{"equals", "a=b", map[string]string{"a": "b"}},
		{"colon", "a: b", map[string]string{"a": "b"}},
		{"blank separator", "a   b", map[string]string{"a": "b"}},
		{"blanks around equals", "  a =  b", map[string]string{"a": "b"}},
		{"second separator kept", "a==b", map[string]string{"a": "=b"}},
		{"value with separators", "url=http://h:1/x=y", map[string]string{"url": "http://h:1/x=y"}},
		{"key only", "a", map[string]string{"a": ""}},
		{"key and equals only", "a=", map[string]string{"a": ""}},
		{"comments and blanks", "# c\n  ! c2\n\n \t \na=1\n", map[string]string{"a": "1"}},
		{"hash inside value", "a=b#c", map[string]string{"a": "b#c"}},
		{"trailing blanks trimmed", "a=b \t ", map[string]string{"a": "b"}},
		{"escaped trailing blank kept", `a=b\ `, map[string]string{"a": "b "}},
		{"continuation", "a=one,\\\n    two,\\\n\tthree", map[string]string{"a": "one,two,three"}},
		{"continued line starting with hash", "a=x\\\n#y", map[string]string{"a": "x#y"}},
		{"comment does not continue", "# c \\\na=1", map[string]string{"a": "1"}},
		{"even backslashes do not continue", "a=x\\\\\nb=y", map[string]string{"a": `x\`, "b": "y"}},
		{"backslash at end of input", `a=x\`, map[string]string{"a": "x"}},
		{"escapes", `a=\t\n\r\f\\\=\:\q`, map[string]string{"a": "\t\n\r\f\\=:q"}},
		{"escaped separator in key", `a\=b\:c\ d=v`, map[string]string{"a=b:c d": "v"}},
		{"unicode escape", `a=caf\u00e9 \u2603`, map[string]string{"a": "café ☃"}},
		{"surrogate pair", `a=\ud83d\ude00`, map[string]string{"a": "😀"}},
		{"utf-8 text", "a=naïve", map[string]string{"a": "naïve"}},
		{"crlf and cr", "a=1\r\nb=2\rc=3", map[string]string{"a": "1", "b": "2", "c": "3"}},
		{"last duplicate wins", "a=1\na=2", map[string]string{"a": "2"}},
		{"server.properties excerpt", `
# The id of the broker.
node.id=1
listeners=PLAINTEXT://:9092,\
          SSL://:9093
log.dirs=/var/lib/basket
log.retention.hours : 168
`, map[string]string{
			"node.id": "1", "listeners": "PLAINTEXT://:9092,SSL://:9093",
			"log.dirs": "/var/lib/basket", "log.retention.hours": "168",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseProperties(strings.NewReader(tt.in))
			if err != nil {
				t.Fatalf("ParseProperties: %v", err)
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseProperties_ErrorsNameTheLine(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"a=1\n=2", "line 2: missing key"},
		{"a=1\n\n  :2", "line 3: missing key"},
		{"a=1\nb=\\u12", `line 2: malformed \uXXXX escape`},
		{"a=\\uzzzz", `line 1: malformed \uXXXX escape`},
		{"a=\\ud83d!", `line 1: unpaired UTF-16 surrogate`},
		{"a=1\nb=x\\\n  y\\\n  \\u00g0", `line 2: malformed \uXXXX escape`},
		{"a=\xff", "line 1: not valid UTF-8"},
	}
	for _, tt := range tests {
		_, err := ParseProperties(strings.NewReader(tt.in))
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("ParseProperties(%q) = %v, want %q", tt.in, err, tt.want)
		}
	}
}

func TestParseOverride(t *testing.T) {
	tests := []struct {
		in, key, value string
		ok             bool
	}{
		{"log.retention.hours=1", "log.retention.hours", "1", true},
		{" a = b=c ", "a", "b=c", true},
		{"a=", "a", "", true},
		{"a", "", "", false},
		{"=1", "", "", false},
	}
	for _, tt := range tests {
		k, v, err := ParseOverride(tt.in)
		if (err == nil) != tt.ok || k != tt.key || v != tt.value {
			t.Errorf("ParseOverride(%q) = %q, %q, %v", tt.in, k, v, err)
		}
	}
}
