package backtest

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/internal/engine"
	"github.com/slokit/slokit/internal/testutil"
	"github.com/slokit/slokit/slo"
)

// promCase is one SLO × scenario replayed both in slokit's engine and in a running
// Prometheus. Every case gets its own label (case="cN") on its series and its own SLO
// name, so all cases share one TSDB and one time range without reading each other.
type promCase struct {
	o     slo.Objective
	sc    Scenario
	group slo.RuleGroup
	// truth[key][k] says whether any instance of the alert key (alertname|severity) was
	// active (pending or firing: the expression returned it) at evaluation k.
	truth map[string][]bool
	// loose[key][k] marks evaluations within 4 of an ill-conditioned firing of key (see
	// illConditioned), where Prometheus 2's left-closed windows may move the crossing.
	loose map[string][]bool
	steps int
}

// isolate renames o and adds case=id to its selectors.
func isolate(o slo.Objective, id string) slo.Objective {
	o.Name = o.Name + "-" + id
	add := func(sel string) string {
		i := strings.Index(sel, "{")
		if i < 0 {
			return sel + `{case="` + id + `"}`
		}
		return sel[:i+1] + `case="` + id + `",` + sel[i+1:]
	}
	switch {
	case o.SLI.Events != nil:
		ev := *o.SLI.Events
		ev.Bad, ev.Total = add(ev.Bad), add(ev.Total)
		o.SLI.Events = &ev
	case o.SLI.Latency != nil:
		l := *o.SLI.Latency
		l.Selector = maps.Clone(l.Selector)
		l.Selector["case"] = id
		o.SLI.Latency = &l
	}
	return o
}

// agreementScenario is sc as both sides replay it: without staleness markers (a backfill
// cannot write them) and 7s later in phase, so no scrape lands on the edge of a window
// (Prometheus 2 range selectors include the sample at the left edge, 3 do not).
func agreementScenario(sc Scenario, interval time.Duration) Scenario {
	sc.Scrape.NoStaleness = true
	iv := cmp.Or(sc.Scrape.Interval, interval)
	sc.Scrape.Offset = (sc.Scrape.Offset + 7*time.Second) % iv
	return sc
}

// alertKey names an alerting rule's alerts: page and ticket share their name.
func alertKey(name string, lset map[string]string) string { return name + "|" + lset["severity"] }

// slokitTruth replays c in the fast evaluator and fills c.truth from its transitions.
func (c *promCase) slokitTruth(t *testing.T, opts Options) []inputSeries {
	t.Helper()
	input, err := inputFor(c.o, c.sc, opts)
	if err != nil {
		t.Fatal(err)
	}
	c.steps = int(c.sc.Duration()/opts.EvalInterval) + 1
	c.truth = map[string][]bool{}
	active := map[string]map[string]bool{} // key → instance → active
	var trs []engine.Transition
	eng := engine.New(engine.Options{Interval: opts.EvalInterval, Retention: -1,
		OnTransition: func(tr engine.Transition) { trs = append(trs, tr) }})
	if err := eng.LoadGroups([]slo.RuleGroup{c.group}); err != nil {
		t.Fatal(err)
	}
	for _, s := range input {
		ts := make([]int64, len(s.ts))
		for i, at := range s.ts {
			ts[i] = Epoch.Add(at).UnixMilli()
		}
		if err := eng.Store().AppendSeries(s.labels, ts, s.vs); err != nil {
			t.Fatal(err)
		}
	}
	if err := eng.Run(context.Background(), Epoch, Epoch.Add(c.sc.Duration())); err != nil {
		t.Fatal(err)
	}
	c.loose = map[string][]bool{}
	for _, r := range c.group.Rules {
		if r.Alert != "" {
			c.truth[alertKey(r.Alert, r.Labels)] = make([]bool, c.steps)
			c.loose[alertKey(r.Alert, r.Labels)] = make([]bool, c.steps)
		}
	}
	for _, tr := range trs {
		l := c.loose[alertKey(tr.Name, tr.Labels)]
		if l != nil && illConditioned(tr, c.o, opts.EvalInterval) {
			k := int(tr.At.Sub(Epoch) / opts.EvalInterval)
			for j := max(0, k-4); j <= min(c.steps-1, k+4); j++ {
				l[j] = true
			}
		}
	}
	next := 0
	for k := 0; k < c.steps; k++ {
		at := Epoch.Add(time.Duration(k) * opts.EvalInterval)
		for ; next < len(trs) && !trs[next].At.After(at); next++ {
			tr := trs[next]
			key := alertKey(tr.Name, tr.Labels)
			if active[key] == nil {
				active[key] = map[string]bool{}
			}
			inst := fmt.Sprint(tr.Labels)
			if tr.To == engine.StateInactive {
				delete(active[key], inst)
			} else {
				active[key][inst] = true
			}
		}
		for key, insts := range active {
			if len(insts) > 0 {
				c.truth[key][k] = true
			}
		}
	}
	return input
}

