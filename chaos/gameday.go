package chaos

import (
	"net/url"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/slokit/slokit/internal/strictyaml"
	"github.com/slokit/slokit/slo"
)

// GameDay is one validated game-day file in domain form. Zero values of optional fields
// mean "use the default"; Prepare resolves them against the SLO and the alert maths.
type GameDay struct {
	// Name is the game day's name, [a-z0-9-]+; backends label what they create with it.
	Name string
	// Description is free text for the report.
	Description string
	// Source is the file the game day was read from.
	Source string
	// SLO names the objective under test.
	SLO SLORef
	// Signals says where burn rates and alerts are read.
	Signals SignalsSpec
	// Fault is what gets injected.
	Fault Fault
	// ExpectedErrorRatio is the error ratio the fault is expected to cause, in (0,1];
	// 0 means "ask the backend" (Estimator) and, failing that, unknown.
	ExpectedErrorRatio float64
	expectedPos        pos
	// SteadyState is checked before anything is injected.
	SteadyState SteadyState
	// Expect lists the alerts that must fire while the fault is in place.
	Expect []Expectation
	// MustNotFire lists alerts that must not fire at any time during the run.
	MustNotFire []AlertSelector
	// Recovery is what "recovered" means after the fault is removed.
	Recovery Recovery
	// Mitigation, when named, is what must engage on its own under the fault and relieve
	// the SLO before the fault is removed (a resilience game day).
	Mitigation Mitigation
	// Guardrails abort the run early.
	Guardrails Guardrails
}

// pos is a position in the game-day file, kept for diagnostics found after parsing.
type pos struct{ line, col int }

func posOf(n *yaml.Node) pos { return pos{n.Line, n.Column} }

// SLORef names one objective in an SLO spec file.
type SLORef struct {
	// File is the spec file, relative to the game-day file's directory unless absolute.
	File string
	// Service selects the service when File holds several; "" means the only one.
	Service string
	// Name is the SLO's name.
	Name string
}

// SignalsSpec says where the runner reads signals.
type SignalsSpec struct {
	// Prometheus is the base URL of a Prometheus-compatible HTTP API: burn rates, the
	// error budget and, unless AlertsURL is set, the alerts are read there.
	Prometheus string
	// AlertsURL is the base URL of the API whose /api/v1/alerts lists the SLO's alerts,
	// when they are evaluated elsewhere than Prometheus: Thanos Ruler, with Prometheus
	// pointed at Thanos Query (docs/thanos.md). "" means Prometheus.
	AlertsURL string
	// PollInterval is how often signals are read; 0 means 1s.
	PollInterval time.Duration
	// Tolerance is added to predicted times when they become deadlines: one scrape
	// interval, one rule-evaluation interval and rate() extrapolation at window edges.
	// 0 means 2m (Prometheus' default 1m scrape plus 1m evaluation).
	Tolerance time.Duration
}

// Fault is the fault a game day injects.
type Fault struct {
	// Backend selects the Backend by name ("http-proxy", "chaosmesh", …).
	Backend string
	// Duration is how long the fault stays in place; 0 means "until every expected alert
	// fired or missed its deadline".
	Duration time.Duration
	// Params is the backend's typed fault (Backend.Parse); nil when Parse ran without
	// backends.
	Params FaultParams
	// ParamsYAML is the params as written, kept for the run journal: `slokit chaos
	// cleanup` parses them again in another process.
	ParamsYAML string
}

// SteadyState is checked in preflight: a run that starts from a burning SLO proves nothing.
type SteadyState struct {
	// Window is the burn-rate window checked; 0 means the long window of the expected
	// tier predicted to fire first (its history decides the detection time).
	Window time.Duration
	// MaxBurnRate is the highest acceptable burn rate on Window; 0 means 1.
	MaxBurnRate float64
	// NoAlerts requires that no alert of the SLO is pending or firing. nil means true.
	NoAlerts *bool
	// Wait is how long preflight waits for the steady state (polling) before it gives
	// up; 0 checks once. It lets a run start right after the service or its proxy came
	// up, while the burn-rate windows still hold the start-up.
	Wait time.Duration
}

