package api

// DescribeCluster (key 60), versions 0-1 (KIP-700).
//
// Returns the cluster id, the controller (this node: Basket runs the
// controller in-process) and the brokers: this one, with its advertised
// host and port and no rack. Cluster authorized operations are Kafka's
// "not requested" value (-2147483648) unless asked for; Basket has no
// authorizer yet, so when asked every operation on the cluster resource is
// allowed, as in Kafka without an authorizer.
//
// v1 (KIP-919) adds EndpointType. This is a broker endpoint, as Kafka's
// brokers are: asking for controllers (2) is MISMATCHED_ENDPOINT_TYPE and
// any other type but brokers (1) UNSUPPORTED_ENDPOINT_TYPE, with Kafka's
// messages. A v0 request always means brokers.

import (
	"context"
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(60, 0, 0, 1, now((*Handlers).describeCluster)) }

// clusterOperations is the bit field of the operations Kafka defines on the
// cluster resource: ALTER, CLUSTER_ACTION, CREATE, DESCRIBE,
// DESCRIBE_CONFIGS, ALTER_CONFIGS and IDEMPOTENT_WRITE.
const clusterOperations = 1<<kmsg.ACLOperationAlter | 1<<kmsg.ACLOperationClusterAction | 1<<kmsg.ACLOperationCreate |
	1<<kmsg.ACLOperationDescribe | 1<<kmsg.ACLOperationDescribeConfigs | 1<<kmsg.ACLOperationAlterConfigs |
	1<<kmsg.ACLOperationIdempotentWrite

const (
	endpointBroker     = 1
	endpointController = 2
)

func (h *Handlers) describeCluster(_ context.Context, r kmsg.Request) (kmsg.Response, error) {
	req := r.(*kmsg.DescribeClusterRequest)
	resp := req.ResponseKind().(*kmsg.DescribeClusterResponse)
	if req.Version == 0 {
		req.EndpointType = endpointBroker
	}
	switch req.EndpointType {
	case endpointBroker:
	case endpointController:
		msg := "The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type CONTROLLER"
		resp.ErrorCode, resp.ErrorMessage = kerr.MismatchedEndpointType.Code, &msg
		return resp, nil
	default:
		msg := "Unsupported endpoint type " + strconv.Itoa(int(req.EndpointType))
		resp.ErrorCode, resp.ErrorMessage = kerr.UnsupportedEndpointType.Code, &msg
		return resp, nil
	}
	resp.EndpointType = endpointBroker
	resp.ClusterID = h.Node.ClusterID
	resp.ControllerID = h.Node.ID
	b := kmsg.NewDescribeClusterResponseBroker()
	b.NodeID, b.Host, b.Port = h.Node.ID, h.Node.Host, h.Node.Port
	resp.Brokers = []kmsg.DescribeClusterResponseBroker{b}
	if req.IncludeClusterAuthorizedOperations {
		resp.ClusterAuthorizedOperations = clusterOperations
	}
	return resp, nil
}
