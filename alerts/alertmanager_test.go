package alerts

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	amconfig "github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/dispatch"
	"github.com/prometheus/alertmanager/pkg/labels"
	amtemplate "github.com/prometheus/alertmanager/template"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/slokit/slokit/internal/golden"
	"github.com/slokit/slokit/internal/testutil"
	"github.com/slokit/slokit/slo"
)

// amObjective is a 99.9%/30d events SLO of the shortlink service, the fixture the
// routing tests vary.
func amObjective(name string) slo.Objective {
	return slo.Objective{
		Service: "shortlink",
		Name:    name,
		Target:  0.999,
		Period:  30 * 24 * time.Hour,
		Labels:  map[string]string{"team": "platform"},
		SLI: slo.SLI{Events: &slo.EventsSLI{
			Bad:   `http_requests_total{service="shortlink",code=~"5.."}`,
			Total: `http_requests_total{service="shortlink"}`,
		}},
		Alerting: slo.Alerting{Name: "ShortlinkAvailability"},
	}
}

// amFixture is two services, one of which pages with a relabelled severity and one whose
// SLO uses a 7d period (windows scaled down) and has no ticket tier.
func amFixture() []slo.Objective {
	a := amObjective("redirect-availability")
	b := amObjective("redirect-latency")
	b.Alerting.Name = "ShortlinkLatency"
	b.Alerting.Page.Labels = map[string]string{"severity": "critical"}
	c := amObjective("checkout-availability")
	c.Service = "checkout"
	c.Labels = map[string]string{"team": "payments"}
	c.Period = 7 * 24 * time.Hour
	c.Alerting.Name = "CheckoutAvailability"
	c.Alerting.Ticket.Disabled = true
	return []slo.Objective{a, b, c}
}

// generatedYAML is the whole alertmanager.yml generated for amFixture with opts.
func generatedYAML(t *testing.T, opts RoutingOptions) []byte {
	t.Helper()
	f, err := Routing(amFixture(), opts)
	if err != nil {
		t.Fatal(err)
	}
	y, err := f.Config().YAML()
	if err != nil {
		t.Fatal(err)
	}
	return y
}

// generatedAM loads generatedYAML with Alertmanager's own config package.
func generatedAM(t *testing.T, opts RoutingOptions) *amconfig.Config {
	t.Helper()
	return loadAM(t, generatedYAML(t, opts))
}

func loadAM(t *testing.T, y []byte) *amconfig.Config {
	t.Helper()
	cfg, err := amconfig.Load(string(y))
	if err != nil {
		t.Fatalf("Alertmanager rejects the generated config: %v\n%s", err, y)
	}
	return cfg
}

