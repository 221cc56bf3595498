package server_test

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/corvid-db/corvid/internal/testutil"
)

// parsedInfo is INFO text split into sections (lower-case titles, in
// order) and fields.
type parsedInfo struct {
	order  []string
	fields map[string]map[string]string
}

func (p parsedInfo) get(section, field string) (string, bool) {
	v, ok := p.fields[section][field]
	return v, ok
}

// parseInfo checks INFO's framing (CRLF lines, "# Title" headers, one empty
// line between sections, "field:value" lines) and returns its content.
func parseInfo(t *testing.T, text string) parsedInfo {
	t.Helper()
	p := parsedInfo{fields: map[string]map[string]string{}}
	if text == "" {
		return p
	}
	if !strings.HasSuffix(text, "\r\n") {
		t.Fatalf("INFO does not end with CRLF: %q", text[max(0, len(text)-20):])
	}
	if strings.Count(text, "\n") != strings.Count(text, "\r\n") {
		t.Fatalf("INFO has a bare LF")
	}
	lines := strings.Split(strings.TrimSuffix(text, "\r\n"), "\r\n")
	cur := ""
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, "# "):
			if i > 0 && lines[i-1] != "" {
				t.Fatalf("section %q not preceded by an empty line", l)
			}
			cur = strings.ToLower(l[2:])
			p.order = append(p.order, cur)
			p.fields[cur] = map[string]string{}
		case l == "":
			if i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], "# ") {
				t.Fatalf("empty line %d not followed by a section header", i)
			}
		default:
			k, v, ok := strings.Cut(l, ":")
			if !ok || cur == "" {
				t.Fatalf("bad INFO line %q", l)
			}
			if _, dup := p.fields[cur][k]; dup {
				t.Fatalf("field %s repeated in %s", k, cur)
			}
			p.fields[cur][k] = v
		}
	}
	return p
}

func infoOf(t *testing.T, srv *testutil.Instance, sections ...string) parsedInfo {
	t.Helper()
	s, err := srv.Client(t).Info(context.Background(), sections...).Result()
	if err != nil {
		t.Fatal(err)
	}
	return parseInfo(t, s)
}

var (
	reInt   = `^-?\d+$`
	reUint  = `^\d+$`
	reF2    = `^\d+\.\d\d$`
	rePerc  = `^\d+\.\d\d%$`
	reHuman = `^(\d+B|\d+\.\d\d[KMGTP])$`
	reCPU   = `^\d+\.\d{6}$`
)

