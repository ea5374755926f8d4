// Package clock is the source of time for everything that must be testable
// without sleeping: segment rolling, retention, flush intervals, and later the
// coordinators' timers. Production code uses Real; tests use a Fake they
// advance by hand.
//
// Both implementations are safe for concurrent use.
package clock
