package commands

import "github.com/corvid-db/corvid/internal/command"

// Keyspace notifications for the data type commands. Most write commands
// change one key and always name their event the same way; ev wraps their
// handlers. Commands whose event depends on what they did (LMOVE, SMOVE,
// the *STORE family, ZADD INCR…) call notifyChange themselves.

// ev wraps a one-key write handler: when it changed something (Dirty moved),
// event is emitted for the key at argument 1, followed by the generic "del"
// if the change removed the key, as Redis does when a collection empties.
func ev(class int64, event string, h func(*command.Ctx)) func(*command.Ctx) {
	return func(c *command.Ctx) {
		d := c.Dirty
		h(c)
		if c.Dirty != d && c.Notifies(class|command.NotifyGeneric) {
			notifyChange(c, class, event, c.Args[1])
		}
	}
}

// notifyChange emits event for key and, when the key no longer exists (its
// last element went), the generic "del" after it.
func notifyChange(c *command.Ctx, class int64, event string, key []byte) {
	if !c.Notifies(class | command.NotifyGeneric) {
		return
	}
	c.Notify(class, event, key)
	if !c.DB.Exists(key) {
		c.Notify(command.NotifyGeneric, "del", key)
	}
}

// evStore wraps a handler that stores its result at argument dst (the
// *STORE family): when it changed something, event is emitted for the
// destination, or the generic "del" if the empty result removed it.
func evStore(class int64, event string, dst int, h func(*command.Ctx)) func(*command.Ctx) {
	return func(c *command.Ctx) {
		d := c.Dirty
		h(c)
		if c.Dirty == d || !c.Notifies(class|command.NotifyGeneric) {
			return
		}
		key := c.Args[dst]
		if c.DB.Exists(key) {
			c.Notify(class, event, key)
		} else {
			c.Notify(command.NotifyGeneric, "del", key)
		}
	}
}

// zaddEvent names ZADD's event: "zincr" with the INCR option.
func zaddEvent(c *command.Ctx) string {
	for _, a := range c.Args[2:] {
		switch {
		case equalFold(a, "incr"):
			return "zincr"
		case equalFold(a, "nx"), equalFold(a, "xx"), equalFold(a, "gt"), equalFold(a, "lt"), equalFold(a, "ch"):
		default:
			return "zadd"
		}
	}
	return "zadd"
}

// evZadd is ev for ZADD, whose event depends on its options.
func evZadd(h func(*command.Ctx)) func(*command.Ctx) {
	return func(c *command.Ctx) {
		d := c.Dirty
		h(c)
		if c.Dirty != d && c.Notifies(command.NotifyZset|command.NotifyGeneric) {
			notifyChange(c, command.NotifyZset, zaddEvent(c), c.Args[1])
		}
	}
}
