package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
)

// maxInputRecordBytes bounds one record read from produce's input, so a
// missing delimiter cannot make the reader buffer a whole stream.
const maxInputRecordBytes = 16 << 20

// inputRecord is one record parsed from produce's input, or why it could
// not be parsed (the reader then moves on to the next record).
type inputRecord struct {
	rec  *kgo.Record
	line int // the input line the record starts on, from 1
	err  error
}

// recordReader yields records from produce's input until io.EOF.
type recordReader interface {
	next() (inputRecord, error)
}

// lineReader reads one record per line: the whole line is the value, or,
// with a key separator, the text before its first occurrence is the key.
// A trailing "\r\n" or "\n" is dropped.
type lineReader struct {
	r      *bufio.Reader
	keySep string
	line   int
}

func (l *lineReader) next() (inputRecord, error) {
	b, err := readUntil(l.r, "\n")
	if err == io.EOF && len(b) == 0 {
		return inputRecord{}, io.EOF
	}
	if err != nil && err != io.EOF {
		return inputRecord{}, err
	}
	l.line++
	b = bytes.TrimSuffix(b, []byte("\r"))
	in := inputRecord{line: l.line, rec: &kgo.Record{}}
	if l.keySep == "" {
		in.rec.Value = b
		return in, nil
	}
	k, v, ok := bytes.Cut(b, []byte(l.keySep))
	if !ok {
		in.err = fmt.Errorf("no key separator %q", l.keySep)
		return in, nil
	}
	in.rec.Key, in.rec.Value = k, v
	return in, nil
}

// readUntil reads up to and including delim and returns what came before
// it. At the end of the input it returns what is left with io.EOF.
func readUntil(r *bufio.Reader, delim string) ([]byte, error) {
	var buf []byte
	last := delim[len(delim)-1]
	for {
		chunk, err := r.ReadSlice(last)
		buf = append(buf, chunk...)
		switch {
		case err == nil:
			if bytes.HasSuffix(buf, []byte(delim)) {
				return buf[:len(buf)-len(delim)], nil
			}
		case errors.Is(err, bufio.ErrBufferFull):
		default:
			return buf, err
		}
		if len(buf) > maxInputRecordBytes {
			return nil, fmt.Errorf("no %q within %d bytes of input", delim, maxInputRecordBytes)
		}
	}
}

// A formatToken is literal text or one verb of a produce format string.
type formatToken struct {
	verb    byte // 'k', 'v', 't', 'p', 'h'; 0 for literal text
	literal string
}

// parseInputFormat parses a produce format string: %k key, %v value,
// %t topic, %p partition, %h headers (k=v,k=v), %% a percent sign, and
// the escapes \n \r \t \\. Every verb must be followed by literal text,
// the delimiter that ends it, except a verb at the very end, which takes
// the rest of the input.
func parseInputFormat(f string) ([]formatToken, error) {
	var toks []formatToken
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			toks = append(toks, formatToken{literal: lit.String()})
			lit.Reset()
		}
	}
	seen := map[byte]bool{}
	for i := 0; i < len(f); i++ {
		switch c := f[i]; c {
		case '\\':
			if i+1 == len(f) {
				return nil, errors.New("format ends with a lone backslash")
			}
			i++
			b, err := unescape(f[i])
			if err != nil {
				return nil, err
			}
			lit.WriteByte(b)
		case '%':
			if i+1 == len(f) {
				return nil, errors.New("format ends with a lone %")
			}
			i++
			v := f[i]
			if v == '%' {
				lit.WriteByte('%')
				continue
			}
			if !strings.ContainsRune("kvtph", rune(v)) {
				return nil, fmt.Errorf("format: unknown verb %%%c (want %%k %%v %%t %%p %%h)", v)
			}
			if seen[v] {
				return nil, fmt.Errorf("format: %%%c appears twice", v)
			}
			seen[v] = true
			if n := len(toks); lit.Len() == 0 && n > 0 && toks[n-1].verb != 0 {
				return nil, fmt.Errorf("format: %%%c follows %%%c with no text between them to end it", v, toks[n-1].verb)
			}
			flush()
			toks = append(toks, formatToken{verb: v})
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	if len(toks) == 0 || !seen['v'] && !seen['k'] {
		return nil, errors.New("format: needs %v or %k")
	}
	return toks, nil
}

// formatReader reads records by repeating a parsed format over the input.
type formatReader struct {
	r    *bufio.Reader
	toks []formatToken
	line int // newlines consumed so far
}

func (f *formatReader) next() (inputRecord, error) {
	if _, err := f.r.Peek(1); err == io.EOF {
		return inputRecord{}, io.EOF
	}
	in := inputRecord{line: f.line + 1, rec: &kgo.Record{}}
	last := len(f.toks) - 1
	for i := 0; i <= last; {
		tok := f.toks[i]
		if tok.verb == 0 {
			got := make([]byte, len(tok.literal))
			n, err := io.ReadFull(f.r, got)
			f.line += bytes.Count(got[:n], []byte("\n"))
			if i == last && n == 0 && err == io.EOF {
				return in, nil // the input may lack the final delimiter
			}
			if err != nil || string(got) != tok.literal {
				return in, fmt.Errorf("line %d: input does not match the format: want %q, got %q", in.line, tok.literal, got[:n])
			}
			i++
			continue
		}
		var b []byte
		var err error
		if i < last { // parseInputFormat puts a literal after every verb but the last
			delim := f.toks[i+1].literal
			b, err = readUntil(f.r, delim)
			if err == nil {
				f.line += strings.Count(delim, "\n")
			}
			i += 2
		} else {
			b, err = io.ReadAll(io.LimitReader(f.r, maxInputRecordBytes+1))
			if err == nil && len(b) > maxInputRecordBytes {
				err = fmt.Errorf("more than %d bytes for %%%c", maxInputRecordBytes, tok.verb)
			}
			i++
		}
		f.line += bytes.Count(b, []byte("\n"))
		if err != nil && err != io.EOF {
			return in, fmt.Errorf("line %d: %w", in.line, err)
		}
		if in.err == nil {
			in.err = setField(in.rec, tok.verb, b)
		}
		if err == io.EOF {
			if i <= last {
				return in, fmt.Errorf("line %d: input ends inside a record", in.line)
			}
			return in, nil
		}
	}
	return in, nil
}

// setField stores a verb's text in the record.
func setField(r *kgo.Record, verb byte, b []byte) error {
	switch verb {
	case 'k':
		r.Key = b
	case 'v':
		r.Value = b
	case 't':
		r.Topic = string(b)
	case 'p':
		p, err := strconv.ParseInt(string(b), 10, 32)
		if err != nil || p < 0 {
			return fmt.Errorf("partition %q is not a partition number", b)
		}
		r.Partition = int32(p)
	case 'h':
		if len(b) == 0 {
			return nil
		}
		for _, kv := range strings.Split(string(b), ",") {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				return fmt.Errorf("header %q: want key=value", kv)
			}
			r.Headers = append(r.Headers, kgo.RecordHeader{Key: k, Value: []byte(v)})
		}
	}
	return nil
}
