package shortlink

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"

	"github.com/slokit/slokit/sli"
	"github.com/slokit/slokit/slo"
)

const slosFile = "../slos.yaml"

// slosSpec is the part of slos.yaml this test reads, decoded independently of the slo
// package so that the metric contract is checked even where slo's parser changes.
type slosSpec struct {
	Service string `yaml:"service"`
	SLOs    []struct {
		Name string `yaml:"name"`
		SLI  struct {
			Events *struct {
				Bad   string `yaml:"bad"`
				Total string `yaml:"total"`
			} `yaml:"events"`
			Latency *struct {
				Histogram string            `yaml:"histogram"`
				Selector  map[string]string `yaml:"selector"`
				Threshold string            `yaml:"threshold"`
			} `yaml:"latency"`
		} `yaml:"sli"`
	} `yaml:"slos"`
}

// TestSLOsQueryWhatSLIEmits pins the contract between slos.yaml and the sli package:
// every selector names a metric and labels sli emits, routes registered by this service,
// thresholds that are histogram buckets, and matches series the running service exports.
func TestSLOsQueryWhatSLIEmits(t *testing.T) {
	b, err := os.ReadFile(slosFile)
	if err != nil {
		t.Fatal(err)
	}
	var spec slosSpec
	if err := yaml.Unmarshal(b, &spec); err != nil {
		t.Fatal(err)
	}
	if spec.Service != "shortlink" || len(spec.SLOs) != 6 {
		t.Fatalf("service %q with %d SLOs; want shortlink with 6 (availability and latency of redirects and creates, linkcheck latency, checked redirects)", spec.Service, len(spec.SLOs))
	}

	// Traffic on a real server asking a real linkcheck, then its exported series as
	// label sets.
	_, lcURL := startLinkCheck(t)
	cfg := testConfig(t)
	cfg.LinkCheck = LinkCheckConfig{URL: lcURL}
	s, hs := newTestServer(t, cfg)
	l := createLink(t, hs.URL, "https://example.com/")
	do(t, "GET", hs.URL+"/"+l.Code, "", nil)
	mfs, err := s.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var series []labels.Labels
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			lb := labels.NewBuilder(labels.EmptyLabels()).Set(labels.MetricName, mf.GetName())
			for _, lp := range m.GetLabel() {
				lb.Set(lp.GetName(), lp.GetValue())
			}
			if mf.GetName() == sli.MetricDuration || mf.GetName() == sli.MetricDependencyDuration {
				lb.Set(labels.MetricName, mf.GetName()+"_bucket")
			}
			series = append(series, lb.Labels())
		}
	}
	matches := func(ms []*labels.Matcher) bool {
		for _, ls := range series {
			ok := true
			for _, m := range ms {
				if !m.Matches(ls.Get(m.Name)) {
					ok = false
					break
				}
			}
			if ok {
				return true
			}
		}
		return false
	}

	routes := []string{RouteCreate, RouteShow, RouteDelete, RouteRedirect}
	p := parser.NewParser(parser.Options{})
	checkMatchers := func(where string, ms []*labels.Matcher, metric string, allowed ...string) {
		t.Helper()
		for _, m := range ms {
			switch {
			case m.Name == labels.MetricName:
				if m.Type != labels.MatchEqual || m.Value != metric {
					t.Errorf("%s: metric %s, want %s (what sli emits)", where, m, metric)
				}
			case m.Name == sli.LabelDependency && (m.Type != labels.MatchEqual || m.Value != DependencyLinkCheck):
				t.Errorf("%s: %s, want dependency=%q", where, m, DependencyLinkCheck)
			case m.Name == sli.LabelSource && (m.Type != labels.MatchEqual || m.Value != sli.SourceDefault):
				t.Errorf("%s: %s, want source=%q (the fallback's unchecked answers)", where, m, sli.SourceDefault)
			case !slices.Contains(allowed, m.Name):
				t.Errorf("%s: label %q is not one sli puts on %s (%v)", where, m.Name, metric, allowed)
			case m.Name == sli.LabelService && (m.Type != labels.MatchEqual || m.Value != spec.Service):
				t.Errorf("%s: %s, want service=%q", where, m, spec.Service)
			case m.Name == sli.LabelRoute && (m.Type != labels.MatchEqual || !slices.Contains(routes, m.Value)):
				t.Errorf("%s: %s is not one of the service's route patterns %q", where, m, routes)
			}
		}
		if !matches(ms) {
			t.Errorf("%s: selector %v matches no series the running service exports", where, ms)
		}
	}
	for _, o := range spec.SLOs {
		switch {
		case o.SLI.Events != nil && strings.HasPrefix(o.SLI.Events.Total, sli.MetricDependencyAnswers):
			for _, sel := range []string{o.SLI.Events.Bad, o.SLI.Events.Total} {
				ms, err := p.ParseMetricSelector(sel)
				if err != nil {
					t.Errorf("%s: %v", o.Name, err)
					continue
				}
				checkMatchers(o.Name, ms, sli.MetricDependencyAnswers, sli.LabelService, sli.LabelDependency, sli.LabelSource)
			}
		case o.SLI.Events != nil:
			for _, sel := range []struct{ name, expr string }{{"bad", o.SLI.Events.Bad}, {"total", o.SLI.Events.Total}} {
				ms, err := p.ParseMetricSelector(sel.expr)
				if err != nil {
					t.Errorf("%s.%s: %v", o.Name, sel.name, err)
					continue
				}
				if sel.name == "bad" {
					ms = withoutLabel(ms, sli.LabelCode) // no 5xx has happened; the code matcher is checked below
					if !strings.Contains(sel.expr, `code=~"5.."`) {
						t.Errorf("%s.bad = %s: want code=~\"5..\"", o.Name, sel.expr)
					}
				}
				checkMatchers(o.Name+"."+sel.name, ms, sli.MetricRequests, sli.LabelService, sli.LabelRoute, sli.LabelMethod, sli.LabelCode)
			}
		case o.SLI.Latency != nil:
			lat := o.SLI.Latency
			ms := []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, lat.Histogram+"_bucket")}
			for k, v := range lat.Selector {
				ms = append(ms, labels.MustNewMatcher(labels.MatchEqual, k, v))
			}
			if lat.Histogram == sli.MetricDependencyDuration {
				checkMatchers(o.Name+".latency", ms, sli.MetricDependencyDuration+"_bucket", sli.LabelService, sli.LabelDependency)
			} else {
				checkMatchers(o.Name+".latency", ms, sli.MetricDuration+"_bucket", sli.LabelService, sli.LabelRoute, sli.LabelMethod)
			}
			d, err := time.ParseDuration(lat.Threshold)
			if err != nil {
				t.Errorf("%s: threshold %q: %v", o.Name, lat.Threshold, err)
				continue
			}
			if !slices.Contains(sli.DefaultBuckets(), d.Seconds()) {
				t.Errorf("%s: threshold %s is not a bucket of sli.DefaultBuckets() %v", o.Name, d, sli.DefaultBuckets())
			}
		default:
			t.Errorf("%s: want an events or latency SLI", o.Name)
		}
	}
}

