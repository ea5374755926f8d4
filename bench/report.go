package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// The targets Basket is held to, on this machine.
const (
	targetVsSync      = 1.5  // throughput at least this many times kfake-sync's
	targetVsBlackhole = 0.75 // and at least this share of kfake-blackhole's
	targetP99         = 5 * time.Millisecond
	targetRate        = 20000 // the rate the p99 target is defined at
	targetRSS         = 200 << 20
	targetRSSBytes    = 4 << 30 // produced before the RSS target is checked
)

// report prints the tables, the ratios and the target verdicts.
func report(w io.Writer, o *options, results []*result) {
	if o.has(phaseThroughput) {
		what := fmt.Sprintf("for %s after a %s warm-up", o.duration, o.warmup)
		if o.records > 0 {
			what = fmt.Sprintf("%d records, first send to last ack", o.records)
		}
		fmt.Fprintf(w, "\n== Throughput: %d B records, %d partitions, acks=all, idempotent, linger %s; %s\n",
			o.recordBytes, o.partitions, o.linger, what)
		fmt.Fprintln(w, "   (latency = Produce call to ack; at full rate this is mostly time queued in kgo's buffer)")
		tw := newTable(w, "BROKER", "ROUND", "REC/S", "MB/S", "P50", "P99", "FAILED", "VmRSS", "VmHWM", "LOAD")
		for _, r := range filter(results, phaseThroughput) {
			if tw.row(r, r.broker, r.round) {
				tw.add(r.broker, r.round, commas(r.recordsPerSec()), fmt.Sprintf("%.1f", r.mbPerSec()),
					ms(r.lat.P50), ms(r.lat.P99), r.failed, mib(r.mem.RSS), mib(r.mem.HWM), r.load)
			}
		}
		tw.flush()
	}
	if o.has(phaseLatency) {
		fmt.Fprintf(w, "\n== Publish latency: %d rec/s of %d B, %d partitions, acks=all, linger %s; %s after a %s warm-up\n",
			o.rate, o.recordBytes, o.partitions, o.latencyLinger, o.latencyDuration, o.warmup)
		fmt.Fprintln(w, "   (from each record's intended send time to its ack; GEN-LAG is how late the sender itself was)")
		tw := newTable(w, "BROKER", "ROUND", "SENT/S", "P50", "P95", "P99", "P99.9", "MAX", "GEN-LAG P99", "FAILED", "VmRSS", "VmHWM", "LOAD")
		for _, r := range filter(results, phaseLatency) {
			if tw.row(r, r.broker, r.round) {
				tw.add(r.broker, r.round, commas(r.sentRate), ms(r.lat.P50), ms(r.lat.P95), ms(r.lat.P99),
					ms(r.lat.P999), ms(r.lat.Max), ms(r.genLag.P99), r.failed, mib(r.mem.RSS), mib(r.mem.HWM), r.load)
			}
		}
		tw.flush()
	}
	if o.has(phaseRSS) {
		fmt.Fprintf(w, "\n== Broker memory after producing %s (%d records of %d B, linger %s, as fast as possible)\n",
			sizeString(o.rssBytes), o.rssBytes/int64(o.recordBytes), o.recordBytes, o.linger)
		tw := newTable(w, "BROKER", "REC/S", "MB/S", "TIME", "VmRSS", "VmHWM (peak)", "LOAD")
		for _, r := range filter(results, phaseRSS) {
			if tw.row(r, r.broker) {
				tw.add(r.broker, commas(r.recordsPerSec()), fmt.Sprintf("%.1f", r.mbPerSec()),
					r.elapsed.Round(time.Millisecond), mib(r.mem.RSS), mib(r.mem.HWM), r.load)
			}
		}
		tw.flush()
	}
	ratios(w, o, results)
	targets(w, o, results)
}

// ratios compares every Basket broker that ran with the kfake references,
// on medians over the rounds.
func ratios(w io.Writer, o *options, results []*result) {
	var lines []string
	for _, subject := range o.brokers {
		if lookupSpec(subject).kfakeMode != "" {
			continue
		}
		for _, ref := range []string{"kfake-sync", "kfake-blackhole"} {
			thr := ratio(medianOf(results, phaseThroughput, subject, rate), medianOf(results, phaseThroughput, ref, rate))
			p99 := ratio(medianOf(results, phaseLatency, subject, p99), medianOf(results, phaseLatency, ref, p99))
			if thr != "n/a" || p99 != "n/a" {
				lines = append(lines, fmt.Sprintf("%s / %s\tthroughput %s\tp99 publish latency %s", subject, ref, thr, p99))
			}
		}
	}
	if len(lines) == 0 {
		return
	}
	fmt.Fprintf(w, "\n== Ratios (medians over %d round(s); throughput higher is better, latency lower is better)\n", o.rounds)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, l := range lines {
		fmt.Fprintln(tw, l)
	}
	tw.Flush()
}

