package config

import (
	"errors"
	"strings"
	"testing"
)

// badType is a value each type rejects at parse time, with the reason.
var badType = map[Type][2]string{
	Boolean: {"yes", "not a boolean"},
	Short:   {"abc", "not a number"},
	Int:     {"1.5", "not a number"},
	Long:    {"12abc", "not a number"},
	Double:  {"half", "not a number"},
}

// validatorCases exercise every key that has a validator: values it accepts,
// and values it rejects with (part of) the reason.
var validatorCases = map[string]struct {
	good []string
	bad  map[string]string
}{
	"listeners": {
		good: []string{"PLAINTEXT://:9092", "PLAINTEXT://[::1]:9092,SSL://0.0.0.0:9093", " plaintext://h:0 "},
		bad: map[string]string{
			"":                                "at least one listener",
			"127.0.0.1:9092":                  "NAME://host:port",
			"PLAINTEXT://h":                   "NAME://host:port",
			"PLAIN TEXT://h:1":                "listener name",
			"PLAINTEXT://h:65536":             "invalid port",
			"PLAINTEXT://h:1,plaintext://h:2": "appears more than once",
			"PLAINTEXT://h:1,":                "NAME://host:port",
		},
	},
	"advertised.listeners": {
		good: []string{"PLAINTEXT://broker1.example:9092"},
		bad:  map[string]string{"PLAINTEXT://0.0.0.0:9092": "reach", "PLAINTEXT://:9092": "reach", "x": "NAME://"},
	},
	"node.id":                             {good: []string{"0", "7"}, bad: map[string]string{"-1": "at least 0"}},
	"socket.request.max.bytes":            {good: []string{"1"}, bad: map[string]string{"0": "at least 1"}},
	"log.dirs":                            {good: []string{"/a", "/a, /b"}, bad: map[string]string{"": "must not be empty", "/a,/a": "more than once", "/a,,/b": "must not be empty"}},
	"log.dir":                             {good: []string{"/a"}, bad: map[string]string{" ": "must not be empty"}},
	"num.partitions":                      {good: []string{"1", "1000"}, bad: map[string]string{"0": "at least 1", "3000000000": "out of range for a 32-bit integer"}},
	"default.replication.factor":          {good: []string{"3"}, bad: map[string]string{"0": "at least 1"}},
	"num.recovery.threads.per.data.dir":   {good: []string{"1"}, bad: map[string]string{"0": "at least 1"}},
	"message.max.bytes":                   {good: []string{"0"}, bad: map[string]string{"-1": "at least 0"}},
	"log.segment.bytes":                   {good: []string{"14"}, bad: map[string]string{"13": "at least 14"}},
	"log.roll.ms":                         {good: []string{"1"}, bad: map[string]string{"0": "at least 1"}},
	"log.roll.hours":                      {good: []string{"1"}, bad: map[string]string{"0": "at least 1"}},
	"log.roll.jitter.ms":                  {good: []string{"0"}, bad: map[string]string{"-1": "at least 0"}},
	"log.roll.jitter.hours":               {good: []string{"0"}, bad: map[string]string{"-1": "at least 0"}},
	"log.retention.ms":                    {good: []string{"-1", "0", "9223372036854775807"}, bad: map[string]string{"-2": "at least -1", "9223372036854775808": "out of range for a 64-bit"}},
	"log.retention.minutes":               {good: []string{"-1"}, bad: map[string]string{"-2": "at least -1"}},
	"log.retention.hours":                 {good: []string{"-1"}, bad: map[string]string{"-2": "at least -1"}},
	"log.retention.bytes":                 {good: []string{"-1", "1024"}, bad: map[string]string{"-2": "at least -1"}},
	"log.index.interval.bytes":            {good: []string{"0"}, bad: map[string]string{"-1": "at least 0"}},
	"log.index.size.max.bytes":            {good: []string{"4"}, bad: map[string]string{"3": "at least 4"}},
	"log.flush.interval.messages":         {good: []string{"1"}, bad: map[string]string{"0": "at least 1"}},
	"log.flush.interval.ms":               {good: []string{"0"}, bad: map[string]string{"-1": "at least 0"}},
	"log.segment.delete.delay.ms":         {good: []string{"0"}, bad: map[string]string{"-1": "at least 0"}},
	"log.message.timestamp.type":          {good: []string{"LogAppendTime", " CreateTime "}, bad: map[string]string{"createtime": "must be one of: CreateTime, LogAppendTime"}},
	"log.message.timestamp.before.max.ms": {good: []string{"0"}, bad: map[string]string{"-1": "at least 0"}},
	"log.message.timestamp.after.max.ms":  {good: []string{"0"}, bad: map[string]string{"-1": "at least 0"}},
	"log.cleanup.policy": {
		good: []string{"delete", "compact", "compact,delete", " delete , compact ", ""},
		bad:  map[string]string{"remove": `element "remove" must be one of`, "delete,delete": "more than once", "delete,": "must not be empty"},
	},
	"log.retention.check.interval.ms":         {good: []string{"1"}, bad: map[string]string{"0": "at least 1"}},
	"log.flush.scheduler.interval.ms":         {good: []string{"0"}, bad: map[string]string{"-1": "at least 0"}},
	"log.flush.offset.checkpoint.interval.ms": {good: []string{"0"}, bad: map[string]string{"-1": "at least 0"}},
	"basket.log.flush.policy":                 {good: []string{"sync", "async"}, bad: map[string]string{"fsync": "must be one of: sync, async"}},
	"basket.log.page.cache.retain.bytes":      {good: []string{"-1", "0", "67108864"}, bad: map[string]string{"-2": "at least -1"}},
	"log.cleaner.threads":                     {good: []string{"0"}, bad: map[string]string{"-1": "at least 0"}},
	"log.cleaner.dedupe.buffer.size":          {good: []string{"0"}, bad: map[string]string{"-1": "at least 0"}},
	"log.cleaner.io.max.bytes.per.second":     {good: []string{"1e6", "Infinity"}, bad: map[string]string{"0": "greater than 0", "NaN": "not a number", "1e400": "out of range"}},
	"log.cleaner.min.cleanable.ratio":         {good: []string{"0", "1", "0.25"}, bad: map[string]string{"1.01": "between 0.0 and 1.0", "-0.1": "between"}},
	"log.cleaner.delete.retention.ms":         {good: []string{"0"}, bad: map[string]string{"-1": "at least 0"}},
	"log.cleaner.min.compaction.lag.ms":       {good: []string{"0"}, bad: map[string]string{"-1": "at least 0"}},
	"log.cleaner.max.compaction.lag.ms":       {good: []string{"1"}, bad: map[string]string{"0": "at least 1"}},
	"offsets.topic.num.partitions":            {good: []string{"1"}, bad: map[string]string{"0": "at least 1"}},
	"offsets.topic.replication.factor":        {good: []string{"3"}, bad: map[string]string{"0": "at least 1", "40000": "out of range for a 16-bit integer"}},
	"offsets.retention.minutes":               {good: []string{"1"}, bad: map[string]string{"0": "at least 1"}},
	"group.initial.rebalance.delay.ms":        {good: []string{"0"}, bad: map[string]string{"-1": "at least 0"}},
	"group.min.session.timeout.ms":            {good: []string{"1"}, bad: map[string]string{"0": "at least 1"}},
	"group.max.session.timeout.ms":            {good: []string{"1"}, bad: map[string]string{"0": "at least 1"}},
	"group.max.size":                          {good: []string{"1"}, bad: map[string]string{"0": "at least 1"}},
	"group.consumer.session.timeout.ms":       {good: []string{"45000"}, bad: map[string]string{"0": "at least 1"}},
	"group.consumer.heartbeat.interval.ms":    {good: []string{"5000"}, bad: map[string]string{"0": "at least 1"}},
	"group.consumer.max.size":                 {good: []string{"1"}, bad: map[string]string{"0": "at least 1"}},
	"group.consumer.assignors": {
		good: []string{"uniform,range", "range", "org.apache.kafka.coordinator.group.assignor.UniformAssignor"},
		bad:  map[string]string{"": "must not be empty", "sticky": "must be one of", "range,range": "more than once"},
	},
	"log.cleaner.backoff.ms":                     {good: []string{"0", "15000"}, bad: map[string]string{"-1": "at least 0"}},
	"offsets.topic.segment.bytes":                {good: []string{"1048576"}, bad: map[string]string{"13": "at least 14"}},
	"transaction.max.timeout.ms":                 {good: []string{"1"}, bad: map[string]string{"0": "at least 1"}},
	"transactional.id.expiration.ms":             {good: []string{"1"}, bad: map[string]string{"0": "at least 1"}},
	"transaction.state.log.num.partitions":       {good: []string{"1"}, bad: map[string]string{"0": "at least 1"}},
	"transaction.state.log.replication.factor":   {good: []string{"1"}, bad: map[string]string{"0": "at least 1"}},
	"transaction.state.log.min.isr":              {good: []string{"1"}, bad: map[string]string{"0": "at least 1"}},
	"add.partitions.to.txn.retry.backoff.ms":     {good: []string{"1"}, bad: map[string]string{"0": "at least 1"}},
	"add.partitions.to.txn.retry.backoff.max.ms": {good: []string{"1"}, bad: map[string]string{"0": "at least 1"}},
	"basket.transaction.version":                 {good: []string{"0", "1", "2"}, bad: map[string]string{"3": "must be one of: 0, 1, 2"}},
	"compression.type": {
		good: []string{"uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"},
		bad:  map[string]string{"none": "must be one of: uncompressed, zstd, lz4, snappy, gzip, producer", "GZIP": "must be one of"},
	},
	"min.insync.replicas":             {good: []string{"2"}, bad: map[string]string{"0": "at least 1"}},
	"cleanup.policy":                  {good: []string{"compact,delete", ""}, bad: map[string]string{"compact,none": "must be one of"}},
	"delete.retention.ms":             {good: []string{"0"}, bad: map[string]string{"-1": "at least 0"}},
	"file.delete.delay.ms":            {good: []string{"0"}, bad: map[string]string{"-1": "at least 0"}},
	"flush.messages":                  {good: []string{"1"}, bad: map[string]string{"0": "at least 1"}},
	"flush.ms":                        {good: []string{"0"}, bad: map[string]string{"-1": "at least 0"}},
	"index.interval.bytes":            {good: []string{"0"}, bad: map[string]string{"-1": "at least 0"}},
	"max.compaction.lag.ms":           {good: []string{"1"}, bad: map[string]string{"0": "at least 1"}},
	"max.message.bytes":               {good: []string{"0"}, bad: map[string]string{"-1": "at least 0"}},
	"message.timestamp.type":          {good: []string{"CreateTime"}, bad: map[string]string{"NoTime": "must be one of"}},
	"message.timestamp.before.max.ms": {good: []string{"0"}, bad: map[string]string{"-1": "at least 0"}},
	"message.timestamp.after.max.ms":  {good: []string{"0"}, bad: map[string]string{"-1": "at least 0"}},
	"min.cleanable.dirty.ratio":       {good: []string{"0.0", "1.0"}, bad: map[string]string{"2": "between 0.0 and 1.0"}},
	"min.compaction.lag.ms":           {good: []string{"0"}, bad: map[string]string{"-1": "at least 0"}},
	"retention.bytes":                 {good: []string{"-1"}, bad: map[string]string{"-2": "at least -1"}},
	"retention.ms":                    {good: []string{"-1"}, bad: map[string]string{"-2": "at least -1"}},
	"segment.bytes":                   {good: []string{"14", "2147483647"}, bad: map[string]string{"13": "at least 14", "abc": "not a number", "2147483648": "out of range"}},
	"segment.index.bytes":             {good: []string{"4"}, bad: map[string]string{"3": "at least 4"}},
	"segment.ms":                      {good: []string{"1"}, bad: map[string]string{"0": "at least 1"}},
	"segment.jitter.ms":               {good: []string{"0"}, bad: map[string]string{"-1": "at least 0"}},
	"auto.create.topics.enable":       {good: []string{"TRUE", "false"}, bad: map[string]string{"1": "not a boolean"}},
}

