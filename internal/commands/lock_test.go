package commands_test

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/zeebo/xxh3"

	"github.com/corvid-db/corvid/internal/testutil"
)

const lockErrDigest = "ERR must be exactly 16 hexadecimal characters"

// hexDigest is what DIGEST returns for v: XXH3-64, 16 zero-padded hex digits.
func hexDigest(v string) string { return fmt.Sprintf("%016x", xxh3.HashString(v)) }

func TestDigest(t *testing.T) {
	inst, rdb := strServer(t)
	sWant(t, rdb, nil, "DIGEST", "missing")
	// The example of Redis's documentation.
	sWant(t, rdb, "OK", "SET", "key1", "Hello world")
	sWant(t, rdb, "b6acb9d84a38ff74", "DIGEST", "key1")
	// An int-encoded value digests as its decimal text.
	sWant(t, rdb, "OK", "SET", "n", "12345")
	sWant(t, rdb, int64(5), "SETRANGE", "s", "0", "12345") // raw, same text
	sWant(t, rdb, hexDigest("12345"), "DIGEST", "s")
	sWant(t, rdb, hexDigest("12345"), "DIGEST", "n")
	sWant(t, rdb, hexDigest(""), "DIGEST", sSet(t, rdb, "e", ""))
	// Leading zeros are kept: find a value whose digest starts with 0.
	v := ""
	for i := 0; ; i++ {
		v = "v" + strconv.Itoa(i)
		if xxh3.HashString(v)>>60 == 0 {
			break
		}
	}
	sWant(t, rdb, "OK", "SET", "z", v)
	got := sDo(t, rdb, "DIGEST", "z").(string)
	if len(got) != 16 || got[0] != '0' || got != hexDigest(v) {
		t.Fatalf("DIGEST of %q = %q, want %q", v, got, hexDigest(v))
	}
	// go-redis parses it as a number.
	if d, err := rdb.Digest(bgCtx, "z").Result(); err != nil || d != xxh3.HashString(v) {
		t.Fatalf("go-redis Digest = %x, %v", d, err)
	}
	putNonString(t, inst, rdb, "coll")
	sWantErr(t, rdb, sErrWrongType, "DIGEST", "coll")
	sWantErr(t, rdb, "ERR wrong number of arguments for 'digest' command", "DIGEST", "a", "b")
}

// sSet sets key to v and returns key, for inline use.
func sSet(t *testing.T, rdb *redis.Client, key, v string) string {
	t.Helper()
	sWant(t, rdb, "OK", "SET", key, v)
	return key
}

func TestDelifeq(t *testing.T) {
	inst, rdb := strServer(t)
	sWant(t, rdb, int64(0), "DELIFEQ", "k", "v")
	sWant(t, rdb, "OK", "SET", "k", "abc123")
	sWant(t, rdb, int64(0), "DELIFEQ", "k", "abc")
	sWant(t, rdb, int64(0), "DELIFEQ", "k", "ABC123")
	sWant(t, rdb, int64(1), "DELIFEQ", "k", "abc123")
	sWant(t, rdb, int64(0), "DELIFEQ", "k", "abc123")
	sWant(t, rdb, int64(0), "EXISTS", "k")
	sWant(t, rdb, "OK", "SET", "n", "42")
	sWant(t, rdb, int64(1), "DELIFEQ", "n", "42")
	sWant(t, rdb, "OK", "SET", "b", "\x00\r\n\xff")
	sWant(t, rdb, int64(1), "DELIFEQ", "b", "\x00\r\n\xff")
	sWant(t, rdb, "OK", "SET", "x", "v", "PX", "30")
	testutil.WaitFor(t, 5*time.Second, "x to expire", func() bool { return sDo(t, rdb, "EXISTS", "x").(int64) == 0 })
	sWant(t, rdb, int64(0), "DELIFEQ", "x", "v")
	putNonString(t, inst, rdb, "coll")
	sWantErr(t, rdb, sErrWrongType, "DELIFEQ", "coll", "x")
	sWant(t, rdb, int64(1), "EXISTS", "coll")
	sWantErr(t, rdb, "ERR wrong number of arguments for 'delifeq' command", "DELIFEQ", "k")
	sWantErr(t, rdb, "ERR wrong number of arguments for 'delifeq' command", "DELIFEQ", "k", "a", "b")
}

