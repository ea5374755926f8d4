package api

// IncrementalAlterConfigs (key 44), versions 0-1 (KIP-339).
//
// Changes only the keys named, each with an operation: SET (0), DELETE (1,
// back to the default), APPEND (2) and SUBTRACT (3) on list-typed keys
// (cleanup.policy), which start from the key's default when it has no
// value; APPEND or SUBTRACT on any other key is INVALID_CONFIG. Validation,
// error codes and persistence are those of AlterConfigs (33_alter_configs.go):
// topic configs are validated on the whole resulting set (INVALID_CONFIG,
// UNKNOWN_TOPIC_OR_PARTITION), broker configs of this broker or of the
// cluster default ("") must not be read-only (INVALID_REQUEST), a null value
// for anything but DELETE, a key given twice and an unknown operation are
// INVALID_REQUEST. validate_only checks without changing anything.
// BROKER_LOGGER (KIP-412) and other resource types are not supported
// (INVALID_REQUEST). v1 is flexible.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/controller"
)

func init() { register(44, 0, 0, 1, now((*Handlers).incrementalAlterConfigs)) }

func (h *Handlers) incrementalAlterConfigs(ctx context.Context, r kmsg.Request) (kmsg.Response, error) {
	req := r.(*kmsg.IncrementalAlterConfigsRequest)
	resp := req.ResponseKind().(*kmsg.IncrementalAlterConfigsResponse)
	alters := make([]configAlter, len(req.Resources))
	for i, rr := range req.Resources {
		alters[i] = configAlter{typ: rr.ResourceType, name: rr.ResourceName}
		for _, c := range rr.Configs {
			alters[i].ops = append(alters[i].ops, controller.ConfigOp{Name: c.Name, Op: controller.OpType(c.Op), Value: c.Value})
		}
	}
	for i, e := range h.changeConfigs(ctx, alters, req.ValidateOnly) {
		rr := kmsg.NewIncrementalAlterConfigsResponseResource()
		rr.ResourceType, rr.ResourceName = alters[i].typ, alters[i].name
		if e != nil {
			rr.ErrorCode, rr.ErrorMessage = e.Code.Code, &e.Message
		}
		resp.Resources = append(resp.Resources, rr)
	}
	return resp, nil
}