// omSeries is one series to backfill: labels, timestamps (ms) and values.
type omSeries struct {
	lset labels.Labels
	ts   []int64
	vs   []float64
}

// writeOpenMetrics writes series as an OpenMetrics file (families contiguous, samples in
// time order, "# EOF"), the input of promtool tsdb create-blocks-from openmetrics.
func writeOpenMetrics(t *testing.T, file string, series []omSeries) int {
	t.Helper()
	slices.SortFunc(series, func(a, b omSeries) int { return labels.Compare(a.lset, b.lset) })
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b strings.Builder
	n := 0
	for _, s := range series {
		var head strings.Builder
		head.WriteString(s.lset.Get(labels.MetricName))
		head.WriteByte('{')
		first := true
		s.lset.Range(func(l labels.Label) {
			if l.Name == labels.MetricName {
				return
			}
			if !first {
				head.WriteByte(',')
			}
			first = false
			head.WriteString(l.Name + "=" + strconv.Quote(l.Value))
		})
		head.WriteByte('}')
		h := head.String()
		for i, ts := range s.ts {
			if math.Float64bits(s.vs[i]) == math.Float64bits(staleNaN) {
				t.Fatalf("%s: a staleness marker cannot be backfilled", s.lset)
			}
			fmt.Fprintf(&b, "%s %s %d.%03d\n", h, strconv.FormatFloat(s.vs[i], 'g', -1, 64), ts/1000, ts%1000)
			n++
		}
		if b.Len() > 1<<20 {
			if _, err := f.WriteString(b.String()); err != nil {
				t.Fatal(err)
			}
			b.Reset()
		}
	}
	b.WriteString("# EOF\n")
	if _, err := f.WriteString(b.String()); err != nil {
		t.Fatal(err)
	}
	return n
}

