package record

import (
	"errors"
	"fmt"
)

// The kinds of error this package returns, each matching the Kafka error code
// a broker answers with. Test with errors.Is.
var (
	// ErrCorrupt: bytes that are not a valid batch (bad length, magic,
	// CRC, codec or compressed stream). Kafka: CORRUPT_MESSAGE.
	ErrCorrupt = errors.New("corrupt record batch")
	// ErrInvalidRecord: a well-formed batch whose contents break a rule
	// (offset deltas, counts, control batches from clients). Kafka:
	// INVALID_RECORD.
	ErrInvalidRecord = errors.New("invalid record")
	// ErrTooLarge: a batch, or its decompressed records, larger than
	// allowed. Kafka: MESSAGE_TOO_LARGE.
	ErrTooLarge = errors.New("record batch too large")
)

// Error is an error of one of the kinds above with a message naming what is
// wrong.
type Error struct {
	Kind error
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// Is reports whether target is the error's kind.
func (e *Error) Is(target error) bool { return target == e.Kind }

func errorf(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}
