package wire

import "github.com/twmb/franz-go/pkg/kmsg"

// Kafka API keys with header rules of their own.
const (
	keyControlledShutdown int16 = 7  // v0 uses request header v0
	keyApiVersions        int16 = 18 // response header is always v0 (KIP-511)
)

// apiVersions is what kmsg knows of one API key: its highest version and
// the first version at which the request and the response are flexible
// (KIP-482), or -1 if none is.
type apiVersions struct {
	known            bool
	maxVersion       int16
	reqFlexibleFrom  int16
	respFlexibleFrom int16
}

// apis is indexed by API key and filled once at init from kmsg, so that
// classifying a header allocates nothing.
var apis [kmsg.MaxKey + 1]apiVersions

func init() {
	for k := range apis {
		req := kmsg.RequestForKey(int16(k))
		resp := kmsg.ResponseForKey(int16(k))
		if req == nil || resp == nil {
			continue
		}
		apis[k] = apiVersions{
			known:            true,
			maxVersion:       req.MaxVersion(),
			reqFlexibleFrom:  firstFlexible(req.MaxVersion(), req.SetVersion, req.IsFlexible),
			respFlexibleFrom: firstFlexible(resp.MaxVersion(), resp.SetVersion, resp.IsFlexible),
		}
	}
}

// firstFlexible returns the lowest version in [0, max] at which isFlexible
// reports true, or -1. Kafka's message specs declare flexible versions as
// "N+", so every version from there on is flexible, including versions
// newer than kmsg knows.
func firstFlexible(max int16, setVersion func(int16), isFlexible func() bool) int16 {
	for v := int16(0); v <= max; v++ {
		setVersion(v)
		if isFlexible() {
			return v
		}
	}
	return -1
}

// lookup returns kmsg's knowledge of key, and whether key is known.
func lookup(key int16) (apiVersions, bool) {
	if key < 0 || int(key) >= len(apis) || !apis[key].known {
		return apiVersions{}, false
	}
	return apis[key], true
}

// RequestHeaderVersion returns the request header version (0, 1 or 2) a
// client uses for version of API key, as Apache Kafka's generated
// ApiMessageType.requestHeaderVersion decides it:
//
//   - 0 for ControlledShutdown v0 only;
//   - 2 when the request is flexible at that version (KIP-482), which also
//     holds for versions newer than kmsg knows of an API that is already
//     flexible at its newest known version — so an ApiVersions request of
//     any version >= 3, even one Basket cannot decode, has a v2 header
//     (KIP-511);
//   - 1 otherwise, including unknown API keys and negative versions.
//
// It is safe for concurrent use and does not allocate.
func RequestHeaderVersion(key, version int16) int {
	if key == keyControlledShutdown && version == 0 {
		return 0
	}
	a, ok := lookup(key)
	if !ok || version < 0 || a.reqFlexibleFrom < 0 || version < a.reqFlexibleFrom {
		return 1
	}
	return 2
}

// ResponseHeaderFlexible reports whether the response to version of API
// key carries response header v1 (correlation id and a tagged-field
// section) rather than v0 (correlation id only). It is true exactly when
// the response body is flexible at that version, except for ApiVersions,
// whose response header is always v0 so that a client can read it before
// it knows which versions the broker speaks (KIP-511). Unknown keys and
// negative versions report false.
//
// It is safe for concurrent use and does not allocate.
func ResponseHeaderFlexible(key, version int16) bool {
	if key == keyApiVersions {
		return false
	}
	a, ok := lookup(key)
	return ok && version >= 0 && a.respFlexibleFrom >= 0 && version >= a.respFlexibleFrom
}
