package local

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/slokit/slokit/chaos"
)

// helperFlag makes the test binary serve HTTP on the address that follows it, so that
// process faults are tested against a real server in a child process.
const helperFlag = "-slokit-helper-listen"

func TestMain(m *testing.M) {
	for i, a := range os.Args {
		if a == helperFlag && i+1 < len(os.Args) {
			l, err := net.Listen("tcp", os.Args[i+1])
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
			_ = http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "ok") }))
			os.Exit(0)
		}
	}
	os.Exit(m.Run())
}

// procState is the state letter of /proc/<pid>/stat: R, S, T (stopped), Z, …
func procState(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "gone"
	}
	s := string(b)
	return strings.Fields(s[strings.LastIndexByte(s, ')')+1:])[0]
}

// waitState polls the state of pid until it is want (signals are delivered
// asynchronously) and returns the last state seen.
func waitState(t *testing.T, pid int, want string) string {
	t.Helper()
	var s string
	for i := 0; i < 100; i++ {
		if s = procState(t, pid); s == want {
			return s
		}
		time.Sleep(10 * time.Millisecond)
	}
	return s
}

func get(url string, timeout time.Duration) error {
	c := &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// waitUp polls url until it answers or limit passes, and returns how long it took.
func waitUp(t *testing.T, url string, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		if err := get(url, 200*time.Millisecond); err == nil {
			return time.Since(start)
		} else if time.Since(start) > limit {
			t.Fatalf("%s not answering after %v: %v", url, limit, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func helperProcess(t *testing.T, action string, restart bool, runID string) (*Process, string) {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p, err := NewProcess(ProcessConfig{
		Action: action, Command: []string{os.Args[0], helperFlag, addr}, Restart: restart,
		RunID: runID, StateDir: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	url := "http://" + addr + "/"
	waitUp(t, url, 10*time.Second)
	return p, url
}

func TestProcessPauseCommand(t *testing.T) {
	p, url := helperProcess(t, ActionPause, false, "")
	ctx := context.Background()
	if err := p.Inject(ctx); err != nil {
		t.Fatal(err)
	}
	if s := waitState(t, p.PID(), "T"); s != "T" {
		t.Errorf("after pause the process state is %s, want T (stopped)", s)
	}
	if err := get(url, 300*time.Millisecond); err == nil {
		t.Error("a paused server answered")
	}
	if err := p.Remove(ctx); err != nil {
		t.Fatal(err)
	}
	if err := get(url, time.Second); err != nil {
		t.Errorf("within 1s of Remove: %v, want an answer", err)
	}
	if err := p.Remove(ctx); err != nil {
		t.Errorf("second Remove: %v", err)
	}
}

func TestProcessKillAndRestartCommand(t *testing.T) {
	p, url := helperProcess(t, ActionKill, true, "")
	ctx := context.Background()
	first := p.PID()
	if err := p.Inject(ctx); err != nil {
		t.Fatal(err)
	}
	if s := waitState(t, first, "gone"); s != "gone" {
		t.Errorf("after kill the process state is %s, want gone", s)
	}
	if err := get(url, 300*time.Millisecond); err == nil {
		t.Error("a killed server answered")
	}
	if err := p.Remove(ctx); err != nil {
		t.Fatal(err)
	}
	if second := p.PID(); second == 0 || second == first {
		t.Errorf("after Remove pid %d (was %d), want a new process", second, first)
	}
	// The restarted program needs its own start-up time, which is not the fault's.
	t.Logf("restarted server answering %v after Remove", waitUp(t, url, 10*time.Second))
	pid := p.PID()
	if err := p.Remove(ctx); err != nil || p.PID() != pid {
		t.Errorf("second Remove: %v, pid %d → %d; want no second restart", err, pid, p.PID())
	}
}

func TestProcessPID(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	defer func() { _ = cmd.Process.Kill(); <-exited }()
	pid := cmd.Process.Pid
	ctx := context.Background()

	pause, err := NewProcess(ProcessConfig{Action: ActionPause, PID: pid})
	if err != nil {
		t.Fatal(err)
	}
	if err := pause.Inject(ctx); err != nil {
		t.Fatal(err)
	}
	if s := waitState(t, pid, "T"); s != "T" {
		t.Errorf("paused pid state %s, want T", s)
	}
	if err := pause.Remove(ctx); err != nil {
		t.Fatal(err)
	}
	if s := waitState(t, pid, "S"); s != "S" && s != "R" {
		t.Errorf("resumed pid state %s, want S or R", s)
	}

	kill, err := NewProcess(ProcessConfig{Action: ActionKill, PID: pid})
	if err != nil {
		t.Fatal(err)
	}
	if err := kill.Inject(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		t.Fatal("pid not killed")
	}
	if err := kill.Remove(ctx); err != nil {
		t.Errorf("Remove after killing a pid: %v (nothing to undo)", err)
	}
	// Signalling a pid that is gone fails Inject; Remove stays safe.
	if err := pause.Inject(ctx); err == nil {
		t.Error("pausing a dead pid: want an error")
	}
	if err := pause.Remove(ctx); err != nil {
		t.Errorf("Remove after a failed Inject: %v", err)
	}
}

// TestProcessCleanupAfterCrash: a run pauses its command and dies; cleanup builds the
// injector again from the same parameters and run, and Remove resumes the command.
func TestProcessCleanupAfterCrash(t *testing.T) {
	dir := t.TempDir()
	params := parse(t, ProcessBackend{}, "action: pause\ncommand: [sleep, \"30\"]\n")
	b := ProcessBackend{StateDir: dir}
	run := chaos.Run{ID: "run42", GameDay: "gd"}
	inj, err := b.New(params, run)
	if err != nil {
		t.Fatal(err)
	}
	crashed := inj.(*Process)
	defer crashed.Close()
	ctx := context.Background()
	if err := crashed.Inject(ctx); err != nil { // starts the command, then pauses it
		t.Fatal(err)
	}
	pid := crashed.PID()
	if s := waitState(t, pid, "T"); s != "T" {
		t.Fatalf("state %s, want T", s)
	}
	again, err := b.New(params, run)
	if err != nil {
		t.Fatal(err)
	}
	if err := again.Remove(ctx); err != nil {
		t.Fatal(err)
	}
	if s := waitState(t, pid, "S"); s == "T" {
		t.Error("cleanup left the command paused")
	}
}

// TestProcessCleanupEndsOrphanGroup: a run started a command that ignores SIGHUP,
// paused it and was killed; cleanup (Remove, then Close on the re-created injector)
// ends the whole process group, not just the leader, and removes the state file.
func TestProcessCleanupEndsOrphanGroup(t *testing.T) {
	dir := t.TempDir()
	params := parse(t, ProcessBackend{}, "action: pause\ncommand: [sh, -c, \"trap '' HUP; sleep 30 & sleep 30\"]\n")
	b := ProcessBackend{StateDir: dir}
	run := chaos.Run{ID: "orphan1", GameDay: "gd"}
	inj, err := b.New(params, run)
	if err != nil {
		t.Fatal(err)
	}
	crashed := inj.(*Process)
	ctx := context.Background()
	// The command must ignore SIGHUP from its first instruction: Inject pauses it at once,
	// possibly before sh has run its trap, and a HUP pending then would kill the leader on
	// resume. An ignored signal is inherited through fork and exec.
	signal.Ignore(syscall.SIGHUP)
	err = crashed.Inject(ctx)
	signal.Reset(syscall.SIGHUP)
	if err != nil {
		t.Fatal(err)
	}
	pgid := crashed.PID()
	defer syscall.Kill(-pgid, syscall.SIGKILL)
	_ = syscall.Kill(-pgid, syscall.SIGHUP) // the terminal closed: ignored
	again, err := b.New(params, run)
	if err != nil {
		t.Fatal(err)
	}
	if err := again.Remove(ctx); err != nil {
		t.Fatal(err)
	}
	if err := again.(*Process).Close(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for syscall.Kill(-pgid, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatal("the command group survived cleanup")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := os.Stat(crashed.stateFile()); !os.IsNotExist(err) {
		t.Errorf("state file left: %v", err)
	}
}

func TestProcessRefuses(t *testing.T) {
	tests := []struct {
		cfg  ProcessConfig
		want string
	}{
		{ProcessConfig{Action: "stop", PID: 10}, `process: action must be kill or pause, got "stop"`},
		{ProcessConfig{Action: ActionKill}, "process: set exactly one of pid and command"},
		{ProcessConfig{Action: ActionKill, PID: 5, Command: []string{"x"}}, "process: set exactly one of pid and command"},
		{ProcessConfig{Action: ActionKill, PID: 1}, "process: refusing to signal pid 1 (init or slokit itself)"},
		{ProcessConfig{Action: ActionKill, PID: os.Getpid()}, fmt.Sprintf("process: refusing to signal pid %d (init or slokit itself)", os.Getpid())},
	}
	for _, tt := range tests {
		if _, err := NewProcess(tt.cfg); err == nil || err.Error() != tt.want {
			t.Errorf("%+v: %v, want %q", tt.cfg, err, tt.want)
		}
	}
}

func TestProcessBackendValidate(t *testing.T) {
	checkValidate(t, ProcessBackend{}, []validateCase{
		{"valid pid", "action: pause\npid: 1234\n", nil},
		{"valid command", "action: kill\ncommand: [./shortlink, -listen, \"127.0.0.1:8080\"]\nrestart: false\noutput: s.log\n", nil},
		{"neither", "action: kill\n", []string{"gd.yaml:1:1: fault.params: needs pid (a running process) or command (one slokit starts)"}},
		{"both", "action: kill\npid: 12\ncommand: [x]\n", []string{"gd.yaml:3:1: fault.params.command: set pid or command, not both"}},
		{"bad values", "action: stop\npid: 1\nrestart: yes\n", []string{
			`gd.yaml:1:9: fault.params.action: must be one of kill, pause, got "stop"`,
			`gd.yaml:2:6: fault.params.pid: must be an integer in [2,4194304], got "1"`,
			`gd.yaml:3:1: fault.params.restart: applies only to action kill with a command`,
			`gd.yaml:3:10: fault.params.restart: must be true or false, got "yes"`,
		}},
		{"misplaced", "action: pause\npid: 99\nrestart: true\noutput: x.log\ncommand: []\n", []string{
			`gd.yaml:3:1: fault.params.restart: applies only to action kill with a command`,
			`gd.yaml:5:1: fault.params.command: set pid or command, not both`,
			`gd.yaml:5:10: fault.params.command: must name a program, like [./shortlink, -listen, 127.0.0.1:8080]`,
		}},
	})
}

func TestProcessOutputFile(t *testing.T) {
	out := t.TempDir() + "/cmd.log"
	params := parse(t, ProcessBackend{}, "action: pause\ncommand: [sh, -c, \"echo started; sleep 30\"]\noutput: "+out+"\n")
	inj, err := ProcessBackend{StateDir: t.TempDir()}.New(params, chaos.Run{ID: "out"})
	if err != nil {
		t.Fatal(err)
	}
	p := inj.(*Process)
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	var b []byte
	for i := 0; i < 200 && !strings.Contains(string(b), "started"); i++ {
		time.Sleep(10 * time.Millisecond)
		b, _ = os.ReadFile(out)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if string(b) != "started\n" {
		t.Errorf("output file holds %q, want the command's output", b)
	}
	if p.PID() != 0 {
		t.Error("command still running after Close")
	}
}

// TestProcessCleanupAfterLeaderExec: a crashed run's command whose leader has exec'd
// another program (`sh -c '…; exec sleep'`) is still recognised by its recorded start
// time and its group ended.
func TestProcessCleanupAfterLeaderExec(t *testing.T) {
	dir := t.TempDir()
	params := parse(t, ProcessBackend{}, "action: pause\ncommand: [sh, -c, \"sleep 30 & exec sleep 31\"]\n")
	b := ProcessBackend{StateDir: dir}
	run := chaos.Run{ID: "exec1", GameDay: "gd"}
	inj, err := b.New(params, run)
	if err != nil {
		t.Fatal(err)
	}
	crashed := inj.(*Process)
	if err := crashed.startLocked(context.Background()); err != nil {
		t.Fatal(err)
	}
	pgid := crashed.PID()
	defer syscall.Kill(-pgid, syscall.SIGKILL)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pgid)); strings.HasPrefix(string(b), "sleep\x00") {
			break // the leader now runs sleep, not sh
		}
		if time.Now().After(deadline) {
			t.Fatal("the leader never exec'd sleep")
		}
	}
	if _, start := crashed.recorded(); start == 0 {
		t.Fatal("the state file records no start time")
	}
	again, err := b.New(params, run)
	if err != nil {
		t.Fatal(err)
	}
	if err := again.(*Process).Close(); err != nil {
		t.Fatal(err)
	}
	if syscall.Kill(-pgid, 0) == nil {
		// The leader is a zombie of this test process until reaped; its group may hold only it.
		if st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pgid)); !strings.Contains(string(st), ") Z ") {
			t.Fatalf("the command group survived cleanup: %s", st)
		}
	}
}

// TestProcessCleanupRefusesOtherStart: a recorded PID whose process started at another
// time (a recycled PID) is never signalled, and the state file goes.
func TestProcessCleanupRefusesOtherStart(t *testing.T) {
	dir := t.TempDir()
	params := parse(t, ProcessBackend{}, "action: pause\ncommand: [sleep, \"30\"]\n")
	b := ProcessBackend{StateDir: dir}
	run := chaos.Run{ID: "recycled1", GameDay: "gd"}
	inj, err := b.New(params, run)
	if err != nil {
		t.Fatal(err)
	}
	p := inj.(*Process)
	// An unrelated group leader that got the recorded PID: same program, other start time.
	cmd := exec.Command("sleep", "30")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	other := cmd.Process.Pid
	if err := os.WriteFile(p.stateFile(), []byte(fmt.Sprintf("%d %d", other, startTime(other)+1)), 0o600); err != nil {
		t.Fatal(err)
	}
	err = p.endRecordedGroup(other)
	if err == nil || !strings.Contains(err.Error(), "not the command slokit started") {
		t.Fatalf("err = %v, want a refusal naming the start time", err)
	}
	time.Sleep(100 * time.Millisecond) // a SIGTERM, had one been sent, has taken effect
	if st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", other)); strings.Contains(string(st), ") Z ") || strings.Contains(string(st), ") T ") {
		t.Errorf("the unrelated process was signalled: %s", st)
	}
	if _, err := os.Stat(p.stateFile()); !os.IsNotExist(err) {
		t.Errorf("state file left: %v", err)
	}
}
