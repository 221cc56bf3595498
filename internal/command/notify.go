package command

import "github.com/corvid-db/corvid/internal/config"

// Keyspace notification classes (notify-keyspace-events), for Ctx.Notify.
const (
	NotifyGeneric = config.NotifyGeneric // g: DEL, EXPIRE, RENAME…
	NotifyString  = config.NotifyString  // $
	NotifyList    = config.NotifyList    // l
	NotifySet     = config.NotifySet     // s
	NotifyHash    = config.NotifyHash    // h
	NotifyZset    = config.NotifyZset    // z
	NotifyExpired = config.NotifyExpired // x
	NotifyEvicted = config.NotifyEvicted // e
	NotifyStream  = config.NotifyStream  // t
	NotifyKeyMiss = config.NotifyKeyMiss // m
	NotifyNew     = config.NotifyNew     // n
)

// Notifier publishes one keyspace notification (the server's side of
// Ctx.Notify).
type Notifier func(class int64, event string, key []byte, db int)

// Notify emits the keyspace notification event of class for key in the
// command's database, as Redis's notifyKeyspaceEvent: on
// __keyspace@<db>__:<key> and __keyevent@<db>__:<event>, for the classes
// notify-keyspace-events enables. Handlers call it after each change, in
// Redis's order (the type event first, then a generic "del" when the last
// element went).
func (c *Ctx) Notify(class int64, event string, key []byte) {
	if c.Notifier != nil {
		c.Notifier(class, event, key, c.DB.Index())
	}
}

// NotifyDB is Notify for a key in another database (MOVE, COPY … DB).
func (c *Ctx) NotifyDB(class int64, event string, key []byte, db int) {
	if c.Notifier != nil {
		c.Notifier(class, event, key, db)
	}
}

// Notifies reports whether notifications of class are enabled at all.
func (c *Ctx) Notifies(class int64) bool {
	if c.NotifyMask == nil {
		return c.Notifier != nil
	}
	m := c.NotifyMask.Load()
	return m&class != 0 && m&(config.NotifyKeyspace|config.NotifyKeyevent) != 0
}
