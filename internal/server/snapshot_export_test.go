package server

import "io"

// WriteSnapshot writes the dataset to out as SAVE does, every shard held.
func WriteSnapshot(s *Server, out io.Writer) error {
	s.Store.LockAll()
	defer s.Store.UnlockAll()
	return s.writeSnapshot(out)
}
