//go:build !linux

package server

import "errors"

// eventLoopsSupported reports whether this platform has the epoll event
// loops; elsewhere every connection has a goroutine of its own.
const eventLoopsSupported = false

// eventLoop is Linux-only; see eventloop_linux.go.
type eventLoop struct{}

func newEventLoop(*Server) (*eventLoop, error) {
	return nil, errors.New("no event loops on this platform")
}
func (l *eventLoop) run()                 {}
func (l *eventLoop) wake()                {}
func (l *eventLoop) adopt(*Client) error  { return errors.New("no event loops on this platform") }
func (c *Client) flushNonBlocking() bool  { return c.flush() }
func (l *eventLoop) wakeClient(*Client)   {}
func (s *Server) settleOthers(*eventLoop) {}
