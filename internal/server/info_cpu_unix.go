//go:build linux || darwin || freebsd

package server

import (
	"syscall"
	"time"
)

// cpuTimes reads getrusage for the process and its children.
func cpuTimes() processCPU {
	var self, kids syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &kids)
	tv := func(t syscall.Timeval) time.Duration {
		return time.Duration(t.Sec)*time.Second + time.Duration(t.Usec)*time.Microsecond
	}
	return processCPU{sys: tv(self.Stime), user: tv(self.Utime), childSys: tv(kids.Stime), childUser: tv(kids.Utime)}
}
