// Package goclients holds interop tests that run two widely used Go Kafka
// clients, IBM/sarama and segmentio/kafka-go, unchanged against the real
// Basket broker binary over TCP. franz-go (kgo, kadm, kmsg) is the
// independent checker: it reads back what the clients stored, including the
// codec each record batch was stored with.
//
// The package is a separate module so that the clients under test never
// enter the product's go.mod. It has no non-test code; run it with
//
//	cd test/interop/goclients && go test -race -count=1 ./...
package goclients
