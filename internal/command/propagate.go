package command

// Propagation: what a write command sends to replicas and the append-only
// file. By default a command that changed the keyspace (Dirty > 0)
// propagates its own arguments. Commands whose effect depends on when or
// where they ran say instead what a replica must run to reach the same
// state, as Redis does: relative TTLs become absolute (SET … PXAT,
// PEXPIREAT), blocking pops their non-blocking forms, SPOP the members it
// removed, INCRBYFLOAT the value it stored, a script the commands it ran.
//
// Handlers call these only when c.Propagating is set: with no replica and
// no AOF nothing is collected, and the calls cost a field test.

// PropagateAs replaces what the command propagates (Redis's
// rewriteClientCommandVector). The arguments are copied.
func (c *Ctx) PropagateAs(args ...[]byte) {
	if !c.Propagating {
		return
	}
	c.PropArgs = append(c.PropArgs[:0], args...)
	c.PropRewritten = true
}

// PropagateStrings is PropagateAs for arguments built as strings.
func (c *Ctx) PropagateStrings(args ...string) {
	if !c.Propagating {
		return
	}
	c.PropArgs = c.PropArgs[:0]
	for _, a := range args {
		c.PropArgs = append(c.PropArgs, []byte(a))
	}
	c.PropRewritten = true
}

// AlsoPropagate queues one more command to propagate before the command's
// own (Redis's alsoPropagate): SPOP's SREM batches, XREADGROUP's XCLAIMs.
func (c *Ctx) AlsoPropagate(args ...[]byte) {
	if !c.Propagating || c.PropAlso == nil {
		return
	}
	c.PropAlso(args)
}

// PreventPropagation keeps the command's own arguments out of the stream
// (what AlsoPropagate queued still goes).
func (c *Ctx) PreventPropagation() { c.PropNone = true }

// ForcePropagation propagates the command even though it changed nothing
// in the keyspace (PUBLISH, FLUSHALL on an empty server).
func (c *Ctx) ForcePropagation() { c.PropForce = true }