// targets prints a verdict for each of Basket's targets that the run
// measured, noting where the run's settings differ from the target's.
func targets(w io.Writer, o *options, results []*result) {
	const b = "basket"
	var out []string
	verdict := func(ok bool, text string) {
		mark := "FAIL"
		if ok {
			mark = "PASS"
		}
		out = append(out, fmt.Sprintf("[%s] %s", mark, text))
	}
	bRate := medianOf(results, phaseThroughput, b, rate)
	for _, t := range []struct {
		ref  string
		want float64
	}{{"kfake-sync", targetVsSync}, {"kfake-blackhole", targetVsBlackhole}} {
		if ref := medianOf(results, phaseThroughput, t.ref, rate); bRate > 0 && ref > 0 {
			verdict(bRate >= t.want*ref, fmt.Sprintf("throughput >= %.2fx %s: %.2fx (%s vs %s rec/s)",
				t.want, t.ref, bRate/ref, commas(bRate), commas(ref)))
		}
	}
	if p := medianOf(results, phaseLatency, b, p99); p > 0 {
		note := ""
		if o.rate != targetRate {
			note = fmt.Sprintf(" (NOTE: measured at %d rec/s, the target is defined at %d)", o.rate, targetRate)
		}
		verdict(time.Duration(p) <= targetP99, fmt.Sprintf("p99 publish latency <= %s at %d rec/s: %s%s",
			ms(targetP99), o.rate, ms(time.Duration(p)), note))
	}
	for _, r := range filter(results, phaseRSS) {
		if r.broker != b || r.err != nil || r.memErr != nil {
			continue
		}
		note := ""
		if o.rssBytes < targetRSSBytes {
			note = fmt.Sprintf(" (NOTE: only %s produced, the target is after %s)", sizeString(o.rssBytes), sizeString(targetRSSBytes))
		}
		verdict(r.mem.RSS < targetRSS, fmt.Sprintf("RSS < %s after %s: VmRSS %s, peak VmHWM %s%s",
			mib(targetRSS), sizeString(o.rssBytes), mib(r.mem.RSS), mib(r.mem.HWM), note))
	}
	if len(out) == 0 {
		return
	}
	fmt.Fprintf(w, "\n== Targets (%s)\n%s\n", b, strings.Join(out, "\n"))
}

func rate(r *result) float64 { return r.recordsPerSec() }
func p99(r *result) float64  { return float64(r.lat.P99) }

// medianOf is the median of metric over the successful runs of broker in
// phase, or 0 if there are none.
func medianOf(results []*result, phase, broker string, metric func(*result) float64) float64 {
	var xs []float64
	for _, r := range filter(results, phase) {
		if r.broker == broker && r.err == nil {
			xs = append(xs, metric(r))
		}
	}
	return median(xs)
}

func ratio(a, b float64) string {
	if a <= 0 || b <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2fx", a/b)
}

func filter(results []*result, phase string) []*result {
	var out []*result
	for _, r := range results {
		if r.phase == phase {
			out = append(out, r)
		}
	}
	return out
}

// table is a tabwriter that takes cells of any type. Failed runs get a
// row of dashes and their error below the table.
type table struct {
	tw       *tabwriter.Writer
	w        io.Writer
	columns  int
	failures []string
}

func newTable(w io.Writer, header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0), w: w, columns: len(header)}
	fmt.Fprintln(t.tw, strings.Join(header, "\t"))
	return t
}

func (t *table) add(cells ...any) {
	s := make([]string, len(cells))
	for i, c := range cells {
		s[i] = fmt.Sprint(c)
	}
	fmt.Fprintln(t.tw, strings.Join(s, "\t"))
}

func (t *table) flush() {
	t.tw.Flush()
	for _, f := range t.failures {
		fmt.Fprintln(t.w, "   "+f)
	}
}

// row reports whether r succeeded, so the caller prints its numbers; for a
// failed run it prints the row itself: the leading cells, FAILED, dashes.
func (t *table) row(r *result, lead ...any) bool {
	if r.err == nil {
		return true
	}
	cells := append(lead, "FAILED")
	for len(cells) < t.columns {
		cells = append(cells, "-")
	}
	t.add(cells...)
	msg, _, _ := strings.Cut(r.err.Error(), "\n")
	t.failures = append(t.failures, fmt.Sprintf("FAILED %s (%s round %d): %s", r.broker, r.phase, r.round, msg))
	return false
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + "ms"
}

func mib(n int64) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20))
}

func sizeString(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	default:
		return fmt.Sprintf("%d B", n)
	}
}

// commas formats a rate as a whole number with thousands separators.
func commas(f float64) string {
	s := strconv.FormatInt(int64(f+0.5), 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