// AlertSelector picks alert tiers of the SLO under test.
type AlertSelector struct {
	// Severity is "page" or "ticket".
	Severity slo.SeverityName
	// Window is the tier's long window; 0 matches every tier of Severity.
	Window time.Duration
	at     pos
}

// Expectation is one alert that must fire within a time.
type Expectation struct {
	AlertSelector
	// Within is the deadline from injection; 0 means the predicted detection time of the
	// fastest matching tier plus Signals.Tolerance.
	Within time.Duration
}

// Recovery is checked after the fault is removed.
type Recovery struct {
	// Within is the deadline from removal; 0 means the slowest predicted reset of the
	// expected tiers plus Signals.Tolerance.
	Within time.Duration
	// BurnRateBelow is the bound the Window burn rate must fall under; 0 means 1.
	BurnRateBelow float64
	// Window is the burn-rate window checked; 0 means the objective's shortest.
	Window time.Duration
	at     pos
}

// Guardrails stop a run that does more harm than it should.
type Guardrails struct {
	// MaxBudget is the largest fraction of the period's error budget the run may spend;
	// 0 means 0.2 (20%).
	MaxBudget float64
	// Timeout bounds the whole run; 0 means the fault's hold time plus the recovery
	// deadline plus 5m.
	Timeout time.Duration
}

var nameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)

// Parse decodes and validates one game-day file, reporting every problem at once with
// its position. Fault parameters are checked by the backend named in fault.backend,
// looked up in backends; an unknown backend is an error, and nil backends skip the
// check. The GameDay is nil when any error is found.
func Parse(file string, data []byte, backends []Backend) (*GameDay, slo.Diagnostics) {
	d := newDecoder(file)
	root := d.document(data)
	if root == nil {
		return nil, d.Diagnostics()
	}
	g := &GameDay{Source: file}
	var faultNode, backendNode, paramsNode *yaml.Node
	seen := d.Mapping(root, "",
		strictyaml.Required("name", func(n *yaml.Node, p string) {
			d.Str(n, p, &g.Name)
			if g.Name != "" && !nameRE.MatchString(g.Name) {
				d.Errf(n, p, "must match [a-z0-9-]+ (it labels what backends create), got %q", g.Name)
			}
		}),
		strictyaml.Optional("description", func(n *yaml.Node, p string) { d.Str(n, p, &g.Description) }),
		strictyaml.Required("slo", func(n *yaml.Node, p string) { d.sloRef(n, p, &g.SLO) }),
		strictyaml.Required("signals", func(n *yaml.Node, p string) { d.signals(n, p, &g.Signals) }),
		strictyaml.Required("fault", func(n *yaml.Node, p string) {
			faultNode = n
			backendNode, paramsNode = d.fault(n, p, &g.Fault)
		}),
		strictyaml.Optional("expectedErrorRatio", func(n *yaml.Node, p string) {
			g.expectedPos = posOf(n)
			d.ratio(n, p, &g.ExpectedErrorRatio)
		}),
		strictyaml.Optional("steadyState", func(n *yaml.Node, p string) { d.steadyState(n, p, &g.SteadyState) }),
		// Required, unless a mitigation is what the game day proves (checked below).
		strictyaml.Optional("expect", func(n *yaml.Node, p string) { d.expect(n, p, &g.Expect) }),
		strictyaml.Optional("mustNotFire", func(n *yaml.Node, p string) {
			d.List(n, p, func(n *yaml.Node, p string) {
				s := AlertSelector{at: posOf(n)}
				d.Mapping(n, p, d.selectorFields(&s)...)
				g.MustNotFire = append(g.MustNotFire, s)
			})
		}),
		strictyaml.Optional("recovery", func(n *yaml.Node, p string) { d.recovery(n, p, &g.Recovery) }),
		strictyaml.Optional("mitigation", func(n *yaml.Node, p string) { d.mitigation(n, p, &g.Mitigation) }),
		strictyaml.Optional("guardrails", func(n *yaml.Node, p string) {
			d.Mapping(n, p,
				strictyaml.Optional("maxBudget", func(n *yaml.Node, p string) { d.ratio(n, p, &g.Guardrails.MaxBudget) }),
				strictyaml.Optional("timeout", func(n *yaml.Node, p string) { d.duration(n, p, &g.Guardrails.Timeout) }),
			)
		}),
	)
	if _, ok := seen["mitigation"]; !ok {
		d.Require(root, "", seen, "expect")
	}
	d.contradictions(g)
	d.backendParams(g, backends, faultNode, backendNode, paramsNode)
	if len(d.Diags.Errors()) > 0 {
		return nil, d.Diagnostics()
	}
	return g, d.Diagnostics()
}

