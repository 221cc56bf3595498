package server

import (
	"fmt"
	"math/bits"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/corvid-db/corvid/internal/command"
)

// Per-command latency histograms (LATENCY HISTOGRAM, INFO latencystats).
//
// Redis keeps an HDR histogram per command with nanosecond values clamped
// to [1024ns, 1s]. Corvid keeps a log-linear histogram over the same range:
// 20 powers of two, each split into 16 linear sub-buckets, so any recorded
// value is known within about 6%, which is what percentiles need; the
// power-of-two cumulative buckets LATENCY HISTOGRAM reports are sums of
// whole sub-bucket runs. Recording is one atomic add, no lock.
const (
	histMinNs   = 1024
	histMaxNs   = 1_000_000_000
	histSubBits = 4
	histOctaves = 20 // 2^10 .. 2^30 ns covers histMinNs..histMaxNs
	histBuckets = histOctaves << histSubBits
)

type latencyHistogram struct {
	counts [histBuckets]atomic.Int64
}

func histIndex(ns int64) int {
	ns = min(max(ns, histMinNs), histMaxNs)
	e := bits.Len64(uint64(ns)) - 1 // 10..29
	sub := (ns >> (e - histSubBits)) & (1<<histSubBits - 1)
	return (e-10)<<histSubBits | int(sub)
}

// histUpper is the highest value (ns) bucket i holds.
func histUpper(i int) int64 {
	e := 10 + i>>histSubBits
	sub := int64(i & (1<<histSubBits - 1))
	return ((1<<histSubBits+sub+1)<<(e-histSubBits) - 1)
}

func (h *latencyHistogram) record(d time.Duration) {
	h.counts[histIndex(d.Nanoseconds())].Add(1)
}

// total is the number of recorded calls.
func (h *latencyHistogram) total() int64 {
	var n int64
	for i := range h.counts {
		n += h.counts[i].Load()
	}
	return n
}

// percentile returns the value (µs) at percentile p (0..100), the way
// hdr_value_at_percentile reports it: the upper edge of the bucket holding
// the ceil(p% of total)-th value.
func (h *latencyHistogram) percentile(p float64) float64 {
	var counts [histBuckets]int64
	var total int64
	last := 0
	for i := range counts {
		counts[i] = h.counts[i].Load()
		total += counts[i]
		if counts[i] > 0 {
			last = i
		}
	}
	want := int64(p/100*float64(total) + 0.5)
	want = max(want, 1)
	var seen int64
	for i, n := range counts {
		seen += n
		if seen >= want {
			return float64(histUpper(i)) / 1000
		}
	}
	return float64(histUpper(last)) / 1000
}

// cdf returns LATENCY HISTOGRAM's cumulative buckets: for each power of two
// 1024·2^k ns, the µs label Redis prints for it and the number of calls at
// or below it, keeping only buckets where the count grew.
func (h *latencyHistogram) cdf() (labels, cum []int64) {
	var run, prev int64
	for k := 0; k < histOctaves+1; k++ {
		// Level k covers every octave below 2^(10+k) plus the first
		// sub-bucket of octave 10+k (the clamp puts the fastest calls at
		// exactly 1024ns, which level 0 must count).
		lo, hi := (k-1)<<histSubBits+1, k<<histSubBits
		if k == 0 {
			lo = 0
		}
		for i := max(lo, 0); i <= hi && i < histBuckets; i++ {
			run += h.counts[i].Load()
		}
		if run > prev {
			// HDR's reporting edge: 1024·2^k plus its bucket width, minus one.
			labels = append(labels, (int64(1032)<<k-1)/1000)
			cum = append(cum, run)
		}
		prev = run
	}
	return labels, cum
}

// cmdHistograms maps commands to their histograms. The map is copied on
// write so the per-command hot path reads it without a lock; it only grows
// until every command that runs has an entry.
type cmdHistograms struct {
	mu sync.Mutex
	m  atomic.Pointer[map[*command.Command]*latencyHistogram]
}

func (hs *cmdHistograms) get(cmd *command.Command) *latencyHistogram {
	if m := hs.m.Load(); m != nil {
		return (*m)[cmd]
	}
	return nil
}

func (hs *cmdHistograms) record(cmd *command.Command, d time.Duration) {
	h := hs.get(cmd)
	if h == nil {
		hs.mu.Lock()
		old := hs.m.Load()
		if old != nil {
			h = (*old)[cmd]
		}
		if h == nil {
			n := make(map[*command.Command]*latencyHistogram, 1+lenMap(old))
			if old != nil {
				for k, v := range *old {
					n[k] = v
				}
			}
			h = &latencyHistogram{}
			n[cmd] = h
			hs.m.Store(&n)
		}
		hs.mu.Unlock()
	}
	h.record(d)
}

func lenMap(m *map[*command.Command]*latencyHistogram) int {
	if m == nil {
		return 0
	}
	return len(*m)
}

