package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kgo"
)

// recordFormatter renders one consumed record.
type recordFormatter func(dst []byte, r *kgo.Record) []byte

// outputVerbs are the verbs of consume's -f format string.
const outputVerbs = "tpokvhTKV"

// parseOutputFormat compiles consume's -f: "json" for one JSON object per
// line, or a format string with %t topic, %p partition, %o offset, %k key,
// %v value, %h headers (key=value,...), %T timestamp (ms), %K and %V the
// key and value lengths (-1 for null), %% a percent sign and the escapes
// \n \r \t \\.
func parseOutputFormat(f string) (recordFormatter, error) {
	if f == "json" {
		return formatJSON, nil
	}
	type part struct {
		verb byte
		lit  string
	}
	var parts []part
	var lit strings.Builder
	for i := 0; i < len(f); i++ {
		c := f[i]
		switch {
		case c == '\\' && i+1 < len(f):
			i++
			b, err := unescape(f[i])
			if err != nil {
				return nil, err
			}
			lit.WriteByte(b)
		case c == '%':
			if i+1 == len(f) {
				return nil, fmt.Errorf("format ends with a lone %%")
			}
			i++
			if f[i] == '%' {
				lit.WriteByte('%')
				continue
			}
			if !strings.ContainsRune(outputVerbs, rune(f[i])) {
				return nil, fmt.Errorf("format: unknown verb %%%c (want one of %%t %%p %%o %%k %%v %%h %%T %%K %%V)", f[i])
			}
			if lit.Len() > 0 {
				parts = append(parts, part{lit: lit.String()})
				lit.Reset()
			}
			parts = append(parts, part{verb: f[i]})
		default:
			lit.WriteByte(c)
		}
	}
	if lit.Len() > 0 {
		parts = append(parts, part{lit: lit.String()})
	}
	return func(dst []byte, r *kgo.Record) []byte {
		for _, p := range parts {
			switch p.verb {
			case 0:
				dst = append(dst, p.lit...)
			case 't':
				dst = append(dst, r.Topic...)
			case 'p':
				dst = strconv.AppendInt(dst, int64(r.Partition), 10)
			case 'o':
				dst = strconv.AppendInt(dst, r.Offset, 10)
			case 'k':
				dst = append(dst, r.Key...)
			case 'v':
				dst = append(dst, r.Value...)
			case 'T':
				dst = strconv.AppendInt(dst, r.Timestamp.UnixMilli(), 10)
			case 'K':
				dst = strconv.AppendInt(dst, nullableLen(r.Key), 10)
			case 'V':
				dst = strconv.AppendInt(dst, nullableLen(r.Value), 10)
			case 'h':
				for i, h := range r.Headers {
					if i > 0 {
						dst = append(dst, ',')
					}
					dst = append(dst, h.Key...)
					dst = append(dst, '=')
					dst = append(dst, h.Value...)
				}
			}
		}
		return dst
	}, nil
}

func nullableLen(b []byte) int64 {
	if b == nil {
		return -1
	}
	return int64(len(b))
}

// jsonRecord is one record in --format json output. Key, value and header
// values are strings when they are valid UTF-8, otherwise base64 with the
// matching *_base64 flag set; a null key or value is null.
type jsonRecord struct {
	Topic       string       `json:"topic"`
	Partition   int32        `json:"partition"`
	Offset      int64        `json:"offset"`
	Timestamp   int64        `json:"timestamp"`
	Headers     []jsonHeader `json:"headers"`
	Key         *string      `json:"key"`
	KeyBase64   bool         `json:"key_base64,omitempty"`
	Value       *string      `json:"value"`
	ValueBase64 bool         `json:"value_base64,omitempty"`
}

type jsonHeader struct {
	Key         string  `json:"key"`
	Value       *string `json:"value"`
	ValueBase64 bool    `json:"value_base64,omitempty"`
}

// jsonBytes renders b for JSON: nil stays null, invalid UTF-8 is base64.
func jsonBytes(b []byte) (*string, bool) {
	if b == nil {
		return nil, false
	}
	if utf8.Valid(b) {
		s := string(b)
		return &s, false
	}
	s := base64.StdEncoding.EncodeToString(b)
	return &s, true
}

func formatJSON(dst []byte, r *kgo.Record) []byte {
	j := jsonRecord{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Timestamp: r.Timestamp.UnixMilli(), Headers: []jsonHeader{}}
	j.Key, j.KeyBase64 = jsonBytes(r.Key)
	j.Value, j.ValueBase64 = jsonBytes(r.Value)
	for _, h := range r.Headers {
		jh := jsonHeader{Key: h.Key}
		jh.Value, jh.ValueBase64 = jsonBytes(h.Value)
		j.Headers = append(j.Headers, jh)
	}
	b, _ := json.Marshal(j) // cannot fail: only strings, numbers and bools
	return append(append(dst, b...), '\n')
}
