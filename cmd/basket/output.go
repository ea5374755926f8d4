package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// output is the --format flag of listing and describe commands: an aligned
// table for people or JSON for scripts.
type output struct{ format string }

func addOutputFlag(cmd *cobra.Command, o *output) {
	cmd.Flags().StringVar(&o.format, "format", "table", "output format: table or json")
}

func (o *output) check() error {
	switch o.format {
	case "table", "json":
		return nil
	}
	return fmt.Errorf("--format must be table or json, got %q", o.format)
}

func (o *output) json() bool { return o.format == "json" }

// print writes v as indented JSON with --format json; otherwise table
// writes it for people.
func (o *output) print(w io.Writer, v any, table func() error) error {
	if o.json() {
		return writeJSON(w, v)
	}
	return table()
}

// printEach writes items as one JSON array with --format json; otherwise
// it writes each with printOne, a blank line between them. It is the
// output of the describe commands.
func printEach[T any](w io.Writer, o *output, items []T, printOne func(io.Writer, T)) error {
	if o.json() {
		return writeJSON(w, items)
	}
	for i, it := range items {
		if i > 0 {
			fmt.Fprintln(w)
		}
		printOne(w, it)
	}
	return nil
}

// writeJSON writes v as indented JSON followed by a newline.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// reportDeleted is the output of the delete commands: "deleted KIND NAME"
// for every name whose deletion succeeded, and the failures joined, in the
// order of names. result tells whether the broker's response has name
// and, if so, the error of its deletion (nil when it was deleted).
func reportDeleted(w io.Writer, kind string, names []string, result func(name string) (answered bool, err error)) error {
	var errs []error
	for _, name := range names {
		answered, err := result(name)
		switch {
		case !answered:
			errs = append(errs, fmt.Errorf("%s %q: no answer from the broker", kind, name))
		case err != nil:
			errs = append(errs, err)
		default:
			fmt.Fprintf(w, "deleted %s %s\n", kind, name)
		}
	}
	return errors.Join(errs...)
}

// table collects rows and writes them aligned, two spaces between columns.
type table struct{ tw *tabwriter.Writer }

func newTable(w io.Writer, header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
	if len(header) > 0 {
		t.row(toAny(header)...)
	}
	return t
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func (t *table) row(cells ...any) {
	for i, c := range cells {
		if i > 0 {
			io.WriteString(t.tw, "\t")
		}
		fmt.Fprint(t.tw, c)
	}
	io.WriteString(t.tw, "\n")
}

func (t *table) flush() error { return t.tw.Flush() }

// int32List renders broker ids as "1,2,3".
func int32List(ids []int32) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.Itoa(int(id))
	}
	return strings.Join(parts, ",")
}

// dash renders an empty string as "-" in tables.
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// parseKeyValues parses repeated key=value flags.
func parseKeyValues(flag string, kvs []string) (map[string]string, error) {
	out := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%s %q: want key=value", flag, kv)
		}
		out[k] = v
	}
	return out, nil
}

// writeJSONLine writes v as compact JSON on one line.
func writeJSONLine(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
