package cli

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/slo"
)

// outputFormat is one value of `slokit generate -o`. To add a format, write its
// constructor in the generator's own file and add one line to outputFormats.
type outputFormat struct {
	// name is the -o value.
	name string
	// help is one line for `slokit generate --help`.
	help string
	// write turns the validated services into files named relative to --out. With
	// in.Stdout set it must return exactly one file (its name is then ignored), or an error
	// telling the user to pass --out DIR.
	write func(in genInput) ([]genFile, error)
}

// genInput is what every output format receives.
type genInput struct {
	// Services are the validated services, one per service name (files naming the same
	// service are merged), sorted by name.
	Services []*slo.Service
	// Alerts configures the alert annotations (Grafana URL, runbook URLs).
	Alerts alerts.Options
	// Namespace is the Kubernetes namespace for formats that write Kubernetes objects;
	// empty leaves it unset.
	Namespace string
	// Labels are extra Kubernetes labels for formats that write Kubernetes objects.
	Labels map[string]string
	// Stdout is set when the output goes to stdout (--out -).
	Stdout bool
	// Oncall configures the Alertmanager, Grafana and runbook formats.
	Oncall oncallFlags
}

// genFile is one generated file: Data, or, when Write is set, what Write writes (large
// rule files are streamed rather than held in memory).
type genFile struct {
	Name  string
	Data  []byte
	Write func(io.Writer) error
}

// writeTo writes f's content to w.
func (f genFile) writeTo(w io.Writer) error {
	if f.Write != nil {
		return f.Write(w)
	}
	_, err := w.Write(f.Data)
	return err
}

// outputFormats lists the formats of `slokit generate -o`, the first being the default.
func outputFormats() []outputFormat {
	return []outputFormat{
		prometheusFormat(),
		prometheusRuleFormat(),
		thanosFormat(),
		alertmanagerFormat(),
		alertmanagerFragmentFormat(),
		grafanaFormat(),
		grafanaOperatorFormat(),
		runbookFormat(),
	}
}

func findFormat(name string) (outputFormat, error) {
	var names []string
	for _, f := range outputFormats() {
		if f.name == name {
			return f, nil
		}
		names = append(names, f.name)
	}
	sort.Strings(names)
	return outputFormat{}, &usageError{fmt.Errorf("unknown output format %q: use one of %s", name, strings.Join(names, ", "))}
}

func formatsHelp() string {
	var b strings.Builder
	for _, f := range outputFormats() {
		fmt.Fprintf(&b, "  %-16s %s\n", f.name, f.help)
	}
	return b.String()
}
