package local

import (
	"context"
	"io"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// TestRunWatchdog pauses a real process and lets the watchdog resume it: when the pipe
// closes (the runner died), and when heartbeats stop (the runner stalled).
func TestRunWatchdog(t *testing.T) {
	for _, how := range []string{"pipe closed", "no heartbeat"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			target := exec.Command("sleep", "30")
			if err := target.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { _ = target.Process.Kill(); _ = target.Wait() }()
			pid := target.Process.Pid
			r, w := io.Pipe()
			done := make(chan error, 1)
			go func() {
				done <- RunWatchdog(context.Background(), r, WatchdogConfig{PID: pid, Lease: 300 * time.Millisecond})
			}()
			if err := target.Process.Signal(stopSignal); err != nil {
				t.Fatal(err)
			}
			if s := waitState(t, pid, "T"); s != "T" {
				t.Fatalf("state %s", s)
			}
			for i := 0; i < 5; i++ { // heartbeats keep it paused
				if _, err := w.Write([]byte{'.'}); err != nil {
					t.Fatal(err)
				}
				time.Sleep(100 * time.Millisecond)
			}
			if s := procState(t, pid); s != "T" {
				t.Fatalf("resumed while heartbeats came: %s", s)
			}
			stopped := time.Now()
			if how == "pipe closed" {
				_ = w.Close()
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if s := waitState(t, pid, "S"); s == "T" {
				t.Fatal("still paused")
			}
			el := time.Since(stopped)
			if how == "pipe closed" && el > 200*time.Millisecond || el > time.Second {
				t.Errorf("resumed %s after the heartbeats stopped (%s)", el, how)
			}
		})
	}
}

var stopSignal = syscall.SIGSTOP