// document parses data as exactly one YAML document with strictyaml's limits (size,
// depth, aliases) and syntax errors, and returns its root, or nil.
func (d *decoder) document(data []byte) *yaml.Node {
	d.Size = len(data)
	return d.Document(data, "a game day with at least name, slo, signals, fault and expect")
}

func (d *decoder) sloRef(n *yaml.Node, p string, ref *SLORef) {
	d.Mapping(n, p,
		strictyaml.Required("file", func(n *yaml.Node, p string) { d.Str(n, p, &ref.File) }),
		strictyaml.Optional("service", func(n *yaml.Node, p string) { d.Str(n, p, &ref.Service) }),
		strictyaml.Required("name", func(n *yaml.Node, p string) { d.Str(n, p, &ref.Name) }),
	)
}

func (d *decoder) signals(n *yaml.Node, p string, s *SignalsSpec) {
	d.Mapping(n, p,
		strictyaml.Required("prometheus", func(n *yaml.Node, p string) { d.baseURL(n, p, &s.Prometheus, "http://127.0.0.1:9090") }),
		strictyaml.Optional("alertsURL", func(n *yaml.Node, p string) { d.baseURL(n, p, &s.AlertsURL, "http://127.0.0.1:10902") }),
		strictyaml.Optional("pollInterval", func(n *yaml.Node, p string) { d.duration(n, p, &s.PollInterval) }),
		strictyaml.Optional("tolerance", func(n *yaml.Node, p string) { d.duration(n, p, &s.Tolerance) }),
	)
}

// baseURL decodes an API's base URL: absolute http(s), no query or fragment.
func (d *decoder) baseURL(n *yaml.Node, p string, out *string, example string) {
	d.Str(n, p, out)
	if *out == "" {
		return
	}
	u, err := url.Parse(*out)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		d.Errf(n, p, "must be an http(s) URL like %s, got %q", example, *out)
		return
	}
	if strings.HasSuffix(strings.TrimRight(u.Path, "/"), "/api/v1/alerts") || strings.HasSuffix(strings.TrimRight(u.Path, "/"), "/api/v1/query") {
		d.Errf(n, p, "must be the API's base URL (slokit appends /api/v1/...), got %q", *out)
	}
}

// fault decodes the fault mapping and returns the backend's node (for its position) and
// the params node.
func (d *decoder) fault(n *yaml.Node, p string, f *Fault) (backendNode, paramsNode *yaml.Node) {
	d.Mapping(n, p,
		strictyaml.Required("backend", func(n *yaml.Node, p string) { backendNode = n; d.Str(n, p, &f.Backend) }),
		strictyaml.Optional("duration", func(n *yaml.Node, p string) { d.duration(n, p, &f.Duration) }),
		strictyaml.Optional("params", func(n *yaml.Node, p string) { paramsNode = n }),
	)
	if paramsNode != nil {
		if b, err := yaml.Marshal(paramsNode); err == nil {
			f.ParamsYAML = string(b)
		}
	}
	return backendNode, paramsNode
}

func (d *decoder) steadyState(n *yaml.Node, p string, ss *SteadyState) {
	d.Mapping(n, p,
		strictyaml.Optional("window", func(n *yaml.Node, p string) { d.duration(n, p, &ss.Window) }),
		strictyaml.Optional("maxBurnRate", func(n *yaml.Node, p string) { d.positive(n, p, &ss.MaxBurnRate) }),
		strictyaml.Optional("wait", func(n *yaml.Node, p string) { d.duration(n, p, &ss.Wait) }),
		strictyaml.Optional("noAlerts", func(n *yaml.Node, p string) {
			var b bool
			d.boolean(n, p, &b)
			ss.NoAlerts = &b
		}),
	)
}