func TestDelex(t *testing.T) {
	inst, rdb := strServer(t)
	// Without a condition DELEX is DEL of one key, of any type.
	sWant(t, rdb, int64(0), "DELEX", "k")
	sWant(t, rdb, "OK", "SET", "k", "v")
	sWant(t, rdb, int64(1), "DELEX", "k")
	putNonString(t, inst, rdb, "coll")
	sWant(t, rdb, int64(1), "DELEX", "coll")

	sWant(t, rdb, "OK", "SET", "k", "v")
	sWant(t, rdb, int64(0), "DELEX", "k", "IFEQ", "w")
	sWant(t, rdb, int64(0), "DELEX", "k", "IFNE", "v")
	sWant(t, rdb, int64(0), "DELEX", "k", "IFDEQ", hexDigest("w"))
	sWant(t, rdb, int64(0), "DELEX", "k", "IFDNE", hexDigest("v"))
	sWant(t, rdb, int64(1), "EXISTS", "k")
	sWant(t, rdb, int64(1), "DELEX", "k", "ifeq", "v")
	sWant(t, rdb, "OK", "SET", "k", "v")
	sWant(t, rdb, int64(1), "DELEX", "k", "IFNE", "w")
	sWant(t, rdb, "OK", "SET", "k", "v")
	sWant(t, rdb, int64(1), "DELEX", "k", "IFDEQ", hexDigest("v"))
	sWant(t, rdb, "OK", "SET", "k", "v")
	sWant(t, rdb, int64(1), "DELEX", "k", "IFDNE", hexDigest("w"))
	// Digests compare case-insensitively; ints compare as their text.
	sWant(t, rdb, "OK", "SET", "k", "123")
	up := []byte(hexDigest("123"))
	for i, c := range up {
		if 'a' <= c && c <= 'f' {
			up[i] = c - 'a' + 'A'
		}
	}
	sWant(t, rdb, int64(1), "DELEX", "k", "IFDEQ", string(up))
	sWant(t, rdb, "OK", "SET", "k", "123")
	sWant(t, rdb, int64(1), "DELEX", "k", "IFEQ", "123")
	// go-redis's helper.
	sWant(t, rdb, "OK", "SET", "k", "tok")
	if n, err := rdb.DelExArgs(bgCtx, "k", redis.DelExArgs{Mode: "IFDEQ", MatchDigest: xxh3.HashString("tok")}).Result(); err != nil || n != 1 {
		t.Fatalf("DelExArgs IFDEQ = %d, %v", n, err)
	}

	// A missing key answers 0 before the condition is even looked at.
	sWant(t, rdb, int64(0), "DELEX", "missing", "IFEQ", "v")
	sWant(t, rdb, int64(0), "DELEX", "missing", "IFDEQ", "short")
	sWant(t, rdb, int64(0), "DELEX", "missing", "BOGUS", "v")
	// On an existing string, a digest must be 16 characters.
	sWant(t, rdb, "OK", "SET", "k", "v")
	sWantErr(t, rdb, lockErrDigest, "DELEX", "k", "IFDEQ", "abc")
	sWantErr(t, rdb, lockErrDigest, "DELEX", "k", "IFDNE", hexDigest("v")+"0")
	sWantErr(t, rdb, sErrSyntax, "DELEX", "k", "BOGUS", "v")
	sWant(t, rdb, int64(1), "EXISTS", "k")
	// Conditions need a string.
	putNonString(t, inst, rdb, "coll")
	for _, cond := range []string{"IFEQ", "IFNE", "IFDEQ", "IFDNE", "BOGUS"} {
		sWantErr(t, rdb, sErrWrongType, "DELEX", "coll", cond, "x")
	}
	sWant(t, rdb, int64(1), "EXISTS", "coll")
	for _, args := range [][]any{{"DELEX"}, {"DELEX", "k", "IFEQ"}, {"DELEX", "k", "IFEQ", "v", "extra"}} {
		sWantErr(t, rdb, "ERR wrong number of arguments for 'delex' command", args...)
	}
}

