package resp

import "errors"

// ProtocolError is a malformed request. Its Error text is the full reply the
// server sends, without the leading '-' and trailing CRLF (for example
// "ERR Protocol error: invalid bulk length"); Writer.Error writes it as is.
//
// Every protocol error is fatal, as in Redis: the server replies with the
// error and then closes the connection, because the request stream can no
// longer be framed. After returning one, the Parser keeps returning it.
type ProtocolError struct {
	msg string
}

// Error returns the reply text, starting with "ERR Protocol error: ".
func (e *ProtocolError) Error() string { return e.msg }

// Fatal reports whether the connection must be closed once the error has
// been sent. It is always true, as every protocol error is in Redis 7.2.
func (e *ProtocolError) Fatal() bool { return true }

func protoErr(s string) *ProtocolError {
	return &ProtocolError{msg: "ERR Protocol error: " + s}
}

// The protocol errors the Parser returns, with Redis 7.2's texts. Besides
// these, a bulk header that does not start with '$' yields a ProtocolError
// "ERR Protocol error: expected '$', got 'X'".
var (
	// ErrProtoInvalidMultibulkLen: the count after '*' is not an integer
	// or exceeds Parser.MaxMultibulkLen.
	ErrProtoInvalidMultibulkLen = protoErr("invalid multibulk length")
	// ErrProtoInvalidBulkLen: the length after '$' is not an integer, is
	// negative or exceeds Parser.MaxBulkLen.
	ErrProtoInvalidBulkLen = protoErr("invalid bulk length")
	// ErrProtoUnauthMultibulkLen: an unauthenticated client sent more than
	// 10 arguments.
	ErrProtoUnauthMultibulkLen = protoErr("unauthenticated multibulk length")
	// ErrProtoUnauthBulkLen: an unauthenticated client sent an argument
	// longer than 16384 bytes.
	ErrProtoUnauthBulkLen = protoErr("unauthenticated bulk length")
	// ErrProtoTooBigMultibulkCount: no CR within MaxInlineSize bytes of a
	// '*' header.
	ErrProtoTooBigMultibulkCount = protoErr("too big mbulk count string")
	// ErrProtoTooBigBulkCount: no CR within MaxInlineSize bytes of a '$'
	// header.
	ErrProtoTooBigBulkCount = protoErr("too big bulk count string")
	// ErrProtoTooBigInline: no LF within MaxInlineSize bytes of an inline
	// command.
	ErrProtoTooBigInline = protoErr("too big inline request")
	// ErrProtoUnbalancedQuotes: an inline command that SplitArgs rejects.
	ErrProtoUnbalancedQuotes = protoErr("unbalanced quotes in request")
)

// expectedDollar builds the error for a bulk header starting with c. As
// Redis's addReplyErrorFormat does, CR and LF are shown as spaces so that
// the reply stays one line.
func expectedDollar(c byte) *ProtocolError {
	if c == '\r' || c == '\n' {
		c = ' '
	}
	return protoErr("expected '$', got '" + string([]byte{c}) + "'")
}

// ErrQueryBufferLimit is returned by Fill (and then by Next) when the bytes
// buffered for the command in progress and those not yet parsed exceed
// Parser.MaxQueryBuf. Like Redis, which logs "Closing client that reached
// max query buffer length", the server must close the connection at once,
// without a reply.
var ErrQueryBufferLimit = errors.New("resp: client query buffer limit reached")