func TestAlertmanagerRoutesEachAlertToItsReceiver(t *testing.T) {
	tree := dispatch.NewRoute(generatedAM(t, RoutingOptions{}).Route, nil)

	alert := func(kv ...string) model.LabelSet {
		ls := model.LabelSet{}
		for i := 0; i < len(kv); i += 2 {
			ls[model.LabelName(kv[i])] = model.LabelValue(kv[i+1])
		}
		return ls
	}
	tests := []struct {
		name   string
		labels model.LabelSet
		want   string
		wait   time.Duration
		repeat time.Duration
	}{
		{"fast page", alert("alertname", "ShortlinkAvailability", "slokit_service", "shortlink", "slokit_slo", "redirect-availability", "slokit_window", "1h", "severity", "page", "team", "platform"),
			"slokit-shortlink-pager", 30 * time.Second, 4 * time.Hour},
		{"slow ticket", alert("alertname", "ShortlinkAvailability", "slokit_service", "shortlink", "slokit_slo", "redirect-availability", "slokit_window", "3d", "severity", "ticket"),
			"slokit-shortlink-ticket", 5 * time.Minute, 24 * time.Hour},
		{"relabelled page severity", alert("alertname", "ShortlinkLatency", "slokit_service", "shortlink", "slokit_slo", "redirect-latency", "slokit_window", "1h", "severity", "critical"),
			"slokit-shortlink-pager", 30 * time.Second, 4 * time.Hour},
		{"other service page", alert("alertname", "CheckoutAvailability", "slokit_service", "checkout", "slokit_slo", "checkout-availability", "slokit_window", "14m", "severity", "page"),
			"slokit-checkout-pager", 30 * time.Second, 4 * time.Hour},
		{"unknown severity of a slokit service falls back to its ticket receiver", alert("alertname", "ShortlinkAvailability", "slokit_service", "shortlink", "severity", "info"),
			"slokit-shortlink-ticket", 5 * time.Minute, 24 * time.Hour},
		{"not a slokit alert", alert("alertname", "NodeDown", "severity", "page"),
			AMNullReceiver, 5 * time.Minute, 24 * time.Hour},
		{"unknown service", alert("alertname", "X", "slokit_service", "billing", "severity", "page"),
			AMNullReceiver, 5 * time.Minute, 24 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			routes := tree.Match(tt.labels)
			if len(routes) != 1 {
				t.Fatalf("%d routes match %v, want exactly 1", len(routes), tt.labels)
			}
			r := routes[0]
			if r.RouteOpts.Receiver != tt.want {
				t.Errorf("receiver = %q, want %q", r.RouteOpts.Receiver, tt.want)
			}
			if r.RouteOpts.GroupWait != tt.wait || r.RouteOpts.RepeatInterval != tt.repeat {
				t.Errorf("group_wait %v repeat %v, want %v %v", r.RouteOpts.GroupWait, r.RouteOpts.RepeatInterval, tt.wait, tt.repeat)
			}
			var by []string
			for l := range r.RouteOpts.GroupBy {
				by = append(by, string(l))
			}
			sort.Strings(by)
			if want := []string{"alertname", "slokit_service", "slokit_slo"}; !reflect.DeepEqual(by, want) {
				t.Errorf("group_by = %v, want %v", by, want)
			}
		})
	}
}

func TestAlertmanagerRoutesByTeam(t *testing.T) {
	tree := dispatch.NewRoute(generatedAM(t, RoutingOptions{RouteBy: "team"}).Route, nil)
	tests := []struct {
		labels model.LabelSet
		want   string
	}{
		{model.LabelSet{"slokit_service": "shortlink", "slokit_slo": "redirect-latency", "team": "platform", "severity": "critical"}, "slokit-platform-pager"},
		{model.LabelSet{"slokit_service": "checkout", "team": "payments", "severity": "page"}, "slokit-payments-pager"},
		// The team label alone does not make an alert slokit's.
		{model.LabelSet{"alertname": "NodeDown", "team": "platform", "severity": "page"}, AMNullReceiver},
	}
	for _, tt := range tests {
		routes := tree.Match(tt.labels)
		if len(routes) != 1 || routes[0].RouteOpts.Receiver != tt.want {
			var got []string
			for _, r := range routes {
				got = append(got, r.RouteOpts.Receiver)
			}
			t.Errorf("%v reaches %v, want [%s]", tt.labels, got, tt.want)
		}
	}

	o := amObjective("x")
	o.Labels = nil
	if _, err := Routing([]slo.Objective{o}, RoutingOptions{RouteBy: "team"}); err == nil || !strings.Contains(err.Error(), `no label "team"`) {
		t.Errorf("routing by a missing label: err = %v, want it to name the label", err)
	}
}

// inhibits applies Alertmanager's inhibition semantics with its own matchers: some rule's
// source matchers match src, its target matchers match dst, and the equal labels agree.
func inhibits(cfg *amconfig.Config, src, dst model.LabelSet) bool {
	for _, r := range cfg.InhibitRules {
		if !labels.Matchers(r.SourceMatchers).Matches(src) || !labels.Matchers(r.TargetMatchers).Matches(dst) {
			continue
		}
		equal := true
		for _, l := range r.Equal {
			if src[model.LabelName(l)] != dst[model.LabelName(l)] {
				equal = false
			}
		}
		if equal {
			return true
		}
	}
	return false
}

