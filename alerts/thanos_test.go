package alerts_test

import (
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/internal/engine"
	"github.com/slokit/slokit/internal/testutil"
	"github.com/slokit/slokit/slo"
)

// globalObjective is goodObjective evaluated over every cluster, with per-cluster burn
// rates kept, scraped and evaluated every minute.
func globalObjective() slo.Objective {
	o := goodObjective()
	o.Name = "checkout-global"
	o.ScrapeInterval = time.Minute
	o.Scope = slo.Scope{Global: true, PerClusterBurn: true}
	return o
}

func loadGlobalSpec(t *testing.T) []*slo.Service {
	t.Helper()
	svcs, ds := slo.LoadFiles("../slo/testdata/valid/global.yaml")
	if err := ds.Err(); err != nil {
		t.Fatal(err)
	}
	return svcs
}

// TestThanosGolden pins the Thanos Ruler file of the global test spec, and checks that
// its per-cluster SLO stays in the Prometheus file, which carries no Thanos field.
func TestThanosGolden(t *testing.T) {
	svcs := loadGlobalSpec(t)
	f, err := alerts.ThanosRuleFile(svcs, alerts.Options{GrafanaURL: "https://grafana.example"})
	if err != nil {
		t.Fatal(err)
	}
	data, err := alerts.MarshalRuleFile(f)
	if err != nil {
		t.Fatal(err)
	}
	compareGolden(t, "testdata/rules/thanos/shortlink.thanos.rules.yaml", data)

	prom, err := alerts.RuleFile(svcs, alerts.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(prom.Groups) != 2 || prom.Groups[0].Name != "slokit-shortlink" || prom.Groups[1].Name != "slokit-shortlink-long" ||
		len(prom.Groups[0].Rules)+len(prom.Groups[1].Rules) != 11 || !strings.Contains(prom.Groups[0].Rules[0].Expr, `route="/api"`) {
		t.Fatalf("Prometheus file groups = %+v, want the service's two groups with only the per-cluster SLO's 11 rules", prom.Groups)
	}
	pdata, err := alerts.MarshalRuleFile(prom)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(pdata), "partial_response_strategy") {
		t.Fatal("the Prometheus rule file carries partial_response_strategy, which promtool and Prometheus refuse")
	}
}

