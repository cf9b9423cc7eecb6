package local

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/slokit/slokit/chaos"
	"github.com/slokit/slokit/internal/strictyaml"
	"github.com/slokit/slokit/slo"
)

// Process actions.
const (
	ActionKill  = "kill"  // SIGKILL on Inject; Remove restarts a command slokit started
	ActionPause = "pause" // SIGSTOP on Inject, SIGCONT on Remove
)

// ProcessConfig configures a Process fault. Exactly one of PID and Command is set.
type ProcessConfig struct {
	// Action is ActionKill or ActionPause.
	Action string
	// PID is an existing process to signal.
	PID int
	// Command is a program and its arguments that Start runs in its own process group;
	// the fault signals the whole group.
	Command []string
	// Restart, for ActionKill with Command, makes Remove start the command again.
	Restart bool
	// Output receives the command's stdout and stderr; nil discards them.
	Output io.Writer
	// StateDir holds a file recording the command's PID so that `slokit chaos cleanup`
	// can resume a paused command after slokit itself was killed; "" means os.TempDir().
	StateDir string
	// RunID names the state file; "" keeps none.
	RunID string
	// Log receives diagnostics; nil discards them.
	Log *slog.Logger
	// Watchdog, for ActionPause, is the command that runs `slokit chaos watchdog`
	// (RunWatchdog), like [/usr/bin/slokit chaos watchdog]: Inject starts it before the
	// pause, and it resumes the process if this slokit dies or stalls. nil runs none.
	Watchdog []string
	// WatchdogLease is how long the watchdog waits for a heartbeat; 0 means DefaultLease.
	WatchdogLease time.Duration
}

// Process kills or pauses a process. It implements chaos.Injector, and Start and Close
// to run and stop the command it owns.
type Process struct {
	cfg ProcessConfig
	log *slog.Logger

	// ownOutput is the output file Backend.New opened; Close closes it.
	ownOutput io.Closer

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{} // closed when cmd has exited
	paused  bool
	killed  bool
	started bool
	wd      *watchdog
}

var _ chaos.Injector = (*Process)(nil)

// NewProcess checks cfg. It refuses PIDs 0 and 1 and slokit's own.
func NewProcess(cfg ProcessConfig) (*Process, error) {
	if cfg.Action != ActionKill && cfg.Action != ActionPause {
		return nil, fmt.Errorf("process: action must be kill or pause, got %q", cfg.Action)
	}
	if (cfg.PID == 0) == (len(cfg.Command) == 0) {
		return nil, errors.New("process: set exactly one of pid and command")
	}
	if cfg.PID != 0 && (cfg.PID <= 1 || cfg.PID == os.Getpid()) {
		return nil, fmt.Errorf("process: refusing to signal pid %d (init or slokit itself)", cfg.PID)
	}
	p := &Process{cfg: cfg, log: cfg.Log}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	return p, nil
}

func (p *Process) stateFile() string {
	if p.cfg.RunID == "" || len(p.cfg.Command) == 0 {
		return ""
	}
	dir := p.cfg.StateDir
	if dir == "" {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "slokit-process-"+p.cfg.RunID+".pid")
}

// Start runs the command (when configured and not already running); for a PID it checks
// that the process exists.
func (p *Process) Start(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.startLocked(ctx)
}

