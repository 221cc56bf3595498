package sentinel

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"syscall"
)

// Script limits, as Redis's.
const (
	scriptMaxQueue   = 256
	scriptMaxRunning = 16
	scriptMaxRetry   = 10
)

// scriptJob is a notification or client-reconfiguration script to run
// (or running, or waiting to be retried).
type scriptJob struct {
	argv     []string
	running  bool
	retryNum int
	start    int64 // running: when it started; else not before this (0: now)
	cmd      *exec.Cmd
}

func (s *Sentinel) scheduleScript(path string, args ...string) {
	s.scripts = append(s.scripts, &scriptJob{argv: append([]string{path}, args...)})
	if len(s.scripts) > scriptMaxQueue {
		for i, j := range s.scripts { // drop the oldest not running
			if !j.running {
				s.scripts = append(s.scripts[:i], s.scripts[i+1:]...)
				break
			}
		}
	}
}

// clientReconfigScript runs the client-reconfig-script of a failover:
// <master-name> <leader|observer> <state> <from-ip> <from-port> <to-ip> <to-port>.
func (s *Sentinel) clientReconfigScript(m *instance, leader bool, state string, from, to address) {
	if m.clientReconfigScript == "" {
		return
	}
	role := "observer"
	if leader {
		role = "leader"
	}
	s.scheduleScript(m.clientReconfigScript, m.name, role, state, s.announceAddr(from), strconv.Itoa(from.port),
		s.announceAddr(to), strconv.Itoa(to.port))
}

func (s *Sentinel) runPendingScripts() {
	now := s.now()
	for _, j := range s.scripts {
		if s.runningScripts >= scriptMaxRunning {
			return
		}
		if j.running || (j.start != 0 && j.start > now) {
			continue
		}
		j.running = true
		j.start = now
		j.retryNum++
		cmd := exec.Command(s.scriptPath(j.argv[0]), j.argv[1:]...)
		cmd.Env = os.Environ()
		cmd.Dir = s.cfg.Dir() // Redis's working directory
		if err := cmd.Start(); err != nil {
			// Redis reports a failed fork as signal 99; a failed exec
			// exits 2 in the child and is not retried.
			s.event(levelWarning, "-script-error", nil, "%s %d %d", j.argv[0], 0, 2)
			s.removeScript(j)
			continue
		}
		j.cmd = cmd
		s.runningScripts++
		s.event(levelDebug, "+script-child", nil, "%d", cmd.Process.Pid)
		go s.waitScript(j, cmd)
	}
}

func (s *Sentinel) waitScript(j *scriptJob, cmd *exec.Cmd) {
	err := cmd.Wait()
	exitCode, bySignal := 0, 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			bySignal = int(ws.Signal())
		} else {
			exitCode = ee.ExitCode()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.runningScripts--
	s.event(levelDebug, "-script-child", nil, "%d %d %d", cmd.Process.Pid, exitCode, bySignal)
	if (bySignal != 0 || exitCode == 1) && j.retryNum != scriptMaxRetry {
		j.running = false
		j.cmd = nil
		delay := s.t.scriptRetryDelay
		for n := j.retryNum; n > 1; n-- {
			delay *= 2
		}
		j.start = s.now() + delay
		return
	}
	if bySignal != 0 || exitCode != 0 {
		s.event(levelWarning, "-script-error", nil, "%s %d %d", j.argv[0], bySignal, exitCode)
	}
	s.removeScript(j)
}

func (s *Sentinel) removeScript(j *scriptJob) {
	for i, x := range s.scripts {
		if x == j {
			s.scripts = append(s.scripts[:i], s.scripts[i+1:]...)
			return
		}
	}
}

func (s *Sentinel) killTimedOutScripts() {
	now := s.now()
	for _, j := range s.scripts {
		if j.running && j.cmd != nil && now-j.start > s.t.scriptMaxRuntime {
			s.event(levelWarning, "-script-timeout", nil, "%s %d", j.argv[0], j.cmd.Process.Pid)
			_ = j.cmd.Process.Kill()
		}
	}
}