// TestThanosGroupsDesign pins the two groups of a global SLO: what each holds and its
// partial-response strategy.
func TestThanosGroupsDesign(t *testing.T) {
	o := globalObjective()
	gs, err := alerts.ThanosGroups(o, alerts.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(gs) != 2 {
		t.Fatalf("%d groups, want 2", len(gs))
	}
	names := func(g slo.RuleGroup) (recs, alts []string) {
		for _, r := range g.Rules {
			if r.Alert != "" {
				alts = append(alts, r.Alert)
			} else {
				recs = append(recs, r.Record)
			}
		}
		return recs, alts
	}
	main, meta := gs[0], gs[1]
	if main.Name != slo.RuleGroupName(o) || main.PartialResponseStrategy != "abort" || main.Interval != "1m" {
		t.Errorf("first group %s strategy %q interval %s, want %s abort 1m", main.Name, main.PartialResponseStrategy, main.Interval, slo.RuleGroupName(o))
	}
	_, alts := names(main)
	if strings.Join(alts, ",") != "ShopCheckoutGlobal,ShopCheckoutGlobal" {
		t.Errorf("abort group alerts %v, want the page and ticket burn-rate alerts only", alts)
	}
	if meta.Name != slo.RuleGroupName(o)+"-clusters" || meta.PartialResponseStrategy != "warn" {
		t.Errorf("second group %s strategy %q, want %s-clusters warn", meta.Name, meta.PartialResponseStrategy, slo.RuleGroupName(o))
	}
	recs, alts := names(meta)
	if recs[0] != slo.MetricClusterPresent || len(recs) != 1+5 { // present + 5 raw windows up to 6h
		t.Errorf("warn group records %v, want %s then the per-cluster burn rates", recs, slo.MetricClusterPresent)
	}
	want := "ShopCheckoutGlobalNoData,ShopCheckoutGlobalClusterMissing,ShopCheckoutGlobalNotEvaluated"
	if strings.Join(alts, ",") != want {
		t.Errorf("warn group alerts %v, want %s", alts, want)
	}
	p := parser.NewParser(parser.Options{})
	for _, g := range gs {
		for _, r := range g.Rules {
			if got, err := slo.CanonicalExpr(p, r.Expr); err != nil || got != r.Expr {
				t.Errorf("%s %s%s: expression not canonical (%v):\n got %s\nwant %s", g.Name, r.Record, r.Alert, err, r.Expr, got)
			}
		}
	}
	if _, err := alerts.ThanosGroups(goodObjective(), alerts.Options{}); err == nil {
		t.Error("ThanosGroups accepted a per-cluster objective")
	}
	if m := o.ClusterMissingLabels(); m["severity"] != "ticket" || m[slo.LabelSLO] != o.Name {
		t.Errorf("ClusterMissing labels %v, want severity ticket and the SLO's rule labels", m)
	}
}

// twoClusters appends the scenario of the global engine tests: cluster a served by an HA
// pair of Prometheus replicas (a0, a1: the same counters twice), 10 req/s without errors;
// cluster b, one replica, 10 req/s at 10% errors until lost (b's series stop then).
// Sampled every minute from start over d.
func twoClusters(t *testing.T, e *engine.Engine, start time.Time, d, bLostAfter time.Duration) {
	t.Helper()
	series := func(cluster, replica, code string) labels.Labels {
		return labels.FromStrings("__name__", "http_requests_total", "job", "shop", "handler", "/checkout",
			"code", code, "cluster", cluster, "prometheus_replica", replica)
	}
	type counter struct {
		lset labels.Labels
		rate float64
		upTo time.Duration
	}
	cs := []counter{
		{series("a", "a0", "200"), 10, d}, {series("a", "a1", "200"), 10, d},
		{series("b", "b0", "200"), 9, bLostAfter}, {series("b", "b0", "500"), 1, bLostAfter},
	}
	for at := time.Duration(0); at <= d; at += time.Minute {
		for _, c := range cs {
			if at > c.upTo {
				continue
			}
			if err := e.Append(c.lset, start.Add(at), c.rate*at.Seconds()); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestGlobalRulesCountEachClusterOnce evaluates the Thanos groups in the Prometheus
// engine over two clusters, one of them an HA pair nobody deduplicated: the global error
// ratio is bad events over all events, each cluster counted once (1/20 = 5%; summing the
// replicas would give 1/30), the per-cluster burn rates are each cluster's own, the page
// fires; once cluster b is lost, ClusterMissing fires for b after its `for`.
func TestGlobalRulesCountEachClusterOnce(t *testing.T) {
	o := globalObjective()
	gs, err := alerts.ThanosGroups(o, alerts.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var fired []engine.Transition
	e := engine.New(engine.Options{Interval: o.Evaluation(), OnTransition: func(tr engine.Transition) {
		if tr.To == engine.StateFiring {
			fired = append(fired, tr)
		}
	}})
	if err := e.LoadGroups(gs); err != nil {
		t.Fatal(err)
	}
	start := time.Unix(1_700_000_000, 0).UTC()
	lost := 2 * time.Hour
	twoClusters(t, e, start, 3*time.Hour, lost)
	ctx := context.Background()
	if err := e.Run(ctx, start, start.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	at := start.Add(lost)
	query := func(q string) promql.Vector {
		t.Helper()
		v, _, err := e.Query(ctx, q, at)
		if err != nil {
			t.Fatal(err)
		}
		return v.(promql.Vector)
	}
	for _, w := range []time.Duration{5 * time.Minute, time.Hour} {
		v := query(slo.SeriesSelector(o, slo.MetricBurnRate, w))
		if len(v) != 1 || math.Abs(v[0].F*o.ErrorBudget()-0.05) > 1e-9 {
			t.Errorf("global %s error ratio %v, want one series at 0.05 (b's 1 bad/s over 20 req/s, a counted once)", slo.FormatWindow(w), v)
		}
	}
	per := map[string]float64{}
	for _, s := range query(slo.SeriesSelector(o, slo.MetricClusterBurnRate, 5*time.Minute)) {
		per[s.Metric.Get("cluster")] = s.F * o.ErrorBudget()
	}
	if len(per) != 2 || per["a"] != 0 || math.Abs(per["b"]-0.1) > 1e-9 {
		t.Errorf("per-cluster 5m error ratios %v, want a 0 and b 0.1", per)
	}
	if n := len(query(slo.SeriesSelector(o, slo.MetricClusterPresent, 0))); n != 2 {
		t.Errorf("%d clusters present, want 2", n)
	}
	var page, missing *engine.Transition
	for i, tr := range fired {
		switch {
		case tr.Name == o.AlertName() && tr.Labels["severity"] == "page" && page == nil:
			page = &fired[i]
		case tr.Name == o.ClusterMissingAlertName():
			missing = &fired[i]
		}
	}
	if page == nil || page.At.After(start.Add(30*time.Minute)) {
		t.Errorf("page fired at %v, want within 30m of a 5%% global error ratio (3.5× the 1h/5m threshold)", page)
	}
	if missing == nil || missing.Labels["cluster"] != "b" {
		t.Fatalf("ClusterMissing fired %+v, want it for cluster b", missing)
	}
	// b's last sample is at 2h; the lookback keeps it present 5m more, then `for` 5m.
	if d := missing.At.Sub(at); d < 10*time.Minute || d > 12*time.Minute {
		t.Errorf("ClusterMissing fired %v after b's last sample, want 10m (5m lookback + 5m for) to 12m", d)
	}
}

// TestNotEvaluatedWhenTheAbortGroupFails loads only the warn group, as if every
// evaluation of the abort group failed on a partial response: NotEvaluated must page
// within its window and `for`. With both groups it must stay silent, and with no data at
// all the no-data alert speaks instead.
func TestNotEvaluatedWhenTheAbortGroupFails(t *testing.T) {
	o := globalObjective()
	gs, err := alerts.ThanosGroups(o, alerts.Options{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Unix(1_700_000_000, 0).UTC()
	run := func(groups []slo.RuleGroup, data bool) map[string]time.Duration {
		t.Helper()
		first := map[string]time.Duration{}
		e := engine.New(engine.Options{Interval: o.Evaluation(), OnTransition: func(tr engine.Transition) {
			if _, seen := first[tr.Name]; !seen && tr.To == engine.StateFiring {
				first[tr.Name] = tr.At.Sub(start)
			}
		}})
		if err := e.LoadGroups(groups); err != nil {
			t.Fatal(err)
		}
		if data {
			twoClusters(t, e, start, time.Hour, time.Hour)
		}
		if err := e.Run(context.Background(), start, start.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		return first
	}
	blind := o.NotEvaluatedAlertName()
	got := run(gs[1:], true)
	if d, ok := got[blind]; !ok || d > 2*o.NotEvaluatedWindow()+o.Evaluation() {
		t.Errorf("abort group failing: %s fired after %v (fired: %v), want within 2 × %v", blind, d, got, o.NotEvaluatedWindow())
	}
	if got := run(gs, true); got[blind] != 0 {
		t.Errorf("both groups evaluated: %s fired after %v, want never", blind, got[blind])
	}
	got = run(gs, false)
	if _, ok := got[blind]; ok {
		t.Errorf("no data at all: %s fired, want only %s", blind, o.NoDataAlertName())
	}
	if _, ok := got[o.NoDataAlertName()]; !ok {
		t.Errorf("no data at all: %s did not fire (fired: %v)", o.NoDataAlertName(), got)
	}
}

// thanosBinary is the Thanos binary built by .ci/thanos.sh: $THANOS, else the cached
// build; missing, the test skips loudly (fails under SLOKIT_REQUIRE_REAL=1).
func thanosBinary(t *testing.T) string {
	t.Helper()
	p := os.Getenv("THANOS")
	if p == "" {
		p = testutil.Cache("thanos", "v0.42.5", "thanos")
	}
	if st, err := os.Stat(p); err != nil || st.IsDir() {
		testutil.Missing(t, "no Thanos binary at %s; build it once with bash .ci/thanos.sh (or set THANOS)", p)
	}
	return p
}

// TestThanosRulesCheck runs Thanos' own rule-file validation (thanos tools rules-check) on
// the Thanos Ruler file of every spec with global SLOs, and checks that it refuses a broken
// partial_response_strategy (so that it really reads the field).
func TestThanosRulesCheck(t *testing.T) {
	thanos := thanosBinary(t)
	dir := t.TempDir()
	var args []string
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	f, err := alerts.ThanosRuleFile(loadGlobalSpec(t), alerts.Options{GrafanaURL: "https://grafana.example"})
	if err != nil {
		t.Fatal(err)
	}
	f2, err := alerts.ThanosRuleFile([]*slo.Service{{Name: "shop", Objectives: []slo.Objective{globalObjective()}}}, alerts.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i, rf := range []slo.RuleFile{f, f2} {
		data, err := alerts.MarshalRuleFile(rf)
		if err != nil {
			t.Fatal(err)
		}
		args = append(args, "--rules", write("global"+string(rune('a'+i))+".rules.yaml", data))
	}
	out, err := exec.Command(thanos, append([]string{"tools", "rules-check"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("thanos tools rules-check: %v\n%s", err, out)
	}
	t.Logf("thanos tools rules-check:\n%s", out)
	if n := strings.Count(string(out), "result=SUCCESS"); n != 2 {
		t.Fatalf("thanos tools rules-check reported %d successes for 2 files", n)
	}
	data, _ := alerts.MarshalRuleFile(f)
	bad := write("bad.rules.yaml", []byte(strings.Replace(string(data), "partial_response_strategy: abort", "partial_response_strategy: sometimes", 1)))
	if out, err := exec.Command(thanos, "tools", "rules-check", "--rules", bad).CombinedOutput(); err == nil {
		t.Fatalf("thanos tools rules-check accepted partial_response_strategy: sometimes:\n%s", out)
	}
}

// TestGroupsPicksWhereTheObjectiveRuns: Groups is Group for a per-cluster objective and
// ThanosGroups for a global one.
func TestGroupsPicksWhereTheObjectiveRuns(t *testing.T) {
	glob := globalObjective()
	local := glob
	local.Scope = slo.Scope{}
	for _, tc := range []struct {
		o    slo.Objective
		want func() ([]slo.RuleGroup, error)
	}{
		{local, func() ([]slo.RuleGroup, error) {
			g, err := alerts.Group(local, alerts.Options{})
			return []slo.RuleGroup{g}, err
		}},
		{glob, func() ([]slo.RuleGroup, error) { return alerts.ThanosGroups(glob, alerts.Options{}) }},
	} {
		got, err := alerts.Groups(tc.o, alerts.Options{})
		if err != nil {
			t.Fatal(err)
		}
		want, err := tc.want()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("global=%v: Groups gave %d groups, not those of the generator for its scope", tc.o.IsGlobal(), len(got))
		}
	}
}