// backfill turns an OpenMetrics file into TSDB blocks under out with the Debian promtool.
func backfill(t *testing.T, promtool, file, out string) {
	t.Helper()
	if o, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", file, out).CombinedOutput(); err != nil {
		t.Fatalf("promtool tsdb create-blocks-from openmetrics: %v\n%s", err, tail(string(o), 2000))
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// startOn starts the Debian Prometheus on the blocks under dirs.
func startOn(t *testing.T, dirs ...string) v1.API {
	t.Helper()
	srv := testutil.StartPrometheus(t, "global:\n  evaluation_interval: 30s\n", func(dir string) {
		data := filepath.Join(dir, "data")
		for _, d := range dirs {
			ents, err := os.ReadDir(d)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range ents {
				if e.IsDir() {
					if err := os.CopyFS(filepath.Join(data, e.Name()), os.DirFS(filepath.Join(d, e.Name()))); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	})
	cl, err := api.NewClient(api.Config{Address: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return v1.NewAPI(cl)
}

// queryRange evaluates expr at every evaluation step of [0, steps) (in chunks below the
// API's 11,000 points) and returns its series.
func queryRange(t *testing.T, prom v1.API, expr string, steps int, step time.Duration) model.Matrix {
	t.Helper()
	byKey := map[string]*model.SampleStream{}
	var order []string
	const chunk = 10000
	for k0 := 0; k0 < steps; k0 += chunk {
		k1 := min(k0+chunk, steps) - 1
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		val, _, _, err := prom.QueryRange(ctx, expr, v1.Range{Start: Epoch.Add(time.Duration(k0) * step), End: Epoch.Add(time.Duration(k1) * step), Step: step})
		cancel()
		if err != nil {
			t.Fatalf("query_range %s: %v", expr, err)
		}
		for _, s := range val.(model.Matrix) {
			k := s.Metric.String()
			if byKey[k] == nil {
				byKey[k] = &model.SampleStream{Metric: s.Metric}
				order = append(order, k)
			}
			byKey[k].Values = append(byKey[k].Values, s.Values...)
		}
	}
	out := make(model.Matrix, 0, len(order))
	for _, k := range order {
		out = append(out, byKey[k])
	}
	return out
}

// recordingStages orders the recording rules the alerting rules depend on: a rule's stage
// is one more than the highest stage of the recorded names it reads (raw series: 0), so
// every stage reads only series backfilled before it. Rules no alert reads are left out.
func recordingStages(t *testing.T, g slo.RuleGroup) [][]slo.Rule {
	t.Helper()
	reads := func(expr string) []string {
		e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
			if vs, ok := n.(*parser.VectorSelector); ok {
				names = append(names, vs.Name)
			}
			return nil
		})
		return names
	}
	stageOf := map[string]int{}
	needed := map[string]bool{}
	for _, r := range g.Rules {
		if r.Alert != "" {
			for _, n := range reads(r.Expr) {
				needed[n] = true
			}
		}
	}
	// Close needed over the recording rules' inputs (rules come in dependency order).
	for i := len(g.Rules) - 1; i >= 0; i-- {
		if r := g.Rules[i]; r.Record != "" && needed[r.Record] {
			for _, n := range reads(r.Expr) {
				needed[n] = true
			}
		}
	}
	var stages [][]slo.Rule
	for _, r := range g.Rules {
		if r.Record == "" || !needed[r.Record] {
			continue
		}
		s := 1
		for _, n := range reads(r.Expr) {
			s = max(s, stageOf[n]+1)
		}
		stageOf[r.Record] = max(stageOf[r.Record], s)
		for len(stages) < s {
			stages = append(stages, nil)
		}
		stages[s-1] = append(stages[s-1], r)
	}
	return stages
}

// recordedSeries turns a recording rule's range result into the series Prometheus' rule
// manager would record: the result's labels, then the rule's, then its name.
func recordedSeries(r slo.Rule, m model.Matrix) []omSeries {
	out := make([]omSeries, 0, len(m))
	for _, s := range m {
		lb := labels.NewBuilder(labels.EmptyLabels())
		for n, v := range s.Metric {
			lb.Set(string(n), string(v))
		}
		for n, v := range r.Labels {
			lb.Set(n, v)
		}
		lb.Set(labels.MetricName, r.Record)
		ser := omSeries{lset: lb.Labels()}
		for _, p := range s.Values {
			ser.ts, ser.vs = append(ser.ts, int64(p.Timestamp)), append(ser.vs, float64(p.Value))
		}
		out = append(out, ser)
	}
	return out
}

// agreementCases are the SLO × scenario pairs compared with the running Prometheus: a
// representative subset by default (every scrape-model and silent-condition scenario on
// an events SLO, the latency ones on a latency SLO), every built-in scenario on the four
// shortlink SLOs with SLOKIT_AGREE_ALL=1, or on the SLOs it lists
// (SLOKIT_AGREE_ALL=redirect-latency,create-latency), a shard small enough to backfill.
func agreementCases(t *testing.T) []*promCase {
	slos := shortlink(t)
	var out []*promCase
	add := func(o slo.Objective, sc Scenario) {
		id := "c" + strconv.Itoa(len(out))
		iso := isolate(o, id)
		g, err := alerts.Group(iso, alerts.Options{})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, &promCase{o: iso, sc: agreementScenario(sc, 30*time.Second), group: g})
	}
	if all := os.Getenv("SLOKIT_AGREE_ALL"); all != "" && all != "0" {
		names := []string{"redirect-availability", "redirect-latency", "create-availability", "create-latency"}
		if all != "1" {
			names = strings.Split(all, ",") // one shard: SLOKIT_AGREE_ALL=create-latency
		}
		for _, name := range names {
			if _, ok := slos[name]; !ok {
				t.Fatalf("SLOKIT_AGREE_ALL=%s: no shortlink SLO %q (1 runs all four)", all, name)
			}
			for _, sc := range Builtin(slos[name]) {
				if !sc.LatencyOnly || slos[name].SLI.Latency != nil {
					add(slos[name], sc)
				}
			}
		}
		return out
	}
	for _, name := range []string{"total-outage", "errors-10pct", "spikes", "counter-reset", "lazy-first-error", "multi-instance",
		"scrape-jitter", "gap-outage", "coarse-scrape", "missing-data", "series-absent", "metric-renamed"} {
		add(slos["redirect-availability"], builtin(t, slos["redirect-availability"], name))
	}
	for _, name := range []string{"latency-degradation", "gap-outage", "between-buckets"} {
		add(slos["redirect-latency"], builtin(t, slos["redirect-latency"], name))
	}
	return out
}

// TestRunningPrometheusAgrees replays scenarios in slokit's fast evaluator and in the
// Debian Prometheus (2.42) on the same data, and compares every alerting rule's truth
// (its expression returns a series: the alert is pending or firing) at every evaluation.
// Prometheus side: the scenario's scraped samples are backfilled with `promtool tsdb
// create-blocks-from openmetrics`, Prometheus is started on the blocks, each stage of
// recording rules is evaluated with query_range at the evaluation steps and its results
// backfilled for the next stage (a restart on the grown TSDB), and the alerting rules'
// expressions are finally evaluated with query_range. A step may disagree only within
// one evaluation interval of a transition slokit measured (Prometheus 2's range
// selectors include the sample at the window's left edge, which for series recorded at
// every evaluation is one sample more in the derived windows), or within four of an
// ill-conditioned firing (illConditioned: a burn that barely crosses its threshold, where
// that one sample moves the crossing further); the test reports how many steps agree.
func TestRunningPrometheusAgrees(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Prometheus three times; not in -short")
	}
	promtool := testutil.Binary(t, "promtool")
	testutil.Binary(t, "prometheus")
	opts := Options{}
	opts.defaults()
	cases := agreementCases(t)
	dir := t.TempDir()
	var raw []omSeries
	for _, c := range cases {
		for _, s := range c.slokitTruth(t, opts) {
			ser := omSeries{lset: s.labels, vs: s.vs}
			for _, at := range s.ts {
				ser.ts = append(ser.ts, Epoch.Add(at).UnixMilli())
			}
			raw = append(raw, ser)
		}
	}
	blockDirs := []string{filepath.Join(dir, "raw")}
	n := writeOpenMetrics(t, filepath.Join(dir, "raw.om"), raw)
	backfill(t, promtool, filepath.Join(dir, "raw.om"), blockDirs[0])
	t.Logf("backfilled %d samples of %d series for %d cases", n, len(raw), len(cases))
	nStages := len(recordingStages(t, cases[0].group))
	for st := 0; st < nStages; st++ {
		prom := startOn(t, blockDirs...)
		var rec []omSeries
		for _, c := range cases {
			for _, r := range recordingStages(t, c.group)[st] {
				rec = append(rec, recordedSeries(r, queryRange(t, prom, r.Expr, c.steps, opts.EvalInterval))...)
			}
		}
		file := filepath.Join(dir, fmt.Sprintf("stage%d.om", st+1))
		out := filepath.Join(dir, fmt.Sprintf("stage%d", st+1))
		n := writeOpenMetrics(t, file, rec)
		backfill(t, promtool, file, out)
		blockDirs = append(blockDirs, out)
		t.Logf("stage %d: %d recorded samples of %d series", st+1, n, len(rec))
	}
	prom := startOn(t, blockDirs...)
	total, agree, transitions, shifted, active, loose := 0, 0, 0, 0, 0, 0
	for _, c := range cases {
		for _, r := range c.group.Rules {
			if r.Alert == "" {
				continue
			}
			key := alertKey(r.Alert, r.Labels)
			theirs := make([]bool, c.steps)
			for _, s := range queryRange(t, prom, r.Expr, c.steps, opts.EvalInterval) {
				for _, p := range s.Values {
					theirs[int(time.Duration(p.Timestamp)*time.Millisecond/opts.EvalInterval)] = true
				}
			}
			ours := c.truth[key]
			for k := range ours {
				if k > 0 && ours[k] != ours[k-1] {
					transitions++
				}
				total++
				if theirs[k] {
					active++
				}
				if ours[k] == theirs[k] {
					agree++
					continue
				}
				shifted++
				near := (k > 0 && ours[k-1] != ours[k]) || (k+1 < len(ours) && ours[k+1] != ours[k])
				if !near && c.loose[key][k] {
					near = true
					loose++
				}
				if !near {
					t.Errorf("%s %s %s: at %s slokit says %v, Prometheus %v, not next to a transition",
						c.o.Name, c.sc.Name, key, fmtDur(time.Duration(k)*opts.EvalInterval), ours[k], theirs[k])
				}
			}
		}
	}
	t.Logf("running Prometheus 2.42 vs slokit's fast evaluator: %d cases, %d of %d alert-rule evaluations agree (%.4f%%; %d with the alert active in Prometheus); %d transitions, %d steps differ next to one (%d of them up to 4 steps from an ill-conditioned firing)",
		len(cases), agree, total, 100*float64(agree)/float64(total), active, transitions, shifted, loose)
	if transitions < len(cases) {
		t.Errorf("only %d transitions over %d cases: the comparison proves too little", transitions, len(cases))
	}
}
