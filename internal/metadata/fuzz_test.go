package metadata

import "testing"

// FuzzDecodeRecord: arbitrary metadata record values decode or fail, and a
// decoded record either applies to an image or is rejected, never panics.
func FuzzDecodeRecord(f *testing.F) {
	f.Add([]byte(`{"topic":{"name":"a","id":"V2kzQ0NPcjFTYXl0a2J5aA"}}`))
	f.Add([]byte(`{"partition":{"topic_id":"V2kzQ0NPcjFTYXl0a2J5aA","partition":0,"replicas":[1],"isr":[1],"leader":1}}`))
	f.Add([]byte(`{"config":{"resource_type":2,"resource_name":"a","name":"x","value":null}}`))
	f.Add([]byte(`{"producer_ids":{"next_producer_id":1000}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := DecodeRecord(data)
		if err != nil {
			return
		}
		base, _ := Empty().Apply(Record{Topic: &TopicRecord{Name: "a", ID: UUID{1, 2, 3}}}, 0)
		base.Apply(r, 1)
	})
}