func TestSetCompareOptions(t *testing.T) {
	inst, rdb := strServer(t)
	// IFEQ / IFDEQ never create the key; IFNE / IFDNE do.
	sWant(t, rdb, nil, "SET", "k", "v", "IFEQ", "x")
	sWant(t, rdb, nil, "SET", "k", "v", "IFDEQ", hexDigest("x"))
	sWant(t, rdb, nil, "SET", "k", "v", "IFDEQ", "short") // not validated: no key
	sWant(t, rdb, int64(0), "EXISTS", "k")
	sWant(t, rdb, "OK", "SET", "k", "v1", "IFNE", "x")
	sWant(t, rdb, "OK", "SET", "k2", "v1", "IFDNE", "short")
	sWant(t, rdb, "v1", "GET", "k2")

	sWant(t, rdb, nil, "SET", "k", "v2", "IFEQ", "nope")
	sWant(t, rdb, "OK", "SET", "k", "v2", "IFEQ", "v1")
	sWant(t, rdb, nil, "SET", "k", "v3", "IFNE", "v2")
	sWant(t, rdb, "OK", "SET", "k", "v3", "IFNE", "v1")
	sWant(t, rdb, nil, "SET", "k", "v4", "IFDEQ", hexDigest("v1"))
	sWant(t, rdb, "OK", "SET", "k", "v4", "ifdeq", hexDigest("v3"))
	sWant(t, rdb, nil, "SET", "k", "v5", "IFDNE", hexDigest("v4"))
	sWant(t, rdb, "OK", "SET", "k", "v5", "IFDNE", hexDigest("v4x"))
	sWant(t, rdb, "v5", "GET", "k")
	sWantErr(t, rdb, lockErrDigest, "SET", "k", "v6", "IFDEQ", "0123")
	sWantErr(t, rdb, lockErrDigest, "SET", "k", "v6", "IFDNE", "0123", "GET")
	sWant(t, rdb, "v5", "GET", "k")

	// GET returns the previous value whether or not the value changed.
	sWant(t, rdb, "v5", "SET", "k", "v6", "IFEQ", "nope", "GET")
	sWant(t, rdb, "v5", "SET", "k", "v6", "IFEQ", "v5", "GET")
	sWant(t, rdb, "v6", "GET", "k")
	sWant(t, rdb, nil, "SET", "g", "v", "IFNE", "x", "GET")
	sWant(t, rdb, "v", "GET", "g")

	// Expiry options combine with the conditions.
	sWant(t, rdb, "OK", "SET", "k", "v7", "IFEQ", "v6", "EX", "100")
	if ttl := sDo(t, rdb, "TTL", "k").(int64); ttl != 100 {
		t.Fatalf("TTL after SET IFEQ EX = %d", ttl)
	}
	sWant(t, rdb, "OK", "SET", "k", "v8", "IFEQ", "v7", "KEEPTTL")
	if ttl := sDo(t, rdb, "TTL", "k").(int64); ttl <= 0 {
		t.Fatalf("TTL after SET IFEQ KEEPTTL = %d", ttl)
	}
	sWant(t, rdb, nil, "SET", "k", "v9", "IFEQ", "nope", "PX", "1")
	sWant(t, rdb, "v8", "GET", "k")
	sWant(t, rdb, "OK", "SET", "k", "v9", "IFEQ", "v8")
	sWant(t, rdb, int64(-1), "TTL", "k")
	// A past absolute time releases the key at once.
	sWant(t, rdb, "OK", "SET", "k", "gone", "IFEQ", "v9", "PXAT", "1")
	sWant(t, rdb, int64(0), "EXISTS", "k")
	// Int-encoded values compare by their text.
	sWant(t, rdb, "OK", "SET", "n", "10")
	sWant(t, rdb, "OK", "SET", "n", "11", "IFEQ", "10")
	sWant(t, rdb, "OK", "SET", "n", "12", "IFDEQ", hexDigest("11"))
	sWant(t, rdb, "12", "GET", "n")

	// Conditions need a string value.
	putNonString(t, inst, rdb, "coll")
	for _, args := range [][]any{
		{"SET", "coll", "v", "IFEQ", "x"}, {"SET", "coll", "v", "IFNE", "x"},
		{"SET", "coll", "v", "IFDEQ", hexDigest("x")}, {"SET", "coll", "v", "IFDNE", "short"},
	} {
		sWantErr(t, rdb, sErrWrongType, args...)
	}
	sWant(t, rdb, int64(1), "EXISTS", "coll")

	// go-redis's helpers.
	sWant(t, rdb, "OK", "SET", "gr", "a")
	if err := rdb.SetIFEQ(bgCtx, "gr", "b", "a", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.SetIFEQ(bgCtx, "gr", "c", "a", 0).Err(); !errors.Is(err, redis.Nil) {
		t.Fatalf("SetIFEQ with a stale value: %v, want redis.Nil", err)
	}
	sWant(t, rdb, "b", "GET", "gr")
}

// lockVariant is one way to acquire and release a lock with the commands
// under test. acquire and release must be atomic on the server.
type lockVariant struct {
	name string
	// release frees the lock held with tok and reports whether it did.
	release func(c *redis.Client, tok string) (bool, error)
	// renew, if set, replaces tok by a new token while holding the lock.
	renew func(c *redis.Client, tok, next string) (bool, error)
}

var lockVariants = []lockVariant{
	{name: "DELIFEQ", release: func(c *redis.Client, tok string) (bool, error) {
		n, err := c.Do(bgCtx, "DELIFEQ", "lock", tok).Int()
		return n == 1, err
	}},
	{name: "DELEX-IFEQ", release: func(c *redis.Client, tok string) (bool, error) {
		n, err := c.Do(bgCtx, "DELEX", "lock", "IFEQ", tok).Int()
		return n == 1, err
	}},
	{
		name: "SET-IFEQ",
		// The holder hands the lock to a fresh token (a renewal that also
		// proves ownership), then releases it by overwriting it, only if
		// it still holds it, with an absolute expiry in the past: the key
		// is gone at once, atomically with the comparison.
		renew: func(c *redis.Client, tok, next string) (bool, error) {
			err := c.Do(bgCtx, "SET", "lock", next, "IFDEQ", hexDigest(tok), "PX", "30000").Err()
			if errors.Is(err, redis.Nil) {
				return false, nil
			}
			return err == nil, err
		},
		release: func(c *redis.Client, tok string) (bool, error) {
			err := c.Do(bgCtx, "SET", "lock", "released", "IFEQ", tok, "PXAT", "1").Err()
			if errors.Is(err, redis.Nil) {
				return false, nil
			}
			return err == nil, err
		},
	},
}

// TestLockAcceptance runs a lock contended by 20 clients, each with its own
// connection, for every release style: a shared counter proves there is
// never more than one holder, every holder finds its own token in place
// when it releases (so no release with a wrong token ever removed or
// replaced the lock), and every release attempt by a non-holder fails.
func TestLockAcceptance(t *testing.T) {
	inst, _ := strServer(t)
	const clients, perClient = 20, 10
	for _, v := range lockVariants {
		t.Run(v.name, func(t *testing.T) {
			var holders, acquired, foreignReleases atomic.Int64
			var tokens atomic.Int64
			deadline := time.Now().Add(60 * time.Second)
			var wg sync.WaitGroup
			for id := range clients {
				c := inst.ClientWith(t, &redis.Options{Protocol: 2, PoolSize: 1, MaxIdleConns: 1})
				wg.Add(1)
				go func() {
					defer wg.Done()
					fail := func(format string, args ...any) {
						t.Errorf("client %d: "+format, append([]any{id}, args...)...)
					}
					for got := 0; got < perClient; {
						if time.Now().After(deadline) {
							fail("gave up after %d acquisitions", got)
							return
						}
						tok := fmt.Sprintf("c%d-%d", id, tokens.Add(1))
						ok, err := c.SetArgs(bgCtx, "lock", tok, redis.SetArgs{Mode: "NX", TTL: 30 * time.Second}).Result()
						if err != nil && !errors.Is(err, redis.Nil) {
							fail("SET NX PX: %v", err)
							return
						}
						if ok != "OK" {
							// Not the holder: releasing with our token must fail.
							if released, err := v.release(c, tok); err != nil || released {
								fail("release by a non-holder: released=%v err=%v", released, err)
								return
							}
							foreignReleases.Add(1)
							continue
						}
						if n := holders.Add(1); n != 1 {
							fail("%d holders at once", n)
						}
						acquired.Add(1)
						got++
						// A release with a wrong token from the holder itself
						// also fails and leaves the lock in place.
						if released, err := v.release(c, tok+"-wrong"); err != nil || released {
							fail("release with a wrong token: released=%v err=%v", released, err)
						}
						if v.renew != nil {
							next := tok + "-renewed"
							if ok, err := v.renew(c, tok+"-wrong", next); err != nil || ok {
								fail("renew with a wrong token: ok=%v err=%v", ok, err)
							}
							if ok, err := v.renew(c, tok, next); err != nil || !ok {
								fail("renew: ok=%v err=%v", ok, err)
								return
							}
							tok = next
						}
						if cur, err := c.Get(bgCtx, "lock").Result(); err != nil || cur != tok {
							fail("lock holds %q (%v), want our token %q", cur, err, tok)
						}
						holders.Add(-1) // leave before the lock is released
						if released, err := v.release(c, tok); err != nil || !released {
							fail("release by the holder: released=%v err=%v", released, err)
							return
						}
					}
				}()
			}
			wg.Wait()
			if n := acquired.Load(); n != clients*perClient && !t.Failed() {
				t.Fatalf("%d acquisitions, want %d", n, clients*perClient)
			}
			t.Logf("%d acquisitions, %d refused releases by non-holders", acquired.Load(), foreignReleases.Load())
			c := inst.Client(t)
			if n := c.Exists(bgCtx, "lock").Val(); n != 0 {
				t.Fatalf("lock still exists after every holder released it")
			}
		})
	}
}
