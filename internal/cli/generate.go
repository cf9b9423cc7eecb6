package cli

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/slo"
)

type generateFlags struct {
	files      []string
	format     string
	out        string
	grafanaURL string
	namespace  string
	labels     labelsFlag
	quiet      bool
	oncall     oncallFlags
}

func newGenerateCmd(e *env) *cobra.Command {
	f := generateFlags{labels: labelsFlag{}}
	cmd := &cobra.Command{
		Use:   "generate -f FILE... [-o FORMAT] [--out DIR|-]",
		Short: "Generate Prometheus recording and alerting rules (and more) from SLO specs",
		Long: `Validate the SLO spec files and generate, per service, the recording rules and the
multiwindow multi-burn-rate alerts of its SLOs. Files are written into the directory
--out DIR (created; the file names are listed with each format below), or to stdout with
--out - (the default) for the formats that write one file. -f takes files, directories
(walked for *.yaml and *.yml), quoted globs, and repeats; file names after the flags
count too, so a shell glob works (-f examples/*.yaml). A summary per SLO goes to stderr: rules,
and per alert tier the predicted detection and reset times for a total outage, the budget
spent when it fires and the lowest burn rate it catches.

Output formats (-o):
` + formatsHelp(),
		Example: `  slokit generate -f examples/shortlink.yaml --out rules/
  slokit generate -f slos/ -o prometheusrule --namespace monitoring --label release=kube-prometheus-stack > rules.yaml
  slokit generate -f 'slos/*.yaml' -o grafana --out dashboards/
  slokit generate -f slos.yaml -o runbook --out runbooks/`,
		RunE: func(cmd *cobra.Command, args []string) error {
			f.files = append(f.files, args...)
			return runGenerate(e, f)
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVarP(&f.files, "file", "f", nil, "SLO spec `FILE`s, directories or quoted globs (repeat or comma-separate)")
	fl.StringVarP(&f.format, "output", "o", "prometheus", "output `FORMAT` (see above)")
	fl.StringVar(&f.out, "out", "-", "`DIR` the files are written into (created), or - for stdout")
	fl.StringVar(&f.grafanaURL, "grafana-url", "", "Grafana base `URL`; alerts then link to the SLO's dashboard")
	fl.StringVar(&f.namespace, "namespace", "", "Kubernetes `NAMESPACE` of generated objects (-o prometheusrule, grafana-operator)")
	fl.Var(f.labels, "label", "Kubernetes label `KEY=VALUE` on each PrometheusRule, like release=kube-prometheus-stack for its rule selector (repeatable; -o prometheusrule)")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "do not print the per-SLO summary")
	addOncallFlags(fl, &f.oncall)
	_ = cmd.RegisterFlagCompletionFunc("output", func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		var names []cobra.Completion
		for _, f := range outputFormats() {
			names = append(names, cobra.CompletionWithDesc(f.name, f.help))
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	})
	return cmd
}

func runGenerate(e *env, f generateFlags) error {
	if len(f.files) == 0 {
		return &usageError{errors.New("no spec files: pass -f FILE")}
	}
	format, err := findFormat(f.format)
	if err != nil {
		return err
	}
	if err := checkOutDir(f.out); err != nil {
		return err
	}
	paths, err := expandFiles(f.files)
	if err != nil {
		return err
	}
	services, diags := slo.LoadFiles(paths...)
	printDiagnostics(e.stderr, diags.Warnings())
	if err := diags.Err(); err != nil {
		return err
	}
	in := genInput{
		Services:  mergeServices(services),
		Alerts:    alerts.Options{GrafanaURL: f.grafanaURL},
		Namespace: f.namespace,
		Labels:    f.labels,
		Stdout:    f.out == "-",
		Oncall:    f.oncall,
	}
	for _, s := range in.Services {
		rf, err := alerts.RuleFile([]*slo.Service{s}, in.Alerts)
		if err != nil {
			return err
		}
		in.Rules = append(in.Rules, rf)
	}
	files, err := format.write(in)
	if err != nil {
		return err
	}
	if in.Stdout {
		if len(files) != 1 {
			return &usageError{fmt.Errorf("-o %s writes %d files: pass --out DIR", format.name, len(files))}
		}
		if _, err := e.stdout.Write(files[0].Data); err != nil {
			return err
		}
	} else {
		if err := os.MkdirAll(f.out, 0o755); err != nil {
			return fmt.Errorf("create the output directory: %w", err)
		}
		for _, file := range files {
			// Names come from users' files: never write outside --out.
			if !filepath.IsLocal(file.Name) {
				return fmt.Errorf("refusing to write %q: it is not inside %s", file.Name, f.out)
			}
			p := filepath.Join(f.out, file.Name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return fmt.Errorf("create the output directory: %w", err)
			}
			if err := os.WriteFile(p, file.Data, 0o644); err != nil {
				return fmt.Errorf("write %s: %w", p, err)
			}
			fmt.Fprintf(e.stderr, "wrote %s\n", p)
		}
	}
	if !f.quiet {
		return printSummary(e.stderr, in)
	}
	return nil
}

// checkOutDir rejects an --out that names a file rather than the directory the files
// go in: `--out rules.yaml` would create a directory called rules.yaml.
func checkOutDir(out string) error {
	if out == "-" {
		return nil
	}
	if st, err := os.Stat(out); err == nil {
		if !st.IsDir() {
			return &usageError{fmt.Errorf("--out %s is a file: --out names the directory the files go in (or - for stdout)", out)}
		}
		return nil
	}
	if hasSpecExtension(out) {
		return &usageError{fmt.Errorf("--out %s looks like a file name: --out names the directory the files go in; for one file use --out - > %s", out, out)}
	}
	return nil
}

// mergeServices joins services of the same name (split over several files) and sorts them.
func mergeServices(in []*slo.Service) []*slo.Service {
	byName := map[string]*slo.Service{}
	var out []*slo.Service
	for _, s := range in {
		if m, ok := byName[s.Name]; ok {
			m.Objectives = append(m.Objectives, s.Objectives...)
			continue
		}
		c := *s
		c.Objectives = append([]slo.Objective(nil), s.Objectives...)
		byName[s.Name] = &c
		out = append(out, &c)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func printDiagnostics(w io.Writer, ds slo.Diagnostics) {
	for _, d := range ds {
		fmt.Fprintln(w, d.String())
	}
}

// ruleFiles returns one rule file per service, or a single one holding every service
// when the output goes to stdout.
func ruleFiles(in genInput) ([]string, []slo.RuleFile) {
	if in.Stdout {
		var all slo.RuleFile
		for _, f := range in.Rules {
			all.Groups = append(all.Groups, f.Groups...)
		}
		return []string{""}, []slo.RuleFile{all}
	}
	names := make([]string, len(in.Services))
	for i, s := range in.Services {
		names[i] = s.Name
	}
	return names, in.Rules
}

func prometheusFormat() outputFormat {
	return outputFormat{
		name: "prometheus",
		help: "Prometheus rule file per service (<service>.rules.yaml), for rule_files:",
		write: func(in genInput) ([]genFile, error) {
			names, files := ruleFiles(in)
			out := make([]genFile, len(files))
			for i, f := range files {
				data, err := alerts.MarshalRuleFile(f)
				if err != nil {
					return nil, err
				}
				out[i] = genFile{Name: names[i] + ".rules.yaml", Data: data}
			}
			return out, nil
		},
	}
}

func prometheusRuleFormat() outputFormat {
	return outputFormat{
		name: "prometheusrule",
		help: "prometheus-operator PrometheusRule per service (<service>.prometheusrule.yaml)",
		write: func(in genInput) ([]genFile, error) {
			var objs []alerts.PrometheusRule
			var out []genFile
			for i, s := range in.Services {
				obj := alerts.NewPrometheusRule(s.Name, in.Namespace, in.Labels, in.Rules[i])
				if in.Stdout {
					objs = append(objs, obj)
					continue
				}
				data, err := alerts.MarshalPrometheusRules(obj)
				if err != nil {
					return nil, err
				}
				out = append(out, genFile{Name: s.Name + ".prometheusrule.yaml", Data: data})
			}
			if in.Stdout {
				data, err := alerts.MarshalPrometheusRules(objs...)
				return []genFile{{Data: data}}, err
			}
			return out, nil
		},
	}
}

// printSummary writes, per SLO, its rule counts and what each alert tier is predicted to
// do under a total outage.
func printSummary(w io.Writer, in genInput) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for i, s := range in.Services {
		for j, o := range s.Objectives {
			g := in.Rules[i].Groups[j]
			nAlert := 0
			for _, r := range g.Rules {
				if r.Alert != "" {
					nAlert++
				}
			}
			fmt.Fprintf(tw, "%s/%s: %s%% over %s, %s SLI, %d rules (%d recording, %d alerting)\n",
				o.Service, o.Name, o.ObjectivePercent(), slo.FormatWindow(o.Period), o.SLI.Kind(),
				len(g.Rules), len(g.Rules)-nAlert, nAlert)
			preds := alerts.TierPredictions(o)
			if len(preds) == 0 {
				fmt.Fprintln(tw, "  no alert tier is enabled")
				continue
			}
			fmt.Fprintln(tw, "  tier\twindows\tburn\ttotal outage fires after\tresets after\tbudget spent at firing\tlowest burn caught\tone failure fires below\tlong window")
			for _, p := range preds {
				win := p.Window
				fires, reset, spent, lowest := "never", "-", "-", "nothing"
				if p.Fires {
					fires = p.Detect.String() + " (by " + p.DetectBy().String() + ")"
					reset = p.Reset.String() + " (by " + p.ResetBy().String() + ")"
					spent = slo.FormatFloat(roundTo(p.BudgetAtDetect*100, 2)) + "%"
				}
				if b, ok := alerts.LowestBurnCaught(o, win); ok {
					lowest = fmt.Sprintf(">%s× (error ratio >%s%%)", slo.FormatFloat(b),
						slo.FormatFloat(roundTo(o.Threshold(win)*100, 4)))
				}
				src := "raw, exact"
				if p.Derived {
					src = "derived from " + slo.FormatWindow(o.BaseWindow()) + " rates"
				}
				fmt.Fprintf(tw, "  %s\t%s/%s\t%s×\t%s\t%s\t%s\t%s\t%s events/%s\t%s\n",
					win.Severity, slo.FormatWindow(win.Long), slo.FormatWindow(win.Short),
					slo.FormatFloat(win.BurnRate), fires, reset, spent, lowest,
					slo.FormatFloat(roundTo(alerts.OneFailurePagesBelow(o, win), 1)), slo.FormatWindow(win.Long), src)
			}
		}
	}
	return tw.Flush()
}

func roundTo(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}
