package slo

import (
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql/parser"
)

// canonicalObjectives are objectives covering every expression shape RecordingRules
// builds: each SLI kind, integral and fractional latency thresholds, periods that scale
// the windows, objectives whose budget prints in exponent form, custom windows with
// large burn rates, and the example specs.
func canonicalObjectives(t testing.TB) []Objective {
	t.Helper()
	day := 24 * time.Hour
	lat := func(th time.Duration) Objective {
		return Objective{
			Service: "shop", Name: "latency", Target: 0.99, Period: 28 * day,
			Labels: map[string]string{"team": "payments"},
			SLI: SLI{Latency: &LatencySLI{
				Histogram: "http_request_duration_seconds",
				Selector:  map[string]string{"job": "shop", "route": `GET /{code} "q"`},
				Threshold: th,
			}},
		}
	}
	tiny := eventsObjective(30 * day)
	tiny.Target = 0.99999
	odd := eventsObjective(7 * day)
	odd.Target = 0.123456789012345
	huge := eventsObjective(day)
	huge.Alerting.Windows = []Window{{Page, time.Hour, time.Minute, 12345678.9}, {Ticket, 2 * time.Hour, 10 * time.Minute, 1e-7}}
	messy := eventsObjective(30 * day)
	messy.SLI.Events = &EventsSLI{Bad: `http_requests_total{ code =~ '5..' }`, Total: `{__name__="http_requests_total"}`}
	os := []Objective{
		eventsObjective(30 * day), eventsObjective(7 * day), tiny, odd, huge, messy,
		lat(250 * time.Millisecond), lat(time.Second), lat(2500 * time.Microsecond),
		{Service: "shop", Name: "raw", Target: 0.999, Period: 30 * day,
			SLI: SLI{Raw: &RawSLI{ErrorRatio: `sum(rate(errors_total[{{.window}}])) / sum(rate(requests_total[{{ .window }}]))`}}},
	}
	paths, _ := filepath.Glob(filepath.Join("..", "examples", "*.yaml"))
	svcs, ds := LoadFiles(paths...)
	if len(paths) == 0 || ds.Err() != nil {
		t.Fatalf("examples: %d files, %v", len(paths), ds.Err())
	}
	for _, s := range svcs {
		os = append(os, s.Objectives...)
	}
	return os
}

// TestRecordingRulesCanonical: building expressions from canonical parts gives exactly
// the bytes of parsing and printing every expression, and every generated expression is
// a fixed point of the Prometheus parser and printer.
func TestRecordingRulesCanonical(t *testing.T) {
	p := parser.NewParser(parser.Options{})
	for _, o := range canonicalObjectives(t) {
		fast, err := allRecordingRules(o, false)
		if err != nil {
			t.Fatalf("%s: %v", o.ID(), err)
		}
		slow, err := allRecordingRules(o, true)
		if err != nil {
			t.Fatalf("%s (parse all): %v", o.ID(), err)
		}
		if !reflect.DeepEqual(fast, slow) {
			for i := range fast {
				if i < len(slow) && fast[i].Expr != slow[i].Expr {
					t.Errorf("%s rule %d:\nbuilt:  %s\nparsed: %s", o.ID(), i, fast[i].Expr, slow[i].Expr)
				}
			}
			t.Errorf("%s: built and parsed rules differ", o.ID())
		}
		for _, r := range fast {
			if canon, err := CanonicalExpr(p, r.Expr); err != nil || canon != r.Expr {
				t.Errorf("%s %s: %q does not print back to itself (%q, %v)", o.ID(), r.Record, r.Expr, canon, err)
			}
		}
	}
}

// TestRecordingRulesNonCanonicalSelector: a selector with an offset is not embedded as
// is; it goes through the parser, which rejects it the same way both ways.
func TestRecordingRulesNonCanonicalSelector(t *testing.T) {
	o := eventsObjective(30 * 24 * time.Hour)
	o.SLI.Events = &EventsSLI{Bad: `http_requests_total{code=~"5.."} offset 1m`, Total: `http_requests_total offset 1m`}
	_, fast := allRecordingRules(o, false)
	_, slow := allRecordingRules(o, true)
	if fast == nil || slow == nil || fast.Error() != slow.Error() {
		t.Errorf("want the same parse error both ways, got\n%v\n%v", fast, slow)
	}
}

func TestPromNumber(t *testing.T) {
	for v, want := range map[float64]string{
		0.999: "0.999", 1 - 0.999: "0.001", 1 - 0.99999: "0.00001", 14.4: "14.4",
		12345678.9: "12345678.9", 1e21: "1000000000000000000000", 1.0 / 3: "0.333333333333",
	} {
		if got := PromNumber(v); got != want {
			t.Errorf("PromNumber(%v) = %q, want %q", v, got, want)
		}
	}
}

// TestEventSelectorsCanonical: the selectors of events and latency SLIs from specs are
// embedded as is (no expression of theirs is re-parsed), for integral and fractional
// latency thresholds alike.
func TestEventSelectorsCanonical(t *testing.T) {
	p := parser.NewParser(parser.Options{})
	n := 0
	for _, o := range canonicalObjectives(t) {
		if o.SLI.Raw != nil || o.SLI.Events != nil && o.Service == "shop" {
			continue // raw templates, and selectors written by hand in eventsObjective
		}
		parts := eventParts(o)
		for _, sel := range []string{parts.bad, parts.total} {
			n++
			if !canonicalSelector(p, sel) {
				t.Errorf("%s: selector %s is not canonical, so every expression is re-parsed", o.ID(), sel)
			}
		}
	}
	if n < 10 {
		t.Errorf("only %d selectors checked", n)
	}
}

// allRecordingRules is recordingRules' fast and long rules, in evaluation order.
func allRecordingRules(o Objective, parseAll bool) ([]Rule, error) {
	fast, long, err := recordingRules(o, parseAll)
	return append(fast, long...), err
}
