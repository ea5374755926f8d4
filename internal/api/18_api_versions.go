package api

// ApiVersions (key 18), versions 0-4.
//
// Lists every API key with the versions Basket advertises, built from the
// registrations in this package. v3+ carries no features yet: Basket
// finalizes no feature flags (transaction.version comes with KIP-890 part 2).
//
// KIP-511: a client may send a version newer than Basket knows. The server
// does not decode such a request; UnsupportedVersions answers it with a v0
// body holding UNSUPPORTED_VERSION and only the ApiVersions range, and the
// client retries at that version. v3+ requests name the client software;
// names that break Kafka's pattern get INVALID_REQUEST.

import (
	"context"
	"regexp"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(18, 0, 0, 4, now((*Handlers).apiVersions)) }

var softwarePattern = regexp.MustCompile(`^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$`)

func (h *Handlers) apiVersions(_ context.Context, r kmsg.Request) (kmsg.Response, error) {
	req := r.(*kmsg.ApiVersionsRequest)
	resp := req.ResponseKind().(*kmsg.ApiVersionsResponse)
	if req.Version >= 3 && (!softwarePattern.MatchString(req.ClientSoftwareName) || !softwarePattern.MatchString(req.ClientSoftwareVersion)) {
		resp.ErrorCode = kerr.InvalidRequest.Code
		return resp, nil
	}
	for _, v := range Advertised() {
		k := kmsg.NewApiVersionsResponseApiKey()
		k.ApiKey, k.MinVersion, k.MaxVersion = v.Key, v.Min, v.Max
		resp.ApiKeys = append(resp.ApiKeys, k)
	}
	return resp, nil
}

// UnsupportedVersions is the KIP-511 answer to an ApiVersions request of a
// version Basket does not serve: a v0 response with UNSUPPORTED_VERSION and
// the ApiVersions range alone. Its response header is v0 like every
// ApiVersions response.
func UnsupportedVersions() *kmsg.ApiVersionsResponse {
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.Version = 0
	resp.ErrorCode = kerr.UnsupportedVersion.Code
	r := registry[18]
	k := kmsg.NewApiVersionsResponseApiKey()
	k.ApiKey, k.MinVersion, k.MaxVersion = 18, r.advertisedMin, r.max
	resp.ApiKeys = []kmsg.ApiVersionsResponseApiKey{k}
	return resp
}
