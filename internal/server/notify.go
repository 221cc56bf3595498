package server

import (
	"strconv"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/config"
)

// Keyspace notifications (notify-keyspace-events): handlers call
// command.Ctx.Notify after each change; the keyspace reports expired keys
// (Store.OnExpire) and new ones (Store.OnNew). Each enabled event is
// published like PUBLISH on __keyspace@<db>__:<key> (message: the event)
// and __keyevent@<db>__:<event> (message: the key), while the command still
// holds its keys' locks, so subscribers see the events of one key in order.

// initNotify caches the enabled classes and hooks the keyspace.
func (s *Server) initNotify() {
	s.notifyFlags.Store(s.Config.NotifyKeyspaceEvents())
	s.Config.OnChange("notify-keyspace-events", func(string) error {
		s.notifyFlags.Store(s.Config.NotifyKeyspaceEvents())
		return nil
	})
	prev := s.Store.OnExpire
	s.Store.OnExpire = func(db int, key []byte) {
		if prev != nil {
			prev(db, key)
		}
		s.notify(command.NotifyExpired, "expired", key, db)
		if s.prop.active.Load() {
			// Sent at once, outside the unit of the command that found it.
			s.prop.emitNow(db, s.deletionName("lazyfree-lazy-expire"), key)
		}
		if s.tracking.active() {
			s.invalidateKey(nil, key, true)
		}
	}
	s.Store.OnNew = func(db int, key []byte) {
		s.notify(command.NotifyNew, "new", key, db)
	}
}

// notify is the command.Notifier every client's context carries.
func (s *Server) notify(class int64, event string, key []byte, db int) {
	flags := s.notifyFlags.Load()
	if flags&class == 0 || flags&(config.NotifyKeyspace|config.NotifyKeyevent) == 0 {
		return
	}
	dbs := strconv.Itoa(db)
	if flags&config.NotifyKeyspace != 0 {
		ch := make([]byte, 0, 16+len(dbs)+len(key))
		ch = append(append(append(append(ch, "__keyspace@"...), dbs...), "__:"...), key...)
		s.publish(kindChannel, ch, []byte(event))
	}
	if flags&config.NotifyKeyevent != 0 {
		ch := make([]byte, 0, 16+len(dbs)+len(event))
		ch = append(append(append(append(ch, "__keyevent@"...), dbs...), "__:"...), event...)
		s.publish(kindChannel, ch, key)
	}
}
