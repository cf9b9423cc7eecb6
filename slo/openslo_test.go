package slo_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/slokit/slokit/internal/golden"
	"github.com/slokit/slokit/slo"
)

// TestOpenSLOCorpus reads each directory of testdata/openslo and testdata/pyrra
// (slokit's own corpus of the shapes OpenSLO and Pyrra files take in the wild:
// expressions, objects split across files, gauges, defaults, v1alpha, every Pyrra
// indicator, Kubernetes lists, refusals) as one `slokit validate DIR` would, and compares
// what slokit makes of it with testdata/openslo/<case>.golden.
func TestOpenSLOCorpus(t *testing.T) {
	dirs, err := filepath.Glob("testdata/openslo/*")
	if err != nil {
		t.Fatal(err)
	}
	pyrra, _ := filepath.Glob("testdata/pyrra/*")
	dirs = append(dirs, pyrra...)
	for _, dir := range dirs {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			continue
		}
		t.Run(filepath.Base(dir), func(t *testing.T) {
			svcs, ds := slo.LoadFiles(dir)
			golden.Check(t, dir+".golden", []byte(describe(svcs, ds)))
		})
	}
}

// describe renders services and diagnostics for golden files.
func describe(svcs []*slo.Service, ds slo.Diagnostics) string {
	var b strings.Builder
	for _, d := range ds {
		b.WriteString(d.String() + "\n")
	}
	for _, s := range svcs {
		for _, o := range s.Objectives {
			fmt.Fprintf(&b, "\n%s: service %s, SLO %s, objective %g, period %s\n", s.Source, o.Service, o.Name, o.Target, slo.FormatWindow(o.Period))
			keys := make([]string, 0, len(o.Labels))
			for k, v := range o.Labels {
				keys = append(keys, k+"="+v)
			}
			sort.Strings(keys)
			fmt.Fprintf(&b, "  labels: %s\n  description: %s\n  alert: %s page %v%s ticket %v%s\n", strings.Join(keys, ", "), o.Description,
				o.Alerting.Name, o.Alerting.Page.Labels, disabled(o.Alerting.Page), o.Alerting.Ticket.Labels, disabled(o.Alerting.Ticket))
			switch {
			case o.SLI.Events != nil:
				fmt.Fprintf(&b, "  events: bad %s\n          total %s\n", o.SLI.Events.Bad, o.SLI.Events.Total)
			case o.SLI.Latency != nil:
				fmt.Fprintf(&b, "  latency: %s %v under %s\n", o.SLI.Latency.Histogram, o.SLI.Latency.Selector, o.SLI.Latency.Threshold)
			case o.SLI.Raw != nil:
				fmt.Fprintf(&b, "  raw: %s\n", o.SLI.Raw.ErrorRatio)
			}
			for _, w := range o.Windows() {
				fmt.Fprintf(&b, "  tier: %s %g× over %s/%s\n", w.Severity, w.BurnRate, slo.FormatWindow(w.Long), slo.FormatWindow(w.Short))
			}
		}
	}
	return b.String()
}

func disabled(s slo.Severity) string {
	if s.Disabled {
		return " (disabled)"
	}
	return ""
}
