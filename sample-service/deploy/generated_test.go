package deploy

import (
	"strings"
	"testing"

	amconfig "github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/dispatch"
	"github.com/prometheus/common/model"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/dashboards"
	"github.com/slokit/slokit/slo"
)

// TestEverySLOIsRoutedAndDashboarded: each alert generated for slos.yaml (the
// dependency-latency and checked-redirect SLOs like the request SLOs) reaches
// shortlink's pager or ticket receiver in the generated Alertmanager config, loaded into
// Alertmanager's own route tree, and each SLO has a detail dashboard and an overview row.
func TestEverySLOIsRoutedAndDashboarded(t *testing.T) {
	svcs, ds := slo.LoadFiles(slosFile)
	if err := ds.Err(); err != nil {
		t.Fatal(err)
	}
	objs := svcs[0].Objectives
	rf, err := alerts.RuleFile(svcs, alerts.Options{})
	if err != nil {
		t.Fatal(err)
	}
	frag, err := alerts.Routing(objs, alerts.RoutingOptions{})
	if err != nil {
		t.Fatal(err)
	}
	y, err := frag.Config().YAML()
	if err != nil {
		t.Fatal(err)
	}
	am, err := amconfig.Load(string(y))
	if err != nil {
		t.Fatalf("Alertmanager rejects the generated config: %v", err)
	}
	tree := dispatch.NewRoute(am.Route, nil)
	alertsBySLO := map[string]int{}
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			// The alert's labels: the burn-rate series' (service, SLO, window, the
			// spec's labels) and the rule's.
			svc, name, _ := strings.Cut(r.Annotations["slo"], "/")
			ls := model.LabelSet{model.AlertNameLabel: model.LabelValue(r.Alert), slo.LabelService: model.LabelValue(svc),
				slo.LabelSLO: model.LabelValue(name), slo.LabelWindow: "1h", "team": "platform"}
			for k, v := range r.Labels {
				ls[model.LabelName(k)] = model.LabelValue(v)
			}
			alertsBySLO[name]++
			want := "slokit-shortlink-ticket"
			if r.Labels["severity"] == "page" {
				want = "slokit-shortlink-pager"
			}
			routes := tree.Match(ls)
			if len(routes) != 1 || routes[0].RouteOpts.Receiver != want {
				var got []string
				for _, rt := range routes {
					got = append(got, rt.RouteOpts.Receiver)
				}
				t.Errorf("%s %v reaches %v, want [%s]", r.Alert, r.Labels, got, want)
			}
		}
	}
	overview, err := dashboards.Overview(objs)
	if err != nil {
		t.Fatal(err)
	}
	ov, err := dashboards.JSON(overview)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if alertsBySLO[o.Name] != 3 {
			t.Errorf("%s: %d alerts, want a page, a ticket and a no-data alert", o.Name, alertsBySLO[o.Name])
		}
		d, err := dashboards.Detail(o)
		if err != nil {
			t.Errorf("%s: detail dashboard: %v", o.Name, err)
			continue
		}
		j, err := dashboards.JSON(d)
		if err != nil || !strings.Contains(string(j), o.Name) {
			t.Errorf("%s: detail dashboard does not name it (err %v)", o.Name, err)
		}
		if !strings.Contains(string(ov), o.Name) {
			t.Errorf("%s: not on the overview dashboard", o.Name)
		}
	}
}
