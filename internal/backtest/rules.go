package backtest

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"

	"github.com/slokit/slokit/slo"
)

// LoadRules reads a Prometheus rule file, or a PrometheusRule manifest (its spec), with
// Prometheus' own parser and returns its groups. Errors carry file:line:col.
func LoadRules(file string) ([]slo.RuleGroup, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var probe struct {
		Kind string    `yaml:"kind"`
		Spec yaml.Node `yaml:"spec"`
	}
	if yaml.Unmarshal(data, &probe) == nil && probe.Kind == "PrometheusRule" {
		var buf bytes.Buffer
		enc := yaml.NewEncoder(&buf)
		if err := enc.Encode(&probe.Spec); err != nil {
			return nil, fmt.Errorf("%s: spec: %w", file, err)
		}
		data = buf.Bytes()
	}
	rgs, errs := rulefmt.Parse(data, false, model.UTF8Validation, parser.NewParser(parser.Options{}), slog.New(slog.DiscardHandler))
	if len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = file + ":" + strings.TrimPrefix(e.Error(), "yaml: ")
		}
		return nil, errors.New(strings.Join(msgs, "\n"))
	}
	var out []slo.RuleGroup
	for _, g := range rgs.Groups {
		sg := slo.RuleGroup{Name: g.Name}
		if g.Interval != 0 {
			sg.Interval = g.Interval.String()
		}
		for _, r := range g.Rules {
			sr := slo.Rule{Record: r.Record, Alert: r.Alert, Expr: r.Expr, Labels: r.Labels, Annotations: r.Annotations}
			if r.For != 0 {
				sr.For = r.For.String()
			}
			if r.KeepFiringFor != 0 {
				sr.KeepFiringFor = r.KeepFiringFor.String()
			}
			sg.Rules = append(sg.Rules, sr)
		}
		out = append(out, sg)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no rule groups", file)
	}
	return out, nil
}

// GroupsFor picks the groups of a foreign rule file that concern o: those whose name
// contains o's name (Sloth and Pyrra name groups after the SLO), else every group.
func GroupsFor(groups []slo.RuleGroup, o slo.Objective) []slo.RuleGroup {
	var out []slo.RuleGroup
	for _, g := range groups {
		if strings.Contains(g.Name, o.Name) {
			out = append(out, g)
		}
	}
	if len(out) == 0 {
		return groups
	}
	return out
}

// severityOf classifies a foreign alerting rule by its labels: Sloth's sloth_severity,
// else severity (page or critical: page; ticket or warning: ticket), else page.
func severityOf(l map[string]string) slo.SeverityName {
	for _, k := range []string{"sloth_severity", "severity"} {
		switch strings.ToLower(l[k]) {
		case "page", "critical":
			return slo.Page
		case "ticket", "warning":
			return slo.Ticket
		}
	}
	return slo.Page
}
