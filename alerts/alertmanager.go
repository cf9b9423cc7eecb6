package alerts

import (
	"bytes"
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/slokit/slokit/slo"
)

// ReceiverKind is the integration a generated placeholder receiver notifies.
type ReceiverKind string

// The receiver kinds slokit can generate. Each reads its secret from a file, never inline.
const (
	// PagerDuty (Events API v2) reads its routing key from routing_key_file (Alertmanager ≥ 0.25).
	PagerDuty ReceiverKind = "pagerduty"
	// Slack reads its incoming-webhook URL from api_url_file (Alertmanager ≥ 0.22).
	Slack ReceiverKind = "slack"
	// Webhook posts Alertmanager's JSON to a URL: inline when ReceiverSpec.URL is set (a
	// local relay or a test holding no secret), else from url_file (Alertmanager ≥ 0.26).
	Webhook ReceiverKind = "webhook"
)

// ReceiverSpec describes the placeholder receiver of one severity.
type ReceiverSpec struct {
	// Kind is the integration; "" means PagerDuty for pages and Slack for tickets.
	Kind ReceiverKind
	// URL is the webhook's inline URL (Webhook only). When empty the URL is read from
	// a file under RoutingOptions.SecretsDir.
	URL string
	// Channel is the Slack channel; "" means "#<subtree>-slo-alerts".
	Channel string
}

// Timing is one severity's Alertmanager notification timing.
type Timing struct {
	// GroupWait is how long a new group waits for more alerts before its first notification.
	GroupWait time.Duration
	// GroupInterval is how long to wait before notifying about alerts added to a group.
	GroupInterval time.Duration
	// RepeatInterval is how long to wait before repeating a notification still firing.
	RepeatInterval time.Duration
}

// DefaultPageTiming is a page's notification timing: sent within half a minute of
// firing and repeated every four hours while nobody resolves it.
func DefaultPageTiming() Timing {
	return Timing{GroupWait: 30 * time.Second, GroupInterval: 5 * time.Minute, RepeatInterval: 4 * time.Hour}
}

// DefaultTicketTiming is a ticket's notification timing: batched for five minutes and
// repeated once a day.
func DefaultTicketTiming() Timing {
	return Timing{GroupWait: 5 * time.Minute, GroupInterval: 30 * time.Minute, RepeatInterval: 24 * time.Hour}
}

// DefaultSecretsDir is where generated receivers read their secrets from when
// RoutingOptions.SecretsDir is empty.
const DefaultSecretsDir = "/etc/alertmanager/secrets"

// RoutingOptions configures the generated Alertmanager routing. The zero value routes one
// subtree per service to PagerDuty (pages) and Slack (tickets) with the default timings.
type RoutingOptions struct {
	// RouteBy is the alert label whose values get one route subtree and one pair of
	// receivers each; "" means slokit_service (one subtree per service). A label such as
	// "team" must be set on every objective (service or SLO labels).
	RouteBy string
	// SecretsDir holds the receivers' secret files; "" means DefaultSecretsDir.
	SecretsDir string
	// Pager and Ticket describe the receivers of each subtree; zero values mean PagerDuty
	// and Slack.
	Pager, Ticket ReceiverSpec
	// PageTiming and TicketTiming override the defaults field by field (zero fields keep
	// DefaultPageTiming and DefaultTicketTiming).
	PageTiming, TicketTiming Timing
}

func (o RoutingOptions) withDefaults() RoutingOptions {
	o.RouteBy = cmp.Or(o.RouteBy, slo.LabelService)
	o.SecretsDir = cmp.Or(o.SecretsDir, DefaultSecretsDir)
	o.Pager.Kind = cmp.Or(o.Pager.Kind, PagerDuty)
	o.Ticket.Kind = cmp.Or(o.Ticket.Kind, Slack)
	o.PageTiming = o.PageTiming.or(DefaultPageTiming())
	o.TicketTiming = o.TicketTiming.or(DefaultTicketTiming())
	return o
}

// or fills t's zero fields from d.
func (t Timing) or(d Timing) Timing {
	t.GroupWait = cmp.Or(t.GroupWait, d.GroupWait)
	t.GroupInterval = cmp.Or(t.GroupInterval, d.GroupInterval)
	t.RepeatInterval = cmp.Or(t.RepeatInterval, d.RepeatInterval)
	return t
}

