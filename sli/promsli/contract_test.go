package promsli_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/slokit/slokit/sli"
	"github.com/slokit/slokit/sli/promsli"
	"github.com/slokit/slokit/slo"
)

// TestSpecsQueryWhatSLIEmits is the contract between sli and the SLO specs: every
// selector in the shortlink specs must select series this recorder really emits (bad
// selectors only the 5xx ones), and every latency threshold must be a default bucket.
func TestSpecsQueryWhatSLIEmits(t *testing.T) {
	for _, file := range []string{"../../sample-service/slos.yaml", "../../examples/shortlink.yaml", "../../examples/payments-api.yaml"} {
		t.Run(file, func(t *testing.T) {
			svcs, ds := slo.LoadFiles(file)
			if err := ds.Err(); err != nil {
				t.Fatal(err)
			}
			p := parser.NewParser(parser.Options{})
			for _, svc := range svcs {
				rec, reg := newRecorder(t, promsli.Config{Service: svc.Name})
				// Serve every route the specs name, once well and once with a 503.
				routes := map[string]bool{}
				for _, o := range svc.Objectives {
					switch {
					case o.SLI.Events != nil:
						for _, sel := range []string{o.SLI.Events.Bad, o.SLI.Events.Total} {
							ms, err := p.ParseMetricSelector(sel)
							if err != nil {
								t.Fatalf("%s: %v", sel, err)
							}
							for _, m := range ms {
								if m.Name == sli.LabelRoute && m.Type == labels.MatchEqual {
									routes[m.Value] = true
								}
							}
						}
					case o.SLI.Latency != nil:
						routes[o.SLI.Latency.Selector[sli.LabelRoute]] = true
					}
				}
				for route := range routes {
					method, _, ok := strings.Cut(route, " ")
					if !ok {
						method = "GET"
					}
					for _, code := range []int{200, 503} {
						rec.Started()
						rec.Done(context.Background(), sli.Observation{Route: route, Method: method, Code: code, Duration: time.Millisecond})
					}
				}
				// Every dependency the specs name: one call of each outcome, one answer
				// of each source.
				for dep := range dependencies(t, p, svc.Objectives) {
					d, err := promsli.NewDependency(reg, promsli.DependencyConfig{Service: svc.Name, Dependency: dep})
					if err != nil {
						t.Fatal(err)
					}
					for _, o := range []string{sli.OutcomeOK, sli.OutcomeError, sli.OutcomeTimeout, sli.OutcomeRejected} {
						d.Call(o, time.Millisecond)
					}
					for _, src := range []string{sli.SourceDependency, sli.SourceCache, sli.SourceDefault} {
						d.Answer(src)
					}
				}
				series := gatheredSeries(t, reg)

				for _, o := range svc.Objectives {
					switch {
					case o.SLI.Events != nil:
						bad := selectSeries(t, p, series, o.SLI.Events.Bad)
						total := selectSeries(t, p, series, o.SLI.Events.Total)
						if len(total) == 0 || len(bad) == 0 || len(bad) >= len(total) {
							t.Errorf("%s: bad selects %d series, total %d; want 0 < bad < total\n bad: %s\n total: %s",
								o.Name, len(bad), len(total), o.SLI.Events.Bad, o.SLI.Events.Total)
						}
						for _, s := range bad {
							if s.Get(labels.MetricName) == sli.MetricDependencyAnswers {
								if s.Get(sli.LabelSource) != sli.SourceDefault {
									t.Errorf("%s: bad selector selects %s; a fallback's bad answers are source=%q", o.Name, s, sli.SourceDefault)
								}
								continue
							}
							if !strings.HasPrefix(s.Get(sli.LabelCode), "5") {
								t.Errorf("%s: bad selector selects %s", o.Name, s)
							}
						}
					case o.SLI.Latency != nil:
						l := o.SLI.Latency
						if l.Histogram != sli.MetricDuration && l.Histogram != sli.MetricDependencyDuration {
							t.Errorf("%s: histogram %q, sli emits %q", o.Name, l.Histogram, sli.MetricDuration)
						}
						var sel []string
						for k, v := range l.Selector {
							sel = append(sel, k+"="+quote(v))
						}
						sel = append(sel, "le="+quote(l.ThresholdLE()))
						q := l.Histogram + "_bucket{" + strings.Join(sel, ",") + "}"
						if got := selectSeries(t, p, series, q); len(got) == 0 {
							t.Errorf("%s: no series for %s; is %v a bucket of sli.DefaultBuckets()?", o.Name, q, l.Threshold)
						}
					}
				}
			}
		})
	}
}

// dependencies returns the dependency label values the objectives select.
func dependencies(t *testing.T, p parser.Parser, objs []slo.Objective) map[string]bool {
	t.Helper()
	deps := map[string]bool{}
	for _, o := range objs {
		switch {
		case o.SLI.Events != nil:
			ms, err := p.ParseMetricSelector(o.SLI.Events.Total)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range ms {
				if m.Name == sli.LabelDependency && m.Type == labels.MatchEqual {
					deps[m.Value] = true
				}
			}
		case o.SLI.Latency != nil:
			if d := o.SLI.Latency.Selector[sli.LabelDependency]; d != "" {
				deps[d] = true
			}
		}
	}
	return deps
}

func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

func selectSeries(t *testing.T, p parser.Parser, series []labels.Labels, selector string) []labels.Labels {
	t.Helper()
	ms, err := p.ParseMetricSelector(selector)
	if err != nil {
		t.Fatalf("%s: %v", selector, err)
	}
	var out []labels.Labels
	for _, s := range series {
		ok := true
		for _, m := range ms {
			ok = ok && m.Matches(s.Get(m.Name))
		}
		if ok {
			out = append(out, s)
		}
	}
	return out
}

// gatheredSeries lists the label sets of every series in g, with __name__, the way
// Prometheus stores them after a scrape (histograms as _bucket, _sum and _count).
func gatheredSeries(t *testing.T, g prometheus.Gatherer) []labels.Labels {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []labels.Labels
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			add := func(name string, extra ...string) {
				b := labels.NewScratchBuilder(len(m.GetLabel()) + 2)
				b.Add(labels.MetricName, name)
				for _, lp := range m.GetLabel() {
					b.Add(lp.GetName(), lp.GetValue())
				}
				for i := 0; i+1 < len(extra); i += 2 {
					b.Add(extra[i], extra[i+1])
				}
				b.Sort()
				out = append(out, b.Labels())
			}
			if h := m.GetHistogram(); h != nil {
				for _, bk := range h.GetBucket() {
					add(mf.GetName()+"_bucket", "le", strconv.FormatFloat(bk.GetUpperBound(), 'g', -1, 64))
				}
				add(mf.GetName()+"_bucket", "le", "+Inf")
				add(mf.GetName() + "_sum")
				add(mf.GetName() + "_count")
				continue
			}
			add(mf.GetName())
		}
	}
	return out
}