func withoutLabel(ms []*labels.Matcher, name string) []*labels.Matcher {
	var out []*labels.Matcher
	for _, m := range ms {
		if m.Name != name {
			out = append(out, m)
		}
	}
	return out
}

// TestSLOsValidate: slos.yaml passes slokit's own validation without warnings.
func TestSLOsValidate(t *testing.T) {
	svcs, ds := slo.LoadFiles(slosFile)
	if err := ds.Err(); err != nil {
		t.Fatalf("slos.yaml is invalid:\n%v", err)
	}
	for _, w := range ds.Warnings() {
		t.Errorf("warning: %s", w)
	}
	if len(svcs) != 1 || len(svcs[0].Objectives) != 6 {
		t.Fatalf("loaded %d services; want shortlink with 6 objectives", len(svcs))
	}
	var got []string
	for _, o := range svcs[0].Objectives {
		got = append(got, fmt.Sprintf("%s %s %g %s", o.Name, o.SLI.Kind(), o.Target, o.Period))
	}
	want := []string{
		"redirect-availability events 0.999 720h0m0s",
		"redirect-latency latency 0.99 720h0m0s",
		"create-availability events 0.995 720h0m0s",
		"create-latency latency 0.99 720h0m0s",
		"linkcheck-latency latency 0.995 720h0m0s",
		"redirect-checked events 0.999 720h0m0s",
	}
	if !slices.Equal(got, want) {
		t.Errorf("objectives:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
