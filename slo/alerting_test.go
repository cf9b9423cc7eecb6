package slo_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/slokit/slokit/slo"
)

func TestAlertName(t *testing.T) {
	for in, want := range map[[2]string]string{
		{"shortlink", "redirect-availability"}: "ShortlinkRedirectAvailability",
		{"payments-api", "p99-latency"}:        "PaymentsApiP99Latency",
		{"k8s", "api_server.errors"}:           "K8sApiServerErrors",
		// A name must not start with a digit: Prometheus would reject the rule file.
		{"9lives", "availability"}: "SLO9livesAvailability",
		{"", ""}:                   "SLO",
	} {
		o := slo.Objective{Service: in[0], Name: in[1]}
		if got := o.AlertName(); got != want {
			t.Errorf("%v: %q, want %q", in, got, want)
		}
		if got := slo.DefaultAlertName(in[0], in[1]); got != want {
			t.Errorf("DefaultAlertName%v: %q, want %q", in, got, want)
		}
	}
	o := slo.Objective{Service: "9lives", Name: "x", Alerting: slo.Alerting{Name: "Mine"}}
	if got := o.AlertName(); got != "Mine" {
		t.Errorf("alerting.name set: %q, want Mine", got)
	}
}

func TestTiersSkipDisabledSeverities(t *testing.T) {
	o := slo.Objective{Target: 0.999, Period: 30 * 24 * time.Hour}
	if got := len(o.Tiers()); got != 4 {
		t.Fatalf("%d tiers, want the Workbook's 4", got)
	}
	o.Alerting.Ticket.Disabled = true
	if o.Enabled(slo.Ticket) || !o.Enabled(slo.Page) {
		t.Fatal("Enabled disagrees with Disabled")
	}
	var names []string
	for _, w := range o.Tiers() {
		names = append(names, w.Name())
	}
	if want := []string{"page/1h", "page/6h"}; !reflect.DeepEqual(names, want) {
		t.Errorf("tiers %v, want %v", names, want)
	}
	if got := o.TiersOf(slo.Ticket); got != nil {
		t.Errorf("TiersOf(ticket) = %v, want nil", got)
	}
	w := o.TiersOf(slo.Page)[0]
	if th := o.Threshold(w); th < 0.01439 || th > 0.01441 {
		t.Errorf("threshold of 14.4× at 99.9%% = %v, want 0.0144", th)
	}
	if b := o.BudgetAtFire(w); b < 0.0199 || b > 0.0201 {
		t.Errorf("budget at fire of 14.4× over 1h of 30d = %v, want 0.02", b)
	}
}

func TestAlertLabels(t *testing.T) {
	o := slo.Objective{Alerting: slo.Alerting{
		Labels: map[string]string{"team": "platform", "severity": "high"},
		Page:   slo.Severity{Labels: map[string]string{"pager": "yes"}},
		Ticket: slo.Severity{Labels: map[string]string{"severity": "low"}},
	}}
	for _, tt := range []struct {
		sev         slo.SeverityName
		distinguish map[string]string
		alertLabels map[string]string
	}{
		{slo.Page, map[string]string{"severity": "high", "pager": "yes"},
			map[string]string{"team": "platform", "severity": "high", "pager": "yes"}},
		{slo.Ticket, map[string]string{"severity": "low"},
			map[string]string{"team": "platform", "severity": "low"}},
	} {
		if got := o.SeverityLabels(tt.sev); !reflect.DeepEqual(got, tt.distinguish) {
			t.Errorf("SeverityLabels(%s) = %v, want %v", tt.sev, got, tt.distinguish)
		}
		if got := o.AlertLabels(tt.sev); !reflect.DeepEqual(got, tt.alertLabels) {
			t.Errorf("AlertLabels(%s) = %v, want %v", tt.sev, got, tt.alertLabels)
		}
	}
	plain := slo.Objective{}
	if got := plain.AlertLabels(slo.Ticket); !reflect.DeepEqual(got, map[string]string{"severity": "ticket"}) {
		t.Errorf("default ticket labels %v", got)
	}
}

func TestFormatPercent(t *testing.T) {
	for in, want := range map[float64]string{
		0.999: "99.9", 0.9995: "99.95", 0.99999: "99.999", 0.5: "50",
		1 - 0.999: "0.1", 14.4 * (1 - 0.999): "1.44",
	} {
		if got := slo.FormatPercent(in); got != want {
			t.Errorf("FormatPercent(%v) = %q, want %q", in, got, want)
		}
	}
}
