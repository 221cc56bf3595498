//go:build !(linux || darwin || freebsd)

package server

// cpuTimes reports zero where getrusage does not exist.
func cpuTimes() processCPU { return processCPU{} }
