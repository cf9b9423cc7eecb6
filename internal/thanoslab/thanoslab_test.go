package thanoslab_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/chaos/promsource"
	"github.com/slokit/slokit/internal/cli"
	"github.com/slokit/slokit/internal/demo"
	"github.com/slokit/slokit/internal/testutil"
	"github.com/slokit/slokit/internal/thanoslab"
	"github.com/slokit/slokit/slo"
)

// loadRate is each cluster's load in requests per second (8 in 10 are redirects).
const loadRate = 20

// globalSpecYAML is the demo's SLO (98% over 12h, page at 14.4× over 1m and 5s) with
// scope global: one SLO over both clusters, evaluated by Thanos Ruler. Its no-data wait
// (also ClusterMissing's for:) is 10s so that a lost cluster is reported within the test.
const globalSpecYAML = `version: slokit/v1
service: shortlink
labels: {team: platform}
scrapeInterval: 1s
slos:
  - name: redirect-availability
    objective: 98
    period: 12h
    scope: global
    sli:
      events:
        bad: http_requests_total{service="shortlink",route="GET /{code}",code=~"5.."}
        total: http_requests_total{service="shortlink",route="GET /{code}"}
    alerting:
      name: ShortlinkRedirectAvailability
      page: {labels: {severity: page}}
      ticket: {disabled: true}
      noData: {for: 10s}
      windows:
        - {severity: page, long: 1m, short: 5s, burnRate: 14.4}
`

// globalSpec is globalSpecYAML.
func globalSpec(t *testing.T) []byte {
	t.Helper()
	return []byte(globalSpecYAML)
}

// globalSLO returns the SLO of globalSpec and its Thanos Ruler rule file, written by
// 'slokit generate -o thanos'.
func globalSLO(t *testing.T) (slo.Objective, []byte) {
	t.Helper()
	svc, ds := slo.Parse("slos.yaml", globalSpec(t))
	if err := ds.Err(); err != nil {
		t.Fatal(err)
	}
	o := svc.Objectives[0]
	if !o.IsGlobal() {
		t.Fatalf("%s is not global", o.ID())
	}
	spec := filepath.Join(t.TempDir(), "slos.yaml")
	if err := os.WriteFile(spec, globalSpec(t), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := cli.Main(t.Context(), []string{"generate", "-q", "-f", spec, "-o", "thanos"}, nil, &stdout, &stderr); code != cli.ExitOK {
		t.Fatalf("slokit generate -o thanos: exit %d\n%s", code, stderr.String())
	}
	for _, want := range []string{"partial_response_strategy: abort", "partial_response_strategy: warn", o.ClusterMissingAlertName(), o.NotEvaluatedAlertName()} {
		if !strings.Contains(stdout.String(), want) {
			t.Fatalf("the Thanos rule file lacks %q:\n%s", want, stdout.String())
		}
	}
	return o, stdout.Bytes()
}

// pageWindow is o's page tier.
func pageWindow(t *testing.T, o slo.Objective) slo.Window {
	t.Helper()
	for _, w := range o.Windows() {
		if w.Severity == slo.Page {
			return w
		}
	}
	t.Fatalf("%s has no page tier", o.ID())
	return slo.Window{}
}

// TestGlobalSLOPagesThroughThanosRuler is the multi-cluster proof on real components:
// two Debian Prometheus servers (clusters a and b, each scraping its own shortlink edge),
// a Thanos sidecar next to each, Thanos Query over both and Thanos Ruler evaluating the
// global SLO's rules, sending to the Debian Alertmanager. Every redirect of cluster a
// fails: the global error ratio is a's share of the traffic (about 0.5), and the page
// must fire through the ruler within the predicted detection time plus the lag the
// prediction includes (one scrape, one evaluation and the Thanos delay), and reach
// Alertmanager. The rules are slokit's own 'generate -o thanos' output. Then cluster b's
// sidecar is killed: the ruler must not go on evaluating a one-cluster view as if it were
// global; ClusterMissing must name b and NotEvaluated must page, both in Alertmanager.
func TestGlobalSLOPagesThroughThanosRuler(t *testing.T) {
	if testing.Short() {
		t.Skip("real Thanos topology (~5 min)")
	}
	testutil.Thanos(t) // skip (or fail) at once when the binaries are missing
	testutil.Binary(t, "prometheus")
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 7*time.Minute)
	defer cancel()
	am := testutil.StartAlertmanager(t, alertmanagerConfig)
	o, rules := globalSLO(t)
	a, b := startWorkload(t, ctx, loadRate), startWorkload(t, ctx, loadRate)
	lab := startLab(t, ctx, map[string][]byte{"global.yml": rules}, am.URL, map[string]*workload{"a": a, "b": b}, nil)

	sig, err := promsource.New(lab.QueryURL)
	if err != nil {
		t.Fatal(err)
	}
	w := pageWindow(t, o)
	// The long window must hold healthy traffic of both clusters when the fault begins.
	if err := demo.WarmUp(ctx, sig, o, w.Long, w.Long, 90*time.Second, nil); err != nil {
		t.Fatalf("%v\n%s", err, lab.Logs(20))
	}
	if al, err := sig.Alerts(ctx, o); err != nil || len(al) > 0 {
		t.Fatalf("before the fault: alerts %v, err %v; want none", al, err)
	}

	share := clusterShare(t, ctx, lab, "a")
	pred := alerts.Predict(o, w, share)
	if !pred.Fires {
		t.Fatalf("a's share %.2f of the traffic cannot fire the page (threshold %.3f)", share, pred.Threshold)
	}
	a.redirectErrors(t, 100)
	tolerance := 10 * time.Second // a loaded 2-core CI machine: scheduling, Query fan-out
	detect, err := waitFor(ctx, pred.DetectBy()+tolerance, 250*time.Millisecond, func() (bool, error) {
		return firing(ctx, lab, o.AlertName(), "page")
	})
	if err != nil {
		t.Fatalf("the global page did not fire through Thanos Ruler: %v (predicted %s + lag %s for global error ratio %.2f)",
			err, pred.Detect.Round(time.Second/10), pred.Lag, share)
	}
	t.Logf("MEASURED global page fired through Thanos Ruler %s after the fault: predicted %s (%.3f × %s / %.2f) + lag %s (of which Thanos %s) = %s",
		detect.Round(time.Second/10), pred.Detect.Round(time.Second/10), pred.Threshold, w.Long, share, pred.Lag, pred.GlobalDelay, pred.DetectBy().Round(time.Second/10))
	if detect < pred.Detect-5*time.Second {
		t.Errorf("the page fired after %s, more than 5s before the predicted %s: the global ratio is not what the maths says", detect, pred.Detect)
	}
	if took, err := waitFor(ctx, 15*time.Second, 250*time.Millisecond, func() (bool, error) {
		got, err := amAlerts(ctx, am.URL)
		return got[o.AlertName()], err
	}); err != nil {
		t.Errorf("Alertmanager never received %s from the ruler: %v", o.AlertName(), err)
	} else {
		t.Logf("MEASURED Alertmanager holds the page %s after the fault", (detect + took).Round(time.Second/10))
	}

	partialResponse(t, ctx, lab, o, am.URL)
}

