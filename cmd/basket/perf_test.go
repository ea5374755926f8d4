package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

func TestPerf_ProduceThenConsume(t *testing.T) {
	b := startTestBroker(t)
	b.mustRun(t, "", "topic", "create", "bench", "-p", "2")

	r := b.mustRun(t, "", "perf", "produce", "bench", "-n", "200", "-s", "64", "-z", "lz4", "--acks", "1")
	line := regexp.MustCompile(`^200 records sent in [\d.]+ s, [\d.]+ records/sec \([\d.]+ MB/sec\), latency avg [\d.]+ ms, max [\d.]+ ms, p50 [\d.]+ ms, p95 [\d.]+ ms, p99 [\d.]+ ms, p99.9 [\d.]+ ms\n$`)
	if !line.MatchString(r.stdout) {
		t.Errorf("perf produce summary %q", r.stdout)
	}

	r = b.mustRun(t, "", "perf", "produce", "bench", "-n", "50", "--throughput", "1000", "--format", "json")
	var res perfResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	if res.Records != 50 || res.Bytes != 50*100 || res.Seconds < 0.045 || res.LatencyP50 > res.LatencyP999 || res.LatencyP999 > res.LatencyMax {
		t.Errorf("throttled run: %+v", res)
	}

	r = b.mustRun(t, "", "perf", "consume", "bench", "-n", "250", "--format", "json")
	res = perfResult{}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	if res.Records != 250 || res.Bytes != 200*64+50*100 {
		t.Errorf("perf consume: %+v", res)
	}
	// Fewer records than asked for: stops when none arrive for the idle time.
	r = b.mustRun(t, "", "perf", "consume", "bench", "-n", "1000", "--idle-timeout", "2s", "--group", "perf")
	if !strings.HasPrefix(r.stdout, "250 records read in ") {
		t.Errorf("perf consume with idle timeout: %q", r.stdout)
	}
}

func TestPerf_DurationAndProgress(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for over a second")
	}
	b := startTestBroker(t)
	b.mustRun(t, "", "topic", "create", "bench")
	r := b.mustRun(t, "", "perf", "produce", "bench", "-d", "1500ms", "--throughput", "200", "-s", "10")
	if !regexp.MustCompile(`^(\d+ records sent, [\d.]+ records/sec \([\d.]+ MB/sec\), [\d.]+ ms avg latency, [\d.]+ ms max latency\n)+$`).MatchString(r.stderr) {
		t.Errorf("progress lines on stderr: %q", r.stderr)
	}
	if !regexp.MustCompile(`^\d+ records sent in [\d.]+ s, `).MatchString(r.stdout) {
		t.Errorf("summary %q", r.stdout)
	}
}

func TestPerf_Errors(t *testing.T) {
	b := startTestBroker(t)
	b.mustRun(t, "", "topic", "create", "bench")
	b.fail(t, `give --num-records or --duration`, "", "perf", "produce", "bench")
	b.fail(t, `topic "nope" does not exist`, "", "perf", "produce", "nope", "-n", "1")
	b.fail(t, `topic "nope" does not exist`, "", "perf", "consume", "nope", "-n", "1")
	b.fail(t, `--record-size must be between`, "", "perf", "produce", "bench", "-n", "1", "-s", "-5")
	b.fail(t, `unknown compression "rar"`, "", "perf", "produce", "bench", "-n", "1", "-z", "rar")
	b.fail(t, `--idle-timeout must be positive`, "", "perf", "consume", "bench", "-n", "1", "--idle-timeout", "0s")
	b.fail(t, `invalid argument "fast"`, "", "perf", "produce", "bench", "-d", "fast")
}
