package chaos

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"

	"github.com/slokit/slokit/internal/strictyaml"
	"github.com/slokit/slokit/slo"
)

// Mitigation is what a resilience game day requires of the system while the fault is
// still in place: a named condition (a circuit breaker open, traffic shifted, a feature
// shed) that must become active on its own, after which the SLO's burn rate must fall
// below a bound although nothing was removed; once the fault is removed the condition
// must end. The zero value (no Name) means the game day has no mitigation step.
type Mitigation struct {
	// Name names the mitigation in the verdict and the report, [a-z0-9-]+.
	Name string
	// Active is a PromQL expression; the mitigation is active while it returns at least
	// one sample (like an alerting rule's expression), e.g.
	// circuit_breaker_state{breaker="linkcheck",state="closed"} == 0.
	Active string
	// Within is the deadline for the mitigation to become active, measured from injection.
	Within time.Duration
	// Relief is the burn-rate check under the fault once the mitigation is active.
	Relief Relief
	// ReleaseWithin is the deadline, from the fault's removal, for the condition to end;
	// 0 means Recovery's deadline.
	ReleaseWithin time.Duration
	at            pos
}

// Relief is the SLO's recovery while the fault is still injected.
type Relief struct {
	// Window is the burn-rate window checked; 0 means the objective's shortest.
	Window time.Duration
	// BurnRateBelow is the bound; 0 means 1.
	BurnRateBelow float64
	// Within is the deadline from the mitigation becoming active; 0 means the window
	// plus Signals.Tolerance (the window empties of the bad events before the mitigation).
	Within time.Duration
}

// ConditionReader is implemented by Signals that can evaluate a PromQL condition; the
// runner needs it for a game day with a mitigation.
type ConditionReader interface {
	// Condition reports whether expr returns at least one sample now.
	Condition(ctx context.Context, expr string) (bool, error)
}

// mitigation decodes the mitigation block strictly.
func (d *decoder) mitigation(n *yaml.Node, path string, m *Mitigation) {
	m.at = posOf(n)
	d.Mapping(n, path,
		strictyaml.Required("name", func(n *yaml.Node, p string) {
			d.Str(n, p, &m.Name)
			if m.Name != "" && !nameRE.MatchString(m.Name) {
				d.Errf(n, p, "must match [a-z0-9-]+, got %q", m.Name)
			}
		}),
		strictyaml.Required("active", func(n *yaml.Node, p string) { d.condition(n, p, &m.Active) }),
		strictyaml.Required("within", func(n *yaml.Node, p string) { d.duration(n, p, &m.Within) }),
		strictyaml.Optional("relief", func(n *yaml.Node, p string) {
			d.Mapping(n, p,
				strictyaml.Optional("window", func(n *yaml.Node, p string) { d.duration(n, p, &m.Relief.Window) }),
				strictyaml.Optional("burnRateBelow", func(n *yaml.Node, p string) { d.positive(n, p, &m.Relief.BurnRateBelow) }),
				strictyaml.Optional("within", func(n *yaml.Node, p string) { d.duration(n, p, &m.Relief.Within) }),
			)
		}),
		strictyaml.Optional("release", func(n *yaml.Node, p string) {
			d.Mapping(n, p,
				strictyaml.Optional("within", func(n *yaml.Node, p string) { d.duration(n, p, &m.ReleaseWithin) }),
			)
		}),
	)
}

// condition decodes a PromQL expression that must yield an instant vector or a scalar.
func (d *decoder) condition(n *yaml.Node, path string, dst *string) {
	v, ok := d.Scalar(n, path)
	if !ok {
		return
	}
	if v == "" {
		d.Errf(n, path, "must be a PromQL expression, like circuit_breaker_state{breaker=\"linkcheck\",state=\"closed\"} == 0")
		return
	}
	e, err := parser.NewParser(parser.Options{}).ParseExpr(v)
	if err != nil {
		d.Errf(n, path, "not valid PromQL: %v", err)
		return
	}
	if t := e.Type(); t != parser.ValueTypeVector && t != parser.ValueTypeScalar {
		kind := map[parser.ValueType]string{parser.ValueTypeMatrix: "range vector", parser.ValueTypeString: "string"}[t]
		d.Errf(n, path, "must yield an instant vector (active while it returns a sample), got a %s", kind)
		return
	}
	*dst = v
}

