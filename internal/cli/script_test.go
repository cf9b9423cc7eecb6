package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets testscript run the real slokit main as the "slokit" command.
func TestMain(m *testing.M) {
	// Game days run by the tests record into a throw-away store, not the user's.
	if dir, err := os.MkdirTemp("", "slokit-cli-state-"); err == nil {
		os.Setenv("XDG_STATE_HOME", dir)
	}
	testscript.Main(m, map[string]func(){
		"slokit": func() {
			os.Exit(Main(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
		},
	})
}

// TestScripts runs the end-to-end scripts in testdata/script: each drives slokit as a
// user would, in a fresh directory, with $EXAMPLES pointing at the bundled examples.
func TestScripts(t *testing.T) {
	examples, err := filepath.Abs(filepath.Join("..", "..", "examples"))
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("testdata", "script"),
		Setup: func(e *testscript.Env) error {
			e.Setenv("EXAMPLES", examples)
			return nil
		},
		// [kube] is true unless the binary is built with -tags slokit_nok8s.
		Condition: func(cond string) (bool, error) {
			if cond != "kube" {
				return false, fmt.Errorf("unknown condition %q", cond)
			}
			return kubeBuilt, nil
		},
	})
}
