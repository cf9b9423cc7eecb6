package slo

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Converting any accepted spec to slokit/v1: MarshalV1 writes one Service as a
// slokit/v1 document, deterministically (map keys sorted), with comments saying where
// each imported field came from (Service.Origins). Reading the output back gives the
// same objectives; only names change where slokit/v1's name rule ([a-z0-9-]+) needs it,
// and then the alert name is written out so that alerts keep their names.

// V1Name returns name in slokit/v1's name syntax: lowercase, with every run of other
// characters replaced by '-' ("TestSLO" → "testslo", "api_errors.v2" → "api-errors-v2").
func V1Name(name string) string {
	if nameRE.MatchString(name) {
		return name
	}
	return suggestName(name)
}

// MarshalV1 renders svc as a slokit/v1 spec. It fails when two SLO names become the
// same once converted.
func MarshalV1(svc *Service) ([]byte, error) {
	root := mapping()
	add(root, "version", str(VersionV1), "")
	svcName := V1Name(svc.Name)
	note := ""
	if svcName != svc.Name {
		note = fmt.Sprintf("was %q: slokit/v1 names are [a-z0-9-]+; series labels change accordingly", svc.Name)
	}
	add(root, "service", str(svcName), note)
	slos := &yaml.Node{Kind: yaml.SequenceNode}
	seen := map[string]string{}
	for _, o := range svc.Objectives {
		n := V1Name(o.Name)
		if first, dup := seen[n]; dup {
			return nil, fmt.Errorf("SLOs %q and %q both become %q in slokit/v1: rename one", first, o.Name, n)
		}
		seen[n] = o.Name
		slos.Content = append(slos.Content, sloNode(o, svcName, svc.Origins[o.Name]))
	}
	add(root, "slos", slos, "")
	doc := &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}
	if svc.Source != "" {
		doc.HeadComment = "Converted by slokit convert from " + svc.Source + ".\nEach comment names the field it came from; review, then keep this file as the source."
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func sloNode(o Objective, svcName string, origins map[string]Origin) *yaml.Node {
	from := func(field string) string {
		if og, ok := origins[field]; ok {
			return "from " + og.String()
		}
		return ""
	}
	m := mapping()
	name := V1Name(o.Name)
	note := from("name")
	if name != o.Name {
		note = strings.TrimSpace(note + fmt.Sprintf("; was %q", o.Name))
	}
	add(m, "name", str(name), note)
	add(m, "objective", number(o.ObjectivePercent()), from("objective"))
	add(m, "period", str(FormatWindow(o.Period)), from("period"))
	if o.Description != "" {
		add(m, "description", str(o.Description), "")
	}
	if len(o.Labels) > 0 {
		add(m, "labels", stringMapNode(o.Labels), from("labels"))
	}
	if o.ScrapeInterval > 0 {
		add(m, "scrapeInterval", str(FormatWindow(o.ScrapeInterval)), "")
	}
	if o.EvaluationInterval > 0 {
		add(m, "evaluationInterval", str(FormatWindow(o.EvaluationInterval)), "")
	}
	if o.IsGlobal() {
		add(m, "scope", str("global"), "")
		if g := globalNode(o.Scope); len(g.Content) > 0 {
			add(m, "global", g, "")
		}
	}
	add(m, "sli", sliNode(o.SLI), from("sli"))
	if a := alertingNode(o, svcName, name); len(a.Content) > 0 {
		add(m, "alerting", a, from("alerting"))
	}
	return m
}

// globalNode writes a global SLO's settings that differ from the zero Scope.
func globalNode(sc Scope) *yaml.Node {
	m := mapping()
	if sc.ClusterLabel != "" {
		add(m, "clusterLabel", str(sc.ClusterLabel), "")
	}
	if sc.ReplicaLabels != nil {
		rs := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, r := range sc.ReplicaLabels {
			rs.Content = append(rs.Content, str(r))
		}
		add(m, "replicaLabels", rs, "")
	}
	if sc.PerClusterBurn {
		add(m, "perClusterBurn", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"}, "")
	}
	if sc.Delay > 0 {
		add(m, "delay", str(FormatWindow(sc.Delay)), "")
	}
	return m
}

func sliNode(s SLI) *yaml.Node {
	m := mapping()
	switch {
	case s.Events != nil:
		e := mapping()
		add(e, "bad", str(s.Events.Bad), "")
		add(e, "total", str(s.Events.Total), "")
		add(m, "events", e, "")
	case s.Latency != nil:
		l := mapping()
		add(l, "histogram", str(s.Latency.Histogram), "")
		if len(s.Latency.Selector) > 0 {
			add(l, "selector", stringMapNode(s.Latency.Selector), "")
		}
		add(l, "threshold", str(FormatWindow(s.Latency.Threshold)), "")
		if len(s.Latency.Buckets) > 0 {
			bs := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
			for _, b := range s.Latency.Buckets {
				bs.Content = append(bs.Content, str(FormatWindow(b)))
			}
			add(l, "buckets", bs, "")
		}
		if s.Latency.Native {
			add(l, "native", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"}, "")
		}
		add(m, "latency", l, "")
	case s.Raw != nil:
		r := mapping()
		add(r, "errorRatio", str(s.Raw.ErrorRatio), "")
		add(m, "raw", r, "")
	}
	return m
}

func alertingNode(o Objective, svcName, name string) *yaml.Node {
	a := o.Alerting
	m := mapping()
	if a.Name != DefaultAlertName(svcName, name) {
		add(m, "name", str(a.Name), "")
	}
	if len(a.Labels) > 0 {
		add(m, "labels", stringMapNode(a.Labels), "")
	}
	if len(a.Annotations) > 0 {
		add(m, "annotations", stringMapNode(a.Annotations), "")
	}
	for _, sev := range []struct {
		key string
		s   Severity
		def SeverityName
	}{{"page", a.Page, Page}, {"ticket", a.Ticket, Ticket}} {
		if n := severityNode(sev.s, sev.def); n != nil {
			add(m, sev.key, n, "")
		}
	}
	if len(a.Windows) > 0 {
		ws := &yaml.Node{Kind: yaml.SequenceNode}
		for _, w := range o.Windows() {
			wm := mapping()
			wm.Style = yaml.FlowStyle
			add(wm, "severity", str(string(w.Severity)), "")
			add(wm, "long", str(FormatWindow(w.Long)), "")
			add(wm, "short", str(FormatWindow(w.Short)), "")
			add(wm, "burnRate", number(formatFloat(w.BurnRate)), "")
			ws.Content = append(ws.Content, wm)
		}
		add(m, "windows", ws, "")
	}
	if n := noDataNode(a.NoData); n != nil {
		add(m, "noData", n, "")
	}
	return m
}

// noDataNode renders the no-data alert's settings, or nil when they are the defaults.
func noDataNode(d NoData) *yaml.Node {
	m := mapping()
	if d.Disabled {
		add(m, "disabled", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"}, "")
	}
	if d.For > 0 {
		add(m, "for", str(FormatWindow(d.For)), "")
	}
	if len(d.Labels) > 0 {
		add(m, "labels", stringMapNode(d.Labels), "")
	}
	if len(d.Annotations) > 0 {
		add(m, "annotations", stringMapNode(d.Annotations), "")
	}
	if len(m.Content) == 0 {
		return nil
	}
	return m
}

// severityNode renders a tier's settings, or nil when they are the defaults.
func severityNode(s Severity, def SeverityName) *yaml.Node {
	m := mapping()
	if s.Disabled {
		add(m, "disabled", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"}, "")
	}
	if len(s.Labels) != 1 || s.Labels[LabelSeverity] != string(def) {
		add(m, "labels", stringMapNode(s.Labels), "")
	}
	if len(s.Annotations) > 0 {
		add(m, "annotations", stringMapNode(s.Annotations), "")
	}
	if len(m.Content) == 0 {
		return nil
	}
	return m
}

func mapping() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode} }

func str(s string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	if strings.Contains(s, "\n") {
		n.Style = yaml.LiteralStyle
	}
	return n
}

func number(s string) *yaml.Node {
	if _, err := strconv.ParseFloat(s, 64); err != nil {
		return str(s)
	}
	tag := "!!float"
	if _, err := strconv.Atoi(s); err == nil {
		tag = "!!int"
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: s}
}

func stringMapNode(m map[string]string) *yaml.Node {
	n := mapping()
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		add(n, k, str(m[k]), "")
	}
	return n
}

// add appends key: value to mapping m, with comment at the end of the key's line.
func add(m *yaml.Node, key string, value *yaml.Node, comment string) {
	k := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}
	if comment != "" {
		k.LineComment = "# " + comment
	}
	m.Content = append(m.Content, k, value)
}
