package cli

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/slokit/slokit/chaos/local"
)

// newChaosWatchdogCmd is the hidden `slokit chaos watchdog` a process fault starts
// next to the paused process: it resumes it when the run's heartbeats stop.
func newChaosWatchdogCmd(e *env) *cobra.Command {
	var cfg local.WatchdogConfig
	cmd := &cobra.Command{
		Use:    "watchdog --pid PID [--group] [--lease D]",
		Short:  "Resume a paused process when the game day that paused it stops sending heartbeats on stdin",
		Hidden: true,
		Args:   noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Log = e.log
			return local.RunWatchdog(cmd.Context(), e.stdin, cfg)
		},
	}
	f := cmd.Flags()
	f.IntVar(&cfg.PID, "pid", 0, "the paused process (the group's leader with --group)")
	f.BoolVar(&cfg.Group, "group", false, "resume the whole process group")
	f.DurationVar(&cfg.Lease, "lease", local.DefaultLease, "resume when no heartbeat came for this long")
	return cmd
}

// watchdogArgv is how a process fault starts the watchdog: this executable, or nothing
// when it cannot be found.
func watchdogArgv() []string {
	exe, err := os.Executable()
	if err != nil {
		return nil
	}
	return []string{exe, "chaos", "watchdog"}
}
