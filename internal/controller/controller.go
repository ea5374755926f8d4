package controller

import (
	"context"
	"fmt"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/basketmq/basket/internal/metadata"
)

// Error is a Kafka error code with a message for the client.
type Error struct {
	Code    *kerr.Error
	Message string
}

func (e *Error) Error() string { return e.Code.Message + ": " + e.Message }

func errorf(code *kerr.Error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Options configure a Controller.
type Options struct {
	NodeID int32
	// DefaultPartitions (num.partitions) is used when a request asks for
	// -1 partitions or a topic is auto-created.
	DefaultPartitions int32
	// ValidateTopicConfigs checks topic config overrides; nil accepts all.
	ValidateTopicConfigs func(map[string]*string) error
}

// Controller decides metadata changes.
type Controller struct {
	store *metadata.Store
	opts  Options
	mu    sync.Mutex

	pidMu   sync.Mutex
	nextPID int64
	pidEnd  int64
}

// New returns a controller committing to store.
func New(store *metadata.Store, opts Options) *Controller {
	return &Controller{store: store, opts: opts}
}

// producerIDBlock is how many producer ids one metadata record reserves.
const producerIDBlock = 1000

// NextProducerID allocates a producer id that was never handed out before,
// reserving a new block in the metadata log when the current one is used up.
func (c *Controller) NextProducerID(ctx context.Context) (int64, error) {
	c.pidMu.Lock()
	defer c.pidMu.Unlock()
	if c.nextPID >= c.pidEnd {
		c.mu.Lock()
		start := c.store.Image().NextProducerID
		_, err := c.store.Commit(ctx, metadata.Record{ProducerIDs: &metadata.ProducerIDsRecord{NextProducerID: start + producerIDBlock}})
		c.mu.Unlock()
		if err != nil {
			return -1, err
		}
		c.nextPID, c.pidEnd = start, start+producerIDBlock
	}
	id := c.nextPID
	c.nextPID++
	return id, nil
}
