package dashboards_test

import (
	"encoding/json"
	"net/url"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/dashboards"
	"github.com/slokit/slokit/internal/golden"
	"github.com/slokit/slokit/slo"
)

// fixture is one objective of each SLI kind, with three different periods so that the
// windows differ.
func fixture() []slo.Objective {
	return []slo.Objective{
		{
			Service: "shortlink", Name: "redirect-availability", Target: 0.999, Period: 30 * 24 * time.Hour,
			Description: "Redirects are served without a server error.",
			Labels:      map[string]string{"team": "platform"},
			SLI: slo.SLI{Events: &slo.EventsSLI{
				Bad:   `http_requests_total{service="shortlink",route="GET /{code}",code=~"5.."}`,
				Total: `http_requests_total{service="shortlink",route="GET /{code}"}`,
			}},
			Alerting: slo.Alerting{Name: "ShortlinkRedirectAvailability"},
		},
		{
			Service: "shortlink", Name: "redirect-latency", Target: 0.99, Period: 28 * 24 * time.Hour,
			Labels: map[string]string{"team": "platform"},
			SLI: slo.SLI{Latency: &slo.LatencySLI{
				Histogram: "http_request_duration_seconds",
				Selector:  map[string]string{"service": "shortlink"},
				Threshold: 100 * time.Millisecond,
			}},
		},
		{
			Service: "payments", Name: "charge-success", Target: 0.995, Period: 7 * 24 * time.Hour,
			Labels: map[string]string{},
			SLI: slo.SLI{Raw: &slo.RawSLI{
				ErrorRatio: `sum(rate(charges_failed_total[{{.window}}])) / sum(rate(charges_total[{{.window}}]))`,
			}},
			Alerting: slo.Alerting{Ticket: slo.Severity{Disabled: true}},
		},
	}
}

func mustJSON(t *testing.T, d dashboard.Dashboard) []byte {
	t.Helper()
	b, err := dashboards.JSON(d)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestGolden(t *testing.T) {
	objs := fixture()
	ov, err := dashboards.Overview(objs)
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "overview.json"), mustJSON(t, ov))
	for _, o := range objs {
		d, err := dashboards.Detail(o)
		if err != nil {
			t.Fatal(err)
		}
		golden.Check(t, filepath.Join("testdata", "detail-"+o.ID()+".json"), mustJSON(t, d))
	}
	d, err := dashboards.Detail(objs[2])
	if err != nil {
		t.Fatal(err)
	}
	ops, err := dashboards.Operator(dashboards.OperatorOptions{Namespace: "monitoring"}, d)
	if err != nil {
		t.Fatal(err)
	}
	y, err := dashboards.MarshalOperator(ops...)
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "operator-payments-charge-success.yaml"), y)
}

func TestOperatorObjectCarriesTheDashboard(t *testing.T) {
	d, err := dashboards.Detail(fixture()[0])
	if err != nil {
		t.Fatal(err)
	}
	ops, err := dashboards.Operator(dashboards.OperatorOptions{}, d)
	if err != nil {
		t.Fatal(err)
	}
	y, err := dashboards.MarshalOperator(ops...)
	if err != nil {
		t.Fatal(err)
	}
	var obj struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Metadata   struct{ Name string }
		Spec       struct {
			InstanceSelector struct {
				MatchLabels map[string]string `yaml:"matchLabels"`
			} `yaml:"instanceSelector"`
			JSON string `yaml:"json"`
		}
	}
	if err := yaml.Unmarshal(y, &obj); err != nil {
		t.Fatal(err)
	}
	if obj.APIVersion != "grafana.integreatly.org/v1beta1" || obj.Kind != "GrafanaDashboard" || obj.Metadata.Name != slo.DashboardUID(fixture()[0]) {
		t.Errorf("object header = %s %s %s", obj.APIVersion, obj.Kind, obj.Metadata.Name)
	}
	if obj.Spec.InstanceSelector.MatchLabels["dashboards"] != "grafana" {
		t.Errorf("instanceSelector = %v, want dashboards=grafana", obj.Spec.InstanceSelector.MatchLabels)
	}
	if obj.Spec.JSON != string(mustJSON(t, d)) {
		t.Error("spec.json is not the dashboard JSON")
	}
}