func (p *Process) startLocked(context.Context) error {
	if p.cfg.PID != 0 {
		if err := syscall.Kill(p.cfg.PID, 0); err != nil && !errors.Is(err, syscall.EPERM) {
			return fmt.Errorf("process: pid %d: %w", p.cfg.PID, err)
		}
		p.started = true
		return nil
	}
	if p.cmd != nil && !isClosed(p.exited) {
		return nil
	}
	// Not CommandContext: the command outlives the context of the call that started it.
	cmd := exec.Command(p.cfg.Command[0], p.cfg.Command[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out := p.cfg.Output
	if out == nil {
		out = io.Discard
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("process: start %q: %w", strings.Join(p.cfg.Command, " "), err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	p.cmd, p.exited, p.killed, p.paused, p.started = cmd, exited, false, false, true
	if f := p.stateFile(); f != "" {
		rec := strconv.Itoa(cmd.Process.Pid)
		if st := startTime(cmd.Process.Pid); st != 0 {
			rec += " " + strconv.FormatUint(st, 10)
		}
		if err := os.WriteFile(f, []byte(rec), 0o600); err != nil {
			p.log.Warn("process: cannot record the command's pid for cleanup", "file", f, "err", err)
		}
	}
	p.log.Info("process started", "pid", cmd.Process.Pid, "command", p.cfg.Command)
	return nil
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// PID is the signalled process: the configured PID, or the running command's (0 when
// it is not running).
func (p *Process) PID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pidLocked()
}

func (p *Process) pidLocked() int {
	if p.cfg.PID != 0 {
		return p.cfg.PID
	}
	if p.cmd == nil || isClosed(p.exited) {
		return 0
	}
	return p.cmd.Process.Pid
}

// signal sends sig to the configured PID, or to the command's process group.
func (p *Process) signal(pid int, sig syscall.Signal) error {
	if p.cfg.PID == 0 {
		pid = -pid // the whole group
	}
	err := syscall.Kill(pid, sig)
	if errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("process %d is gone: %w", abs(pid), err)
	}
	return err
}

func abs(i int) int {
	if i < 0 {
		return -i
	}
	return i
}

// Inject starts the command if needed, then sends SIGKILL or SIGSTOP.
func (p *Process) Inject(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.started || (p.cfg.PID == 0 && p.pidLocked() == 0) {
		if err := p.startLocked(ctx); err != nil {
			return err
		}
	}
	pid := p.pidLocked()
	switch p.cfg.Action {
	case ActionPause:
		if p.cfg.Watchdog != nil && p.wd == nil {
			wd, err := startWatchdog(p.cfg.Watchdog, pid, p.cfg.PID == 0, cmp.Or(p.cfg.WatchdogLease, DefaultLease))
			if err != nil {
				return err
			}
			p.wd = wd
		}
		// Marked first: Remove resumes even if the signal half-succeeded.
		p.paused = true
		if err := p.signal(pid, syscall.SIGSTOP); err != nil {
			return fmt.Errorf("process: SIGSTOP: %w", err)
		}
		p.log.Info("process paused", "pid", pid)
	case ActionKill:
		p.killed = true
		if err := p.signal(pid, syscall.SIGKILL); err != nil {
			return fmt.Errorf("process: SIGKILL: %w", err)
		}
		if p.exited != nil {
			select {
			case <-p.exited:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		p.log.Info("process killed", "pid", pid)
	}
	return nil
}

// Remove undoes the fault: SIGCONT for a pause, a restart of the command for a kill
// with Restart. It is idempotent and safe after a failed Inject. After a crash of
// slokit, a Process built from the same parameters and run resumes the paused command
// recorded in the state file.
func (p *Process) Remove(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch p.cfg.Action {
	case ActionPause:
		pid := p.pidLocked()
		if pid == 0 && p.cmd == nil {
			pid = p.recordedPID()
			if pid != 0 {
				p.log.Info("process: resuming the command a previous run paused", "pid", pid)
				if err := syscall.Kill(-pid, syscall.SIGCONT); err != nil && !errors.Is(err, syscall.ESRCH) {
					return fmt.Errorf("process: SIGCONT %d: %w", pid, err)
				}
			}
			return nil
		}
		if pid == 0 {
			p.paused = false
			return nil // the command has exited: nothing is paused
		}
		// SIGCONT to a running process does nothing, so resume even when not marked.
		if err := p.signal(pid, syscall.SIGCONT); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("process: SIGCONT: %w", err)
		}
		if p.paused {
			p.log.Info("process resumed", "pid", pid)
		}
		p.paused = false
		p.stopWatchdog()
	case ActionKill:
		if !p.killed || p.cfg.PID != 0 || !p.cfg.Restart {
			return nil
		}
		if err := p.startLocked(ctx); err != nil {
			return err
		}
		p.killed = false
	}
	return nil
}

// endRecordedGroup ends the process group a crashed run started: SIGCONT and SIGTERM,
// then SIGKILL after 5s. It checks first that the group's leader is the process the run
// started, so a recycled PID is never signalled; the state file goes either way. The
// check compares the leader's start time with the recorded one: it holds through an exec
// (`sh -c '…; exec server'`) and while the leader is a zombie. A record without a start
// time (an older slokit) falls back to comparing the leader's program name.
func (p *Process) endRecordedGroup(pid int) error {
	_, want := p.recorded()
	defer os.Remove(p.stateFile())
	if err := syscall.Kill(-pid, 0); err != nil {
		return nil // the group is gone
	}
	if want != 0 {
		// 0: the leader was reaped, but the group (which keeps its number from reuse)
		// still has members the run started.
		if got := startTime(pid); got != 0 && got != want {
			return fmt.Errorf("process: pid %d started at tick %d, not at the recorded %d: not the command slokit started, not signalling it (recycled pid?)", pid, got, want)
		}
	} else if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil {
		argv0, _, _ := strings.Cut(string(b), "\x00")
		if filepath.Base(argv0) != filepath.Base(p.cfg.Command[0]) {
			return fmt.Errorf("process: pid %d runs %q, not %q: not signalling it (recycled pid?)", pid, argv0, p.cfg.Command[0])
		}
	}
	_ = syscall.Kill(-pid, syscall.SIGCONT)
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if syscall.Kill(-pid, 0) != nil {
			p.log.Info("process: ended the command group a previous run left", "pgid", pid)
			return nil
		}
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	p.log.Info("process: killed the command group a previous run left", "pgid", pid)
	return nil
}

func (p *Process) stopWatchdog() {
	if p.wd != nil {
		p.wd.close()
		p.wd = nil
	}
}

func (p *Process) recordedPID() int {
	pid, _ := p.recorded()
	return pid
}

// recorded reads the state file: the command's PID and, when known, its start time.
func (p *Process) recorded() (pid int, start uint64) {
	f := p.stateFile()
	if f == "" {
		return 0, 0
	}
	b, err := os.ReadFile(f)
	if err != nil {
		return 0, 0
	}
	fields := strings.Fields(string(b))
	if len(fields) == 0 {
		return 0, 0
	}
	pid, err = strconv.Atoi(fields[0])
	if err != nil || pid <= 1 {
		return 0, 0
	}
	if len(fields) > 1 {
		start, _ = strconv.ParseUint(fields[1], 10, 64)
	}
	return pid, start
}

// startTime is a process's start time in clock ticks after boot (/proc/<pid>/stat, field
// 22), which an exec does not change and a recycled PID does not share; 0 when unknown.
func startTime(pid int) uint64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	i := strings.LastIndexByte(string(b), ')') // the name in parentheses may hold spaces
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:])) // f[0] is field 3, the state
	if len(f) < 20 {
		return 0
	}
	v, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return 0
	}
	return v
}

