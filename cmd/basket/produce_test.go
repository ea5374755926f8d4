package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestProduce_LinesKeysHeadersAndFormat(t *testing.T) {
	b := startTestBroker(t)
	b.mustRun(t, "", "topic", "create", "orders", "-p", "2")

	r := b.mustRun(t, "v1\nv2\r\n\nv4", "produce", "orders", "--partition", "0", "-v")
	if r.stdout != "orders partition 0 offset 0\norders partition 0 offset 1\norders partition 0 offset 2\norders partition 0 offset 3\n" {
		t.Errorf("produce -v printed %q", r.stdout)
	}
	b.mustRun(t, "k5:v5\nk6:v:6\n", "produce", "orders", "--partition", "0", "--key-separator", ":", "-H", "h=1", "-H", "src=test")
	b.mustRun(t, "k7 v7\nk8 v8", "produce", "orders", "--partition", "0", "-f", `%k %v\n`, "-z", "zstd", "--acks", "1")
	b.mustRun(t, "1|k9|a=b,c=d|v9\n", "produce", "orders", "-f", `%p|%k|%h|%v\n`, "-z", "gzip", "--acks", "0")
	path := filepath.Join(t.TempDir(), "in.txt")
	os.WriteFile(path, []byte("from-file\n"), 0o644)
	b.mustRun(t, "", "produce", "orders", "--partition", "1", "--file", path, "-z", "lz4")
	b.mustRun(t, "snappy\n", "produce", "orders", "--partition", "1", "-z", "snappy")

	got := b.mustRun(t, "", "consume", "orders", "--partition", "0", "--from-beginning", "-n", "8", "-f", `%p %o %k=%v [%h] %K %V\n`).stdout
	golden(t, "consume_partition0.txt", got)
	got = b.mustRun(t, "", "consume", "orders", "--partition", "1", "--offset", "start", "-n", "3", "--format", "json").stdout
	golden(t, "consume_partition1.json", b.normalize(got))
}

