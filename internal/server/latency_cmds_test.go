package server_test

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/corvid-db/corvid/internal/testutil"
)

func TestLatencyMonitor(t *testing.T) {
	srv := testutil.Start(t, "enable-debug-command", "yes", "latency-monitor-threshold", "20")
	r := srv.Raw(t)
	admExpect(t, r, "[]", "latency", "latest")
	admExpect(t, r, "OK", "debug", "sleep", "0.03")
	latest := admDo(t, r, "latency", "latest").([]any)
	if len(latest) != 1 {
		t.Fatalf("LATEST: %v", latest)
	}
	ev := latest[0].([]any)
	now := time.Now().Unix()
	if ev[0] != "command" || ev[1].(int64) > now || ev[1].(int64) < now-5 || ev[2].(int64) < 30 || ev[3].(int64) < ev[2].(int64) {
		t.Fatalf("LATEST entry: %v", ev)
	}
	hist := admDo(t, r, "latency", "history", "command").([]any)
	if len(hist) != 1 || hist[0].([]any)[1].(int64) < 30 {
		t.Fatalf("HISTORY: %v", hist)
	}
	admExpect(t, r, "[]", "latency", "history", "nosuch")

	graph := admDo(t, r, "latency", "graph", "command").(string)
	m := regexp.MustCompile(`^command - high (\d+) ms, low (\d+) ms \(all time high (\d+) ms\)\n-{80}\n`).FindStringSubmatch(graph)
	if m == nil {
		t.Fatalf("GRAPH:\n%s", graph)
	}
	if hi, _ := strconv.Atoi(m[1]); hi < 30 {
		t.Fatalf("GRAPH high %d", hi)
	}
	admExpect(t, r, "ERR No samples available for event 'nosuch'", "latency", "graph", "nosuch")

	if doc := admDo(t, r, "latency", "doctor").(string); !strings.Contains(doc, "command") {
		t.Fatalf("DOCTOR:\n%s", doc)
	}
	admExpect(t, r, "0", "latency", "reset", "nosuch")
	admExpect(t, r, "1", "latency", "reset", "command", "nosuch")
	admExpect(t, r, "[]", "latency", "latest")
	admExpect(t, r, "OK", "debug", "sleep", "0.025")
	admExpect(t, r, "1", "latency", "reset")
	admExpect(t, r, "ERR wrong number of arguments for 'latency|help' command", "latency", "help", "x")
	help := admDo(t, r, "latency", "help").([]any)
	if help[0] != "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:" || help[1] != "DOCTOR" {
		t.Fatalf("LATENCY HELP: %q", help)
	}

	// The monitor is off at threshold 0.
	admExpect(t, r, "OK", "config", "set", "latency-monitor-threshold", "0")
	admExpect(t, r, "OK", "debug", "sleep", "0.025")
	admExpect(t, r, "[]", "latency", "latest")
}

func TestLatencyHistogram(t *testing.T) {
	srv := testutil.Start(t, "enable-debug-command", "yes")
	c := srv.Client(t)
	ctx := context.Background()
	r := srv.Raw(t)
	admExpect(t, r, "OK", "config", "resetstat")
	// Only CONFIG RESETSTAT itself has run since the reset.
	h := admDo(t, r, "latency", "histogram").([]any)
	if len(h) != 2 || h[0] != "config|resetstat" {
		t.Fatalf("HISTOGRAM after RESETSTAT: %v", h)
	}
	c.Set(ctx, "a", "b", 0)
	c.Set(ctx, "c", "d", 0)
	c.Get(ctx, "a")
	c.Do(ctx, "config", "get", "hz")
	c.Do(ctx, "debug", "sleep", "0.01")

	h = admDo(t, r, "latency", "histogram", "set", "nosuch", "get").([]any)
	if len(h) != 4 || h[0] != "set" || h[2] != "get" {
		t.Fatalf("HISTOGRAM set nosuch get: %v", h)
	}
	set := h[1].([]any)
	if set[0] != "calls" || set[1] != int64(2) || set[2] != "histogram_usec" {
		t.Fatalf("set histogram: %v", set)
	}
	// Buckets are power-of-two µs labels with growing cumulative counts,
	// the last one equal to calls.
	buckets := set[3].([]any)
	var prevLabel, prevCount int64 = -1, 0
	for i := 0; i < len(buckets); i += 2 {
		label, count := buckets[i].(int64), buckets[i+1].(int64)
		if label <= prevLabel || count <= prevCount {
			t.Fatalf("buckets not increasing: %v", buckets)
		}
		prevLabel, prevCount = label, count
	}
	if prevCount != 2 {
		t.Fatalf("last bucket %d, want 2: %v", prevCount, buckets)
	}
	// A container name reports its subcommands.
	h = admDo(t, r, "latency", "histogram", "config").([]any)
	if fmt.Sprint(h[0], " ", h[2]) != "config|get config|resetstat" && fmt.Sprint(h[0], " ", h[2]) != "config|resetstat config|get" {
		t.Fatalf("HISTOGRAM config: %v", h)
	}
	h = admDo(t, r, "latency", "histogram", "config|get").([]any)
	if len(h) != 2 || h[0] != "config|get" {
		t.Fatalf("HISTOGRAM config|get: %v", h)
	}
	// DEBUG SLEEP 0.01 lands in the 8-16ms buckets.
	h = admDo(t, r, "latency", "histogram", "debug").([]any)
	b := h[1].([]any)[3].([]any)
	if l := b[len(b)-2].(int64); l < 8000 || l > 70000 {
		t.Fatalf("debug sleep bucket %d µs: %v", l, b)
	}
	admExpect(t, r, "[]", "latency", "histogram", "nosuch")

	// RESP3: maps.
	r3 := srv.Raw(t)
	admDo(t, r3, "hello", "3")
	m := admDo(t, r3, "latency", "histogram", "set").(map[string]any)
	if fmt.Sprint(m["set"].(map[string]any)["calls"]) != "2" {
		t.Fatalf("RESP3 HISTOGRAM: %v", m)
	}
}
