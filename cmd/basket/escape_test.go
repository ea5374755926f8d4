package main

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Both -f parsers take the same backslash escapes and word an unknown one
// the same way.
func TestFormat_EscapesSharedByConsumeAndProduce(t *testing.T) {
	for _, tc := range []struct {
		format, want, err string
	}{
		{`%v\n`, "v\n", ""},
		{`%v\r\t\\`, "v\r\t\\", ""},
		{`%v\q`, "", `format: unknown escape \q`},
	} {
		out, err := parseOutputFormat(tc.format)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("consume %q: error %v, want %s", tc.format, err, tc.err)
			}
		} else if got := string(out(nil, &kgo.Record{Value: []byte("v")})); err != nil || got != tc.want {
			t.Errorf("consume %q: %q %v, want %q", tc.format, got, err, tc.want)
		}
		toks, err := parseInputFormat(tc.format)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("produce %q: error %v, want %s", tc.format, err, tc.err)
			}
		} else if err != nil || len(toks) != 2 || toks[1].literal != tc.want[1:] {
			t.Errorf("produce %q: %+v %v, want the literal %q after %%v", tc.format, toks, err, tc.want[1:])
		}
	}
}