// Close resumes and stops the command slokit started (SIGTERM, then SIGKILL after 5s)
// and removes its state file; for a PID it only resumes a pause.
//
// Built again after a crash (`slokit chaos cleanup`), it ends the command group the
// crashed run started, found by its state file, the same way, and removes the file: a
// command that ignores SIGHUP does not survive its run as an orphan.
func (p *Process) Close() error {
	err := p.Remove(context.Background())
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopWatchdog()
	if p.cmd == nil {
		if pid := p.recordedPID(); pid != 0 {
			err = errors.Join(err, p.endRecordedGroup(pid))
		}
		if p.ownOutput != nil {
			_ = p.ownOutput.Close()
			p.ownOutput = nil
		}
		return err
	}
	if !isClosed(p.exited) {
		pid := p.cmd.Process.Pid
		_ = syscall.Kill(-pid, syscall.SIGCONT)
		_ = syscall.Kill(-pid, syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			<-p.exited
		}
	}
	if f := p.stateFile(); f != "" {
		_ = os.Remove(f)
	}
	p.cmd = nil
	if p.ownOutput != nil {
		_ = p.ownOutput.Close()
		p.ownOutput = nil
	}
	return err
}

// ProcessBackend builds process faults from game-day files:
//
//	fault:
//	  backend: process
//	  params:
//	    action: pause                          # kill | pause
//	    command: [./shortlink, -listen, :8080] # or pid: 12345
//	    restart: true                          # kill + command: Remove starts it again
//	    output: shortlink.log                  # command output (default: discarded)
//
// A Process it builds runs its command on Start (or on Inject) and stops it on Close.
type ProcessBackend struct {
	// Log receives diagnostics; nil discards them.
	Log *slog.Logger
	// StateDir is where pid state files live; "" means os.TempDir().
	StateDir string
	// Watchdog is ProcessConfig.Watchdog for every pause fault; nil runs none.
	Watchdog []string
}

