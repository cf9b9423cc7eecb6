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
  slokit generate -f slos.yaml -o thanos > ruler/slos.rules.yaml   # global SLOs, for thanos rule --rule-file
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
	files, err := format.write(in)
	if err != nil {
		return err
	}
	if in.Stdout {
		if len(files) != 1 {
			return &usageError{fmt.Errorf("-o %s writes %d files: pass --out DIR", format.name, len(files))}
		}
		if err := files[0].writeTo(e.stdout); err != nil {
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
			if err := writeFile(p, file); err != nil {
				return fmt.Errorf("write %s: %w", p, err)
			}
			fmt.Fprintf(e.stderr, "wrote %s\n", p)
		}
	}
	if !f.quiet {
		return printSummary(e.stderr, in.Services, in.Alerts)
	}
	return nil
}

// writeFile writes file to path p (mode 0644), like os.WriteFile.
func writeFile(p string, file genFile) error {
	if file.Write == nil {
		return os.WriteFile(p, file.Data, 0o644)
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if err := file.Write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
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

// renderRuleFiles returns the Prometheus rule files of the per-cluster SLOs: one per
// service that has any (<service>.rules.yaml), or a single one holding every service
// when writing to stdout. alerts.RenderRuleFile builds and renders them SLO by SLO in
// parallel, to the bytes alerts.MarshalRuleFile gives for alerts.RuleFile.
func renderRuleFiles(in genInput) ([]genFile, error) {
	if in.Stdout {
		r, err := alerts.RenderRuleFile(in.Services, in.Alerts)
		if err != nil {
			return nil, err
		}
		return []genFile{{Name: ".rules.yaml", Write: writeWith(r)}}, nil
	}
	var out []genFile
	for _, s := range in.Services {
		one := []*slo.Service{s}
		if !alerts.HasPerCluster(one) {
			continue
		}
		r, err := alerts.RenderRuleFile(one, in.Alerts)
		if err != nil {
			return nil, err
		}
		out = append(out, genFile{Name: s.Name + ".rules.yaml", Write: writeWith(r)})
	}
	return out, nil
}

// writeWith adapts an io.WriterTo to genFile.Write.
func writeWith(r io.WriterTo) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := r.WriteTo(w)
		return err
	}
}

// thanosRuleFiles returns the global SLOs' Thanos Ruler files: one per service that has
// any, or a single one holding every service when writing to stdout.
func thanosRuleFiles(in genInput) ([]string, []slo.RuleFile, error) {
	return splitRuleFiles(in, alerts.HasGlobal, alerts.ThanosRuleFile)
}

func splitRuleFiles(in genInput, has func([]*slo.Service) bool,
	build func([]*slo.Service, alerts.Options) (slo.RuleFile, error)) ([]string, []slo.RuleFile, error) {
	if in.Stdout {
		f, err := build(in.Services, in.Alerts)
		return []string{""}, []slo.RuleFile{f}, err
	}
	var names []string
	var files []slo.RuleFile
	for _, s := range in.Services {
		one := []*slo.Service{s}
		if !has(one) {
			continue
		}
		f, err := build(one, in.Alerts)
		if err != nil {
			return nil, nil, err
		}
		names = append(names, s.Name)
		files = append(files, f)
	}
	return names, files, nil
}

// marshalRuleFiles renders files as rule files named <name><suffix>, streamed by
// alerts.WriteRuleFile when written.
func marshalRuleFiles(names []string, files []slo.RuleFile, suffix string) ([]genFile, error) {
	out := make([]genFile, len(files))
	for i, f := range files {
		out[i] = genFile{Name: names[i] + suffix, Write: func(w io.Writer) error { return alerts.WriteRuleFile(w, f) }}
	}
	return out, nil
}

// errGlobalToStdout is the usage error of -o prometheus --out - on specs with global SLOs.
var errGlobalToStdout = &usageError{errors.New("the specs hold global SLOs (scope: global), whose rules are for Thanos Ruler " +
	"and go in their own file: pass --out DIR to write both, or -o thanos for the Thanos Ruler file alone")}

func prometheusFormat() outputFormat {
	return outputFormat{
		name: "prometheus",
		help: "Prometheus rule file per service (<service>.rules.yaml); --out DIR adds -o thanos's files",
		write: func(in genInput) ([]genFile, error) {
			if in.Stdout && alerts.HasGlobal(in.Services) {
				return nil, errGlobalToStdout
			}
			out, err := renderRuleFiles(in)
			if err != nil || in.Stdout {
				return out, err
			}
			names, files, err := thanosRuleFiles(in)
			if err != nil {
				return nil, err
			}
			more, err := marshalRuleFiles(names, files, ".thanos.rules.yaml")
			return append(out, more...), err
		},
	}
}