// AMConfig is a complete alertmanager.yml. Field names and YAML keys follow
// Alertmanager's configuration file; only what slokit generates is modelled.
type AMConfig struct {
	Global       *AMGlobal       `yaml:"global,omitempty"`
	Route        *AMRoute        `yaml:"route"`
	InhibitRules []AMInhibitRule `yaml:"inhibit_rules,omitempty"`
	Receivers    []AMReceiver    `yaml:"receivers"`
}

// AMGlobal is the global section of alertmanager.yml.
type AMGlobal struct {
	ResolveTimeout string `yaml:"resolve_timeout,omitempty"`
}

// AMFragment is the part of an alertmanager.yml that routes slokit's alerts, to be merged
// into an existing configuration: append Routes to route.routes (before any catch-all
// route with continue: false), and Receivers and InhibitRules to their top-level lists.
type AMFragment struct {
	Routes       []AMRoute       `yaml:"routes"`
	InhibitRules []AMInhibitRule `yaml:"inhibit_rules,omitempty"`
	Receivers    []AMReceiver    `yaml:"receivers"`
}

// AMRoute is one node of Alertmanager's routing tree.
type AMRoute struct {
	Receiver       string    `yaml:"receiver,omitempty"`
	Matchers       []string  `yaml:"matchers,omitempty"`
	GroupBy        []string  `yaml:"group_by,omitempty"`
	GroupWait      string    `yaml:"group_wait,omitempty"`
	GroupInterval  string    `yaml:"group_interval,omitempty"`
	RepeatInterval string    `yaml:"repeat_interval,omitempty"`
	Continue       bool      `yaml:"continue,omitempty"`
	Routes         []AMRoute `yaml:"routes,omitempty"`
}

// AMInhibitRule mutes target alerts while a source alert with equal labels fires.
type AMInhibitRule struct {
	SourceMatchers []string `yaml:"source_matchers"`
	TargetMatchers []string `yaml:"target_matchers"`
	Equal          []string `yaml:"equal"`
}

// AMReceiver is a named receiver with at most one integration configured.
type AMReceiver struct {
	Name             string        `yaml:"name"`
	PagerdutyConfigs []AMPagerDuty `yaml:"pagerduty_configs,omitempty"`
	SlackConfigs     []AMSlack     `yaml:"slack_configs,omitempty"`
	WebhookConfigs   []AMWebhook   `yaml:"webhook_configs,omitempty"`
}

// AMPagerDuty is a pagerduty_configs entry.
type AMPagerDuty struct {
	SendResolved   bool   `yaml:"send_resolved"`
	RoutingKeyFile string `yaml:"routing_key_file"`
	Severity       string `yaml:"severity,omitempty"`
	Description    string `yaml:"description,omitempty"`
	ClientURL      string `yaml:"client_url,omitempty"`
}

// AMSlack is a slack_configs entry.
type AMSlack struct {
	SendResolved bool   `yaml:"send_resolved"`
	APIURLFile   string `yaml:"api_url_file"`
	Channel      string `yaml:"channel"`
	Title        string `yaml:"title,omitempty"`
	TitleLink    string `yaml:"title_link,omitempty"`
	Text         string `yaml:"text,omitempty"`
}

// AMWebhook is a webhook_configs entry.
type AMWebhook struct {
	SendResolved bool   `yaml:"send_resolved"`
	URL          string `yaml:"url,omitempty"`
	URLFile      string `yaml:"url_file,omitempty"`
}

// amGroupBy is the grouping of every slokit route: one notification per alert, service
// and SLO, carrying all of that SLO's firing tiers.
func amGroupBy() []string { return []string{"alertname", slo.LabelService, slo.LabelSLO} }

// Notification templates shown by the Slack and PagerDuty receivers. They read the
// annotations every slokit alert carries (summary, description, runbook_url, dashboard_url).
const (
	slackTitle = `[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.slokit_service }}/{{ .CommonLabels.slokit_slo }})`
	slackText  = `{{ range .Alerts }}*{{ .Annotations.summary }}*
{{ .Annotations.description }}
{{ if .Annotations.runbook_url }}Runbook: {{ .Annotations.runbook_url }}
{{ end }}{{ if .Annotations.dashboard_url }}Dashboard: {{ .Annotations.dashboard_url }}
{{ end }}{{ end }}`
	pagerdutyDescription = `{{ .CommonLabels.alertname }}: {{ .CommonAnnotations.summary }}`
)

