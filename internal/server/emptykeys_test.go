package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/corvid-db/corvid/internal/config"
	"github.com/corvid-db/corvid/internal/rdb"
	"github.com/corvid-db/corvid/internal/server"
	"github.com/corvid-db/corvid/internal/testutil"
)

// emptyKeyNames are the empty collections of emptyKeysRDB, in file order:
// those of Redis's corrupt_empty_keys test, then three more encodings.
// Only the first ten are named in the log, as Redis names them.
var emptyKeyNames = []string{"set", "list_quicklist", "list_quicklist_empty_ziplist", "list_ziplist",
	"hash", "hash_ziplist", "zset", "zset_ziplist", "zset_listpack",
	"hash_listpack", "set_listpack", "list_quicklist2_empty_listpack"}

// emptyKeysRDB is a file as older Redis versions could leave: an empty
// collection of every type and encoding among ordinary keys (s, l, ttl
// with an hour to live, gone long expired).
func emptyKeysRDB(t *testing.T) []byte {
	t.Helper()
	emptyZiplist := []byte{11, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0xff} // zlbytes, zltail, zllen, end
	emptyListpack := rdb.NewListpackBuilder().Bytes()
	var buf bytes.Buffer
	fw := rdb.NewFileWriter(&buf, 0, true)
	fw.Aux("redis-ver", "6.0.16")
	fw.AuxInt("redis-bits", 64)
	fw.AuxInt("ctime", time.Now().Unix()-100)
	fw.AuxInt("used-mem", 3<<20)
	fw.AuxInt("aof-preamble", 0)
	fw.Aux("%note", "written by hand")
	fw.SelectDB(0, 16, 2)
	noMeta := rdb.KeyMeta{Idle: -1, Freq: -1}
	fw.Key([]byte("s"), noMeta, rdb.TypeString)
	fw.WriteString([]byte("v"))
	empty := func(name string, typ byte, write func()) {
		fw.Key([]byte(name), noMeta, typ)
		write()
	}
	zero := func() { fw.WriteLen(0) }
	ziplist := func() { fw.WriteRawString(emptyZiplist) }
	listpack := func() { fw.WriteRawString(emptyListpack) }
	empty("set", rdb.TypeSet, zero)
	empty("list_quicklist", rdb.TypeListQuicklist, zero)
	empty("list_quicklist_empty_ziplist", rdb.TypeListQuicklist, func() { fw.WriteLen(1); ziplist() })
	empty("list_ziplist", rdb.TypeListZiplist, ziplist)
	fw.Key([]byte("ttl"), rdb.KeyMeta{ExpireAt: time.Now().Add(time.Hour).UnixMilli(), Idle: -1, Freq: -1}, rdb.TypeString)
	fw.WriteString([]byte("v"))
	empty("hash", rdb.TypeHash, zero)
	empty("hash_ziplist", rdb.TypeHashZiplist, ziplist)
	empty("zset", rdb.TypeZSet2, zero)
	fw.Key([]byte("gone"), rdb.KeyMeta{ExpireAt: 1000, Idle: -1, Freq: -1}, rdb.TypeString)
	fw.WriteString([]byte("v"))
	empty("zset_ziplist", rdb.TypeZSetZiplist, ziplist)
	empty("zset_listpack", rdb.TypeZSetListpack, listpack)
	empty("hash_listpack", rdb.TypeHashListpack, listpack)
	fw.Key([]byte("l"), noMeta, rdb.TypeList)
	fw.WriteLen(2)
	fw.WriteString([]byte("a"))
	fw.WriteString([]byte("b"))
	empty("set_listpack", rdb.TypeSetListpack, listpack)
	empty("list_quicklist2_empty_listpack", rdb.TypeListQuicklist2, func() { fw.WriteLen(1); fw.WriteLen(2); listpack() })
	if err := fw.Finish(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// startLogged starts a server on dir (its dump.rdb loaded, if any) with
// its log captured from the first line, which testutil.Start silences.
func startLogged(t *testing.T, dir string, directives ...string) (*server.Server, *testutil.LogBuffer) {
	t.Helper()
	text := ""
	for i := 0; i+1 < len(directives); i += 2 {
		text += directives[i] + " " + strconv.Quote(directives[i+1]) + "\n"
	}
	return startLoggedConf(t, dir, text)
}

// startLoggedConf is startLogged with configuration lines as they are.
func startLoggedConf(t *testing.T, dir, lines string) (*server.Server, *testutil.LogBuffer) {
	t.Helper()
	text := "bind 127.0.0.1\nport 0\ndir " + strconv.Quote(dir) + "\n" + lines
	cfg := config.New()
	if err := cfg.LoadString(text); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	log := &testutil.LogBuffer{}
	srv.Log.SetOutput(log)
	srv.EphemeralPort = true
	srv.SaveChildren = testutil.SaveChildren
	if err := srv.Start(); err != nil {
		t.Fatalf("server.Start: %v\n%s", err, log)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv, log
}

// checkEmptyKeysLog checks the loading lines Redis logs for emptyKeysRDB,
// in order, with the counts given.
func checkEmptyKeysLog(t *testing.T, log string, loaded, expired int) {
	t.Helper()
	var want []string
	want = append(want, `\* Loading RDB produced by version 6\.0\.16`, `\* RDB age 10[0-9] seconds`,
		`\* RDB memory usage when created 3\.00 Mb`, `\* RDB '%note': written by hand`)
	for _, k := range emptyKeyNames[:10] {
		want = append(want, `\* rdbLoadObject skipping empty key: `+k+"\n")
	}
	want = append(want, regexp.QuoteMeta(fmt.Sprintf("* Done loading RDB, keys loaded: %d, keys expired: %d, empty keys skipped: %d.\n",
		loaded, expired, len(emptyKeyNames))))
	rest := log
	for _, w := range want {
		loc := regexp.MustCompile(w).FindStringIndex(rest)
		if loc == nil {
			t.Fatalf("log has no %q (in order):\n%s", w, log)
		}
		rest = rest[loc[1]:]
	}
	for _, k := range emptyKeyNames[10:] {
		if strings.Contains(log, "skipping empty key: "+k) {
			t.Errorf("the 11th empty key on is named in the log (%s):\n%s", k, log)
		}
	}
	if strings.Contains(log, "RDB has an AOF tail") || strings.Contains(log, "RDB is base AOF") {
		t.Errorf("aof-preamble 0 logged:\n%s", log)
	}
}

// checkEmptyKeysSkipped checks that the ordinary keys of emptyKeysRDB were
// loaded and the empty ones were not.
func checkEmptyKeysSkipped(t *testing.T, c *redis.Client) {
	t.Helper()
	ctx := context.Background()
	for _, k := range emptyKeyNames {
		if n, err := c.Exists(ctx, k).Result(); err != nil || n != 0 {
			t.Errorf("empty key %s: EXISTS %d %v", k, n, err)
		}
	}
	if v, err := c.Get(ctx, "s").Result(); v != "v" || err != nil {
		t.Errorf("GET s: %q %v", v, err)
	}
	if l, err := c.LRange(ctx, "l", 0, -1).Result(); err != nil || strings.Join(l, ",") != "a,b" {
		t.Errorf("LRANGE l: %v %v", l, err)
	}
	if ttl, err := c.TTL(ctx, "ttl").Result(); err != nil || ttl < 59*time.Minute {
		t.Errorf("TTL ttl: %v %v", ttl, err)
	}
}

// A file holding empty keys, which older Redis versions could leave, loads at
// start as in Redis 7.2: each empty key skipped and named in the log (the
// first ten), the rest loaded, and the counts in "Done loading RDB";
// Redis's test "corrupt payload: load corrupted rdb with empty keys"
// greps these lines.
func TestEmptyKeysSkippedAtStart(t *testing.T) {
	file := emptyKeysRDB(t)
	for _, sanitize := range []string{"no", "yes"} {
		t.Run("sanitize-dump-payload="+sanitize, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "empty_keys.rdb"), file, 0o644); err != nil {
				t.Fatal(err)
			}
			srv, log := startLogged(t, dir, "dbfilename", "empty_keys.rdb", "sanitize-dump-payload", sanitize,
				"enable-debug-command", "yes")
			c := redis.NewClient(&redis.Options{Addr: srv.Addr().String(), Protocol: 2})
			t.Cleanup(func() { c.Close() })
			ctx := context.Background()
			// A primary drops the key already expired, as Redis does.
			checkEmptyKeysLog(t, log.String(), 3, 1)
			if !regexp.MustCompile(`Done loading RDB[^\n]*\n(.*\n)*.*\* DB loaded from disk: \d+\.\d{3} seconds\n`).MatchString(log.String()) {
				t.Fatalf("no DB loaded from disk line after the loading lines:\n%s", log)
			}
			if n, err := c.DBSize(ctx).Result(); err != nil || n != 3 {
				t.Fatalf("DBSIZE %d %v", n, err)
			}
			checkEmptyKeysSkipped(t, c)
			info := c.Info(ctx, "persistence").Val()
			if !strings.Contains(info, "rdb_last_load_keys_loaded:3\r\n") || !strings.Contains(info, "rdb_last_load_keys_expired:1\r\n") {
				t.Fatalf("INFO persistence load counts:\n%s", info)
			}

			// DEBUG RELOAD (NOSAVE, on the same file) logs the same, and
			// not "DB loaded from disk", which Redis logs at start only.
			reload := &testutil.LogBuffer{}
			srv.Log.SetOutput(reload)
			if err := c.Do(ctx, "debug", "reload", "nosave").Err(); err != nil {
				t.Fatalf("DEBUG RELOAD: %v\n%s", err, reload)
			}
			checkEmptyKeysLog(t, reload.String(), 3, 1)
			if strings.Contains(reload.String(), "DB loaded from disk") || !strings.Contains(reload.String(), "* DB reloaded by DEBUG RELOAD") {
				t.Fatalf("DEBUG RELOAD log:\n%s", reload)
			}
			checkEmptyKeysSkipped(t, c)

			// RESTORE still refuses an empty collection, as Redis's does
			// whatever sanitize-dump-payload says.
			for _, payload := range [][]byte{{rdb.TypeSet, 0}, {rdb.TypeHash, 0}, {rdb.TypeZSet2, 0}, {rdb.TypeList, 0}} {
				err := c.Restore(ctx, "k", 0, string(rdb.AppendFooter(payload, rdb.Version))).Err()
				if err == nil || err.Error() != "ERR Bad data format" {
					t.Errorf("RESTORE of an empty type %d: %v", payload[0], err)
				}
			}
		})
	}
}

// A replica's full synchronisation skips the empty keys too, and keeps
// the expired key for its primary's DEL.
func TestEmptyKeysSkippedInFullSync(t *testing.T) {
	file := emptyKeysRDB(t)
	port := fakePrimary(t, func(c net.Conn) {
		fmt.Fprintf(c, "+FULLRESYNC %s 0\r\n$%d\r\n", strings.Repeat("b", 40), len(file))
		c.Write(file)
		_, _ = io.Copy(io.Discard, c) // the stream: nothing more
	})
	srv := testutil.Start(t)
	log := &testutil.LogBuffer{}
	srv.Srv.Log.SetOutput(log)
	c := srv.Client(t)
	ctx := context.Background()
	if err := c.Do(ctx, "replicaof", "127.0.0.1", port).Err(); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 10*time.Second, "the full synchronisation", func() bool {
		return strings.Contains(log.String(), "MASTER <-> REPLICA sync: Finished with success") ||
			strings.Contains(log.String(), "failed to load the RDB")
	})
	checkEmptyKeysLog(t, log.String(), 4, 0)
	checkEmptyKeysSkipped(t, c)
}