func TestInfoDefaultFields(t *testing.T) {
	srv := testutil.Start(t, "maxmemory", "100mb", "maxmemory-policy", "allkeys-lru")
	p := infoOf(t, srv)
	wantOrder := []string{"server", "clients", "memory", "persistence", "stats", "replication", "cpu", "modules", "errorstats", "cluster", "keyspace"}
	if strings.Join(p.order, ",") != strings.Join(wantOrder, ",") {
		t.Fatalf("default sections %v, want %v", p.order, wantOrder)
	}
	port := srv.Addr[strings.LastIndexByte(srv.Addr, ':')+1:]
	want := map[string]map[string]string{
		"server": {
			"redis_version": `^7\.2\.4$`, "redis_mode": `^standalone$`, "os": `^\S+ .* \S+$`, "arch_bits": `^(32|64)$`,
			"multiplexing_api": `^\w+$`, "gcc_version": `^\d+\.\d+\.\d+$`, "process_id": reUint,
			"run_id": `^[0-9a-f]{40}$`, "tcp_port": "^" + port + "$", "server_time_usec": reUint,
			"uptime_in_seconds": reUint, "uptime_in_days": reUint, "hz": `^10$`, "configured_hz": `^10$`,
			"lru_clock": reUint, "executable": `.`, "config_file": `^$`, "io_threads_active": `^0$`,
			"listener0": "^name=tcp,bind=127.0.0.1,port=" + port + "$",
		},
		"clients": {
			"connected_clients": `^1$`, "cluster_connections": `^0$`, "maxclients": `^10000$`,
			"client_recent_max_input_buffer": reUint, "client_recent_max_output_buffer": reUint,
			"blocked_clients": `^0$`, "tracking_clients": `^0$`, "clients_in_timeout_table": `^0$`,
			"total_blocking_keys": `^0$`, "total_blocking_keys_on_nokey": `^0$`,
		},
		"memory": {
			"used_memory": reUint, "used_memory_human": reHuman, "used_memory_rss": reUint,
			"used_memory_rss_human": reHuman, "used_memory_peak": reUint, "used_memory_peak_human": reHuman,
			"used_memory_peak_perc": rePerc, "used_memory_overhead": reUint, "used_memory_startup": reUint,
			"used_memory_dataset": reUint, "used_memory_dataset_perc": rePerc, "total_system_memory": reUint,
			"used_memory_lua": reUint, "maxmemory": `^104857600$`, "maxmemory_human": `^100\.00M$`,
			"maxmemory_policy": `^allkeys-lru$`, "mem_fragmentation_ratio": reF2, "mem_allocator": `^\S+$`,
			"lazyfree_pending_objects": `^0$`,
		},
		"persistence": {
			"loading": `^0$`, "async_loading": `^0$`, "rdb_changes_since_last_save": reUint,
			"rdb_bgsave_in_progress": `^0$`, "rdb_last_save_time": reUint, "rdb_last_bgsave_status": `^ok$`,
			"aof_enabled": `^0$`, "aof_rewrite_in_progress": `^0$`, "aof_last_bgrewrite_status": `^ok$`,
			"current_fork_perc": reF2,
		},
		"stats": {
			"total_connections_received": `^[1-9]\d*$`, "total_commands_processed": reUint,
			"instantaneous_ops_per_sec": reUint, "total_net_input_bytes": reUint, "total_net_output_bytes": reUint,
			"instantaneous_input_kbps": reF2, "rejected_connections": `^0$`, "expired_keys": reUint,
			"expired_stale_perc": reF2, "evicted_keys": `^0$`, "keyspace_hits": reUint, "keyspace_misses": reUint,
			"pubsub_channels": `^0$`, "total_error_replies": reUint, "unexpected_error_replies": `^0$`,
			"total_reads_processed": reUint, "total_writes_processed": reUint, "acl_access_denied_auth": `^0$`,
		},
		"replication": {
			"role": `^master$`, "connected_slaves": `^0$`, "master_failover_state": `^no-failover$`,
			"master_replid": `^[0-9a-f]{40}$`, "master_replid2": `^0{40}$`, "master_repl_offset": `^0$`,
			"second_repl_offset": `^-1$`, "repl_backlog_active": `^0$`, "repl_backlog_size": `^1048576$`,
		},
		"cpu": {
			"used_cpu_sys": reCPU, "used_cpu_user": reCPU, "used_cpu_sys_children": reCPU, "used_cpu_user_children": reCPU,
		},
		"cluster": {"cluster_enabled": `^0$`},
	}
	for sec, fields := range want {
		for k, re := range fields {
			v, ok := p.get(sec, k)
			if !ok {
				t.Errorf("INFO %s: missing %s", sec, k)
				continue
			}
			if !regexp.MustCompile(re).MatchString(v) {
				t.Errorf("INFO %s: %s:%s does not match %s", sec, k, v, re)
			}
		}
	}
	// Redis's field order within a section, spot-checked.
	text, _ := srv.Client(t).Info(context.Background(), "server", "memory").Result()
	for _, seq := range [][]string{
		{"redis_version:", "redis_mode:", "os:", "run_id:", "tcp_port:", "uptime_in_seconds:", "hz:", "executable:", "config_file:", "listener0:"},
		{"used_memory:", "used_memory_human:", "used_memory_rss:", "used_memory_peak:", "maxmemory:", "maxmemory_policy:", "mem_fragmentation_ratio:", "mem_allocator:"},
	} {
		last := -1
		for _, f := range seq {
			i := strings.Index(text, "\r\n"+f)
			if i <= last {
				t.Errorf("field %s out of order", f)
			}
			last = i
		}
	}
	if _, ok := p.fields["commandstats"]; ok {
		t.Error("default INFO has commandstats")
	}
}

