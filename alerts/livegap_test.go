package alerts_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/internal/testutil"
	"github.com/slokit/slokit/slo"
)

// The 20-minute gap on a RUNNING Prometheus (docs/rules.md, "On a running Prometheus").
// A real-time 20-minute gap is too slow for CI, so the past is written, not waited for:
// before the Debian Prometheus starts, `promtool tsdb create-blocks-from openmetrics`
// writes 30 days of the recorded base-window rates (what the rules would have recorded
// running for a month: a healthy 10 req/s) and the last 7 hours of the raw counters, up to
// 20 minutes before now. Those 20 minutes are the gap: nothing is scraped while a
// 15-minute total outage happens. Then Prometheus starts and scrapes the real target,
// whose counters carry the gap's events, and evaluates the generated rules live. The
// timestamps are real and uncompressed: this is the condition itself, not a scaled copy.

// gapTimeline is the synthetic history: 10 req/s since histStart, a total outage over
// [outFrom, outTo).
type gapTimeline struct {
	histStart, outFrom, outTo time.Time
}

const gapRPS = 10.0

// counts returns the good and bad events from histStart to t.
func (g gapTimeline) counts(t time.Time) (good, bad float64) {
	total := gapRPS * t.Sub(g.histStart).Seconds()
	from, to := g.outFrom, g.outTo
	if t.Before(to) {
		to = t
	}
	if to.After(from) {
		bad = gapRPS * to.Sub(from).Seconds()
	}
	return total - bad, bad
}

// openMetrics writes the backfill: the raw counters of instance every 30s from histStart
// to lastRaw, and the recorded base-window rates every eval (the long group's interval)
// for 30 days up to now.
func (g gapTimeline) openMetrics(w *bufio.Writer, instance string, lastRaw, now time.Time, rec map[string]map[string]string, eval time.Duration) {
	ts := func(t time.Time) string { return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64) }
	for _, code := range []string{"200", "500"} {
		for t := g.histStart; !t.After(lastRaw); t = t.Add(30 * time.Second) {
			good, bad := g.counts(t)
			v := good
			if code == "500" {
				v = bad
			}
			fmt.Fprintf(w, "http_requests_total{code=%q,instance=%q,job=\"api\"} %s %s\n", code, instance, slo.FormatFloat(v), ts(t))
		}
	}
	names := make([]string, 0, len(rec))
	for n := range rec {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		v := "0"
		if name == slo.MetricTotalRate {
			v = slo.FormatFloat(gapRPS)
		}
		for t := now.Add(-30 * 24 * time.Hour); t.Before(now); t = t.Add(eval) {
			fmt.Fprintf(w, "%s%s %s %s\n", name, labelText(rec[name]), v, ts(t))
		}
	}
	w.WriteString("# EOF\n")
}

func labelText(ls map[string]string) string {
	keys := make([]string, 0, len(ls))
	for k := range ls {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + strconv.Quote(ls[k])
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// baseRecords returns the labels of the recorded base-window rates the derived windows
// read, from the generated group itself.
func baseRecords(t *testing.T, g slo.RuleGroup) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	for _, r := range g.Rules {
		if r.Record == slo.MetricBadRate || r.Record == slo.MetricTotalRate {
			out[r.Record] = r.Labels
		}
	}
	if len(out) != 2 {
		t.Fatalf("the generated group records %d of %s and %s: the backfill no longer fits the rules' construction", len(out), slo.MetricBadRate, slo.MetricTotalRate)
	}
	return out
}

// gapTarget serves the counters of the timeline at scrape time and records the first scrape.
type gapTarget struct {
	g     gapTimeline
	mu    sync.Mutex
	first time.Time
}

func (tg *gapTarget) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	tg.mu.Lock()
	if tg.first.IsZero() {
		tg.first = now
	}
	tg.mu.Unlock()
	good, bad := tg.g.counts(now)
	fmt.Fprintf(w, "http_requests_total{code=\"200\"} %s\nhttp_requests_total{code=\"500\"} %s\n", slo.FormatFloat(good), slo.FormatFloat(bad))
}

func (tg *gapTarget) firstScrape() time.Time {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.first
}

