package config

import (
	"bytes"
	"strings"
	"testing"
)

func TestHelpListsEveryKey(t *testing.T) {
	for _, tc := range []struct {
		name string
		keys []*Key
	}{{"broker", BrokerKeys()}, {"topic", TopicKeys()}} {
		var buf bytes.Buffer
		WriteHelp(&buf, tc.keys)
		lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
		if len(lines) != len(tc.keys)+1 {
			t.Fatalf("%s: %d lines for %d keys", tc.name, len(lines), len(tc.keys))
		}
		if f := strings.Fields(lines[0]); strings.Join(f, " ") != "NAME TYPE DEFAULT DESCRIPTION" {
			t.Errorf("%s: header %q", tc.name, lines[0])
		}
		// Columns line up: DESCRIPTION starts at the same offset everywhere.
		col := strings.Index(lines[0], "DESCRIPTION")
		for i, k := range tc.keys {
			line := lines[i+1]
			f := strings.Fields(line)
			def := k.Default
			if k.Nullable {
				def = "null"
			}
			if len(f) < 4 || f[0] != k.Name || f[1] != k.Type.String() || f[2] != def {
				t.Errorf("%s: line %q, want %s %s %s ...", tc.name, line, k.Name, k.Type, def)
			}
			if !strings.HasPrefix(line[col:], k.Doc) || line[col-1] != ' ' {
				t.Errorf("%s: doc of %s not aligned in %q", tc.name, k.Name, line)
			}
		}
	}
}

func TestHelp_MarksReadOnlyAndEmptyDefault(t *testing.T) {
	node, _ := Lookup("node.id")
	empty := &Key{Name: "x.y", Type: String, Doc: "d", Scope: ScopeTopic}
	var buf bytes.Buffer
	WriteHelp(&buf, []*Key{node, empty})
	lines := strings.Split(buf.String(), "\n")
	if !strings.HasSuffix(lines[1], "[read-only]") || strings.Join(strings.Fields(lines[2]), " ") != `x.y string "" d` {
		t.Errorf("output:\n%s", buf.String())
	}
}
