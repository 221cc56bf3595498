package server

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