// Routing builds the Alertmanager routes, receivers and inhibit rules for objs: one route
// subtree per value of opts.RouteBy, page alerts to that subtree's pager receiver, ticket
// alerts to its ticket receiver; a page inhibits the tickets of the same SLO and a faster
// tier inhibits the slower tiers of the same severity. The result is deterministic.
func Routing(objs []slo.Objective, opts RoutingOptions) (*AMFragment, error) {
	opts = opts.withDefaults()
	if err := opts.check(); err != nil {
		return nil, err
	}
	trees, err := amSubtrees(objs, opts.RouteBy)
	if err != nil {
		return nil, err
	}
	f := &AMFragment{}
	inhibit := map[string]AMInhibitRule{}
	anyGlobal := slices.ContainsFunc(objs, slo.Objective.IsGlobal)
	var errs []string
	for _, t := range trees {
		pager, ticket := amReceiverName(t.value, slo.Page), amReceiverName(t.value, slo.Ticket)
		pageMatchers, ticketMatchers, terrs := t.severityMatchers(opts.RouteBy)
		errs = append(errs, terrs...)
		for _, o := range t.objs {
			for _, r := range amInhibitRules(o, anyGlobal) {
				inhibit[amInhibitKey(r)] = r
			}
		}
		route := AMRoute{
			Receiver: ticket,
			Matchers: amSubtreeMatchers(opts.RouteBy, t.value, t.services),
			GroupBy:  amGroupBy(),
		}
		route.setTiming(opts.TicketTiming)
		route.Routes = append(amChildRoutes(pager, pageMatchers, opts.PageTiming), amChildRoutes(ticket, ticketMatchers, opts.TicketTiming)...)
		f.Routes = append(f.Routes, route)
		f.Receivers = append(f.Receivers,
			amReceiver(pager, opts.Pager, slo.Page, opts.SecretsDir, t.value),
			amReceiver(ticket, opts.Ticket, slo.Ticket, opts.SecretsDir, t.value))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("alertmanager routing:\n%s", strings.Join(errs, "\n"))
	}
	for _, k := range amSortedKeys(inhibit) {
		f.InhibitRules = append(f.InhibitRules, inhibit[k])
	}
	return f, nil
}

// check rejects a route-by label that is not a label name and receivers slokit cannot
// write.
func (o RoutingOptions) check() error {
	if err := amCheckLabelName(o.RouteBy); err != nil {
		return fmt.Errorf("route-by label: %w", err)
	}
	for _, r := range []ReceiverSpec{o.Pager, o.Ticket} {
		switch r.Kind {
		case PagerDuty, Slack, Webhook:
		default:
			return fmt.Errorf("receiver kind %q: must be one of pagerduty, slack, webhook", r.Kind)
		}
		if r.URL != "" && r.Kind != Webhook {
			return fmt.Errorf("receiver kind %s: an inline URL is only allowed for webhook receivers; %s secrets are read from files under the secrets directory", r.Kind, r.Kind)
		}
	}
	return nil
}

// amSubtree is the objectives routed by one value of the route-by label.
type amSubtree struct {
	value    string
	services map[string]bool
	objs     []slo.Objective
}

// amSubtrees groups objs by their value of the routeBy label, sorted by value.
func amSubtrees(objs []slo.Objective, routeBy string) ([]*amSubtree, error) {
	trees := map[string]*amSubtree{}
	var errs []string
	for _, o := range objs {
		v, ok := amRouteValue(o, routeBy)
		if !ok {
			errs = append(errs, fmt.Sprintf("%s: objective has no label %q to route by; set labels.%s on the service or SLO, or route by %s", o.ID(), routeBy, routeBy, slo.LabelService))
			continue
		}
		t := trees[v]
		if t == nil {
			t = &amSubtree{value: v, services: map[string]bool{}}
			trees[v] = t
		}
		t.services[o.Service] = true
		t.objs = append(t.objs, o)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("alertmanager routing:\n%s", strings.Join(errs, "\n"))
	}
	out := make([]*amSubtree, 0, len(trees))
	for _, v := range amSortedKeys(trees) {
		out = append(out, trees[v])
	}
	return out, nil
}