// reset drops every histogram, as CONFIG RESETSTAT does.
func (hs *cmdHistograms) reset() {
	hs.mu.Lock()
	hs.m.Store(nil)
	hs.mu.Unlock()
}

// ---------------------------------------------------------------------------
// LATENCY

func (m *latencyMonitor) snapshot() map[string]latencyEvent {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]latencyEvent, len(m.events))
	for k, ev := range m.events {
		out[k] = latencyEvent{samples: append([]latencySample(nil), ev.samples...), max: ev.max}
	}
	return out
}

func sortedEvents(evs map[string]latencyEvent) []string {
	names := make([]string, 0, len(evs))
	for k := range evs {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

func (s *Server) latencyLatestCommand(c *command.Ctx) {
	evs := s.latency.snapshot()
	c.W.ArrayLen(len(evs))
	for _, name := range sortedEvents(evs) {
		ev := evs[name]
		last := ev.samples[len(ev.samples)-1]
		c.W.ArrayLen(4)
		c.W.BulkString(name)
		c.W.Int(last.time)
		c.W.Int(last.ms)
		c.W.Int(ev.max)
	}
}

func (s *Server) latencyHistoryCommand(c *command.Ctx) {
	ev, ok := s.latency.snapshot()[string(c.Args[2])]
	if !ok {
		c.W.ArrayLen(0)
		return
	}
	c.W.ArrayLen(len(ev.samples))
	for _, sm := range ev.samples {
		c.W.ArrayLen(2)
		c.W.Int(sm.time)
		c.W.Int(sm.ms)
	}
}

func (s *Server) latencyResetCommand(c *command.Ctx) {
	m := &s.latency
	m.mu.Lock()
	n := 0
	if len(c.Args) == 2 {
		n = len(m.events)
		m.events = nil
	} else {
		for _, a := range c.Args[2:] {
			if _, ok := m.events[string(a)]; ok {
				delete(m.events, string(a))
				n++
			}
		}
	}
	m.mu.Unlock()
	c.W.Int(int64(n))
}

func (s *Server) latencyGraphCommand(c *command.Ctx) {
	name := string(c.Args[2])
	ev, ok := s.latency.snapshot()[name]
	if !ok {
		c.Error("ERR No samples available for event '" + name + "'")
		return
	}
	c.W.Verbatim("txt", latencyGraph(name, ev, time.Now().Unix()))
}

// latencyGraph renders an event's history as a four-row bar chart, one
// column per sample, with how long ago each sample was taken written
// vertically under its column.
func latencyGraph(name string, ev latencyEvent, now int64) []byte {
	const cols, rows = 80, 4
	samples := ev.samples
	if len(samples) > cols {
		samples = samples[len(samples)-cols:]
	}
	lo, hi := samples[0].ms, samples[0].ms
	for _, sm := range samples {
		lo, hi = min(lo, sm.ms), max(hi, sm.ms)
	}
	var b []byte
	b = fmt.Appendf(b, "%s - high %d ms, low %d ms (all time high %d ms)\n", name, hi, lo, ev.max)
	b = append(b, strings.Repeat("-", cols)...)
	b = append(b, '\n')
	// Each column gets a height in half-rows, 1..2*rows.
	heights := make([]int, len(samples))
	for i, sm := range samples {
		h := 2 * rows
		if hi > lo {
			h = 1 + int((sm.ms-lo)*int64(2*rows-1)/(hi-lo))
		}
		heights[i] = h
	}
	for r := rows - 1; r >= 0; r-- {
		for _, h := range heights {
			switch {
			case h >= 2*(r+1):
				if h == 2*(r+1) && h < 2*rows {
					b = append(b, '#')
				} else {
					b = append(b, '|')
				}
			case h == 2*r+1:
				b = append(b, '_')
			default:
				b = append(b, ' ')
			}
		}
		b = append(b, '\n')
	}
	labels := make([]string, len(samples))
	width := 0
	for i, sm := range samples {
		labels[i] = agoLabel(now - sm.time)
		width = max(width, len(labels[i]))
	}
	b = append(b, '\n')
	for row := 0; row < width; row++ {
		for _, l := range labels {
			if row < len(l) {
				b = append(b, l[row])
			} else {
				b = append(b, ' ')
			}
		}
		b = append(b, '\n')
	}
	return b
}

func agoLabel(sec int64) string {
	switch {
	case sec < 60:
		return strconv.FormatInt(sec, 10) + "s"
	case sec < 3600:
		return strconv.FormatInt(sec/60, 10) + "m"
	case sec < 86400:
		return strconv.FormatInt(sec/3600, 10) + "h"
	}
	return strconv.FormatInt(sec/86400, 10) + "d"
}

func (s *Server) latencyDoctorCommand(c *command.Ctx) {
	c.W.Verbatim("txt", s.latencyReport())
}

// latencyReport is LATENCY DOCTOR's human-readable analysis: per event,
// how many spikes, how bad, how often, and what usually causes them.
func (s *Server) latencyReport() []byte {
	th := s.latency.threshold.Load()
	if th <= 0 {
		return []byte("Latency monitoring is disabled in this server, so there is nothing to analyze.\n" +
			"Enable it with CONFIG SET latency-monitor-threshold <milliseconds>; events that take\n" +
			"at least that long are then recorded and reported here.\n")
	}
	evs := s.latency.snapshot()
	if len(evs) == 0 {
		return []byte("No latency spike at or above the " + strconv.FormatInt(th, 10) +
			" ms threshold has been observed since monitoring started (or since the last LATENCY RESET).\n")
	}
	var b []byte
	b = fmt.Appendf(b, "Latency report (threshold %d ms):\n\n", th)
	advice := map[string]bool{}
	for i, name := range sortedEvents(evs) {
		ev := evs[name]
		var sum int64
		for _, sm := range ev.samples {
			sum += sm.ms
		}
		n := int64(len(ev.samples))
		b = fmt.Appendf(b, "%d. %s: %d latency spikes (average %dms, mean deviation %dms, period %s). Worst all time event %dms.\n",
			i+1, name, n, sum/n, meanDeviation(ev.samples, sum/n), spikePeriod(ev.samples), ev.max)
		switch {
		case name == "command":
			advice["slow"] = true
		case name == "fast-command":
			advice["fast"] = true
		case strings.HasPrefix(name, "expire"):
			advice["expire"] = true
		}
	}
	b = append(b, "\nWhat to look at:\n"...)
	if advice["slow"] {
		b = append(b, "- Slow commands: check SLOWLOG GET for O(N) commands on big values (KEYS, SMEMBERS,\n"+
			"  HGETALL, LRANGE on long lists, DEBUG SLEEP) and prefer incremental ones (SCAN, SSCAN...).\n"...)
	}
	if advice["fast"] {
		b = append(b, "- Commands flagged fast took long: the host may be overloaded, swapping or starved of CPU.\n"...)
	}
	if advice["expire"] {
		b = append(b, "- Key expiry: many keys expiring at the same moment make the expire cycle work hard;\n"+
			"  spread the TTLs with some randomness.\n"...)
	}
	if !advice["slow"] && !advice["fast"] && !advice["expire"] {
		b = append(b, "- Nothing specific: compare the spikes' times with the host's load.\n"...)
	}
	return b
}

func meanDeviation(samples []latencySample, avg int64) int64 {
	var d int64
	for _, sm := range samples {
		d += abs64(sm.ms - avg)
	}
	return d / int64(len(samples))
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

func spikePeriod(samples []latencySample) string {
	if len(samples) < 2 {
		return "n/a"
	}
	sec := (samples[len(samples)-1].time - samples[0].time) / int64(len(samples)-1)
	return strconv.FormatInt(sec, 10) + " sec"
}

func (s *Server) latencyHistogramCommand(c *command.Ctx) {
	hs := &s.admin().histograms
	type entry struct {
		name string
		h    *latencyHistogram
	}
	var out []entry
	add := func(cmd *command.Command) {
		if h := hs.get(cmd); h != nil {
			out = append(out, entry{cmd.Name, h})
		}
	}
	if len(c.Args) == 2 {
		for _, cmd := range s.Table.All() {
			add(cmd)
			for _, sub := range cmd.Subcommands {
				add(sub)
			}
		}
	} else {
		for _, a := range c.Args[2:] {
			cmd := s.lookupCommandByName(string(a))
			if cmd == nil {
				continue
			}
			add(cmd)
			for _, sub := range cmd.Subcommands {
				add(sub)
			}
		}
	}
	w := c.W
	w.MapLen(len(out))
	for _, e := range out {
		w.BulkString(e.name)
		w.MapLen(2)
		w.BulkString("calls")
		w.Int(e.h.total())
		w.BulkString("histogram_usec")
		labels, cum := e.h.cdf()
		w.MapLen(len(labels))
		for i := range labels {
			w.Int(labels[i])
			w.Int(cum[i])
		}
	}
}

func latencyHelpCommand(c *command.Ctx) {
	replyHelp(c, []string{
		"DOCTOR",
		"    Return a human readable latency analysis report.",
		"GRAPH <event>",
		"    Return an ASCII latency graph for the <event> class.",
		"HISTORY <event>",
		"    Return time-latency samples for the <event> class.",
		"LATEST",
		"    Return the latest latency samples for all events.",
		"RESET [<event> ...]",
		"    Reset latency data of one or more <event> classes.",
		"    (default: reset all data for all event classes)",
		"HISTOGRAM [COMMAND ...]",
		"    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
		"    If no commands are specified then all histograms are replied.",
	})
}

// formatPercentileName writes a percentile the way Redis's INFO does
// ("%f" with trailing zeros and dot trimmed: 50, 99.9).
func formatPercentileName(p float64) string {
	s := strconv.FormatFloat(p, 'f', 6, 64)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}