// PlannedMitigation is the resolved mitigation step.
type PlannedMitigation struct {
	Name, Active  string
	Within        time.Duration
	ReliefWindow  time.Duration
	ReliefBelow   float64
	ReliefWithin  time.Duration
	ReleaseWithin time.Duration
}

// planMitigation resolves g's mitigation against the objective's windows; check maps a
// window to itself (0 to the shortest) or reports it. Call it after the recovery is planned.
func planMitigation(d *decoder, g *GameDay, p *Plan, check func(w time.Duration, path string) time.Duration) {
	m := g.Mitigation
	if m.Name == "" {
		return
	}
	pm := &PlannedMitigation{Name: m.Name, Active: m.Active, Within: m.Within,
		ReliefWindow: check(m.Relief.Window, "mitigation.relief.window"),
		ReliefBelow:  cmp.Or(m.Relief.BurnRateBelow, DefaultBurnBelow), ReliefWithin: m.Relief.Within,
		ReleaseWithin: cmp.Or(m.ReleaseWithin, p.Recovery.Within)}
	if pm.ReliefWithin == 0 {
		pm.ReliefWithin = pm.ReliefWindow + p.Tolerance
	}
	if p.Hold > 0 && p.Hold < pm.Within+pm.ReliefWithin {
		d.Warnf(&yaml.Node{Line: m.at.line, Column: m.at.col}, "mitigation",
			"fault.duration %s ends before the mitigation's deadlines (%s to engage + %s of relief): the relief may be judged after the fault is gone",
			fmtDur(p.Hold), fmtDur(pm.Within), fmtDur(pm.ReliefWithin))
	}
	p.Mitigation = pm
}

// MitigationResult is the mitigation step's verdict, with every time measured.
type MitigationResult struct {
	Name   string `json:"name"`
	Active string `json:"active"`
	// ActiveBeforeFault is true when the condition held during preflight: the run then
	// cannot show that the fault engaged it.
	ActiveBeforeFault bool `json:"activeBeforeFault,omitempty"`
	// EngagedSeconds is from injection to the first poll with the condition active.
	EngagedSeconds *float64 `json:"engagedSeconds,omitempty"`
	// EngagedAfterAlertSeconds is from the first expected alert firing to engagement
	// (negative when the mitigation came first).
	EngagedAfterAlertSeconds *float64 `json:"engagedAfterAlertSeconds,omitempty"`
	WithinSeconds            float64  `json:"withinSeconds"`
	Engaged                  bool     `json:"engaged"`
	// ReliefSeconds is from engagement to the first poll, fault still in, with the
	// ReliefWindow burn rate under ReliefBelow.
	ReliefWindow        string   `json:"reliefWindow"`
	ReliefBelow         float64  `json:"reliefBurnRateBelow"`
	ReliefSeconds       *float64 `json:"reliefSeconds,omitempty"`
	ReliefWithinSeconds float64  `json:"reliefWithinSeconds"`
	Relieved            bool     `json:"relieved"`
	// ReleasedSeconds is from the fault's removal to the first poll with the condition
	// no longer active.
	ReleasedSeconds      *float64 `json:"releasedSeconds,omitempty"`
	ReleaseWithinSeconds float64  `json:"releaseWithinSeconds"`
	Released             bool     `json:"released"`
	// Intervals are the spans the condition was seen active, for the report's band;
	// an open interval (the run ended while active) has no End.
	Intervals []Interval `json:"intervals,omitempty"`
	// PollErrors counts condition reads that failed.
	PollErrors int `json:"pollErrors,omitempty"`
}