func TestValidators(t *testing.T) {
	for name, tc := range validatorCases {
		k, ok := Lookup(name)
		if !ok {
			t.Errorf("no key %s", name)
			continue
		}
		for _, v := range tc.good {
			if err := k.Check(v); err != nil {
				t.Errorf("%s: Check(%q) = %v, want nil", name, v, err)
			}
		}
		for v, reason := range tc.bad {
			err := k.Check(v)
			var iv *InvalidValueError
			if !errors.As(err, &iv) {
				t.Errorf("%s: Check(%q) = %v, want *InvalidValueError", name, v, err)
				continue
			}
			if iv.Name != name || iv.Value != v || !strings.Contains(iv.Reason, reason) {
				t.Errorf("%s: Check(%q) = %q, want reason containing %q", name, v, err, reason)
			}
		}
	}
}

func TestValidators_EveryValidatorHasABadCase(t *testing.T) {
	for _, k := range append(BrokerKeys(), TopicKeys()...) {
		if k.Validate == nil {
			continue
		}
		if len(validatorCases[k.Name].bad) == 0 {
			t.Errorf("%s has a validator but no bad value in validatorCases", k.Name)
		}
	}
}

func TestValidators_EveryKeyRejectsBadType(t *testing.T) {
	for _, k := range append(BrokerKeys(), TopicKeys()...) {
		bad, ok := badType[k.Type]
		if !ok {
			continue // strings and lists parse from any text
		}
		err := k.Check(bad[0])
		want := `invalid value "` + bad[0] + `" for configuration ` + k.Name + ": " + bad[1]
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: Check(%q) = %v, want %q", k.Name, bad[0], err, want)
		}
	}
}

func TestCheck_ErrorMessage(t *testing.T) {
	k, _ := Lookup("segment.bytes")
	err := k.Check("abc")
	if got, want := err.Error(), `invalid value "abc" for configuration segment.bytes: not a number`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestCheck_SensitiveValueHidden(t *testing.T) {
	k := &Key{Name: "ssl.key.password", Type: Password, Sensitive: true,
		Validate: func(string) error { return errors.New("too short") }}
	err := k.Check("hunter2")
	if strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "[hidden]") {
		t.Errorf("error %q leaks or does not hide the value", err)
	}
}

func TestParseListener(t *testing.T) {
	l, err := ParseListener("sasl_ssl://[::1]:9093")
	if err != nil {
		t.Fatal(err)
	}
	if l != (Listener{Name: "SASL_SSL", Host: "::1", Port: 9093}) || l.Addr() != "[::1]:9093" {
		t.Errorf("got %+v addr %s", l, l.Addr())
	}
}
