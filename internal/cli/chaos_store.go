package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/slokit/slokit/chaos"
	"github.com/slokit/slokit/internal/store"
)

// storeOff is the --store value that records nothing.
const storeOff = "none"

// addStoreFlag registers --store on f.
func addStoreFlag(f *pflag.FlagSet, p *string, what string) {
	f.StringVar(p, "store", "", what+" in this game-day `DATABASE` (SQLite; default $XDG_STATE_HOME/slokit/gamedays.db; "+storeOff+": off)")
}

// storePath resolves a --store value: "" is the default path, "none" is "".
func storePath(flag string) (string, error) {
	switch flag {
	case storeOff:
		return "", nil
	case "":
		return store.DefaultPath()
	}
	return flag, nil
}

// recordRun adds a finished run to the game-day store. A store that cannot be written
// is reported on stderr and does not change the run's exit code: the verdict stands.
func recordRun(ctx context.Context, e *env, flag string, res *chaos.Result, source string) {
	path, err := storePath(flag)
	if err == nil && path == "" {
		return
	}
	if err == nil {
		var s *store.Store
		if s, err = store.Open(ctx, path); err == nil {
			err = errors.Join(s.Record(ctx, res, source), s.Close())
		}
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "warning: run %s not recorded in the game-day store: %v\n", res.RunID, err)
		return
	}
	fmt.Fprintf(e.stderr, "run %s recorded in %s (slokit serve --store %s shows it)\n", res.RunID, path, path)
}

func newChaosImportCmd(e *env) *cobra.Command {
	var db string
	cmd := &cobra.Command{
		Use:   "import FILE...",
		Short: "Add existing game-day results (chaos run --result, the demo's result.json, the operator's report ConfigMaps) to the game-day store",
		Long: `Import game-day results into the store that 'slokit serve' reads: the JSON results
written by 'slokit chaos run --result FILE' or 'slokit demo' (gzipped or not), and the
report ConfigMaps the operator keeps for each GameDay run, as 'kubectl get configmaps
-o json' prints them (one ConfigMap or a List; each one's result.json or
result.json.gz). A run already in the store (same run ID) is replaced, so importing
twice is harmless. Every file is tried; each problem is reported with file:line:col and
the exit code is 3 if any result was not imported.`,
		Example: `  slokit chaos import slokit-demo/result.json
  slokit chaos import --store team.db results/*.json
  slokit chaos import runs.json   # runs.json: kubectl get configmaps -A -l slokit.dev/run-id -o json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := storePath(db)
			if err != nil {
				return err
			}
			if path == "" {
				return &usageError{fmt.Errorf("--store %s: import needs a database", storeOff)}
			}
			return importResults(cmd.Context(), e, path, args)
		},
	}
	addStoreFlag(cmd.Flags(), &db, "record the runs")
	return cmd
}

func importResults(ctx context.Context, e *env, path string, files []string) error {
	s, err := store.Open(ctx, path)
	if err != nil {
		return err
	}
	defer s.Close()
	bad := 0
	for _, f := range files {
		runs, err := s.ImportFile(ctx, f)
		for _, res := range runs {
			fmt.Fprintf(e.stdout, "%s: imported run %s (%s on %s/%s, %s)\n", f, res.RunID, res.GameDay, res.Service, res.SLO, res.Outcome)
		}
		if err != nil {
			fmt.Fprintln(e.stderr, err)
			bad++
		}
	}
	if bad > 0 {
		return &CodeError{Code: ExitInvalid, Err: fmt.Errorf("%d of %d file(s) not imported into %s", bad, len(files), path)}
	}
	return nil
}