// Interval is a span of time; End is nil while it is still open.
type Interval struct {
	Start time.Time  `json:"start"`
	End   *time.Time `json:"end,omitempty"`
}

// mitigationTracker follows the mitigation condition poll by poll.
type mitigationTracker struct {
	pm      *PlannedMitigation
	cond    ConditionReader
	res     *MitigationResult
	active  bool
	engaged time.Time // first activation after injection
	relief  time.Time
	release time.Time
}

// newMitigationTracker returns nil when the plan has no mitigation.
func newMitigationTracker(p *Plan, sig Signals) (*mitigationTracker, error) {
	pm := p.Mitigation
	if pm == nil {
		return nil, nil
	}
	cond, ok := sig.(ConditionReader)
	if !ok {
		return nil, fmt.Errorf("mitigation %s: the signal source cannot evaluate PromQL conditions", pm.Name)
	}
	return &mitigationTracker{pm: pm, cond: cond, res: &MitigationResult{Name: pm.Name, Active: pm.Active,
		WithinSeconds: pm.Within.Seconds(), ReliefWindow: slo.FormatWindow(pm.ReliefWindow), ReliefBelow: pm.ReliefBelow,
		ReliefWithinSeconds: pm.ReliefWithin.Seconds(), ReleaseWithinSeconds: pm.ReleaseWithin.Seconds()}}, nil
}

// observe evaluates the condition at one poll. began and ended are the fault's bounds
// (zero until known); burn is the poll's burn rates. It returns the events to report.
func (m *mitigationTracker) observe(ctx context.Context, now, began, ended time.Time, burn map[time.Duration]float64) []string {
	if m == nil {
		return nil
	}
	on, err := m.cond.Condition(ctx, m.pm.Active)
	if err != nil {
		m.res.PollErrors++
		return nil
	}
	var events []string
	if e := m.transition(on, now); e != "" {
		events = append(events, e)
	}
	switch {
	case began.IsZero():
		m.res.ActiveBeforeFault = m.res.ActiveBeforeFault || on
	case ended.IsZero():
		if on && m.engaged.IsZero() {
			m.engaged = now
			m.res.EngagedSeconds = secs(now.Sub(began))
		}
		if v, ok := burn[m.pm.ReliefWindow]; ok && !m.engaged.IsZero() && m.relief.IsZero() && v < m.pm.ReliefBelow {
			m.relief = now
			m.res.ReliefSeconds = secs(now.Sub(m.engaged))
			events = append(events, fmt.Sprintf("%s burn %.3g < %g under the fault", slo.FormatWindow(m.pm.ReliefWindow), v, m.pm.ReliefBelow))
		}
	default:
		if !on && m.release.IsZero() {
			m.release = now
			m.res.ReleasedSeconds = secs(now.Sub(ended))
		}
	}
	return events
}

// transition records the active intervals and names a change of state.
func (m *mitigationTracker) transition(on bool, now time.Time) string {
	if on == m.active {
		return ""
	}
	m.active = on
	if on {
		m.res.Intervals = append(m.res.Intervals, Interval{Start: now})
		return "mitigation " + m.pm.Name + " active"
	}
	if n := len(m.res.Intervals); n > 0 {
		m.res.Intervals[n-1].End = ptrTime(now)
	}
	return "mitigation " + m.pm.Name + " ended"
}

// faultSettled reports whether the mitigation no longer needs the fault held: relief
// was seen, or a deadline passed (never engaged, or engaged without relief).
func (m *mitigationTracker) faultSettled(now, began time.Time) bool {
	switch {
	case m == nil:
		return true
	case !m.relief.IsZero():
		return true
	case m.engaged.IsZero():
		return now.Sub(began) > m.pm.Within
	default:
		return now.Sub(m.engaged) > m.pm.ReliefWithin
	}
}