// TestAlertLinksReachTheDetailDashboard pins the contract with the alerts' dashboard_url:
// its path names the detail dashboard's uid and its query sets template variables that exist.
func TestAlertLinksReachTheDetailDashboard(t *testing.T) {
	long1, long2 := fixture()[0], fixture()[0]
	long1.Service, long1.Name = "k8s-apiserver", "requests-availability" // 42 characters in full
	long2.Service, long2.Name = "k8s-apiserver", "requests-availability-eu"
	uids := map[string]string{}
	for _, o := range append(fixture(), long1, long2) {
		if prev, dup := uids[slo.DashboardUID(o)]; dup {
			t.Errorf("%s and %s share the dashboard uid %s", prev, o.ID(), slo.DashboardUID(o))
		}
		uids[slo.DashboardUID(o)] = o.ID()
		d, err := dashboards.Detail(o)
		if err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(alerts.DashboardURL("https://grafana.example", o))
		if err != nil {
			t.Fatal(err)
		}
		if want := "/d/" + *d.Uid; u.Path != want {
			t.Errorf("%s: dashboard_url path %q, want %q", o.ID(), u.Path, want)
		}
		if n := len(*d.Uid); n > 40 {
			t.Errorf("%s: uid %q is %d characters; Grafana allows 40", o.ID(), *d.Uid, n)
		}
		vars := map[string]string{}
		for _, v := range d.Templating.List {
			cur := ""
			if v.Current != nil && v.Current.Value.String != nil {
				cur = *v.Current.Value.String
			}
			vars[v.Name] = cur
		}
		for k, vs := range u.Query() {
			name := strings.TrimPrefix(k, "var-")
			cur, ok := vars[name]
			if !ok {
				t.Errorf("%s: dashboard_url sets %s but the dashboard has no variable %q", o.ID(), k, name)
			} else if cur != vs[0] {
				t.Errorf("%s: variable %s defaults to %q, the alert link sets %q", o.ID(), name, cur, vs[0])
			}
		}
	}
}

// produced returns, per metric name, the label sets of the series the generated rules of
// objs write: recording rules (a rule without a window label inherits the windows of the
// windowed series it reads) and the ALERTS series of the alerting rules.
func produced(t *testing.T, objs []slo.Objective) map[string][]map[string]string {
	t.Helper()
	out := map[string][]map[string]string{}
	p := parser.NewParser(parser.Options{})
	for _, o := range objs {
		var rules []slo.Rule
		if o.IsGlobal() {
			gs, err := alerts.ThanosGroups(o, alerts.Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range gs {
				rules = append(rules, g.Rules...)
			}
		} else {
			g, err := alerts.Group(o, alerts.Options{})
			if err != nil {
				t.Fatal(err)
			}
			rules = g.Rules
		}
		for _, r := range rules {
			if r.Alert != "" {
				sev := slo.SeverityName(r.Labels[slo.LabelSeverity])
				for _, w := range o.Windows() {
					if w.Severity != sev {
						continue
					}
					for _, state := range []string{"pending", "firing"} {
						ls := merge(slo.RuleLabels(o), r.Labels)
						ls["alertname"] = r.Alert
						ls["alertstate"] = state
						ls[slo.LabelWindow] = slo.FormatWindow(w.Long)
						out["ALERTS"] = append(out["ALERTS"], ls)
					}
				}
				continue
			}
			if _, ok := r.Labels[slo.LabelWindow]; ok {
				out[r.Record] = append(out[r.Record], merge(r.Labels))
				continue
			}
			expr, err := p.ParseExpr(r.Expr)
			if err != nil {
				t.Fatalf("%s: %v", r.Record, err)
			}
			// One rule recording several windows names each with label_replace.
			named := false
			parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
				c, ok := n.(*parser.Call)
				if !ok || c.Func.Name != "label_replace" || len(c.Args) != 5 {
					return nil
				}
				if dst, ok := c.Args[1].(*parser.StringLiteral); ok && dst.Val == slo.LabelWindow {
					ls := merge(r.Labels)
					ls[slo.LabelWindow] = c.Args[2].(*parser.StringLiteral).Val
					out[r.Record] = append(out[r.Record], ls)
					named = true
				}
				return nil
			})
			if named {
				continue
			}
			inherited := false
			parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
				vs, ok := n.(*parser.VectorSelector)
				if !ok {
					return nil
				}
				for _, m := range vs.LabelMatchers {
					if m.Name == slo.LabelWindow {
						return nil // reads one window: no fan-out
					}
				}
				for _, src := range out[vs.Name] {
					if w, ok := src[slo.LabelWindow]; ok && matchesAll(vs.LabelMatchers, src) {
						ls := merge(r.Labels)
						ls[slo.LabelWindow] = w
						out[r.Record] = append(out[r.Record], ls)
						inherited = true
					}
				}
				return nil
			})
			if !inherited {
				out[r.Record] = append(out[r.Record], merge(r.Labels))
			}
		}
	}
	return out
}

