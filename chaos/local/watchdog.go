package local

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// WatchdogEnv marks a process as slokit's process-fault watchdog (set by the runner that
// starts it; a test binary uses it to act as slokit).
const WatchdogEnv = "SLOKIT_WATCHDOG"

// WatchdogConfig configures RunWatchdog.
type WatchdogConfig struct {
	// PID is the paused process, or the leader of the paused group when Group is set.
	PID   int
	Group bool
	// Lease is how long the watchdog waits for a heartbeat; 0 means DefaultLease.
	Lease time.Duration
	// Log receives diagnostics; nil discards them.
	Log *slog.Logger
}

// RunWatchdog guards a paused process for a run that may die: it reads heartbeats (any
// byte) from r and, when none came for a lease or r ends (the runner exited or was
// killed: the kernel closes the pipe), it resumes the process (SIGCONT) and returns. A
// resumed process is not harmed by a second SIGCONT, so the watchdog also acts after a
// clean removal.
func RunWatchdog(ctx context.Context, r io.Reader, cfg WatchdogConfig) error {
	if cfg.PID <= 1 {
		return fmt.Errorf("watchdog: refusing pid %d", cfg.PID)
	}
	if cfg.Lease == 0 {
		cfg.Lease = DefaultLease
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	beats := make(chan struct{}, 1)
	go func() {
		br := bufio.NewReader(r)
		for {
			if _, err := br.ReadByte(); err != nil {
				close(beats)
				return
			}
			select {
			case beats <- struct{}{}:
			default:
			}
		}
	}()
	t := time.NewTimer(cfg.Lease)
	defer t.Stop()
	why := ""
	for why == "" {
		select {
		case _, ok := <-beats:
			if !ok {
				why = "the run ended"
				break
			}
			t.Reset(cfg.Lease)
		case <-t.C:
			why = "no heartbeat for " + cfg.Lease.String()
		case <-ctx.Done():
			why = "watchdog stopped"
		}
	}
	pid := cfg.PID
	if cfg.Group {
		pid = -pid
	}
	err := syscall.Kill(pid, syscall.SIGCONT)
	if errors.Is(err, syscall.ESRCH) {
		err = nil
	}
	cfg.Log.Info("watchdog: resumed the process", "pid", cfg.PID, "group", cfg.Group, "why", why)
	return err
}

// watchdog is the runner's side: the child process and the heartbeat pipe.
type watchdog struct {
	cmd  *exec.Cmd
	w    io.WriteCloser
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// startWatchdog starts argv (slokit's `chaos watchdog`) for pid in its own process
// group, so that a Ctrl-C or SIGHUP sent to the runner's group does not reach it, and
// sends it a heartbeat every quarter lease.
func startWatchdog(argv []string, pid int, group bool, lease time.Duration) (*watchdog, error) {
	args := append(append([]string(nil), argv[1:]...), "--pid", strconv.Itoa(pid), "--lease", lease.String())
	if group {
		args = append(args, "--group")
	}
	cmd := exec.Command(argv[0], args...)
	cmd.Env = append(os.Environ(), WatchdogEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	w, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("process: starting the watchdog: %w", err)
	}
	wd := &watchdog{cmd: cmd, w: w, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(wd.done)
		t := time.NewTicker(lease / 4)
		defer t.Stop()
		for {
			if _, err := w.Write([]byte{'.'}); err != nil {
				return
			}
			select {
			case <-wd.stop:
				return
			case <-t.C:
			}
		}
	}()
	return wd, nil
}

// close ends the heartbeats; the watchdog resumes (harmlessly, after a removal) and exits.
func (wd *watchdog) close() {
	wd.once.Do(func() {
		close(wd.stop)
		<-wd.done
		_ = wd.w.Close()
		waited := make(chan struct{})
		go func() { _ = wd.cmd.Wait(); close(waited) }()
		select {
		case <-waited:
		case <-time.After(2 * time.Second):
			_ = wd.cmd.Process.Kill()
			<-waited
		}
	})
}