// releaseSettled reports whether the recovery phase may end as far as the mitigation
// is concerned: it was released, or never engaged, or its deadline passed.
func (m *mitigationTracker) releaseSettled(now, ended time.Time) bool {
	return m == nil || !m.release.IsZero() || m.engaged.IsZero() || now.Sub(ended) > m.pm.ReleaseWithin
}

// judge fills in the verdict fields of the result. firstAlert is when the first
// expected alert fired (zero if none did).
func (m *mitigationTracker) judge(firstAlert time.Time) *MitigationResult {
	r := m.res
	if !m.engaged.IsZero() && !firstAlert.IsZero() {
		r.EngagedAfterAlertSeconds = secs(m.engaged.Sub(firstAlert))
	}
	r.Engaged = r.EngagedSeconds != nil && *r.EngagedSeconds <= m.pm.Within.Seconds()
	r.Relieved = r.ReliefSeconds != nil && *r.ReliefSeconds <= m.pm.ReliefWithin.Seconds()
	r.Released = m.engaged.IsZero() || (r.ReleasedSeconds != nil && *r.ReleasedSeconds <= m.pm.ReleaseWithin.Seconds())
	return r
}

// reasons explains a failed mitigation step; empty when it passed.
func (m *mitigationTracker) reasons(faultHeld time.Duration, removed bool) []string {
	r, pm := m.res, m.pm
	var out []string
	if r.ActiveBeforeFault {
		out = append(out, fmt.Sprintf("mitigation %s was already active before the fault: `%s` returned a sample during preflight, so the run cannot show that the fault engaged it", pm.Name, pm.Active))
	}
	switch {
	case r.EngagedSeconds == nil:
		out = append(out, fmt.Sprintf("mitigation %s never engaged: `%s` returned nothing during the %s the fault was held (allowed %s)",
			pm.Name, pm.Active, fmtDur(faultHeld), fmtDur(pm.Within)))
	case !r.Engaged:
		out = append(out, fmt.Sprintf("mitigation %s engaged after %s, later than the %s allowed", pm.Name, fmtDur(durOf(r.EngagedSeconds)), fmtDur(pm.Within)))
	}
	if r.EngagedSeconds != nil && !r.Relieved {
		if r.ReliefSeconds == nil {
			out = append(out, fmt.Sprintf("the %s burn rate did not fall below %g while the fault was still in (mitigation %s active, allowed %s)",
				slo.FormatWindow(pm.ReliefWindow), pm.ReliefBelow, pm.Name, fmtDur(pm.ReliefWithin)))
		} else {
			out = append(out, fmt.Sprintf("the %s burn rate fell below %g %s after mitigation %s engaged, later than the %s allowed",
				slo.FormatWindow(pm.ReliefWindow), pm.ReliefBelow, fmtDur(durOf(r.ReliefSeconds)), pm.Name, fmtDur(pm.ReliefWithin)))
		}
	}
	if removed && !r.Released {
		out = append(out, fmt.Sprintf("mitigation %s was still active %s after the fault was removed: `%s` kept returning samples",
			pm.Name, fmtDur(pm.ReleaseWithin), pm.Active))
	}
	return out
}

func durOf(s *float64) time.Duration { return time.Duration(*s * float64(time.Second)) }

// judgeMitigation fills Result.Mitigation and adds its reasons; it reports whether the
// mitigation step passed.
func (s *runState) judgeMitigation() bool {
	var first time.Time
	for _, e := range s.r.Plan.Expect {
		if t := s.firedFor(e.Selector); t != nil && (first.IsZero() || t.FiringAt.Before(first)) {
			first = *t.FiringAt
		}
	}
	s.res.Mitigation = s.mit.judge(first)
	held := s.ended.Sub(s.began)
	if s.ended.IsZero() {
		held = s.r.Clock.Now().Sub(s.began)
	}
	reasons := s.mit.reasons(held, s.removed)
	for _, r := range reasons {
		s.reason("%s", r)
	}
	return len(reasons) == 0
}
