package api

// AlterConfigs (key 33), versions 0-2.
//
// The legacy, non-incremental alter: each resource's configs become exactly
// the ones given, and overrides not named are removed (KIP-339 added
// IncrementalAlterConfigs because of that). Topic (2) resources are
// validated by the controller on the whole resulting set: unknown keys and
// bad values are INVALID_CONFIG with a message, an unknown topic
// UNKNOWN_TOPIC_OR_PARTITION. Broker (4) resources name this broker or ""
// (the cluster-wide default, KIP-226); only keys that are not read-only may
// be set, and every failure is INVALID_REQUEST, as Kafka's
// ConfigAdminManager answers (KAFKA-13609 keeps it so). Before that, as in
// Kafka: a resource given twice, a key given twice in one resource and a
// null value are INVALID_REQUEST, and so is any other resource type.
// validate_only checks without changing anything. Changes are persisted as
// metadata records, survive restarts and apply to live logs at once. v1
// only changed throttling (KIP-219); v2 is flexible.

import (
	"context"
	"maps"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/basketmq/basket/internal/controller"
	"github.com/basketmq/basket/internal/metadata"
)

func init() { register(33, 0, 0, 2, now((*Handlers).alterConfigs)) }

func (h *Handlers) alterConfigs(ctx context.Context, r kmsg.Request) (kmsg.Response, error) {
	req := r.(*kmsg.AlterConfigsRequest)
	resp := req.ResponseKind().(*kmsg.AlterConfigsResponse)
	alters := make([]configAlter, len(req.Resources))
	for i, rr := range req.Resources {
		alters[i] = configAlter{typ: rr.ResourceType, name: rr.ResourceName, replace: true}
		for _, c := range rr.Configs {
			alters[i].ops = append(alters[i].ops, controller.ConfigOp{Name: c.Name, Op: controller.OpSet, Value: c.Value})
		}
	}
	for i, e := range h.changeConfigs(ctx, alters, req.ValidateOnly) {
		rr := kmsg.NewAlterConfigsResponseResource()
		rr.ResourceType, rr.ResourceName = alters[i].typ, alters[i].name
		if e != nil {
			rr.ErrorCode, rr.ErrorMessage = e.Code.Code, &e.Message
		}
		resp.Resources = append(resp.Resources, rr)
	}
	return resp, nil
}

// configAlter is one resource of AlterConfigs or IncrementalAlterConfigs.
type configAlter struct {
	typ     kmsg.ConfigResourceType
	name    string
	ops     []controller.ConfigOp
	replace bool
}

// changeConfigs checks each resource as Kafka's broker does before it
// forwards the request (ConfigAdminManager.preprocess), then has the
// controller apply the ones that pass. It returns one error per resource.
func (h *Handlers) changeConfigs(ctx context.Context, alters []configAlter, validateOnly bool) []*controller.Error {
	type resource struct {
		typ  kmsg.ConfigResourceType
		name string
	}
	times := map[resource]int{}
	for _, a := range alters {
		times[resource{a.typ, a.name}]++
	}
	im := h.Image()
	errs := make([]*controller.Error, len(alters))
	var todo []controller.AlterConfigs
	var idx []int
	for i, a := range alters {
		if times[resource{a.typ, a.name}] > 1 {
			errs[i] = invalidRequest("Each resource must appear at most once.")
		} else if errs[i] = h.preprocessConfigs(im, a); errs[i] == nil {
			todo = append(todo, controller.AlterConfigs{Type: metadata.ResourceType(a.typ), Name: a.name, Ops: a.ops, Replace: a.replace})
			idx = append(idx, i)
		}
	}
	for j, e := range h.Admin.AlterConfigs(ctx, todo, validateOnly) {
		errs[idx[j]] = e
	}
	return errs
}

func (h *Handlers) preprocessConfigs(im *metadata.Image, a configAlter) *controller.Error {
	seen := map[string]bool{}
	var nulls []string
	for _, op := range a.ops {
		if seen[op.Name] {
			return invalidRequest("Error due to duplicate config keys")
		}
		seen[op.Name] = true
		if op.Op != controller.OpDelete && op.Value == nil {
			nulls = append(nulls, op.Name)
		}
	}
	if len(nulls) > 0 {
		return invalidRequest("Null value not supported for : " + strings.Join(nulls, ", "))
	}
	switch a.typ {
	case kmsg.ConfigResourceTypeTopic:
		return nil // the controller validates topic configs
	case kmsg.ConfigResourceTypeBroker:
		return h.checkBrokerConfigs(im, a)
	}
	return invalidRequest("Unknown resource type " + strconv.Itoa(int(a.typ)))
}

// checkBrokerConfigs validates a change to this broker's dynamic configs,
// or to the cluster default's, by layering the result on the static
// configuration as the broker will when the change is committed.
func (h *Handlers) checkBrokerConfigs(im *metadata.Image, a configAlter) *controller.Error {
	self := itoa(h.Node.ID)
	if a.name != "" {
		id, err := strconv.ParseInt(a.name, 10, 32)
		if err != nil {
			return invalidRequest("Node id must be an integer, but it is: " + a.name)
		}
		if int32(id) != h.Node.ID {
			return invalidRequest("Unexpected broker id, expected " + self + ", but received " + a.name)
		}
	}
	next, err := controller.NextConfigs(im.BrokerConfigs(a.name), a.ops, a.replace)
	if err != nil {
		return err
	}
	def, own := im.BrokerConfigs(""), im.BrokerConfigs(self)
	if a.name == "" {
		def = next
	} else {
		own = next
	}
	merged := maps.Clone(def)
	if merged == nil {
		merged = map[string]string{}
	}
	maps.Copy(merged, own)
	if h.BrokerConfig == nil {
		return invalidRequest("dynamic broker configs are not supported without a broker configuration")
	}
	if _, err := h.BrokerConfig.WithDynamic(merged); err != nil {
		return invalidRequest(err.Error())
	}
	return nil
}

func invalidRequest(msg string) *controller.Error {
	return &controller.Error{Code: kerr.InvalidRequest, Message: msg}
}