func merge(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func matchesAll(ms []*labels.Matcher, ls map[string]string) bool {
	for _, m := range ms {
		if m.Name == labels.MetricName {
			continue
		}
		if !m.Matches(ls[m.Name]) {
			return false
		}
	}
	return true
}

// exprs returns every PromQL expression of d: panel targets and the selectors inside the
// variables' label_values() queries.
func exprs(t *testing.T, d dashboard.Dashboard) map[string]string {
	t.Helper()
	var doc any
	if err := json.Unmarshal(mustJSON(t, d), &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, c := range v {
				if k == "expr" {
					out[path+"."+k] = c.(string)
				}
				walk(path+"."+k, c)
			}
		case []any:
			for i, c := range v {
				walk(path+"["+strconv.Itoa(i)+"]", c)
			}
		}
	}
	walk("", doc)
	labelValues := regexp.MustCompile(`^label_values\((.*), *[a-zA-Z_]+\)$`)
	for i, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		m := labelValues.FindStringSubmatch(*v.Query.String)
		if m == nil {
			t.Errorf("variable %s: query %q is not label_values(selector, label)", v.Name, *v.Query.String)
			continue
		}
		out[".templating.list["+strconv.Itoa(i)+"].query"] = m[1]
	}
	return out
}

// substitute replaces the dashboard variables the way Grafana does for one selection.
func substitute(expr string, vars map[string]string) string {
	for k, v := range vars {
		expr = strings.ReplaceAll(expr, "${"+k+"}", v)
		expr = strings.ReplaceAll(expr, "$"+k, v)
	}
	return expr
}

// checkExprs parses every expression after substitution and checks that each selector
// reads a series the generated rules write.
func checkExprs(t *testing.T, name string, d dashboard.Dashboard, vars map[string]string, series map[string][]map[string]string) int {
	return checkExprsWant(t, name, d, vars, series, func(string) bool { return true })
}

// checkExprsWant is checkExprs where wantMatch(expression before substitution) says
// whether its selectors must match generated series or, filtered out, match none.
func checkExprsWant(t *testing.T, name string, d dashboard.Dashboard, vars map[string]string, series map[string][]map[string]string, wantMatch func(string) bool) int {
	t.Helper()
	p := parser.NewParser(parser.Options{})
	n := 0
	for path, raw := range exprs(t, d) {
		expr := substitute(raw, vars)
		if strings.Contains(expr, "$") {
			t.Errorf("%s%s: unsubstituted variable in %q", name, path, expr)
			continue
		}
		e, err := p.ParseExpr(expr)
		if err != nil {
			t.Errorf("%s%s: %q does not parse: %v", name, path, expr, err)
			continue
		}
		n++
		parser.Inspect(e, func(node parser.Node, _ []parser.Node) error {
			vs, ok := node.(*parser.VectorSelector)
			if !ok {
				return nil
			}
			sets, known := series[vs.Name]
			if !known {
				t.Errorf("%s%s: %s reads %q, which no generated rule writes", name, path, expr, vs.Name)
				return nil
			}
			matched := false
			for _, ls := range sets {
				matched = matched || matchesAll(vs.LabelMatchers, ls)
			}
			switch want := wantMatch(raw); {
			case want && !matched:
				t.Errorf("%s%s: selector %s matches none of the %d series the rules write for %s", name, path, vs, len(sets), vs.Name)
			case !want && matched:
				t.Errorf("%s%s: selector %s of a deselected SLO still matches generated series", name, path, vs)
			}
			return nil
		})
	}
	return n
}

