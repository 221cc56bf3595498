// Package resp is the RESP2/RESP3 codec of the server: it parses client
// requests (Parser, SplitArgs) and encodes replies (Writer), with the
// semantics of Redis 7.2's networking.c. It is the hot path of every
// command, so in the steady state it allocates nothing.
//
// # Requests
//
// A Parser owns its connection's read buffer. Fill reads once into the
// buffer's free space; Next returns the next complete command, or nil when
// more bytes are needed. The arguments Next returns are sub-slices of the
// read buffer, not copies: a pipeline of GET and SET commands is parsed
// without copying or allocating anything, and a 100 MB value is read
// into the buffer once and handed to the command as it lies there. The
// price is a lifetime rule: arguments are only valid until the next Fill
// (which may move or overwrite the buffer), so a command that keeps an
// argument, as SET keeps its value, must copy it. The [][]byte holding
// them is reused by the next Next call.
//
// A command that has not fully arrived is resumed, not re-parsed: the
// Parser remembers the arguments already parsed and where the search for a
// line end stopped, so a command with a million arguments, or one fed a
// byte at a time, costs time linear in its size.
//
// Both request forms of Redis are accepted: multibulk ("*<n>\r\n" followed
// by n "$<len>\r\n<data>\r\n") and inline (a line of words split by
// SplitArgs, as typed in telnet). Malformed input yields a *ProtocolError
// whose text is Redis's reply; it is fatal: the server sends it and closes
// the connection.
//
// # Limits
//
// The limits are Redis's, and exist for the same reason: a client must not
// be able to make the server hold unbounded memory.
//
//   - MaxBulkLen (proto-max-bulk-len, 512 MB) bounds one argument and
//     MaxMultibulkLen (INT_MAX) the argument count.
//   - MaxQueryBuf (client-query-buffer-limit, 1 GB) bounds the bytes held
//     for the command in progress and the input not yet parsed; beyond it
//     Fill returns ErrQueryBufferLimit and the server drops the connection
//     without a reply.
//   - MaxInlineSize (64 KiB) bounds an inline command or a header line
//     whose end has not arrived: a stream without line ends is rejected
//     instead of buffered forever.
//   - Unauthenticated clients may send at most 10 arguments of at most
//     16384 bytes each, so that a client without the password can make the
//     server buffer little.
//
// Lengths announced by the client are never trusted for allocation: the
// buffer grows as bytes actually arrive, geometrically so that a big value
// costs linear copying, and at most 1 MiB is reserved ahead for an
// announced argument. "*1000000000\r\n" or "$500000000\r\n" followed by
// silence costs the server almost nothing. Buffers that grew for a big
// command are shrunk by the server's periodic check (Shrink) once the
// recent peak has dropped, and an idle connection's buffer is released
// altogether (Release), as Redis resizes its query buffers.
//
// # Replies
//
// A Writer appends replies to a byte slice. The server encodes the replies
// of all the commands it parsed from one read into the same slice and
// sends it with a single write: one system call per batch instead of one
// per reply, which is what makes pipelining fast. Small headers are
// pre-encoded and numbers are formatted without allocating, so once the
// slice has grown to a batch's size, encoding allocates nothing. Proto
// selects RESP2 or RESP3; the RESP3-only types (maps, sets, doubles,
// booleans, nulls, ...) fall back to their RESP2 forms as Redis does.
package resp