func TestProduce_ReportsFailedRecordsAndExitsOne(t *testing.T) {
	b := startTestBroker(t)
	b.mustRun(t, "", "topic", "create", "orders")
	r := runCLI(t, "k1:v1\nno separator\nk3:v3\n", "produce", "orders", "--key-separator", ":", "-b", b.addr)
	if r.code != 1 || r.stderr != "basket: line 2: no key separator \":\"\nbasket: 1 of 3 records failed\n" {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	// The good records were written.
	got := b.mustRun(t, "", "consume", "orders", "--from-beginning", "-n", "2", "-f", `%k\n`).stdout
	if got != "k1\nk3\n" {
		t.Errorf("consumed %q", got)
	}
	// A partition the topic does not have fails each record with the
	// broker's or client's error.
	r = runCLI(t, "x\n", "produce", "orders", "--partition", "7", "-b", b.addr, "--timeout", "2s")
	if r.code != 1 || !strings.Contains(r.stderr, "line 1: topic orders partition 7") || !strings.HasSuffix(r.stderr, "basket: 1 of 1 records failed\n") {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

func TestProduce_Errors(t *testing.T) {
	b := startTestBroker(t)
	b.mustRun(t, "", "topic", "create", "orders")
	b.fail(t, `topic "nope" does not exist`, "x\n", "produce", "nope")
	b.fail(t, `unknown compression "brotli"`, "x\n", "produce", "orders", "-z", "brotli")
	b.fail(t, `--acks must be all, -1, 1 or 0, got "2"`, "x\n", "produce", "orders", "--acks", "2")
	b.fail(t, `-H "novalue": want key=value`, "x\n", "produce", "orders", "-H", "novalue")
	b.fail(t, `unknown verb %x`, "x\n", "produce", "orders", "-f", `%x\n`)
	b.fail(t, `%v follows %k with no text between them`, "x\n", "produce", "orders", "-f", `%k%v\n`)
	b.fail(t, `not both`, "x\n", "produce", "orders", "-f", `%v\n`, "--key-separator", ":")
	b.fail(t, `input does not match the format`, "<k1>v1\nk2>v2\n", "produce", "orders", "-f", `<%k>%v\n`)
	b.fail(t, `no such file`, "", "produce", "orders", "--file", "/nonexistent/in.txt")
}

// TestProduce_AllowAutoCreate: with --allow-auto-create a missing topic is
// created by the broker (auto.create.topics.enable).
func TestProduce_AllowAutoCreate(t *testing.T) {
	b := startTestBroker(t)
	b.mustRun(t, "x\n", "produce", "fresh", "--allow-auto-create")
	if got := b.mustRun(t, "", "consume", "fresh", "--from-beginning", "-n", "1").stdout; got != "x\n" {
		t.Errorf("consumed %q", got)
	}
}

func TestInputFormat_Parses(t *testing.T) {
	for _, tc := range []struct {
		format, input string
		want          []string // key=value per record, or "error: ..." for a per-record error
		wantErr       string
	}{
		{`%v\n`, "a\nb\n", []string{"=a", "=b"}, ""},
		{`%k %v\n`, "k1 v 1\nk2 v2", []string{"k1=v 1", "k2=v2"}, ""},
		{`%k\t%v\n`, "k1\tv1\n", []string{"k1=v1"}, ""},
		{`%k,%v;`, "a,b;c,d;", []string{"a=b", "c=d"}, ""},
		{`%k=%v`, "a=b=c\nd", []string{"a=b=c\nd"}, ""},
		{`%p %v\n`, "x v\n", []string{`error: partition "x" is not a partition number`}, ""},
		{`[%v]\n`, "[a]\n(b)\n", []string{"=a"}, "want \"[\""},
		{`%k %v\n`, "only-key", nil, "input ends inside a record"},
		{`%k 100%% %v\n`, "a 100% b\n", []string{"a=b"}, ""},
	} {
		toks, err := parseInputFormat(tc.format)
		if err != nil {
			t.Fatalf("%q: %v", tc.format, err)
		}
		rd := &formatReader{r: bufio.NewReader(strings.NewReader(tc.input)), toks: toks}
		var got []string
		var gotErr error
		for {
			in, err := rd.next()
			if err == io.EOF {
				break
			}
			if err != nil {
				gotErr = err
				break
			}
			if in.err != nil {
				got = append(got, "error: "+in.err.Error())
				continue
			}
			got = append(got, string(in.rec.Key)+"="+string(in.rec.Value))
		}
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("%q on %q: got %q, want %q", tc.format, tc.input, got, tc.want)
		}
		if (gotErr == nil) != (tc.wantErr == "") || gotErr != nil && !strings.Contains(gotErr.Error(), tc.wantErr) {
			t.Errorf("%q on %q: error %v, want %q", tc.format, tc.input, gotErr, tc.wantErr)
		}
	}
}

// FuzzInputFormat: any input, read as lines or by any format, either parses
// into records or fails with an error; it neither panics nor loops.
func FuzzInputFormat(f *testing.F) {
	f.Add(`%k %v\n`, "k v\nk2 v2\n")
	f.Add(`%p|%k|%h|%v\n`, "1|k|a=b|v\n")
	f.Add(`%t:%v`, "t:v")
	f.Fuzz(func(t *testing.T, format, input string) {
		lr := &lineReader{r: bufio.NewReader(strings.NewReader(input)), keySep: ":"}
		for i := 0; ; i++ {
			if i > len(input)+1 {
				t.Fatalf("%d lines from %d bytes of input", i, len(input))
			}
			if _, err := lr.next(); err != nil {
				break
			}
		}
		toks, err := parseInputFormat(format)
		if err != nil {
			return
		}
		rd := &formatReader{r: bufio.NewReader(strings.NewReader(input)), toks: toks}
		for i := 0; ; i++ {
			if i > len(input)+1 {
				t.Fatalf("%d records from %d bytes of input", i, len(input))
			}
			if _, err := rd.next(); err != nil {
				return
			}
		}
	})
}

// TestProduce_InterruptWhileReadingStdin: Ctrl-C stops a producer waiting
// for input on a terminal; what it read is delivered and it exits 0.
func TestProduce_InterruptWhileReadingStdin(t *testing.T) {
	b := startTestBroker(t)
	b.mustRun(t, "", "topic", "create", "orders")
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut lockedBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"produce", "orders", "-v", "-b", b.addr}, pr, &out, &errOut) }()
	pw.Write([]byte("one\ntwo\n"))
	waitFor(t, 30*time.Second, "two records acknowledged", func() bool { return strings.Count(out.String(), "offset") == 2 })
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("produce did not stop after interrupt")
	}
	if got := b.mustRun(t, "", "consume", "orders", "--from-beginning", "-n", "2").stdout; got != "one\ntwo\n" {
		t.Errorf("consumed %q", got)
	}
}
