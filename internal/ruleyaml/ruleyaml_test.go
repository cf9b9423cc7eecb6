package ruleyaml

import (
	"bytes"
	"github.com/slokit/slokit/slo"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// yamlV3Group is the reference: the group as yaml.v3 (indent 2) writes it under "groups:".
func yamlV3Group(t testing.TB, g slo.RuleGroup) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(slo.RuleFile{Groups: []slo.RuleGroup{g}}); err != nil {
		t.Fatal(err)
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	out, ok := bytes.CutPrefix(b.Bytes(), []byte("groups:\n"))
	if !ok {
		t.Fatalf("yaml.v3 output does not start with groups:\n%s", b.Bytes())
	}
	return out
}

// checkRuleGroupYAML asserts that, when AppendRuleGroupYAML handles g, it writes exactly
// yaml.v3's bytes and they decode back to g. It returns whether g was handled.
func checkRuleGroupYAML(t testing.TB, g slo.RuleGroup) bool {
	t.Helper()
	prefix := []byte("prefix\n")
	got, ok := AppendRuleGroupYAML(append([]byte(nil), prefix...), g, 2)
	if !ok {
		if !bytes.Equal(got, prefix) {
			t.Fatalf("not handled, yet dst changed to %q", got)
		}
		return false
	}
	got = got[len(prefix):]
	if want := yamlV3Group(t, g); !bytes.Equal(got, want) {
		t.Fatalf("AppendRuleGroupYAML differs from yaml.v3\ngot:\n%s\nwant:\n%s", got, want)
	}
	var back slo.RuleFile
	if err := yaml.Unmarshal(append([]byte("groups:\n"), got...), &back); err != nil {
		t.Fatalf("output does not decode: %v\n%s", err, got)
	}
	if len(back.Groups) != 1 || !reflect.DeepEqual(back.Groups[0], g) {
		t.Fatalf("round trip changed the group\ngot:  %#v\nwant: %#v", back.Groups, g)
	}
	return true
}

func scalarGroup(value string) slo.RuleGroup {
	return slo.RuleGroup{Name: "g", Rules: []slo.Rule{{
		Alert: "A", Expr: "up == 0",
		Labels:      map[string]string{"severity": value},
		Annotations: map[string]string{"summary": value, "description": "x"},
	}}}
}

// TestAppendRuleGroupYAMLScalars pins, string by string, whether the writer handles a
// value and that handled values match yaml.v3 (plain or single quoted).
func TestAppendRuleGroupYAMLScalars(t *testing.T) {
	for _, tc := range []struct {
		value   string
		handled bool
	}{
		{"page", true},
		{"5m", true},
		{"1d", true},
		{"1h30m", true},
		{"30d", true},
		{"99.9% over 30d", true},
		{`{{ $labels.slokit_slo }} burns {{ printf "%.1f" $value }}× too fast`, true},
		{`sum(rate(x{a="b"}[5m])) or vector(0)`, true},
		{`1 - (slokit:sli_error:ratio{slokit_slo="a"} / 0.001)`, true},
		{"a: b", true},
		{"a:b", true},
		{"trailing:", true},
		{"a #b", true},
		{"a#b", true},
		{"#x", true},
		{"- x", true},
		{"-x", true},
		{"? x", true},
		{": x", true},
		{"---x", true},
		{"...", true},
		{"it's", true},
		{"'quoted'", true},
		{`"dq"`, true},
		{"@x", true},
		{"`x`", true},
		{" lead", true},
		{"trail ", true},
		{"https://grafana.example/d/x?var-service=a&var-slo=b", true},
		{"runbooks/shop-checkout.md", true},
		{"nul", true},
		{"yess", true},
		{"......", true},
		{"-inff", true},
		{"1 - x", true},
		{"é ü ×", true},
		{"", false},
		{"true", true},
		{"No", true},
		{"y", true},
		{"null", true},
		{"~", true},
		{"<<", false},
		{"1", true},
		{"007", true},
		{"123456789012345678901234567890", true},
		{"0.999", false},
		{"1e5", false},
		{"0x1F", false},
		{"1_000", false},
		{"+1", false},
		{".5", false},
		{".inf", false},
		{"-.INF", false},
		{"2024-01-02", false},
		{"12:30", false},
		{"0o17", false},
		{"0b101", false},
		{"two\nlines", false},
		{"tab\there", false},
		{"bell\a", false},
		{"line\u2028sep", false},
		{"emoji 🔥", false},
		{"bad utf8 \xff", false},
		{"bom\ufeff", false},
	} {
		t.Run(tc.value, func(t *testing.T) {
			if got := checkRuleGroupYAML(t, scalarGroup(tc.value)); got != tc.handled {
				t.Errorf("handled = %v, want %v", got, tc.handled)
			}
		})
	}
}

// TestAppendRuleGroupYAMLKeys: keys of a-z and '_' are handled; others (whose yaml.v3
// order is not byte order, or that need quoting) fall back.
func TestAppendRuleGroupYAMLKeys(t *testing.T) {
	for _, tc := range []struct {
		keys    []string
		handled bool
	}{
		{[]string{"team", "slokit_service", "slokit_slo", "slokit_window", "severity", "a_", "a"}, true},
		{[]string{"Team", "team"}, false},
		{[]string{"k8s", "k10s"}, false},
		{[]string{"app.kubernetes.io/name"}, false},
		{[]string{"y"}, false},
		{[]string{strings.Repeat("a", 129)}, false},
	} {
		labels := map[string]string{}
		for _, k := range tc.keys {
			labels[k] = "v"
		}
		g := slo.RuleGroup{Name: "g", Interval: "1m", Rules: []slo.Rule{{Record: "r", Expr: "up", Labels: labels}}}
		if got := checkRuleGroupYAML(t, g); got != tc.handled {
			t.Errorf("keys %q: handled = %v, want %v", tc.keys, got, tc.handled)
		}
	}
}

// TestAppendRuleGroupYAMLGenerated: the recording rules of every slo.SLI kind are handled
// and match yaml.v3, so the fast path is the one taken for generated files.
func TestAppendRuleGroupYAMLGenerated(t *testing.T) {
	lat := slo.Objective{
		Service: "shop", Name: "latency", Target: 0.99, Period: 7 * 24 * time.Hour,
		Labels: map[string]string{"team": "payments"},
		SLI: slo.SLI{Latency: &slo.LatencySLI{
			Histogram: "http_request_duration_seconds",
			Selector:  map[string]string{"job": "shop", "route": "GET /{code}"},
			Threshold: 250 * time.Millisecond,
		}},
	}
	raw := slo.Objective{
		Service: "shop", Name: "raw", Target: 0.999, Period: 30 * 24 * time.Hour,
		SLI: slo.SLI{Raw: &slo.RawSLI{ErrorRatio: `sum(rate(errors_total[{{.window}}])) / sum(rate(requests_total[{{.window}}]))`}},
	}
	for _, o := range []slo.Objective{slo.Objective{
		Service: "shop", Name: "checkout", Target: 0.999, Period: 30 * 24 * time.Hour,
		SLI: slo.SLI{Events: &slo.EventsSLI{
			Bad:   `http_requests_total{job="shop",code=~"5.."}`,
			Total: `http_requests_total{job="shop"}`,
		}},
	}, lat, raw} {
		g, err := slo.RecordingGroup(o)
		if err != nil {
			t.Fatal(err)
		}
		g.Rules = append(g.Rules, slo.Rule{Alert: "ShopAlert", Expr: "vector(1)", For: "5m", KeepFiringFor: "10m",
			Labels:      map[string]string{"severity": "page"},
			Annotations: map[string]string{"summary": `{{ $labels.slokit_slo }}: burning`, "runbook_url": "https://x/y"}})
		if !checkRuleGroupYAML(t, g) {
			t.Errorf("%s: generated group not handled by the fast writer", o.ID())
		}
	}
}

// FuzzAppendRuleGroupYAML feeds arbitrary strings into every field: whatever the writer
// handles must equal yaml.v3's bytes and decode back to the same group.
func FuzzAppendRuleGroupYAML(f *testing.F) {
	f.Add("slokit-shop-a", "sum(rate(x[5m]))", "5m", "team", `{{ $value }}: x`)
	f.Add("g", "a: b", "1d", "a_b", "it's # here")
	f.Add("-x", "--- x", "0x1", "k", " lead")
	f.Add("...", "[a]", "y", "z", "é×")
	f.Add("g", "up", "1", "tier", "007")
	f.Fuzz(func(t *testing.T, name, expr, value, key, annotation string) {
		g := slo.RuleGroup{Name: name, Rules: []slo.Rule{
			{Record: name, Expr: expr, Labels: map[string]string{key: value, "slokit_window": value}},
			{Alert: value, Expr: expr, For: value, Annotations: map[string]string{key: annotation, "summary": annotation}},
		}}
		checkRuleGroupYAML(t, g)
	})
}

func TestDecimalWithLetter(t *testing.T) {
	for s, want := range map[string]bool{
		"5m": true, "1d": true, "1h30m": true, "-3w": true, "1e5": false, "1E5": false,
		"0x1F": false, "0o7": false, "0b1": false, "1_0x": false, "0_x1F": false,
		"12": false, "+": false, "x1": false, "1.5": false,
	} {
		if got := decimalWithLetter(s); got != want {
			t.Errorf("decimalWithLetter(%q) = %v, want %v", s, got, want)
		}
	}
}

// BenchmarkAppendRuleGroupYAML writes an events SLO's recording group plus an alert, the
// bulk of a generated rule file, into a reused buffer.
func BenchmarkAppendRuleGroupYAML(b *testing.B) {
	g, err := slo.RecordingGroup(slo.Objective{
		Service: "shop", Name: "checkout", Target: 0.999, Period: 30 * 24 * time.Hour,
		SLI: slo.SLI{Events: &slo.EventsSLI{
			Bad:   `http_requests_total{code=~"5..",job="shop",route="/checkout"}`,
			Total: `http_requests_total{job="shop",route="/checkout"}`,
		}},
	})
	if err != nil {
		b.Fatal(err)
	}
	g.Rules = append(g.Rules, slo.Rule{Alert: "ShopCheckout", Expr: "vector(1)",
		Labels:      map[string]string{"severity": "page"},
		Annotations: map[string]string{"summary": `{{ $labels.slokit_slo }}: burning {{ printf "%.1f" $value }}× too fast`, "runbook_url": "runbooks/shop-checkout.md"}})
	var buf []byte
	var ok bool
	b.ReportAllocs()
	for b.Loop() {
		if buf, ok = AppendRuleGroupYAML(buf[:0], g, 2); !ok {
			b.Fatal("group not handled")
		}
	}
	b.SetBytes(int64(len(buf)))
}