func TestAlertmanagerInhibition(t *testing.T) {
	cfg := generatedAM(t, RoutingOptions{})
	sl := func(slo, window, severity string) model.LabelSet {
		return model.LabelSet{"alertname": "A", "slokit_service": "shortlink", "slokit_slo": model.LabelValue(slo),
			"slokit_window": model.LabelValue(window), "severity": model.LabelValue(severity)}
	}
	co := func(window, severity string) model.LabelSet {
		return model.LabelSet{"alertname": "C", "slokit_service": "checkout", "slokit_slo": "checkout-availability",
			"slokit_window": model.LabelValue(window), "severity": model.LabelValue(severity)}
	}
	tests := []struct {
		name     string
		src, dst model.LabelSet
		want     bool
	}{
		{"page inhibits the ticket of the same SLO", sl("redirect-availability", "1h", "page"), sl("redirect-availability", "1d", "ticket"), true},
		{"slow page inhibits the slow ticket too", sl("redirect-availability", "6h", "page"), sl("redirect-availability", "3d", "ticket"), true},
		{"page does not inhibit another SLO's ticket", sl("redirect-availability", "1h", "page"), sl("redirect-latency", "1d", "ticket"), false},
		{"relabelled page inhibits its ticket", sl("redirect-latency", "1h", "critical"), sl("redirect-latency", "1d", "ticket"), true},
		{"1h page inhibits 6h page", sl("redirect-availability", "1h", "page"), sl("redirect-availability", "6h", "page"), true},
		{"6h page does not inhibit 1h page", sl("redirect-availability", "6h", "page"), sl("redirect-availability", "1h", "page"), false},
		{"1d ticket inhibits 3d ticket", sl("redirect-availability", "1d", "ticket"), sl("redirect-availability", "3d", "ticket"), true},
		{"ticket does not inhibit a page", sl("redirect-availability", "1d", "ticket"), sl("redirect-availability", "6h", "page"), false},
		{"scaled 7d windows: 14m page inhibits 1h24m page", co("14m", "page"), co("1h24m", "page"), true},
		{"scaled windows: 14m page does not inhibit a 14m page of another SLO", co("14m", "page"), model.LabelSet{"alertname": "C", "slokit_service": "checkout", "slokit_slo": "other", "slokit_window": "1h24m", "severity": "page"}, false},
		{"alerts that are not slokit's are left alone",
			model.LabelSet{"alertname": "NodeDown", "severity": "page"}, model.LabelSet{"alertname": "DiskFull", "severity": "ticket"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := inhibits(cfg, tt.src, tt.dst); got != tt.want {
				t.Errorf("inhibits(%v, %v) = %v, want %v", tt.src, tt.dst, got, tt.want)
			}
		})
	}
}

