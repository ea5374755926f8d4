package config

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteHelp writes keys as an aligned table with the columns NAME, TYPE,
// DEFAULT and DESCRIPTION, one key per line in the order given; a null
// default shows as "null" and an empty one as "". It is what
// `basket serve --help` prints (pass BrokerKeys or TopicKeys). Write errors
// are ignored, as for flag.PrintDefaults.
func WriteHelp(w io.Writer, keys []*Key) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tTYPE\tDEFAULT\tDESCRIPTION")
	for _, k := range keys {
		def := k.Default
		switch {
		case k.Nullable:
			def = "null"
		case def == "":
			def = `""`
		}
		doc := k.Doc
		if k.ReadOnly && k.Scope.Has(ScopeBroker) {
			doc += " [read-only]"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.Name, k.Type, def, doc)
	}
	tw.Flush()
}
