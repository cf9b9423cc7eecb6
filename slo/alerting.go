package slo

import (
	"maps"
	"strconv"
	"strings"
)

// This file is the one place that says what an Objective's alerting configuration means:
// which tiers are in force, what they fire on, what the alert is called and which labels
// it carries. Generators, dashboards, backtests and game days ask these methods; they do
// not re-derive the answers.

// Severities returns the severities in the order slokit generates them: page, then ticket.
func Severities() []SeverityName { return []SeverityName{Page, Ticket} }

// Severity returns the configuration of severity s (Ticket for Ticket, Page otherwise).
func (a Alerting) Severity(s SeverityName) Severity {
	if s == Ticket {
		return a.Ticket
	}
	return a.Page
}

// Enabled reports whether o generates alerts of severity s: the severity is not disabled.
func (o Objective) Enabled(s SeverityName) bool { return !o.Alerting.Severity(s).Disabled }

// Tiers returns the windows in force (Windows) whose severity is enabled, in their order:
// the tiers that can fire an alert.
func (o Objective) Tiers() []Window {
	var out []Window
	for _, w := range o.Windows() {
		if o.Enabled(w.Severity) {
			out = append(out, w)
		}
	}
	return out
}

// TiersOf returns the enabled tiers of severity s; nil when s is disabled or has none.
func (o Objective) TiersOf(s SeverityName) []Window {
	var out []Window
	for _, w := range o.Tiers() {
		if w.Severity == s {
			out = append(out, w)
		}
	}
	return out
}

// Threshold is the error ratio above which tier w fires: BurnRate × error budget. A tier
// whose threshold is 1 or more can never fire.
func (o Objective) Threshold(w Window) float64 { return w.BurnRate * o.ErrorBudget() }

// BudgetAtFire is the fraction of the period's error budget tier w has seen spent when
// it fires, whatever the error ratio: BurnRate × Long / Period.
func (o Objective) BudgetAtFire(w Window) float64 {
	return w.BurnRate * float64(w.Long) / float64(o.Period)
}

// Name is the tier's short name, "<severity>/<long window>" ("page/1h"), as game days,
// backtests and progress lines print it and LabelWindow carries the long window.
func (w Window) Name() string { return string(w.Severity) + "/" + FormatWindow(w.Long) }

// AlertName is the alert name of o's rules: Alerting.Name when set, else
// DefaultAlertName(service, slo).
func (o Objective) AlertName() string {
	if o.Alerting.Name != "" {
		return o.Alerting.Name
	}
	return DefaultAlertName(o.Service, o.Name)
}

// DefaultAlertName is the CamelCase alert name of an SLO: "shortlink" and
// "redirect-availability" give "ShortlinkRedirectAvailability". Characters other than
// ASCII letters and digits separate words; a name that would start with a digit (or be
// empty) gets the prefix "SLO", so that it is a valid Prometheus alert name.
func DefaultAlertName(service, slo string) string {
	var b strings.Builder
	up := true
	for _, r := range service + "-" + slo {
		switch {
		case (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9'):
			if up && r >= 'a' && r <= 'z' {
				r -= 'a' - 'A'
			}
			b.WriteRune(r)
			up = false
		default:
			up = true
		}
	}
	out := b.String()
	if out == "" || (out[0] >= '0' && out[0] <= '9') {
		out = "SLO" + out
	}
	return out
}

// SeverityLabels are the labels that tell o's alerts of severity s apart from its other
// severity, and that Alertmanager routes on: severity=<s>, overridden by a severity label
// in Alerting.Labels, then by the severity's own labels.
func (o Objective) SeverityLabels(s SeverityName) map[string]string {
	out := map[string]string{LabelSeverity: string(s)}
	if v, ok := o.Alerting.Labels[LabelSeverity]; ok {
		out[LabelSeverity] = v
	}
	maps.Copy(out, o.Alerting.Severity(s).Labels)
	return out
}

// AlertLabels are the labels the alert rule of severity s sets: Alerting.Labels with
// SeverityLabels(s) over them. The firing alert also carries RuleLabels and LabelWindow
// from the burn-rate series its expression selects.
func (o Objective) AlertLabels(s SeverityName) map[string]string {
	out := make(map[string]string, len(o.Alerting.Labels)+2)
	maps.Copy(out, o.Alerting.Labels)
	maps.Copy(out, o.SeverityLabels(s))
	return out
}

// FormatPercent renders a ratio as a percentage number without float noise and without
// the "%" sign: 0.999 → "99.9", 0.0001 → "0.01".
func FormatPercent(ratio float64) string { return strconv.FormatFloat(ratio*100, 'g', 12, 64) }

// ObjectivePercent is o's target as a percentage number: "99.9" for 0.999.
func (o Objective) ObjectivePercent() string { return FormatPercent(o.Target) }