// TestAlertmanagerInhibitionKeepsClusterMissing: with a global SLO among the objectives,
// the NotEvaluated page a lost cluster causes does not mute the ClusterMissing ticket
// that names the cluster; it still mutes the burn-rate tickets. Without global SLOs the
// inhibit rules are unchanged.
func TestAlertmanagerInhibitionKeepsClusterMissing(t *testing.T) {
	glob := amObjective("global-availability")
	glob.Alerting.Name = "ShortlinkGlobalAvailability"
	glob.Scope = slo.Scope{Global: true}
	f, err := Routing(append(amFixture(), glob), RoutingOptions{})
	if err != nil {
		t.Fatal(err)
	}
	y, err := f.Config().YAML()
	if err != nil {
		t.Fatal(err)
	}
	cfg := loadAM(t, y)
	lbl := func(alert, severity string) model.LabelSet {
		return model.LabelSet{"alertname": model.LabelValue(alert), "slokit_service": "shortlink",
			"slokit_slo": "global-availability", "severity": model.LabelValue(severity)}
	}
	if inhibits(cfg, lbl(glob.NotEvaluatedAlertName(), "page"), lbl(glob.ClusterMissingAlertName(), "ticket")) {
		t.Error("NotEvaluated mutes the ClusterMissing ticket that names the lost cluster")
	}
	if !inhibits(cfg, lbl(glob.NotEvaluatedAlertName(), "page"), lbl(glob.AlertName(), "ticket")) {
		t.Error("a page of the global SLO no longer mutes its burn-rate ticket")
	}
	plain, err := Routing(amFixture(), RoutingOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range plain.InhibitRules {
		if strings.Contains(strings.Join(r.TargetMatchers, ","), slo.ClusterMissingSuffix) {
			t.Errorf("inhibit rule %v mentions ClusterMissing without any global SLO", r)
		}
	}
}

func TestAlertmanagerSecretsAreReadFromFiles(t *testing.T) {
	f, err := Routing(amFixture(), RoutingOptions{SecretsDir: "/run/secrets/am"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range f.Receivers {
		for _, p := range r.PagerdutyConfigs {
			if !strings.HasPrefix(p.RoutingKeyFile, "/run/secrets/am/") {
				t.Errorf("%s: routing_key_file %q not under the secrets dir", r.Name, p.RoutingKeyFile)
			}
		}
		for _, s := range r.SlackConfigs {
			if !strings.HasPrefix(s.APIURLFile, "/run/secrets/am/") {
				t.Errorf("%s: api_url_file %q not under the secrets dir", r.Name, s.APIURLFile)
			}
		}
		if len(r.PagerdutyConfigs)+len(r.SlackConfigs) != 1 {
			t.Errorf("%s: want one integration, got %+v", r.Name, r)
		}
	}
	if _, err := Routing(amFixture(), RoutingOptions{Pager: ReceiverSpec{Kind: Slack, URL: "https://hooks.slack.com/services/secret"}}); err == nil {
		t.Error("an inline Slack URL was accepted; secrets must come from files")
	}
}

func TestAlertmanagerRejectsPageAndTicketWithTheSameLabels(t *testing.T) {
	a := amObjective("a")
	b := amObjective("b")
	b.Alerting.Ticket.Labels = map[string]string{"severity": "page"}
	_, err := Routing([]slo.Objective{a, b}, RoutingOptions{})
	if err == nil || !strings.Contains(err.Error(), "shortlink-b") {
		t.Fatalf("err = %v, want a complaint naming shortlink-b", err)
	}
}

// TestNotificationTemplatesRender executes the Slack and PagerDuty texts with
// Alertmanager's template engine on a firing group of one slokit alert.
func TestNotificationTemplatesRender(t *testing.T) {
	tmpl, err := amtemplate.FromGlobs(nil)
	if err != nil {
		t.Fatal(err)
	}
	labels := amtemplate.KV{"alertname": "ShortlinkAvailability", "slokit_service": "shortlink", "slokit_slo": "redirect-availability", "severity": "page"}
	ann := amtemplate.KV{"summary": "shortlink/redirect-availability: error budget burning 20.0× too fast over 1h",
		"description": "It burns.", "runbook_url": "https://runbooks.example/x", "dashboard_url": "https://grafana.example/d/y"}
	data := &amtemplate.Data{Status: "firing", CommonLabels: labels, CommonAnnotations: ann,
		Alerts: amtemplate.Alerts{{Status: "firing", Labels: labels, Annotations: ann}}}
	tests := []struct{ name, text, want string }{
		{"slack title", slackTitle, "[FIRING:1] ShortlinkAvailability (shortlink/redirect-availability)"},
		{"slack text", slackText, "*shortlink/redirect-availability: error budget burning 20.0× too fast over 1h*\nIt burns.\nRunbook: https://runbooks.example/x\nDashboard: https://grafana.example/d/y\n"},
		{"pagerduty description", pagerdutyDescription, "ShortlinkAvailability: shortlink/redirect-availability: error budget burning 20.0× too fast over 1h"},
	}
	for _, tt := range tests {
		got, err := tmpl.ExecuteTextString(tt.text, data)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got != tt.want {
			t.Errorf("%s =\n%q\nwant\n%q", tt.name, got, tt.want)
		}
	}
}

// TestFragmentMergesIntoAnExistingConfig appends the fragment's lists to a user's
// configuration, as its header says, and checks that both the user's routes and slokit's
// work in Alertmanager's route tree.
func TestFragmentMergesIntoAnExistingConfig(t *testing.T) {
	existing := `route:
  receiver: ops
  group_by: [alertname]
  routes:
    - receiver: deadmans-switch
      matchers: ['alertname="Watchdog"']
receivers:
  - name: ops
  - name: deadmans-switch
inhibit_rules: []
`
	f, err := Routing(amFixture(), RoutingOptions{})
	if err != nil {
		t.Fatal(err)
	}
	frag, err := f.YAML()
	if err != nil {
		t.Fatal(err)
	}
	var user, add map[string]any
	if err := yaml.Unmarshal([]byte(existing), &user); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(frag, &add); err != nil {
		t.Fatal(err)
	}
	route := user["route"].(map[string]any)
	route["routes"] = append(route["routes"].([]any), add["routes"].([]any)...)
	user["receivers"] = append(user["receivers"].([]any), add["receivers"].([]any)...)
	user["inhibit_rules"] = append(user["inhibit_rules"].([]any), add["inhibit_rules"].([]any)...)
	merged, err := yaml.Marshal(user)
	if err != nil {
		t.Fatal(err)
	}
	tree := dispatch.NewRoute(loadAM(t, merged).Route, nil)
	for ls, want := range map[string]string{
		`Watchdog`:              "deadmans-switch",
		`NodeDown`:              "ops",
		`ShortlinkAvailability`: "slokit-shortlink-pager",
	} {
		set := model.LabelSet{"alertname": model.LabelValue(ls), "severity": "page"}
		if strings.HasPrefix(ls, "Shortlink") {
			set["slokit_service"], set["slokit_slo"] = "shortlink", "redirect-availability"
		}
		routes := tree.Match(set)
		if len(routes) != 1 || routes[0].RouteOpts.Receiver != want {
			t.Errorf("%s reaches %d routes (first %v), want %s", ls, len(routes), routes[0].RouteOpts.Receiver, want)
		}
	}
}

func TestAlertmanagerGolden(t *testing.T) {
	f, err := Routing(amFixture(), RoutingOptions{})
	if err != nil {
		t.Fatal(err)
	}
	full, err := f.Config().YAML()
	if err != nil {
		t.Fatal(err)
	}
	frag, err := f.YAML()
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "alertmanager.yml"), full)
	golden.Check(t, filepath.Join("testdata", "alertmanager-fragment.yml"), frag)
}

func TestAmtoolCheckConfig(t *testing.T) {
	if testing.Short() {
		t.Skip("runs amtool")
	}
	amtool := testutil.Binary(t, "amtool")
	for name, opts := range map[string]RoutingOptions{
		"defaults":        {},
		"by team":         {RouteBy: "team", Pager: ReceiverSpec{Kind: Slack}, Ticket: ReceiverSpec{Kind: PagerDuty}},
		"inline webhooks": {Pager: ReceiverSpec{Kind: Webhook, URL: "http://127.0.0.1:9/pager"}, Ticket: ReceiverSpec{Kind: Webhook, URL: "http://127.0.0.1:9/ticket"}},
	} {
		t.Run(name, func(t *testing.T) {
			y := generatedYAML(t, opts)
			p := filepath.Join(t.TempDir(), "alertmanager.yml")
			if err := os.WriteFile(p, y, 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(amtool, "check-config", p).CombinedOutput()
			if err != nil || !bytes.Contains(out, []byte("SUCCESS")) {
				t.Fatalf("amtool check-config: %v\n%s\n%s", err, out, y)
			}
		})
	}
}

// TestAMFileNameInjective: teams whose names differ only in characters a file name cannot
// hold keep distinct secret files.
func TestAMFileNameInjective(t *testing.T) {
	names := []string{"a/b", "a_b", "a b", "a_2fb", "ab", "a.b", "../x", "..", ".x", "x."}
	seen := map[string]string{}
	for _, n := range names {
		f := amFileName(n)
		if prev, dup := seen[f]; dup {
			t.Errorf("%q and %q both map to %q", prev, n, f)
		}
		seen[f] = n
		if strings.ContainsAny(f, "/ ") || strings.HasPrefix(f, ".") {
			t.Errorf("%q maps to unsafe file name %q", n, f)
		}
	}
}