// severityMatchers returns the distinct matcher sets of the subtree's enabled page and
// ticket severities, in objective order, and an error for each SLO whose page and
// ticket labels coincide with another's of the other severity.
func (t *amSubtree) severityMatchers(routeBy string) (page, ticket [][]string, errs []string) {
	seen := map[string]slo.SeverityName{}
	for _, o := range t.objs {
		for _, sev := range slo.Severities() {
			if !o.Enabled(sev) {
				continue
			}
			m := amLabelMatchers(o.SeverityLabels(sev))
			key := strings.Join(m, ",")
			if prev, ok := seen[key]; ok {
				if prev != sev {
					errs = append(errs, fmt.Sprintf("%s: its %s labels {%s} equal the %s labels of another SLO routed by %s=%q; give pages and tickets different severity labels", o.ID(), sev, key, prev, routeBy, t.value))
				}
				continue
			}
			seen[key] = sev
			if sev == slo.Page {
				page = append(page, m)
			} else {
				ticket = append(ticket, m)
			}
		}
	}
	return page, ticket, errs
}

// amChildRoutes is one route to receiver per matcher set, with timing t.
func amChildRoutes(receiver string, matchers [][]string, t Timing) []AMRoute {
	var out []AMRoute
	for _, m := range matchers {
		r := AMRoute{Receiver: receiver, Matchers: m}
		r.setTiming(t)
		out = append(out, r)
	}
	return out
}

// AMNullReceiver is the root route's receiver in a complete configuration: it has no
// integration, so alerts that are not slokit's are dropped until the user routes them.
const AMNullReceiver = "slokit-null"

// Config wraps the fragment into a complete alertmanager.yml whose root route sends
// everything that is not a slokit alert to AMNullReceiver.
func (f *AMFragment) Config() *AMConfig {
	root := &AMRoute{Receiver: AMNullReceiver, GroupBy: amGroupBy()}
	root.setTiming(DefaultTicketTiming())
	root.Routes = f.Routes
	return &AMConfig{
		Global:       &AMGlobal{ResolveTimeout: "5m"},
		Route:        root,
		InhibitRules: f.InhibitRules,
		Receivers:    append([]AMReceiver{{Name: AMNullReceiver}}, f.Receivers...),
	}
}

// YAML renders the complete configuration with slokit's generated-file header.
func (c *AMConfig) YAML() ([]byte, error) {
	return amMarshalYAML(c, slo.GeneratedHeader+"# Alertmanager configuration routing slokit's SLO alerts.\n# Secrets are read from files; create them before starting Alertmanager.\n")
}

// YAML renders the fragment with a header that says how to merge it.
func (f *AMFragment) YAML() ([]byte, error) {
	return amMarshalYAML(f, slo.GeneratedHeader+`# Alertmanager fragment routing slokit's SLO alerts. Merge it into alertmanager.yml:
#   routes        -> append to route.routes (before any catch-all route)
#   receivers     -> append to receivers
#   inhibit_rules -> append to inhibit_rules
`)
}

func amMarshalYAML(v any, header string) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(header)
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode alertmanager yaml: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode alertmanager yaml: %w", err)
	}
	return b.Bytes(), nil
}

func (r *AMRoute) setTiming(t Timing) {
	r.GroupWait = model.Duration(t.GroupWait).String()
	r.GroupInterval = model.Duration(t.GroupInterval).String()
	r.RepeatInterval = model.Duration(t.RepeatInterval).String()
}

// amInhibitRules returns o's inhibit rules: its page mutes its ticket (with
// keepClusterMissing, set when any SLO is global, all but a ClusterMissing ticket), and
// within one severity every tier mutes the tiers with a longer long window.
func amInhibitRules(o slo.Objective, keepClusterMissing bool) []AMInhibitRule {
	// slokit_slo=~".+" keeps the rules from touching alerts that are not slokit's: two
	// alerts without the label would otherwise count as "equal".
	own := amMatcher(slo.LabelSLO, "=~", ".+")
	var out []AMInhibitRule
	if o.Enabled(slo.Page) && o.Enabled(slo.Ticket) {
		target := append(amLabelMatchers(o.SeverityLabels(slo.Ticket)), own)
		if keepClusterMissing {
			// The ticket naming a lost cluster stays visible while the NotEvaluated
			// page that cluster causes fires. Every page→ticket rule says so: the rules
			// are shared by every SLO with the same severity labels.
			target = append(target, amMatcher(model.AlertNameLabel, "!~", ".+"+slo.ClusterMissingSuffix))
		}
		out = append(out, AMInhibitRule{
			SourceMatchers: append(amLabelMatchers(o.SeverityLabels(slo.Page)), own),
			TargetMatchers: target,
			Equal:          []string{slo.LabelService, slo.LabelSLO},
		})
	}
	for _, sev := range slo.Severities() {
		if !o.Enabled(sev) {
			continue
		}
		var longs []time.Duration
		seen := map[time.Duration]bool{}
		for _, w := range o.TiersOf(sev) {
			if !seen[w.Long] {
				seen[w.Long] = true
				longs = append(longs, w.Long)
			}
		}
		sort.Slice(longs, func(i, j int) bool { return longs[i] < longs[j] })
		labels := o.SeverityLabels(sev)
		equal := append([]string{slo.LabelService, slo.LabelSLO}, amSortedKeys(labels)...)
		for i := range longs {
			for j := i + 1; j < len(longs); j++ {
				out = append(out, AMInhibitRule{
					SourceMatchers: append(amLabelMatchers(labels), amMatcher(slo.LabelWindow, "=", slo.FormatWindow(longs[i]))),
					TargetMatchers: append(amLabelMatchers(labels), amMatcher(slo.LabelWindow, "=", slo.FormatWindow(longs[j]))),
					Equal:          equal,
				})
			}
		}
	}
	return out
}

