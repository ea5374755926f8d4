package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func at(ms int64) time.Time { return time.UnixMilli(ms) }

// smallRecords covers the shapes a decoder must keep apart: a key and no
// key, a null value (tombstone) and an empty one, headers with a null value,
// and a timestamp earlier than the batch's first (a negative delta). The
// values repeat so that every codec shrinks them and kgo keeps the codec.
func smallRecords() []*kgo.Record {
	text := strings.Repeat("basket keeps the bytes the client sent; ", 4)
	return []*kgo.Record{
		{Key: []byte("user-1"), Value: []byte("first: " + text), Timestamp: at(baseTime),
			Headers: []kgo.RecordHeader{{Key: "trace", Value: []byte("abc123")}, {Key: "empty", Value: []byte{}}}},
		{Key: nil, Value: []byte("no key: " + text), Timestamp: at(baseTime + 7)},
		{Key: []byte("user-2"), Value: nil, Timestamp: at(baseTime + 14),
			Headers: []kgo.RecordHeader{{Key: "null-value", Value: nil}}},
		{Key: []byte("user-3"), Value: []byte{}, Timestamp: at(baseTime - 5)},
		{Key: []byte{}, Value: []byte("empty key: " + text), Timestamp: at(baseTime + 21)},
		{Key: []byte("user-1"), Value: []byte("second: " + text), Timestamp: at(baseTime + 28),
			Headers: []kgo.RecordHeader{{Key: "a", Value: []byte("1")}, {Key: "b", Value: []byte("2")}, {Key: "a", Value: []byte("3")}}},
	}
}

// largeRecords are 48 records of about 1 KiB, more than one 32 KiB xerial
// block once framed.
func largeRecords() []*kgo.Record {
	var recs []*kgo.Record
	for i := range 48 {
		line := fmt.Sprintf("record %02d of the large batch. ", i)
		recs = append(recs, &kgo.Record{
			Key:       []byte(fmt.Sprintf("key-%02d", i)),
			Value:     []byte(strings.Repeat(line, 1024/len(line)+1)[:1024]),
			Timestamp: at(baseTime + int64(i)),
		})
	}
	return recs
}