func (d *decoder) expect(n *yaml.Node, p string, out *[]Expectation) {
	d.List(n, p, func(n *yaml.Node, p string) {
		var e Expectation
		e.at = posOf(n)
		d.Mapping(n, p, append(d.selectorFields(&e.AlertSelector),
			strictyaml.Optional("within", func(n *yaml.Node, p string) { d.duration(n, p, &e.Within) }))...)
		*out = append(*out, e)
	})
	if strictyaml.IsNull(n) || n.Kind == yaml.SequenceNode && len(n.Content) == 0 {
		d.Errf(n, p, "must list at least one alert that the fault should fire, like [{severity: page}]")
	}
}

func (d *decoder) recovery(n *yaml.Node, p string, r *Recovery) {
	r.at = posOf(n)
	d.Mapping(n, p,
		strictyaml.Optional("within", func(n *yaml.Node, p string) { d.duration(n, p, &r.Within) }),
		strictyaml.Optional("burnRateBelow", func(n *yaml.Node, p string) { d.positive(n, p, &r.BurnRateBelow) }),
		strictyaml.Optional("window", func(n *yaml.Node, p string) { d.duration(n, p, &r.Window) }),
	)
}

// contradictions reports an alert both expected and forbidden.
func (d *decoder) contradictions(g *GameDay) {
	for i, e := range g.Expect {
		for _, m := range g.MustNotFire {
			if e.overlaps(m) {
				d.Errf(&yaml.Node{Line: m.at.line, Column: m.at.col}, "mustNotFire",
					"contradicts expect[%d]: the same alert cannot both be expected and forbidden", i)
			}
		}
	}
}

// backendParams has the backend named in fault.backend parse the fault's params into its
// typed fault; absent params are an empty mapping at the fault's position.
func (d *decoder) backendParams(g *GameDay, backends []Backend, faultNode, backendNode, params *yaml.Node) {
	if g.Fault.Backend == "" || backends == nil {
		return
	}
	b := backendNamed(backends, g.Fault.Backend)
	if b == nil {
		var names []string
		for _, c := range backends {
			names = append(names, c.Name())
		}
		d.Errf(backendNode, "fault.backend", "unknown backend %q; this slokit knows %v", g.Fault.Backend, names)
		return
	}
	if params == nil {
		params = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: faultNode.Line, Column: faultNode.Column}
	}
	fp, ds := b.Parse(d.File, params)
	d.Diags = append(d.Diags, ds...) // sorted with d's own by Diagnostics
	g.Fault.Params = fp
}

func (d *decoder) selectorFields(s *AlertSelector) []strictyaml.Field {
	return []strictyaml.Field{
		strictyaml.Required("severity", func(n *yaml.Node, p string) {
			v, ok := d.Scalar(n, p)
			if !ok {
				return
			}
			switch slo.SeverityName(v) {
			case slo.Page, slo.Ticket:
				s.Severity = slo.SeverityName(v)
			default:
				d.Errf(n, p, "must be page or ticket, got %q", v)
			}
		}),
		strictyaml.Optional("window", func(n *yaml.Node, p string) { d.duration(n, p, &s.Window) }),
	}
}

func (d *decoder) positive(n *yaml.Node, path string, dst *float64) {
	var f float64
	if !d.float(n, path, &f) {
		return
	}
	if f <= 0 {
		d.Errf(n, path, "must be positive, got %v", f)
		return
	}
	*dst = f
}

// matches reports whether an alert of severity and long window w is selected by s.
func (s AlertSelector) matches(severity slo.SeverityName, w time.Duration) bool {
	return s.Severity == severity && (s.Window == 0 || s.Window == w)
}

func (s AlertSelector) overlaps(o AlertSelector) bool {
	return s.Severity == o.Severity && (s.Window == 0 || o.Window == 0 || s.Window == o.Window)
}

// String renders the selector like "page" or "page/1h".
func (s AlertSelector) String() string {
	if s.Window == 0 {
		return string(s.Severity)
	}
	return string(s.Severity) + "/" + slo.FormatWindow(s.Window)
}
