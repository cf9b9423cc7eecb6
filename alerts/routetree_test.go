package alerts

import (
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/dispatch"
	"github.com/prometheus/common/model"

	"github.com/slokit/slokit/slo"
)

// routeTreeFixture is amFixture plus the label shapes that made rules and routing
// disagree before both asked slo: an SLO-level severity label, SLO-level labels that are
// not routing labels, a windows override without ticket tiers, and a service name that
// starts with a digit (default alert name).
func routeTreeFixture() []slo.Objective {
	objs := amFixture()
	d := amObjective("search-availability")
	d.Alerting.Name = ""
	d.Alerting.Labels = map[string]string{"severity": "urgent", "component": "search"}
	d.Alerting.Ticket.Labels = map[string]string{"severity": "later"}
	e := amObjective("nine-lives")
	e.Service = "9lives"
	e.Alerting.Name = ""
	e.Alerting.Windows = []slo.Window{
		{Severity: slo.Page, Long: time.Hour, Short: 5 * time.Minute, BurnRate: 14.4},
		{Severity: slo.Page, Long: 6 * time.Hour, Short: 30 * time.Minute, BurnRate: 6},
	}
	return append(objs, d, e)
}

// TestEveryGeneratedAlertReachesItsReceiver sends every label set the alerts that
// Rules generates can carry (one per tier: the burn-rate series' labels, the tier's long
// window, the rule's labels and alertname) through Alertmanager's own route tree built
// from the generated routing, and expects exactly one route: the subtree's pager for a
// page, its ticket receiver for a ticket.
func TestEveryGeneratedAlertReachesItsReceiver(t *testing.T) {
	objs := routeTreeFixture()
	for _, routeBy := range []string{slo.LabelService, "team"} {
		f, err := Routing(objs, RoutingOptions{RouteBy: routeBy})
		if err != nil {
			t.Fatal(err)
		}
		y, err := f.Config().YAML()
		if err != nil {
			t.Fatal(err)
		}
		tree := dispatch.NewRoute(loadAM(t, y).Route, nil)
		checked := 0
		for _, o := range objs {
			value, _ := amRouteValue(o, routeBy)
			for _, a := range generatedAlerts(t, o) {
				want := amReceiverName(value, a.severity)
				routes := tree.Match(a.labels)
				var got []string
				for _, r := range routes {
					got = append(got, r.RouteOpts.Receiver)
				}
				if len(got) != 1 || got[0] != want {
					t.Errorf("route by %s: %s alert %v reaches %v, want [%s]", routeBy, a.severity, a.labels, got, want)
				}
				checked++
			}
		}
		// 4+4+2+4+2 tiers and 5 no-data alerts: a fixture that silently lost its alerts fails here.
		if checked != 21 {
			t.Fatalf("route by %s: only %d label sets checked", routeBy, checked)
		}
	}
}

type generatedAlert struct {
	severity slo.SeverityName
	labels   model.LabelSet
}

// generatedAlerts returns, for each alert rule Rules generates for o, the label set of
// the alert each of its tiers fires.
func generatedAlerts(t *testing.T, o slo.Objective) []generatedAlert {
	t.Helper()
	rules, err := Rules(o, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var out []generatedAlert
	i := 0
	for _, sev := range slo.Severities() {
		tiers := o.TiersOf(sev)
		if len(tiers) == 0 {
			continue
		}
		if i >= len(rules) {
			t.Fatalf("%s: %d rules, want one for %s", o.ID(), len(rules), sev)
		}
		r := rules[i]
		i++
		if want := o.AlertLabels(sev); !maps.Equal(r.Labels, want) {
			t.Errorf("%s %s rule labels %v, want %v", o.ID(), sev, r.Labels, want)
		}
		for _, w := range tiers {
			m := slo.RuleLabels(o)
			m[slo.LabelWindow] = slo.FormatWindow(w.Long)
			maps.Copy(m, r.Labels)
			ls := model.LabelSet{model.AlertNameLabel: model.LabelValue(r.Alert)}
			for k, v := range m {
				ls[model.LabelName(k)] = model.LabelValue(v)
			}
			if err := ls.Validate(); err != nil {
				t.Fatal(fmt.Errorf("%s: %w", o.ID(), err))
			}
			out = append(out, generatedAlert{sev, ls})
		}
	}
	// The no-data alert comes last; it carries the rule labels itself and no window.
	if !o.Alerting.NoData.Disabled {
		if i >= len(rules) || rules[i].Alert != o.NoDataAlertName() {
			t.Fatalf("%s: want the no-data alert after the burn-rate alerts", o.ID())
		}
		ls := model.LabelSet{model.AlertNameLabel: model.LabelValue(rules[i].Alert)}
		for k, v := range rules[i].Labels {
			ls[model.LabelName(k)] = model.LabelValue(v)
		}
		out = append(out, generatedAlert{slo.Page, ls})
		i++
	}
	if i != len(rules) {
		t.Errorf("%s: %d rules, want %d", o.ID(), len(rules), i)
	}
	return out
}
