package api

// ApiVersions (key 18), versions 0-4.
//
// Lists every API key with the versions Basket advertises, built from the
// registrations in this package; the transaction APIs only when a
// transaction coordinator runs (Handlers.Txns). v3+ carries the
// transaction.version feature (KIP-584, KIP-890, KIP-1022) as supported
// 0..Handlers.TransactionVersion and finalized at it, when that is above
// 0: level 2 lets clients use Produce v12 and EndTxn v5. The features'
// epoch is 0: the level is fixed for the broker's life.
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

// transactionVersionFeature is the feature naming the transaction
// protocol level (KIP-1022).
const transactionVersionFeature = "transaction.version"

var softwarePattern = regexp.MustCompile(`^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$`)

func (h *Handlers) apiVersions(_ context.Context, r kmsg.Request) (kmsg.Response, error) {
	req := r.(*kmsg.ApiVersionsRequest)
	resp := req.ResponseKind().(*kmsg.ApiVersionsResponse)
	if req.Version >= 3 && (!softwarePattern.MatchString(req.ClientSoftwareName) || !softwarePattern.MatchString(req.ClientSoftwareVersion)) {
		resp.ErrorCode = kerr.InvalidRequest.Code
		return resp, nil
	}
	for _, v := range Advertised() {
		if txnAPIs[v.Key] && h.Txns == nil {
			continue
		}
		k := kmsg.NewApiVersionsResponseApiKey()
		k.ApiKey, k.MinVersion, k.MaxVersion = v.Key, v.Min, v.Max
		resp.ApiKeys = append(resp.ApiKeys, k)
	}
	if req.Version >= 3 && h.TransactionVersion > 0 {
		sf := kmsg.NewApiVersionsResponseSupportedFeature()
		sf.Name, sf.MinVersion, sf.MaxVersion = transactionVersionFeature, 0, h.TransactionVersion
		resp.SupportedFeatures = append(resp.SupportedFeatures, sf)
		ff := kmsg.NewApiVersionsResponseFinalizedFeature()
		ff.Name, ff.MinVersionLevel, ff.MaxVersionLevel = transactionVersionFeature, h.TransactionVersion, h.TransactionVersion
		resp.FinalizedFeatures = append(resp.FinalizedFeatures, ff)
		// -1 would mean "no finalized features": clients (kgo) then
		// ignore the list.
		resp.FinalizedFeaturesEpoch = 0
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
