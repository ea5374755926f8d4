package api

import (
	"context"
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/basketmq/basket/internal/log"
	"github.com/basketmq/basket/internal/producerstate"
	"github.com/basketmq/basket/internal/record"
)

// codeFor maps an error from the storage or partition layer to the Kafka
// error code a client acts on.
func codeFor(err error) *kerr.Error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, record.ErrCorrupt):
		return kerr.CorruptMessage
	case errors.Is(err, record.ErrInvalidRecord):
		return kerr.InvalidRecord
	case errors.Is(err, record.ErrTooLarge):
		return kerr.MessageTooLarge
	case errors.Is(err, log.ErrOffsetOutOfRange):
		return kerr.OffsetOutOfRange
	case errors.Is(err, log.ErrFailed):
		return kerr.KafkaStorageError
	case errors.Is(err, log.ErrClosed):
		return kerr.NotLeaderForPartition // deleted or shutting down: refresh metadata
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return kerr.RequestTimedOut
	case errors.Is(err, producerstate.ErrOutOfOrderSequence):
		return kerr.OutOfOrderSequenceNumber
	case errors.Is(err, producerstate.ErrInvalidProducerEpoch):
		return kerr.InvalidProducerEpoch
	case errors.Is(err, producerstate.ErrInvalidTxnState):
		return kerr.InvalidTxnState
	case errors.Is(err, producerstate.ErrTransactionCoordinatorFenced):
		return kerr.TransactionCoordinatorFenced
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke
	}
	return kerr.UnknownServerError
}
