package config

import (
	"bytes"
	"testing"
)

// FuzzParseProperties: any server.properties text parses or fails with an
// error, never panics; whatever parses can be validated without panicking.
func FuzzParseProperties(f *testing.F) {
	f.Add([]byte("listeners=PLAINTEXT://127.0.0.1:9092\nlog.dirs: /tmp/x\n# comment\n! bang\nnum.partitions = 3\\\n  0\n"))
	f.Add([]byte("a=b\\u0041\\\n"))
	f.Add([]byte("key\\ with\\ spaces=v\\=1\r\n\tindented:x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		props, err := ParseProperties(bytes.NewReader(data))
		if err != nil {
			return
		}
		NewBroker(props) // may reject, must not panic
		cfgs := map[string]*string{}
		for k, v := range props {
			cfgs[k] = &v
		}
		ValidateTopicConfigs(cfgs)
	})
}
