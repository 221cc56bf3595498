package commands

import (
	"math"
	"strconv"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/resp"
)

// Conditions of EXPIRE and friends (Redis 7's NX/XX/GT/LT).
const (
	expireNX = 1 << iota
	expireXX
	expireGT
	expireLT
)

func expireCommand(c *command.Ctx)    { expireGeneric(c, c.DB.Now(), true) }
func pexpireCommand(c *command.Ctx)   { expireGeneric(c, c.DB.Now(), false) }
func expireatCommand(c *command.Ctx)  { expireGeneric(c, 0, true) }
func pexpireatCommand(c *command.Ctx) { expireGeneric(c, 0, false) }

// parseExpireFlags reads the NX/XX/GT/LT options after the time argument,
// replying with Redis's error and returning false if they are invalid.
func parseExpireFlags(c *command.Ctx) (int, bool) {
	flags := 0
	for _, opt := range c.Args[3:] {
		switch {
		case equalFold(opt, "nx"):
			flags |= expireNX
		case equalFold(opt, "xx"):
			flags |= expireXX
		case equalFold(opt, "gt"):
			flags |= expireGT
		case equalFold(opt, "lt"):
			flags |= expireLT
		default:
			c.Error("ERR Unsupported option " + string(opt))
			return 0, false
		}
	}
	if flags&expireNX != 0 && flags&(expireXX|expireGT|expireLT) != 0 {
		c.Error(errExpireNXCombo)
		return 0, false
	}
	if flags&expireGT != 0 && flags&expireLT != 0 {
		c.Error(errExpireGTLT)
		return 0, false
	}
	return flags, true
}

// expireGeneric implements the four expire commands: the time argument is
// relative to base (the command's clock, or 0 for the *AT forms), in
// seconds or milliseconds.
func expireGeneric(c *command.Ctx, base int64, seconds bool) {
	key := c.Args[1]
	flags, ok := parseExpireFlags(c)
	if !ok {
		return
	}
	when, ok := resp.ParseInt(c.Args[2])
	if !ok {
		c.Error(command.ErrNotInteger)
		return
	}
	if seconds {
		if when > math.MaxInt64/1000 || when < math.MinInt64/1000 {
			c.Error(command.ErrInvalidExpire(c.Cmd.Name))
			return
		}
		when *= 1000
	}
	if when > math.MaxInt64-base {
		c.Error(command.ErrInvalidExpire(c.Cmd.Name))
		return
	}
	when += base

	e, ok := c.DB.Lookup(key)
	if !ok {
		c.W.Int(0)
		return
	}
	if flags != 0 {
		cur := e.ExpireAt() // 0: no TTL, which GT and LT treat as infinite
		switch {
		case flags&expireNX != 0 && cur != 0,
			flags&expireXX != 0 && cur == 0,
			flags&expireGT != 0 && (cur == 0 || when <= cur),
			flags&expireLT != 0 && cur != 0 && when >= cur:
			c.W.Int(0)
			return
		}
	}
	c.Dirty++
	if when <= c.DB.Now() && !c.DB.KeepExpired {
		// A time already past deletes the key, as if it expired now
		// (not for a primary's stream or an AOF being loaded, whose
		// expiries are decided elsewhere, as Redis's checkAlreadyExpired).
		c.DB.Delete(key)
		c.Notify(command.NotifyGeneric, "del", key)
		if c.Propagating {
			c.PropagateAs(deletionName(c, "lazyfree-lazy-expire"), key)
		}
	} else {
		c.DB.SetExpire(key, when)
		c.Notify(command.NotifyGeneric, "expire", key)
		if c.Propagating {
			// PEXPIREAT with the absolute time, the NX/XX/GT/LT options kept.
			args := append([][]byte{argPEXPIREAT, key, strconv.AppendInt(nil, when, 10)}, c.Args[3:]...)
			c.PropagateAs(args...)
		}
	}
	c.W.Int(1)
}

func ttlCommand(c *command.Ctx)         { ttlGeneric(c, false, false) }
func pttlCommand(c *command.Ctx)        { ttlGeneric(c, true, false) }
func expiretimeCommand(c *command.Ctx)  { ttlGeneric(c, false, true) }
func pexpiretimeCommand(c *command.Ctx) { ttlGeneric(c, true, true) }

// ttlGeneric replies -2 for a missing key, -1 for one without TTL, else the
// remaining time (or the absolute expiry), rounded to seconds unless ms.
func ttlGeneric(c *command.Ctx, ms, abs bool) {
	e, ok := readDB(c).LookupRead(c.Args[1])
	if !ok {
		c.W.Int(-2)
		return
	}
	exp := e.ExpireAt()
	if exp == 0 {
		c.W.Int(-1)
		return
	}
	ttl := exp
	if !abs {
		ttl = max(exp-c.DB.Now(), 0)
	}
	if !ms {
		ttl = (ttl + 500) / 1000
	}
	c.W.Int(ttl)
}

func persistCommand(c *command.Ctx) {
	key := c.Args[1]
	e, ok := c.DB.Lookup(key)
	if !ok || e.ExpireAt() == 0 {
		c.W.Int(0)
		return
	}
	c.DB.SetExpire(key, 0)
	c.Dirty++
	c.Notify(command.NotifyGeneric, "persist", key)
	c.W.Int(1)
}