func TestInfoSectionSelection(t *testing.T) {
	srv := testutil.Start(t)
	has := func(p parsedInfo, secs ...string) bool {
		for _, s := range secs {
			if _, ok := p.fields[s]; !ok {
				return false
			}
		}
		return true
	}
	if p := infoOf(t, srv, "cpu"); strings.Join(p.order, ",") != "cpu" {
		t.Fatalf("INFO cpu: %v", p.order)
	}
	if p := infoOf(t, srv, "commandSTATS"); strings.Join(p.order, ",") != "commandstats" {
		t.Fatalf("INFO commandSTATS: %v", p.order)
	}
	if p := infoOf(t, srv, "cpu", "sentinel", "keyspace"); strings.Join(p.order, ",") != "cpu,keyspace" {
		t.Fatalf("INFO cpu sentinel keyspace: %v", p.order)
	}
	if p := infoOf(t, srv, "sentinel"); len(p.order) != 0 {
		t.Fatalf("INFO sentinel: %v", p.order)
	}
	all := infoOf(t, srv, "all")
	if !has(all, "commandstats", "latencystats", "errorstats", "keyspace", "modules") || has(all, "debug") {
		t.Fatalf("INFO all: %v", all.order)
	}
	if p := infoOf(t, srv, "cpu", "all"); strings.Join(p.order, ",") != strings.Join(all.order, ",") {
		t.Fatalf("INFO cpu all: %v", p.order)
	}
	if p := infoOf(t, srv, "everything"); strings.Join(p.order, ",") != strings.Join(all.order, ",") {
		t.Fatalf("INFO everything: %v", p.order)
	}
	def := infoOf(t, srv, "default")
	if p := infoOf(t, srv, "default", "commandstats"); len(p.order) != len(def.order)+1 || !has(p, "commandstats") {
		t.Fatalf("INFO default commandstats: %v", p.order)
	}
	if p := infoOf(t, srv, "modules", "module_list"); strings.Join(p.order, ",") != "modules" {
		t.Fatalf("INFO modules: %v", p.order)
	}
	if p := infoOf(t, srv, "debug"); strings.Join(p.order, ",") != "debug" {
		t.Fatalf("INFO debug: %v", p.order)
	}
}

func TestInfoReplyTypes(t *testing.T) {
	srv := testutil.Start(t)
	r := srv.Raw(t)
	if err := r.Send("info", "cluster"); err != nil {
		t.Fatal(err)
	}
	want2 := "$30\r\n# Cluster\r\ncluster_enabled:0\r\n\r\n"
	buf := make([]byte, len(want2))
	if _, err := r.R.Read(buf); err != nil || string(buf) != want2 {
		t.Fatalf("RESP2 INFO: %q %v", buf, err)
	}
	admDo(t, r, "hello", "3")
	if err := r.Send("info", "cluster"); err != nil {
		t.Fatal(err)
	}
	want3 := "=34\r\ntxt:# Cluster\r\ncluster_enabled:0\r\n\r\n"
	buf = make([]byte, len(want3))
	n := 0
	for n < len(buf) {
		m, err := r.R.Read(buf[n:])
		if err != nil {
			t.Fatal(err)
		}
		n += m
	}
	if string(buf) != want3 {
		t.Fatalf("RESP3 INFO: %q", buf)
	}
	// go-redis on RESP3 gets the text without the format prefix.
	s, err := srv.Client3(t).Info(context.Background(), "cluster").Result()
	if err != nil || s != "# Cluster\r\ncluster_enabled:0\r\n" {
		t.Fatalf("go-redis RESP3 INFO: %q %v", s, err)
	}
}

