package txn

import "time"

// Config holds the broker settings the coordinator obeys, under Kafka's
// names. Start from DefaultConfig and override fields.
type Config struct {
	// MaxTimeout (transaction.max.timeout.ms): InitProducerId asking for a
	// longer transaction timeout (or one not above zero) gets
	// INVALID_TRANSACTION_TIMEOUT.
	MaxTimeout time.Duration
	// TransactionalIDExpiration (transactional.id.expiration.ms): a
	// transactional id with no transaction in progress that has not been
	// used for this long is forgotten (a tombstone is written).
	TransactionalIDExpiration time.Duration
	// AbortTimedOutInterval
	// (transaction.abort.timed.out.transaction.cleanup.interval.ms) is how
	// often Ongoing transactions past their timeout are looked for.
	AbortTimedOutInterval time.Duration
	// RemoveExpiredInterval
	// (transaction.remove.expired.transaction.cleanup.interval.ms) is how
	// often expired transactional ids are looked for.
	RemoveExpiredInterval time.Duration
	// ProducerIDs hands out a producer id never handed out before (the
	// controller reserves them in blocks in the metadata log). It is the
	// coordinator's only call outside itself; it runs on the owner's
	// goroutine when a transactional id is first seen or its epochs run
	// out. An error answers the request COORDINATOR_NOT_AVAILABLE.
	ProducerIDs func() (int64, error)
}

// DefaultConfig returns Kafka's defaults, without ProducerIDs.
func DefaultConfig() Config {
	return Config{
		MaxTimeout:                15 * time.Minute,
		TransactionalIDExpiration: 7 * 24 * time.Hour,
		AbortTimedOutInterval:     10 * time.Second,
		RemoveExpiredInterval:     time.Hour,
	}
}