// TestGapOutageOnRunningPrometheus: a 15-minute total outage hidden in a 20-minute scrape
// gap pages within 10 minutes after scraping resumes (issue 12's bar; it takes one scrape
// and one evaluation), and the budget remaining counts it (15m of a 43m12s budget: about
// 65% left).
func TestGapOutageOnRunningPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("a real Prometheus with 30 days of backfilled history")
	}
	t.Parallel()
	promtool := testutil.Binary(t, "promtool")
	testutil.Binary(t, "prometheus")
	svcs, ds := slo.LoadFiles("testdata/proof/slos.yaml")
	if err := ds.Err(); err != nil {
		t.Fatal(err)
	}
	var o slo.Objective
	for _, x := range svcs[0].Objectives {
		if x.Name == "availability" {
			o = x
		}
	}
	// The groups as `slokit generate` writes them: the fast one every 30s (raw windows,
	// page) and the long one every 2m30s (base rates, derived windows, budget, ticket).
	gs, err := alerts.ServiceGroups(&slo.Service{Name: o.Service, Objectives: []slo.Objective{o}}, alerts.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(gs) != 2 {
		t.Fatalf("%d groups, want the fast and the long one", len(gs))
	}
	rules, err := alerts.MarshalRuleFile(slo.RuleFile{Groups: gs})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Truncate(time.Second)
	tl := gapTimeline{histStart: now.Add(-7 * time.Hour), outFrom: now.Add(-17*time.Minute - 30*time.Second), outTo: now.Add(-2*time.Minute - 30*time.Second)}
	target := &gapTarget{g: tl}
	srv := httptest.NewServer(target)
	defer srv.Close()
	instance := strings.TrimPrefix(srv.URL, "http://")

	write := func(dir string) {
		if err := os.WriteFile(filepath.Join(dir, "rules.yaml"), rules, 0o644); err != nil {
			t.Fatal(err)
		}
		om := filepath.Join(dir, "history.om")
		f, err := os.Create(om)
		if err != nil {
			t.Fatal(err)
		}
		w := bufio.NewWriterSize(f, 1<<20)
		tl.openMetrics(w, instance, now.Add(-20*time.Minute), now, baseRecords(t, gs[1]), o.LongEvaluation())
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		f.Close()
		out, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=24h", om, filepath.Join(dir, "data")).CombinedOutput()
		if err != nil {
			t.Fatalf("promtool tsdb create-blocks-from openmetrics: %v\n%s", err, out)
		}
		os.Remove(om)
	}
	cfg := fmt.Sprintf("global: {scrape_interval: %s}\nrule_files: [rules.yaml]\nscrape_configs:\n  - job_name: api\n    static_configs: [{targets: ['%s']}]\n",
		slo.FormatWindow(o.Scrape()), instance)
	prom := testutil.StartPrometheusArgs(t, cfg, write, "--storage.tsdb.retention.time=60d")
	started := time.Now()

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	page := fmt.Sprintf(`ALERTS{alertname=%q,slokit_slo=%q,severity="page",alertstate="firing"}`, o.AlertName(), o.Name)
	for {
		if v := promQuery(ctx, t, prom.URL, page); len(v) > 0 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no page %s after the gap (Prometheus up for %s, first scrape %s)", time.Since(started).Round(time.Second), time.Since(started), target.firstScrape())
		case <-time.After(time.Second):
		}
	}
	paged := time.Now()
	first := target.firstScrape()
	after := paged.Sub(first)
	if after > 10*time.Minute {
		t.Errorf("paged %s after scraping resumed, want within 10m", after)
	}
	// The budget is recorded by the long group, at its first evaluation after the scrape
	// resumed: within one long interval (2m30s) plus one scrape.
	var budget []float64
	for {
		budget = promQuery(ctx, t, prom.URL, fmt.Sprintf(`%s{slokit_slo=%q}`, slo.MetricBudgetRemaining, o.Name))
		if len(budget) == 1 && budget[0] < 0.70 || time.Since(first) > o.LongEvaluation()+2*o.Scrape() {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("budget remaining %v, still not counting the gap %s after scraping resumed", budget, time.Since(first))
		case <-time.After(time.Second):
		}
	}
	counted := time.Since(first)
	if len(budget) != 1 || budget[0] < 0.60 || budget[0] > 0.70 {
		t.Errorf("budget remaining %v %s after scraping resumed, want about 0.653 (15m of total outage out of a 43m12s budget) within %s", budget, counted.Round(time.Second), o.LongEvaluation()+2*o.Scrape())
	}
	t.Logf("gap %s (last sample %s before now, first scrape %s after), outage 15m inside it; page %s after the first scrape (Prometheus up for %s); budget remaining %v by %s after the first scrape",
		first.Sub(now.Add(-20*time.Minute)).Round(time.Second), 20*time.Minute, first.Sub(now).Round(time.Second), after.Round(time.Second), paged.Sub(started).Round(time.Second), budget, counted.Round(time.Second))
}

// promQuery returns the values of an instant query's vector.
func promQuery(ctx context.Context, t *testing.T, base, q string) []float64 {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/query?query="+url.QueryEscape(q), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("query %s: %v", q, err)
	}
	var out []float64
	for _, r := range body.Data.Result {
		s, _ := r.Value[1].(string)
		v, _ := strconv.ParseFloat(s, 64)
		out = append(out, v)
	}
	return out
}