func TestEveryPanelQueryParsesAndReadsGeneratedSeries(t *testing.T) {
	objs := fixture()
	series := produced(t, objs)
	for _, o := range objs {
		d, err := dashboards.Detail(o)
		if err != nil {
			t.Fatal(err)
		}
		n := checkExprs(t, "detail "+o.ID(), d, map[string]string{
			dashboards.VarService: o.Service, dashboards.VarSLO: o.Name, dashboards.VarDatasource: "prom",
		}, series)
		if n < 10 {
			t.Errorf("detail %s: only %d expressions checked", o.ID(), n)
		}
	}
	ov, err := dashboards.Overview(objs)
	if err != nil {
		t.Fatal(err)
	}
	// "All" selected: Grafana substitutes the variable's allValue.
	checkExprs(t, "overview (all)", ov, map[string]string{dashboards.VarService: ".*", dashboards.VarSLO: ".*"}, series)
	// One SLO selected: its row's queries match, the other rows' match nothing.
	selected := func(raw string) bool {
		if !strings.Contains(raw, `slokit_service="`) {
			return true // a variable's query, not a row's
		}
		return strings.Contains(raw, `slokit_service="payments",`) && strings.Contains(raw, `slokit_slo="charge-success",`)
	}
	if n := checkExprsWant(t, "overview (one)", ov, map[string]string{dashboards.VarService: "payments", dashboards.VarSLO: "charge-success"}, series, selected); n < 3*5 {
		t.Errorf("overview: only %d expressions checked, want at least 5 per SLO", n)
	}
}

