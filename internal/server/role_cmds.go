package server

import (
	"net"

	"github.com/corvid-db/corvid/internal/command"
)

// ROLE: the replication role in one array, the way clients, proxies and
// failover tools read it (they call ROLE rather than parse INFO):
//
//	primary: "master", the stream's offset, and one [ip, port, acked
//	         offset] per online replica, the port and offset as bulk
//	         strings, as Redis writes them;
//	replica: "slave", the primary's host and port, the link's state
//	         (connect, connecting, handshake, sync, connected) and the
//	         offset of the primary's stream applied so far, -1 while there
//	         is no link.
//
// The figures are the ones INFO replication reports: the write stream's
// offset (propagate.go), each replica's last REPLCONF ACK and announced
// listening port (replication.go), the link's state (replica.go). The
// reply is the same in RESP2 and RESP3.

func (s *Server) roleCommands() []*command.Command {
	return []*command.Command{
		{Name: "role", Arity: 1, Flags: command.NoScript | command.Loading | command.Stale | command.Fast | command.NoKeyspace | command.Sentinel,
			ACL: command.CatAdmin | command.CatFast | command.CatDangerous, Group: "server", Since: "2.8.12",
			Summary: "Returns the server's replication role and its state.", Handler: s.roleCommand},
	}
}

func (s *Server) roleCommand(c *command.Ctx) {
	w := c.W
	if host, port, state, offset, ok := s.replicaRole(); ok {
		w.ArrayLen(5)
		w.BulkString("slave")
		w.BulkString(host)
		w.Int(int64(port))
		w.BulkString(state)
		w.Int(offset)
		return
	}
	offset := s.prop.Offset()
	replicas := s.replicaInfo()
	w.ArrayLen(3)
	w.BulkString("master")
	w.Int(offset)
	w.ArrayLen(len(replicas))
	for _, r := range replicas {
		w.ArrayLen(3)
		w.BulkString(replicaIP(r))
		w.BulkInt(r.replListeningPort.Load())
		w.BulkInt(r.replica.ackOffset.Load())
	}
}

// replicaRole reports, when the server is a replica, its primary, the
// link's state and the offset of the primary's stream applied (-1 with no
// link up).
func (s *Server) replicaRole() (host string, port int, state string, offset int64, ok bool) {
	r := &s.replica
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.host == "" {
		return "", 0, "", 0, false
	}
	offset = -1
	if r.master != nil && r.master.primary != nil {
		offset = r.master.primary.applied.Load()
	}
	return r.host, r.port, linkStateNames[r.state.Load()], offset, true
}

// replicaIP is the address a replica connected from, without the port
// (and without brackets, for IPv6).
func replicaIP(r *Client) string {
	if a := r.replAnnouncedIP.Load(); a != nil {
		return *a // replica-announce-ip
	}
	if host, _, err := net.SplitHostPort(r.peerID()); err == nil {
		return host
	}
	return r.peerID()
}
