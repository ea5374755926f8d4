package api

import (
	"runtime"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// FuzzDecodeRequest feeds arbitrary bodies to the decoder of every API key
// and version Basket serves, as the server does with a client's bytes: it
// must return an error or a request, never panic, and never allocate far
// beyond the input (an untrusted array length must not size an
// allocation: KAFKA-14063).
func FuzzDecodeRequest(f *testing.F) {
	for _, v := range Advertised() {
		for ver := v.Min; ver <= v.Max; ver++ {
			req := kmsg.RequestForKey(v.Key)
			req.SetVersion(ver)
			f.Add(v.Key, ver, req.AppendTo(nil))
		}
	}
	f.Add(int16(3), int16(12), []byte{0x00, 0xff, 0xff, 0xff, 0xff, 0x7f})
	f.Add(int16(0), int16(9), []byte{0, 0, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, key, version int16, body []byte) {
		if !Supported(key, version) {
			return
		}
		// TotalAlloc counts every goroutine's allocations, so other work
		// in the process only adds: the least of three decodes is the
		// decoder's own cost.
		least := ^uint64(0)
		var err error
		for range 3 {
			req := kmsg.RequestForKey(key)
			req.SetVersion(version)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			err = req.ReadFrom(body)
			runtime.ReadMemStats(&after)
			least = min(least, after.TotalAlloc-before.TotalAlloc)
		}
		if least > uint64(64*len(body))+1<<20 {
			t.Fatalf("%s v%d: %d bytes of input allocated %d bytes (err %v)", kmsg.NameForKey(key), version, len(body), least, err)
		}
	})
}