// clusterShare is cluster's share of the SLO's total events over the last 30s, read
// through Query.
func clusterShare(t *testing.T, ctx context.Context, lab *thanoslab.Lab, cluster string) float64 {
	t.Helper()
	res, err := lab.Query(ctx, `sum by (cluster) (rate(http_requests_total{service="shortlink",route="GET /{code}"}[30s]))`, false)
	if err != nil {
		t.Fatal(err)
	}
	var mine, all float64
	for _, s := range res.Samples {
		all += s.Value
		if s.Labels["cluster"] == cluster {
			mine = s.Value
		}
	}
	if len(res.Samples) != 2 || all == 0 {
		t.Fatalf("traffic by cluster: %+v; want two clusters with traffic", res.Samples)
	}
	return mine / all
}

// firing reports whether the ruler lists alert name with the given severity as firing.
func firing(ctx context.Context, lab *thanoslab.Lab, name, severity string) (bool, error) {
	al, err := lab.RulerAlerts(ctx)
	if err != nil {
		return false, err
	}
	for _, a := range al {
		if a.Labels["alertname"] == name && a.State == "firing" && (severity == "" || a.Labels[slo.LabelSeverity] == severity) {
			return true, nil
		}
	}
	return false, nil
}

// partialResponse kills cluster b's sidecar and checks what docs/thanos.md promises: a
// query that must see every cluster (abort) fails and says which store is missing; one
// that accepts a partial view answers with a warning; a Query with non-strict endpoints
// answers silently without b; the ruler's abort group reports failed evaluations
// instead of recording a one-cluster ratio; ClusterMissing names b and NotEvaluated
// becomes pending once the global burn rate has gone unrecorded for its window.
func partialResponse(t *testing.T, ctx context.Context, lab *thanoslab.Lab, o slo.Objective, am string) {
	t.Helper()
	// A second Query over the same sidecars as ordinary (non-strict) endpoints: the
	// configuration docs/thanos.md warns against.
	lax, err := lab.AddQuery(ctx, "query-nonstrict", false)
	if err != nil {
		t.Fatal(err)
	}
	if err := lab.Kill(thanoslab.SidecarOf("b", 0)); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	q := `sum by (cluster) (rate(http_requests_total{service="shortlink"}[30s]))`
	if _, err := lab.Query(ctx, q, false); err == nil {
		t.Errorf("with cluster b's sidecar down, a query without partial response succeeded: a silent partial view")
	} else {
		t.Logf("abort strategy, cluster b down: %v", err)
	}
	res, err := lab.Query(ctx, q, true)
	if err != nil {
		t.Fatalf("with partial response allowed: %v", err)
	}
	if len(res.Warnings) == 0 || len(res.Samples) != 1 {
		t.Errorf("with partial response allowed: samples %+v warnings %q; want cluster a only, with a warning", res.Samples, res.Warnings)
	} else {
		t.Logf("warn strategy, cluster b down: %d cluster(s), warning %q", len(res.Samples), res.Warnings[0])
	}
	// The non-strict Query drops b after its next failed health check (every 5s) and then
	// answers for a alone, with neither an error nor a warning: a silent partial view.
	silent, err := waitFor(ctx, 15*time.Second, 250*time.Millisecond, func() (bool, error) {
		res, err := thanoslab.QueryAt(ctx, lax, q, false)
		return err == nil && len(res.Samples) == 1 && len(res.Warnings) == 0, err
	})
	if err != nil {
		t.Errorf("the non-strict Query never answered silently without b (docs/thanos.md says it does): %v", err)
	} else {
		t.Logf("non-strict endpoints, cluster b down: after %s Query answers for cluster a alone, no error, no warning", silent.Round(time.Second/10))
	}
	took, err := waitFor(ctx, 20*time.Second, 250*time.Millisecond, func() (bool, error) {
		rules, err := lab.RulerRules(ctx)
		if err != nil {
			return false, err
		}
		for _, r := range rules {
			if strings.EqualFold(r.PartialResponseStrategy, "abort") && r.Health == "err" && r.LastError != "" {
				t.Logf("ruler, %s (%s): health %s: %s", r.Name, r.Group, r.Health, r.LastError)
				return true, nil
			}
		}
		return false, fmt.Errorf("no abort-strategy rule reports an error yet: %+v", rules)
	})
	if err != nil {
		t.Errorf("the ruler went on evaluating without cluster b: %v", err)
	}
	t.Logf("ruler reports failed evaluations of the abort group %s after the kill (checked %s after)", time.Since(killed).Round(time.Second/10), took.Round(time.Second/10))
	if firingPage, _ := firing(ctx, lab, o.AlertName(), "page"); firingPage {
		t.Logf("the page fired before the loss is still listed firing by the ruler (its state is frozen while the abort group fails)")
	}

	// ClusterMissing (for: the no-data wait, 10s) names b, and reaches Alertmanager.
	if _, err := waitFor(ctx, 30*time.Second, 250*time.Millisecond, func() (bool, error) {
		return alertIs(ctx, lab, o.ClusterMissingAlertName(), map[string]string{"cluster": "b"}, "firing")
	}); err != nil {
		t.Errorf("%s{cluster=\"b\"} did not fire: %v", o.ClusterMissingAlertName(), err)
	}
	missing := time.Since(killed)
	if _, err := waitFor(ctx, 15*time.Second, 250*time.Millisecond, func() (bool, error) {
		got, err := amAlerts(ctx, am)
		return got[o.ClusterMissingAlertName()], err
	}); err != nil {
		t.Errorf("Alertmanager never received %s: %v", o.ClusterMissingAlertName(), err)
	}
	// NotEvaluated: no global burn rate recorded for its window W (the abort group recorded
	// nothing on the partial view), then for: W; a page, so it must reach Alertmanager.
	window := o.NotEvaluatedWindow()
	if _, err := waitFor(ctx, window+20*time.Second, 500*time.Millisecond, func() (bool, error) {
		return alertIs(ctx, lab, o.NotEvaluatedAlertName(), nil, "pending")
	}); err != nil {
		t.Errorf("%s never became pending after the global burn rate stopped: %v", o.NotEvaluatedAlertName(), err)
	}
	pending := time.Since(killed)
	if _, err := waitFor(ctx, window+20*time.Second, 500*time.Millisecond, func() (bool, error) {
		if ok, err := alertIs(ctx, lab, o.NotEvaluatedAlertName(), map[string]string{slo.LabelSeverity: "page"}, "firing"); !ok || err != nil {
			return false, err
		}
		got, err := amAlerts(ctx, am)
		return got[o.NotEvaluatedAlertName()], err
	}); err != nil {
		t.Errorf("%s (a page) did not fire and reach Alertmanager: %v", o.NotEvaluatedAlertName(), err)
	}
	t.Logf("MEASURED cluster b lost: %s{cluster=\"b\"} firing %s after the kill (for: 10s); %s pending %s and firing in Alertmanager %s after (window and for: %s each)",
		o.ClusterMissingAlertName(), missing.Round(time.Second/10), o.NotEvaluatedAlertName(), pending.Round(time.Second/10),
		time.Since(killed).Round(time.Second/10), window)
}

// alertIs reports whether the ruler lists alert name, with the given labels, in state
// (pending counts firing too).
func alertIs(ctx context.Context, lab *thanoslab.Lab, name string, labels map[string]string, state string) (bool, error) {
	al, err := lab.RulerAlerts(ctx)
	if err != nil {
		return false, err
	}
	for _, a := range al {
		if a.Labels["alertname"] != name || (a.State != state && !(state == "pending" && a.State == "firing")) {
			continue
		}
		ok := true
		for k, v := range labels {
			ok = ok && a.Labels[k] == v
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}
