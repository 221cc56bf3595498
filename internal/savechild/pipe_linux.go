package savechild

import (
	"os"
	"syscall"
)

// growPipe asks for a 1 MiB pipe buffer, so that the child is woken per
// megabyte rather than per 64 KiB (best effort: the system's limit for
// unprivileged processes may refuse it).
func growPipe(f *os.File) {
	const fSetPipeSize = 1031 // F_SETPIPE_SZ
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_, _, _ = syscall.Syscall(syscall.SYS_FCNTL, fd, fSetPipeSize, 1<<20)
	})
}