// TestGlobalDetailShowsClusters: a global SLO's detail dashboard adds the per-cluster
// burn rates (when kept) and the clusters reporting, and every query reads a series the
// Thanos groups record; a per-cluster SLO's dashboard has neither panel.
func TestGlobalDetailShowsClusters(t *testing.T) {
	o := fixture()[0]
	o.Name = "global-availability"
	o.Scope = slo.Scope{Global: true, PerClusterBurn: true}
	d, err := dashboards.Detail(o)
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "detail-"+o.ID()+".json"), mustJSON(t, d))
	vars := map[string]string{dashboards.VarService: o.Service, dashboards.VarSLO: o.Name, dashboards.VarDatasource: "prom"}
	checkExprs(t, "detail "+o.ID(), d, vars, produced(t, []slo.Objective{o}))
	got := exprs(t, d)
	var cluster []string
	for _, e := range got {
		if strings.Contains(e, slo.MetricClusterBurnRate) || strings.Contains(e, slo.MetricClusterPresent) {
			cluster = append(cluster, e)
		}
	}
	// The short windows up to the base window (5m, 30m, 2h, 6h) and the presence.
	if len(cluster) != 5 {
		t.Errorf("%d per-cluster queries, want 4 burn-rate windows and the presence: %v", len(cluster), cluster)
	}
	plain, err := dashboards.Detail(fixture()[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range exprs(t, plain) {
		if strings.Contains(e, "slokit:slo_cluster") {
			t.Errorf("per-cluster SLO dashboard queries %s", e)
		}
	}
}

// TestQueryCheckCatchesStraySeries shows the check above can fail: a selector of a
// window no rule records, or of a metric no rule writes, is reported.
func TestQueryCheckCatchesStraySeries(t *testing.T) {
	series := produced(t, fixture())
	p := parser.NewParser(parser.Options{})
	for _, bad := range []string{
		`slokit:slo_burn:rate{slokit_service="shortlink",slokit_slo="redirect-availability",slokit_window="2d"}`,
		`slokit:sli_bad:rate{slokit_service="payments"}`, // raw SLIs have no event rates
		`http_requests_total{service="shortlink"}`,
		`ALERTS{slokit_service="payments",severity="ticket"}`, // its ticket tier is disabled
	} {
		e, err := p.ParseExpr(bad)
		if err != nil {
			t.Fatal(err)
		}
		vs := e.(*parser.VectorSelector)
		ok := false
		for _, ls := range series[vs.Name] {
			ok = ok || matchesAll(vs.LabelMatchers, ls)
		}
		if ok {
			t.Errorf("%s matched a generated series; the check would not catch it", bad)
		}
	}
}

func TestDetailShowsEachTierThreshold(t *testing.T) {
	o := fixture()[0]
	d, err := dashboards.Detail(o)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range d.Panels {
		if p.Panel == nil || p.Panel.FieldConfig == nil || p.Panel.Title == nil || !strings.Contains(*p.Panel.Title, " tier ") {
			continue
		}
		steps := p.Panel.FieldConfig.Defaults.Thresholds.Steps
		got = append(got, *p.Panel.Title+" @ "+slo.FormatFloat(*steps[len(steps)-1].Value))
	}
	sort.Strings(got)
	want := []string{
		"page tier 1: 14.4× over 1h and 5m @ 14.4",
		"page tier 2: 6× over 6h and 30m @ 6",
		"ticket tier 3: 3× over 1d and 2h @ 3",
		"ticket tier 4: 1× over 3d and 6h @ 1",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("tier panels:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestDetailCarriesEachSLOsTiersExactly: a disabled severity has no tier panel and no
// threshold line; with every tier disabled the tier row is gone.
func TestDetailCarriesEachSLOsTiersExactly(t *testing.T) {
	base := fixture()[0]
	tests := []struct {
		name     string
		alerting slo.Alerting
		want     []string
	}{
		{"both", slo.Alerting{}, []string{"page tier 1", "page tier 2", "ticket tier 3", "ticket tier 4"}},
		{"ticket disabled", slo.Alerting{Ticket: slo.Severity{Disabled: true}}, []string{"page tier 1", "page tier 2"}},
		{"page disabled", slo.Alerting{Page: slo.Severity{Disabled: true}}, []string{"ticket tier 1", "ticket tier 2"}},
		{"none", slo.Alerting{Page: slo.Severity{Disabled: true}, Ticket: slo.Severity{Disabled: true}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := base
			o.Alerting = tt.alerting
			d, err := dashboards.Detail(o)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			row := false
			for _, p := range d.Panels {
				if p.RowPanel != nil && p.RowPanel.Title != nil && *p.RowPanel.Title == "Burn rate by alert tier" {
					row = true
				}
				if p.Panel == nil || p.Panel.Title == nil || !strings.Contains(*p.Panel.Title, " tier ") {
					continue
				}
				title, _, _ := strings.Cut(*p.Panel.Title, ":")
				got = append(got, title)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") || row != (len(tt.want) > 0) {
				t.Errorf("tier panels %q (row %v), want %q", got, row, tt.want)
			}
			if len(tt.want) == 0 {
				return
			}
			// Threshold lines of the error-ratio timeline: one per enabled burn rate.
			data := string(mustJSON(t, d))
			for _, w := range o.Windows() {
				if o.Enabled(w.Severity) {
					continue
				}
				if strings.Contains(data, slo.FormatFloat(w.BurnRate)+"× over "+slo.FormatWindow(w.Long)) {
					t.Errorf("disabled %s tier %s× over %s still drawn", w.Severity, slo.FormatFloat(w.BurnRate), slo.FormatWindow(w.Long))
				}
			}
		})
	}
}