func thanosFormat() outputFormat {
	return outputFormat{
		name: "thanos",
		help: "Thanos Ruler rule file per service of its scope: global SLOs (<service>.thanos.rules.yaml)",
		write: func(in genInput) ([]genFile, error) {
			if !alerts.HasGlobal(in.Services) {
				return nil, &usageError{errors.New("-o thanos: no SLO has scope: global; per-cluster SLOs go to each Prometheus (-o prometheus)")}
			}
			names, files, err := thanosRuleFiles(in)
			if err != nil {
				return nil, err
			}
			return marshalRuleFiles(names, files, ".thanos.rules.yaml")
		},
	}
}

func prometheusRuleFormat() outputFormat {
	return outputFormat{
		name: "prometheusrule",
		help: "prometheus-operator PrometheusRule per service (<service>.prometheusrule.yaml)",
		write: func(in genInput) ([]genFile, error) {
			if alerts.HasGlobal(in.Services) {
				return nil, &usageError{errors.New("-o prometheusrule: global SLOs (scope: global) are not written as PrometheusRule objects yet; use -o thanos for Thanos Ruler's rule file")}
			}
			var objs []alerts.PrometheusRule
			var out []genFile
			for _, s := range in.Services {
				f, err := alerts.RuleFile([]*slo.Service{s}, in.Alerts)
				if err != nil {
					return nil, err
				}
				obj := alerts.NewPrometheusRule(s.Name, in.Namespace, in.Labels, f)
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
func printSummary(w io.Writer, services []*slo.Service, opts alerts.Options) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, s := range services {
		for _, o := range s.Objectives {
			nRules, nAlert, err := ruleCounts(o, opts)
			if err != nil {
				return err
			}
			fmt.Fprintf(tw, "%s/%s: %s%% over %s, %s SLI, %d rules (%d recording, %d alerting)%s\n",
				o.Service, o.Name, o.ObjectivePercent(), slo.FormatWindow(o.Period), o.SLI.Kind(),
				nRules, nRules-nAlert, nAlert, scopeNote(o))
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
				src := windowSourceText(o, p.Source)
				fmt.Fprintf(tw, "  %s\t%s/%s\t%s×\t%s\t%s\t%s\t%s\t%s events/%s\t%s\n",
					win.Severity, slo.FormatWindow(win.Long), slo.FormatWindow(win.Short),
					slo.FormatFloat(win.BurnRate), fires, reset, spent, lowest,
					slo.FormatFloat(roundTo(alerts.OneFailurePagesBelow(o, win), 1)), slo.FormatWindow(win.Long), src)
			}
		}
	}
	return tw.Flush()
}

// windowSourceText says how a tier's long window is computed, for the prediction table:
// "raw, exact" in the fast group; "raw", "recorded 6h rates" or "derived from 6h rates"
// plus ", every 2m30s" when the long group computes it at its own interval.
func windowSourceText(o slo.Objective, src slo.WindowSource) string {
	base := slo.FormatWindow(o.BaseWindow())
	text := map[slo.WindowSource]string{slo.FastRaw: "raw, exact", slo.LongRaw: "raw",
		slo.BaseRates: "recorded " + base + " rates", slo.Derived: "derived from " + base + " rates"}[src]
	if src == slo.FastRaw {
		return text
	}
	if lag := o.LongGroupLag(); lag > 0 {
		return text + ", every " + slo.FormatWindow(lag)
	}
	if src == slo.LongRaw {
		return "raw, exact"
	}
	return text
}

// ruleCounts counts o's rules and alerting rules in every group alerts generates for it.
func ruleCounts(o slo.Objective, opts alerts.Options) (rules, alerting int, err error) {
	groups, err := alerts.Groups(o, opts)
	for _, g := range groups {
		for _, r := range g.Rules {
			rules++
			if r.Alert != "" {
				alerting++
			}
		}
	}
	return rules, alerting, err
}

// scopeNote tells, for a global objective, where it runs and what Thanos adds to the
// times below.
func scopeNote(o slo.Objective) string {
	if !o.IsGlobal() {
		return ""
	}
	return fmt.Sprintf(", global over every %s in Thanos Ruler (times include +%s for Thanos)",
		o.ClusterLabel(), o.GlobalDelay())
}

func roundTo(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}
