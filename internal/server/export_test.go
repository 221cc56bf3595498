package server

import "github.com/corvid-db/corvid/internal/keyspace"

// funcConsumer adapts a function to propConsumer.
type funcConsumer struct{ fn func([]byte) }

func (f *funcConsumer) feed(b []byte) { f.fn(b) }

// AttachWriteStream feeds the server's write stream to fn (called with
// the stream mutex held, from the writing goroutines) until detach.
func AttachWriteStream(s *Server, fn func([]byte)) (detach func()) {
	c := &funcConsumer{fn}
	s.prop.addConsumer(c)
	return func() { s.prop.removeConsumer(c) }
}

// LockKeys holds the shards of keys, as a command running on them does,
// until unlock.
func LockKeys(s *Server, keys ...string) (unlock func()) {
	var ss keyspace.ShardSet
	for _, k := range keys {
		ss.Add([]byte(k))
	}
	s.Store.Lock(&ss)
	return func() { s.Store.Unlock(&ss) }
}
