package cli

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/slokit/slokit/slo"
)

func newConvertCmd(e *env) *cobra.Command {
	var files []string
	var out string
	cmd := &cobra.Command{
		Use:   "convert -f FILE|DIR... [--out DIR|-]",
		Short: "Convert Sloth, OpenSLO and Pyrra SLO files to slokit/v1",
		Long: `convert reads SLO files in any format slokit accepts (Sloth prometheus/v1 and
PrometheusServiceLevel, OpenSLO v1 and v1alpha, Pyrra ServiceLevelObjective, slokit/v1),
validates them like generate, and writes each service as a slokit/v1 spec: to stdout
(documents separated by ---) or, with --out DIR, one DIR/<service>.yaml per service.

The output is deterministic and reads back to the same SLOs. A comment on each field says
where it came from (file:line:col and the source field), or which default applies. Names
that slokit/v1 does not allow ([a-z0-9-]+) are lowercased, with the original in a comment;
alert names are kept.`,
		Example: `  slokit convert -f sloth/ --out slos/
  slokit convert -f openslo/slo.yaml -f openslo/sli.yaml > checkout.yaml`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runConvert(e, append(files, args...), out)
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVarP(&files, "file", "f", nil, "spec `FILE`s or directories (repeat or comma-separate)")
	fl.StringVar(&out, "out", "-", "output `DIR`, or - for stdout")
	return cmd
}

func runConvert(e *env, files []string, out string) error {
	if len(files) == 0 {
		return &usageError{errors.New("no spec files: pass -f FILE or -f DIR")}
	}
	files, err := expandFiles(files)
	if err != nil {
		return err
	}
	services, diags := slo.LoadFiles(files...)
	printDiagnostics(e.stderr, diags.Warnings())
	if err := diags.Err(); err != nil {
		return err
	}
	byName := map[string]*bytes.Buffer{}
	var order []string
	for _, s := range services {
		data, err := slo.MarshalV1(s)
		if err != nil {
			return fmt.Errorf("%s: %w", s.Source, err)
		}
		name := slo.V1Name(s.Name)
		b, ok := byName[name]
		if !ok {
			b = &bytes.Buffer{}
			byName[name] = b
			order = append(order, name)
		} else {
			b.WriteString("---\n")
		}
		b.Write(data)
	}
	if out == "-" {
		for i, name := range order {
			if i > 0 {
				fmt.Fprintln(e.stdout, "---")
			}
			if _, err := e.stdout.Write(byName[name].Bytes()); err != nil {
				return err
			}
		}
		return nil
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("create the output directory: %w", err)
	}
	for _, name := range order {
		p := filepath.Join(out, name+".yaml")
		if err := os.WriteFile(p, byName[name].Bytes(), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
		fmt.Fprintf(e.stderr, "wrote %s\n", p)
	}
	return nil
}