var _ chaos.Backend = ProcessBackend{}

// Name is "process".
func (ProcessBackend) Name() string { return "process" }

// ProcessParams are the typed params of the process backend.
type ProcessParams struct {
	ProcessConfig
	// Output is the file the command's output is appended to; "" discards it.
	Output string
}

// Parse decodes params strictly into the typed fault (*ProcessParams).
func (ProcessBackend) Parse(file string, params *yaml.Node) (chaos.FaultParams, slo.Diagnostics) {
	cfg, output, ds := decodeProcess(file, params)
	if len(ds.Errors()) > 0 {
		return nil, ds
	}
	return &ProcessParams{ProcessConfig: cfg, Output: output}, ds
}

// New builds the fault; it starts nothing until Start or Inject.
func (b ProcessBackend) New(params chaos.FaultParams, run chaos.Run) (chaos.Injector, error) {
	pp, ok := params.(*ProcessParams)
	if !ok || pp == nil {
		return nil, fmt.Errorf("process: params %T are not from ProcessBackend.Parse", params)
	}
	cfg, output := pp.ProcessConfig, pp.Output
	cfg.RunID, cfg.StateDir, cfg.Log, cfg.Watchdog = run.ID, b.StateDir, b.Log, b.Watchdog
	p, err := NewProcess(cfg)
	if err != nil {
		return nil, err
	}
	if output != "" {
		f, err := os.OpenFile(output, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, fmt.Errorf("process: output: %w", err)
		}
		p.cfg.Output, p.ownOutput = f, f
	}
	return p, nil
}

func decodeProcess(file string, n *yaml.Node) (ProcessConfig, string, slo.Diagnostics) {
	d := newDecoder(file)
	cfg := ProcessConfig{Restart: true}
	var output string
	seen := d.Mapping(n, paramsPath,
		strictyaml.Required("action", func(n *yaml.Node, p string) { d.oneOf(n, p, &cfg.Action, ActionKill, ActionPause) }),
		strictyaml.Optional("pid", func(n *yaml.Node, p string) {
			d.integer(n, p, 2, 1<<22, &cfg.PID)
		}),
		strictyaml.Optional("command", func(n *yaml.Node, p string) {
			d.StrList(n, p, &cfg.Command)
			if n.Kind == yaml.SequenceNode && len(n.Content) == 0 {
				d.Errf(n, p, "must name a program, like [./shortlink, -listen, 127.0.0.1:8080]")
			}
		}),
		strictyaml.Optional("restart", func(n *yaml.Node, p string) { d.boolean(n, p, &cfg.Restart) }),
		strictyaml.Optional("output", func(n *yaml.Node, p string) { d.Str(n, p, &output) }),
	)
	_, hasPID := seen["pid"]
	_, hasCmd := seen["command"]
	if isMapping(n) {
		switch {
		case hasPID && hasCmd:
			d.Errf(seen["command"], paramsPath+".command", "set pid or command, not both")
		case !hasPID && !hasCmd:
			d.Errf(n, paramsPath, "needs pid (a running process) or command (one slokit starts)")
		}
	}
	if k, ok := seen["restart"]; ok && (cfg.Action != ActionKill || hasPID) {
		d.Errf(k, paramsPath+".restart", "applies only to action kill with a command")
	}
	if k, ok := seen["output"]; ok && !hasCmd {
		d.Errf(k, paramsPath+".output", "applies only with a command")
	}
	return cfg, output, d.Diagnostics()
}