func amInhibitKey(r AMInhibitRule) string {
	// Page→ticket rules sort before tier rules: their source has no slokit_window.
	tier := "1"
	for _, m := range r.SourceMatchers {
		if strings.HasPrefix(m, slo.LabelWindow+"=") {
			tier = "2"
		}
	}
	return tier + strings.Join(r.SourceMatchers, ",") + "|" + strings.Join(r.TargetMatchers, ",") + "|" + strings.Join(r.Equal, ",")
}

func amRouteValue(o slo.Objective, label string) (string, bool) {
	switch label {
	case slo.LabelService:
		return o.Service, true
	case slo.LabelSLO:
		return o.Name, true
	}
	v, ok := o.Labels[label]
	if !ok {
		v, ok = o.Alerting.Labels[label]
	}
	return v, ok && v != ""
}

func amSubtreeMatchers(label, value string, services map[string]bool) []string {
	if label == slo.LabelService {
		return []string{amMatcher(label, "=", value)}
	}
	names := amSortedKeys(services)
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = regexp.QuoteMeta(n)
	}
	// Restrict the subtree to slokit's alerts of these services.
	return []string{amMatcher(label, "=", value), amMatcher(slo.LabelService, "=~", strings.Join(quoted, "|"))}
}

func amLabelMatchers(labels map[string]string) []string {
	out := make([]string, 0, len(labels))
	for _, k := range amSortedKeys(labels) {
		out = append(out, amMatcher(k, "=", labels[k]))
	}
	return out
}

// amMatcher renders one Alertmanager matcher in the syntax of the matchers field.
func amMatcher(name, op, value string) string {
	return name + op + strconv.Quote(value)
}

func amReceiverName(value string, sev slo.SeverityName) string {
	kind := "pager"
	if sev == slo.Ticket {
		kind = "ticket"
	}
	return "slokit-" + value + "-" + kind
}

// amFileName turns a receiver name into a file name, injectively: letters, digits, '.'
// and '-' stay, every other byte (including '_') becomes _XX in hex, so that the
// receivers of teams "a/b" and "a_b" never share a secret file.
func amFileName(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || (c == '.' && i > 0) {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "_%02x", c)
	}
	return b.String()
}

func amReceiver(name string, spec ReceiverSpec, sev slo.SeverityName, dir, value string) AMReceiver {
	file := func(what string) string {
		return strings.TrimSuffix(dir, "/") + "/" + amFileName(name) + "-" + what
	}
	r := AMReceiver{Name: name}
	switch spec.Kind {
	case PagerDuty:
		severity := "critical"
		if sev == slo.Ticket {
			severity = "warning"
		}
		r.PagerdutyConfigs = []AMPagerDuty{{SendResolved: true, RoutingKeyFile: file("routing-key"), Severity: severity, Description: pagerdutyDescription}}
	case Slack:
		ch := spec.Channel
		if ch == "" {
			ch = "#" + value + "-slo-alerts"
		}
		r.SlackConfigs = []AMSlack{{SendResolved: true, APIURLFile: file("slack-url"), Channel: ch, Title: slackTitle, Text: slackText}}
	case Webhook:
		w := AMWebhook{SendResolved: true, URL: spec.URL}
		if spec.URL == "" {
			w.URLFile = file("webhook-url")
		}
		r.WebhookConfigs = []AMWebhook{w}
	}
	return r
}

var amLabelNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

func amCheckLabelName(n string) error {
	if !amLabelNameRE.MatchString(n) {
		return fmt.Errorf("%q is not a label name ([a-zA-Z_][a-zA-Z0-9_]*)", n)
	}
	return nil
}

func amSortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