func TestInfoCountersAndKeyspace(t *testing.T) {
	srv := testutil.Start(t)
	c := srv.Client(t)
	ctx := context.Background()
	if p := infoOf(t, srv, "keyspace"); len(p.fields["keyspace"]) != 0 {
		t.Fatalf("empty keyspace: %v", p.fields["keyspace"])
	}
	c.Set(ctx, "a", "1", 0)
	c.Set(ctx, "b", "2", time.Hour)
	c.Do(ctx, "select", "3")
	c3 := srv.Client(t)
	c3.Do(ctx, "select", "3")
	c3.Set(ctx, "x", "y", 0)
	p := infoOf(t, srv, "keyspace")
	if v, _ := p.get("keyspace", "db0"); v != "keys=2,expires=1,avg_ttl=0" {
		t.Fatalf("db0:%s", v)
	}
	if v, _ := p.get("keyspace", "db3"); v != "keys=1,expires=0,avg_ttl=0" {
		t.Fatalf("db3:%s", v)
	}

	c.Do(ctx, "nosuchcommand")
	c.Do(ctx, "get")
	p = infoOf(t, srv, "commandstats", "errorstats", "stats")
	if v, _ := p.get("errorstats", "errorstat_ERR"); v != "count=2" {
		t.Fatalf("errorstat_ERR:%s", v)
	}
	if v, _ := p.get("stats", "total_error_replies"); v != "2" {
		t.Fatalf("total_error_replies:%s", v)
	}
	re := regexp.MustCompile(`^calls=(\d+),usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=(\d+),failed_calls=(\d+)$`)
	m := re.FindStringSubmatch(p.fields["commandstats"]["cmdstat_set"])
	if m == nil || m[1] != "3" || m[2] != "0" || m[3] != "0" {
		t.Fatalf("cmdstat_set: %q", p.fields["commandstats"]["cmdstat_set"])
	}
	if m := re.FindStringSubmatch(p.fields["commandstats"]["cmdstat_get"]); m == nil || m[1] != "0" || m[2] != "1" {
		t.Fatalf("cmdstat_get: %q", p.fields["commandstats"]["cmdstat_get"])
	}
	c.Do(ctx, "config", "get", "maxmemory")
	if v := infoOf(t, srv, "commandstats").fields["commandstats"]["cmdstat_config|get"]; !re.MatchString(v) {
		t.Fatalf("cmdstat_config|get: %q", v)
	}
	processed, _ := strconv.Atoi(p.fields["stats"]["total_commands_processed"])
	if processed < 5 {
		t.Fatalf("total_commands_processed:%d", processed)
	}

	if err := c.ConfigResetStat(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	text, err := c.Info(ctx, "commandstats", "errorstats", "stats").Result()
	if err != nil {
		t.Fatal(err)
	}
	p = parseInfo(t, text)
	if len(p.fields["errorstats"]) != 0 {
		t.Fatalf("errorstats after RESETSTAT: %v", p.fields["errorstats"])
	}
	if _, ok := p.get("commandstats", "cmdstat_set"); ok {
		t.Fatal("cmdstat_set survived RESETSTAT")
	}
	if v, _ := p.get("commandstats", "cmdstat_config|resetstat"); !strings.HasPrefix(v, "calls=1,") {
		t.Fatalf("cmdstat_config|resetstat:%s", v)
	}
	if v, _ := p.get("stats", "total_error_replies"); v != "0" {
		t.Fatalf("total_error_replies after RESETSTAT:%s", v)
	}
	if v, _ := p.get("stats", "total_connections_received"); v != "0" {
		t.Fatalf("total_connections_received after RESETSTAT:%s", v)
	}
}

func TestInfoLatencystats(t *testing.T) {
	srv := testutil.Start(t)
	c := srv.Client(t)
	ctx := context.Background()
	c.ConfigResetStat(ctx)
	c.Set(ctx, "a", "b", 0)
	line := func(cmd string) string {
		return infoOf(t, srv, "latencystats").fields["latencystats"]["latency_percentiles_usec_"+cmd]
	}
	re := regexp.MustCompile(`^p50=\d+\.\d{3},p99=\d+\.\d{3},p99\.9=\d+\.\d{3}$`)
	if v := line("set"); !re.MatchString(v) {
		t.Fatalf("latency_percentiles_usec_set:%s", v)
	}
	if v := line("config|resetstat"); !re.MatchString(v) {
		t.Fatalf("latency_percentiles_usec_config|resetstat:%s", v)
	}
	c.ConfigSet(ctx, "latency-tracking-info-percentiles", "0.0 50.0 100.0")
	if v := line("set"); !regexp.MustCompile(`^p0=[\d.]+,p50=[\d.]+,p100=[\d.]+$`).MatchString(v) {
		t.Fatalf("custom percentiles:%s", v)
	}
	c.ConfigSet(ctx, "latency-tracking", "no")
	c.ConfigResetStat(ctx)
	c.Set(ctx, "a", "b", 0)
	if v := line("set"); v != "" {
		t.Fatalf("tracking off but got %s", v)
	}
}

// The event loop figures count the cron's time, as Redis's do: an idle
// server still reports cycles and a duration per cycle.
func TestInfoEventLoopIncludesCron(t *testing.T) {
	srv := testutil.Start(t, "hz", "100")
	c := srv.Client(t)
	ctx := context.Background()
	c.ConfigResetStat(ctx)
	testutil.WaitFor(t, 5*time.Second, "instantaneous event loop figures", func() bool {
		p := parseInfo(t, c.Info(ctx, "stats").Val())
		cyc, _ := p.get("stats", "instantaneous_eventloop_cycles_per_sec")
		dur, _ := p.get("stats", "instantaneous_eventloop_duration_usec")
		return cyc != "0" && dur != "0"
	})
	p := parseInfo(t, c.Info(ctx, "debug").Val())
	if v, _ := p.get("debug", "eventloop_duration_cron_sum"); v == "0" || v == "" {
		t.Fatalf("eventloop_duration_cron_sum = %q", v)
	}
}
