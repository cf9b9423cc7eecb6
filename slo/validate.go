package slo

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"text/template/parse"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/slokit/slokit/internal/strictyaml"
	"go.yaml.in/yaml/v3"
)

// This file holds the semantic checks every spec format shares: names, objectives,
// durations, labels, PromQL and alert windows.

var nameRE = regexp.MustCompile(`^[a-z0-9-]+$`)

// SuggestName turns s into a valid slokit service or SLO name, lowercase letters,
// digits and '-' ("Redirect Latency" → "redirect-latency"; "my-name" when nothing is
// left). `slokit init` names discovered services with it.
func SuggestName(s string) string { return suggestName(s) }

// suggestName turns s into a valid slokit name for hints ("Redirect Latency" →
// "redirect-latency").
func suggestName(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.TrimRight(b.String(), "-")
	if out == "" {
		return "my-name"
	}
	return out
}

// nameAt validates a slokit/v1 service or SLO name: required, [a-z0-9-]+.
func (w *walker) nameAt(s scalar, parent *yaml.Node, path, what string) string {
	if !s.set() || s.Value == "" {
		w.Missing(parent, path, "required: the %s name, lowercase letters, digits and '-'", what)
		return ""
	}
	if !nameRE.MatchString(s.Value) {
		w.Errf(s.Node, path, "%q is not a valid %s name: use lowercase letters, digits and '-' only, like %q",
			s.Value, what, suggestName(s.Value))
	}
	return s.Value
}

// importedNameRE is the name syntax of Sloth (and Kubernetes-style names of OpenSLO and
// Pyrra objects): letters, digits, '-', '_' and '.', starting and ending with a letter or
// digit. It keeps names safe in file paths ("../x" cannot match) and PromQL strings.
var importedNameRE = regexp.MustCompile(`^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$`)

// looseNameAt validates an imported (Sloth, OpenSLO, Pyrra) name: required, and in
// importedNameRE; otherwise kept as given.
func (w *walker) looseNameAt(s scalar, parent *yaml.Node, path, what string) string {
	if !s.set() || s.Value == "" {
		w.Missing(parent, path, "required: the %s name", what)
		return ""
	}
	if !importedNameRE.MatchString(s.Value) {
		w.Errf(s.Node, path, "%q is not a valid %s name: use letters, digits, '-', '_' and '.', starting and ending with a letter or digit, like %q",
			s.Value, what, suggestName(s.Value))
		return ""
	}
	return s.Value
}

// objectiveAt reads an objective written in percent (99.9) and returns it as a ratio
// (0.999). ok is false after an error.
func (w *walker) objectiveAt(s scalar, parent *yaml.Node, path string) (float64, bool) {
	if !s.set() {
		w.Missing(parent, path, "required: the objective in percent, like 99.9")
		return 0, false
	}
	text := strings.TrimSpace(s.Value)
	switch s.Tag {
	case "!!int", "!!float":
	case "!!str":
		switch {
		case strings.Contains(text, ","):
			w.Errf(s.Node, path, "%q is not a number: use a decimal point, like %s",
				s.Value, strings.ReplaceAll(strings.TrimSuffix(text, "%"), ",", "."))
			return 0, false
		case strings.HasSuffix(text, "%"):
			w.Errf(s.Node, path, "%q: write the percentage without %%, like %s", s.Value, strings.TrimSpace(strings.TrimSuffix(text, "%")))
			return 0, false
		}
	default:
		w.Errf(s.Node, path, "must be a number in percent, like 99.9, got %s", strictyaml.KindName(s.Node))
		return 0, false
	}
	var pct float64
	if err := s.Node.Decode(&pct); err != nil {
		f, perr := strconv.ParseFloat(text, 64)
		if perr != nil {
			w.Errf(s.Node, path, "must be a number in percent, like 99.9, got %q", s.Value)
			return 0, false
		}
		pct = f
	}
	switch {
	case math.IsNaN(pct) || math.IsInf(pct, 0):
		w.Errf(s.Node, path, "must be a finite number in percent, like 99.9, got %s", s.Value)
		return 0, false
	case pct >= 100:
		w.Errf(s.Node, path, "must be below 100, got %s: an objective of 100%% leaves no error budget, so every burn rate divides by zero; use 99.99 or lower", s.Value)
		return 0, false
	case pct <= 0:
		w.Errf(s.Node, path, "must be above 0, got %s: objectives are percentages like 99.9", s.Value)
		return 0, false
	case pct < 1:
		w.Warnf(s.Node, path, "objective %s means %s%%, not %s%%: objectives are percentages; did you mean %s?",
			s.Value, s.Value, strconv.FormatFloat(pct*100, 'g', -1, 64), strconv.FormatFloat(pct*100, 'g', -1, 64))
	}
	return percentToRatio(pct), true
}

// percentToRatio divides a percentage by 100 exactly on its shortest decimal form, so
// that 99.9 becomes the float64 nearest to 0.999 rather than 99.9/100 =
// 0.9990000000000001.
func percentToRatio(pct float64) float64 {
	if r, ok := new(big.Rat).SetString(strconv.FormatFloat(pct, 'g', -1, 64)); ok {
		f, _ := r.Quo(r, big.NewRat(100, 1)).Float64()
		if f > 0 && f < 1 {
			return f
		}
	}
	return pct / 100
}

// durationAt reads a duration in Prometheus syntax (5m, 1h, 30d, 1h30m). A missing
// value returns def with ok true when def > 0, an error otherwise.
func (w *walker) durationAt(s scalar, parent *yaml.Node, path, example string, def time.Duration) (time.Duration, bool) {
	if !s.set() {
		if def > 0 {
			return def, true
		}
		w.Missing(parent, path, "required: a duration like %s", example)
		return 0, false
	}
	text := strings.TrimSpace(s.Value)
	switch s.Tag {
	case "!!int", "!!float":
		if text == "0" {
			w.Errf(s.Node, path, "must be longer than 0, like %s", example)
		} else {
			w.Errf(s.Node, path, "%s has no unit: write a duration like %s (units ms, s, m, h, d, w, y)", s.Value, example)
		}
		return 0, false
	case "!!str":
	default:
		w.Errf(s.Node, path, "must be a duration like %s, got %s", example, strictyaml.KindName(s.Node))
		return 0, false
	}
	d, err := model.ParseDuration(text)
	if err != nil {
		hint := ""
		switch {
		case strings.Contains(text, "."):
			hint = ": Prometheus durations use whole numbers, like 90m for 1.5h"
		case strings.HasPrefix(text, "-"):
			hint = ": durations cannot be negative"
		case strings.Contains(text, " "):
			hint = ": write it without spaces"
		}
		w.Errf(s.Node, path, "%q is not a duration like %s (units ms, s, m, h, d, w, y)%s", s.Value, example, hint)
		return 0, false
	}
	if d <= 0 {
		w.Errf(s.Node, path, "must be longer than 0, like %s", example)
		return 0, false
	}
	return time.Duration(d), true
}

// labelsAt validates a label set: Prometheus label names, non-empty values, and none of
// the labels slokit sets itself.
func (w *walker) labelsAt(m stringMap, path string) map[string]string {
	out := map[string]string{}
	for _, e := range m.Entries {
		kp := strictyaml.Join(path, e.Key.Value)
		switch {
		case !model.LegacyValidation.IsValidLabelName(e.Key.Value):
			w.Errf(e.Key.Node, kp, "%q is not a valid label name: use letters, digits and '_', not starting with a digit", e.Key.Value)
			continue
		case strings.HasPrefix(e.Key.Value, "__"):
			w.Errf(e.Key.Node, kp, "label names starting with __ are reserved for Prometheus")
			continue
		case strings.HasPrefix(e.Key.Value, "slokit_"):
			w.Errf(e.Key.Node, kp, "label names starting with slokit_ are reserved for the labels slokit sets itself (%s, %s, %s): choose another name", LabelService, LabelSLO, LabelWindow)
			continue
		case e.Value.Value == "":
			w.Errf(e.Value.Node, kp, "empty label value: Prometheus drops empty labels; give a value or remove the label")
			continue
		}
		// Every label ends up on alerts, whose label values Prometheus expands as templates.
		if err := checkAlertTemplate(e.Value.Value); err != nil {
			w.Errf(e.Value.Node, kp, "invalid alert template: %v", err)
			continue
		}
		out[e.Key.Value] = e.Value.Value
	}
	return out
}

// annotationsAt validates annotation names; values are free text (and may hold
// Prometheus templates).
func (w *walker) annotationsAt(m stringMap, path string) map[string]string {
	out := map[string]string{}
	for _, e := range m.Entries {
		if !model.LegacyValidation.IsValidLabelName(e.Key.Value) {
			w.Errf(e.Key.Node, strictyaml.Join(path, e.Key.Value), "%q is not a valid annotation name: use letters, digits and '_', not starting with a digit", e.Key.Value)
			continue
		}
		if err := checkAlertTemplate(e.Value.Value); err != nil {
			w.Errf(e.Value.Node, strictyaml.Join(path, e.Key.Value), "invalid alert template: %v", err)
			continue
		}
		out[e.Key.Value] = e.Value.Value
	}
	return out
}

// alertTemplateVars are the variables Prometheus defines before expanding an alert's
// annotations.
const alertTemplateVars = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}"

// checkAlertTemplate parses an annotation the way Prometheus will expand it (Go
// text/template with $labels, $value, …), without checking function names, so that a
// broken template fails here rather than when the alert fires.
func checkAlertTemplate(text string) error {
	if !strings.Contains(text, "{{") {
		return nil
	}
	t := parse.New("annotation")
	t.Mode = parse.SkipFuncCheck
	if _, err := t.Parse(alertTemplateVars+text, "{{", "}}", map[string]*parse.Tree{}); err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), "template: annotation:1: "))
	}
	return nil
}

// mergeLabels returns base overridden by over, never nil.
func mergeLabels(base, over map[string]string) map[string]string {
	out := make(map[string]string, len(base)+len(over))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	return out
}

func (w *walker) promql() parser.Parser {
	if w.parser == nil {
		w.parser = parser.NewParser(parser.Options{})
	}
	return w.parser
}

// describeExpr names the kind of a PromQL expression for error messages.
func describeExpr(e parser.Expr) string {
	switch e := e.(type) {
	case *parser.MatrixSelector:
		return "a range selector: drop the [range]"
	case *parser.Call:
		return "a call to " + e.Func.Name + "()"
	case *parser.AggregateExpr:
		return "an aggregation (" + e.Op.String() + ")"
	case *parser.BinaryExpr:
		return "a binary expression (" + e.Op.String() + ")"
	case *parser.ParenExpr:
		return "a parenthesised expression"
	case *parser.NumberLiteral:
		return "a number"
	case *parser.StringLiteral:
		return "a string"
	case *parser.SubqueryExpr:
		return "a subquery"
	}
	return "an expression"
}

// selectorAt validates a plain PromQL series selector (no functions, ranges, offsets).
func (w *walker) selectorAt(s scalar, parent *yaml.Node, path, example string) string {
	if !s.set() || strings.TrimSpace(s.Value) == "" {
		w.Missing(parent, path, "required: a series selector like %s", example)
		return ""
	}
	if s.Tag != "!!str" {
		w.Errf(s.Node, path, "must be a series selector like %s, got %s", example, strictyaml.KindName(s.Node))
		return ""
	}
	text := strings.TrimSpace(s.Value)
	expr, err := w.promql().ParseExpr(text)
	if err != nil {
		w.promqlError(s.Node, path, err)
		return ""
	}
	vs, ok := expr.(*parser.VectorSelector)
	if !ok {
		w.Errf(s.Node, path, "must be a plain series selector like %s, got %s; slokit builds the rate() itself (use sli.raw for a full expression)", example, describeExpr(expr))
		return ""
	}
	if vs.OriginalOffset != 0 || vs.OriginalOffsetExpr != nil || vs.Timestamp != nil || vs.StartOrEnd != 0 {
		w.Errf(s.Node, path, "offset and @ modifiers are not allowed in a selector")
		return ""
	}
	// The parser's rendering, not the user's text: a trailing "# comment" would swallow
	// whatever the generator writes after the selector.
	return vs.String()
}

// promqlError reports a PromQL parse error. When the YAML scalar is one line whose
// characters map one to one onto the query (plain, or quoted without escapes), the
// diagnostic points at the offending character; otherwise at the scalar, with the
// parser's line:col inside the query.
func (w *walker) promqlError(n *yaml.Node, path string, err error) {
	var perrs parser.ParseErrors
	if !errors.As(err, &perrs) || len(perrs) == 0 || strings.Contains(n.Value, "\n") {
		w.Errf(n, path, "invalid PromQL: %v", err)
		return
	}
	pe := perrs[0]
	// The parser saw the value without its leading spaces.
	start := int(pe.PositionRange.Start) + len(n.Value) - len(strings.TrimLeftFunc(n.Value, unicode.IsSpace))
	shift := -1
	switch n.Style {
	case 0:
		shift = 0
	case yaml.DoubleQuotedStyle:
		if isPlainASCII(n.Value) && !strings.ContainsAny(n.Value, "\\\"") {
			shift = 1
		}
	case yaml.SingleQuotedStyle:
		if !strings.Contains(n.Value, "'") {
			shift = 1
		}
	}
	if shift < 0 || start < 0 || start > len(n.Value) {
		w.Errf(n, path, "invalid PromQL: %v", err)
		return
	}
	at := *n
	at.Column = n.Column + shift + utf8.RuneCountInString(n.Value[:start])
	w.Errf(&at, path, "invalid PromQL: %v", pe.Err)
}

// isPlainASCII reports whether s holds printable ASCII only, so that a double-quoted
// YAML scalar without backslashes is written exactly as it reads.
func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// distinctEvents rejects bad and total selectors that select the same series: the error
// ratio would be 1 whenever there is traffic, and every tier would fire.
func (w *walker) distinctEvents(bad, total string, n *yaml.Node, path string) {
	if bad != "" && bad == total {
		w.Errf(n, path, "selects the same series as total, so every event would count as bad: add the matcher that singles out bad events, like code=~\"5..\"")
	}
}

// windowPlaceholder matches the window placeholder with any inner spacing.
var windowPlaceholder = regexp.MustCompile(`\{\{\s*\.window\s*\}\}`)

// WindowPlaceholder is the text replaced by each window's range in RawSLI.ErrorRatio.
const WindowPlaceholder = "{{.window}}"

// templateAt validates an error-ratio PromQL template with {{.window}}, rendered with a
// 5m window and parsed. It returns the template with the placeholder normalised.
func (w *walker) templateAt(s scalar, parent *yaml.Node, path, what string) string {
	t, _ := w.templateExprAt(s, parent, path, what)
	return t
}

// templateExprAt is templateAt that also returns the template's syntax tree, parsed with
// windowSentinel as the window (nil when the template is invalid). The template is
// parsed once; only an invalid one is parsed again, with a 5m window, for the message.
func (w *walker) templateExprAt(s scalar, parent *yaml.Node, path, what string) (string, parser.Expr) {
	if !s.set() || strings.TrimSpace(s.Value) == "" {
		w.Missing(parent, path, "required: %s in PromQL using {{.window}}, like sum(rate(errors_total[{{.window}}])) / sum(rate(requests_total[{{.window}}]))", what)
		return "", nil
	}
	if s.Tag != "!!str" {
		w.Errf(s.Node, path, "must be a PromQL expression, got %s", strictyaml.KindName(s.Node))
		return "", nil
	}
	t := windowPlaceholder.ReplaceAllString(strings.TrimSpace(s.Value), WindowPlaceholder)
	if !strings.Contains(t, WindowPlaceholder) {
		w.Errf(s.Node, path, "must use {{.window}} as the range of its selectors, like rate(x[{{.window}}]), so that every alert window gets its own value")
		return "", nil
	}
	rendered := strings.ReplaceAll(t, WindowPlaceholder, "5m")
	if strings.Contains(rendered, "{{") {
		w.Errf(s.Node, path, "only the {{.window}} placeholder is supported")
		return "", nil
	}
	expr, err := w.promql().ParseExpr(strings.ReplaceAll(t, WindowPlaceholder, windowSentinel))
	if err != nil {
		if _, err5m := w.promql().ParseExpr(rendered); err5m != nil {
			w.Errf(s.Node, path, "invalid PromQL (with {{.window}} = 5m): %v", err5m)
			return "", nil
		}
		w.Errf(s.Node, path, "cannot use {{.window}} here: it must be the range of a selector or subquery, like rate(x[{{.window}}])")
		return "", nil
	}
	if typ := expr.Type(); typ != parser.ValueTypeVector && typ != parser.ValueTypeScalar {
		w.Errf(s.Node, path, "must evaluate to an instant vector, got a %s", typ)
		return "", nil
	}
	printed := expr.String()
	if strings.Count(printed, windowSentinel) == strings.Count(t, WindowPlaceholder) && windowRanges(expr) == strings.Count(t, WindowPlaceholder) {
		return strings.ReplaceAll(printed, windowSentinel, WindowPlaceholder), expr
	}
	w.Errf(s.Node, path, "cannot use {{.window}} here: it must be the range of a selector or subquery, like rate(x[{{.window}}])")
	return "", nil
}

// windowSentinel stands in for {{.window}} while a template is parsed and printed back:
// a valid range no real rule uses, printed by Prometheus exactly as written.
var windowSentinel = model.Duration(5555*24*time.Hour + 5*time.Hour + 55*time.Minute + 55*time.Second).String()

// windowRanges counts the range selectors and subqueries whose range is the window
// placeholder: {{.window}} anywhere else (an offset, a label value) is not a window.
func windowRanges(e parser.Expr) int {
	n := 0
	parser.Inspect(e, func(node parser.Node, _ []parser.Node) error {
		switch x := node.(type) {
		case *parser.MatrixSelector:
			if x.Range == sentinelRange {
				n++
			}
		case *parser.SubqueryExpr:
			if x.Range == sentinelRange {
				n++
			}
		}
		return nil
	})
	return n
}

// alertNameAt validates an alert name, or derives CamelCase(service-slo) when absent.
// Prometheus accepts any text as an alert name (it is the alertname label's value);
// slokit refuses only control characters and surrounding spaces, which no receiver shows
// faithfully.
func (w *walker) alertNameAt(s scalar, path, service, slo string) string {
	if !s.set() || s.Value == "" {
		return DefaultAlertName(service, slo)
	}
	bad := strings.TrimSpace(s.Value) != s.Value || !utf8.ValidString(s.Value)
	for _, r := range s.Value {
		bad = bad || unicode.IsControl(r)
	}
	if bad {
		w.Errf(s.Node, path, "%q is not a valid alert name: no control characters or surrounding spaces, like %q",
			s.Value, DefaultAlertName(s.Value, ""))
	}
	return s.Value
}

// severityDefaults fills a severity's labels: {severity: page|ticket} unless the user set
// the severity label.
func severityDefaults(s Severity, name SeverityName) Severity {
	if s.Labels == nil {
		s.Labels = map[string]string{}
	}
	if _, ok := s.Labels[LabelSeverity]; !ok {
		s.Labels[LabelSeverity] = string(name)
	}
	if s.Annotations == nil {
		s.Annotations = map[string]string{}
	}
	return s
}

// formatFloat renders f the shortest way ("14.4", "6").
func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// formatDuration renders d for messages in Prometheus syntax, rounded to the second
// when over a second ("26s", "4m19s", "43m12s").
func formatDuration(d time.Duration) string {
	if d >= time.Second {
		return FormatWindow(d.Round(time.Second))
	}
	return d.String()
}

// windowsAt reads an alerting.windows override: a non-empty list of tiers.
func (w *walker) windowsAt(n *yaml.Node, path string, period time.Duration, periodOK bool) ([]Window, []*yaml.Node) {
	items, listNode := w.seqAt(n, path)
	if listNode == nil || strictyaml.IsNull(listNode) {
		return nil, nil
	}
	if listNode.Kind == yaml.SequenceNode && len(items) == 0 {
		w.Errf(listNode, path, "must list at least one window; remove it to use the default tiers")
		return nil, nil
	}
	var out []Window
	var nodes []*yaml.Node
	seen := map[Window]int{}
	for i, item := range items {
		ip := strictyaml.Index(path, i)
		f, ok := w.Fields(item, ip, "severity", "long", "short", "burnRate")
		if !ok {
			continue
		}
		item = w.Resolve(item)
		var win Window
		good := true
		sev := w.scalarAt(f["severity"], strictyaml.Join(ip, "severity"))
		switch {
		case !sev.set():
			w.Missing(item, strictyaml.Join(ip, "severity"), "required: page or ticket")
			good = false
		case sev.Value != string(Page) && sev.Value != string(Ticket):
			w.Errf(sev.Node, strictyaml.Join(ip, "severity"), "must be page or ticket, got %q", sev.Value)
			good = false
		default:
			win.Severity = SeverityName(sev.Value)
		}
		long, okL := w.durationAt(w.scalarAt(f["long"], strictyaml.Join(ip, "long")), item, strictyaml.Join(ip, "long"), "1h", 0)
		short, okS := w.durationAt(w.scalarAt(f["short"], strictyaml.Join(ip, "short")), item, strictyaml.Join(ip, "short"), "5m", 0)
		good = good && okL && okS
		if okL && okS && short >= long {
			w.Errf(w.Resolve(f["short"]), strictyaml.Join(ip, "short"), "must be shorter than long (%s): the short window only confirms that the burn is still going on; the Workbook uses long/12", FormatWindow(long))
			good = false
		}
		if okL && periodOK && long > period {
			w.Errf(w.Resolve(f["long"]), strictyaml.Join(ip, "long"), "%s is longer than the period (%s): a window cannot exceed the period it spends", FormatWindow(long), FormatWindow(period))
			good = false
		}
		br := w.scalarAt(f["burnRate"], strictyaml.Join(ip, "burnRate"))
		switch {
		case !br.set():
			w.Missing(item, strictyaml.Join(ip, "burnRate"), "required: the burn-rate threshold, like 14.4")
			good = false
		case br.Tag != "!!int" && br.Tag != "!!float":
			w.Errf(br.Node, strictyaml.Join(ip, "burnRate"), "must be a number like 14.4, got %s", strictyaml.KindName(br.Node))
			good = false
		default:
			var rate float64
			if err := br.Node.Decode(&rate); err != nil || math.IsNaN(rate) || math.IsInf(rate, 0) || rate <= 0 {
				w.Errf(br.Node, strictyaml.Join(ip, "burnRate"), "must be a number above 0, like 14.4, got %s", br.Value)
				good = false
			}
			win.BurnRate = rate
		}
		if !good {
			continue
		}
		win.Long, win.Short = long, short
		if j, dup := seen[win]; dup {
			w.Errf(item, ip, "same tier as windows[%d]: remove one", j)
			continue
		}
		seen[win] = i
		out = append(out, win)
		nodes = append(nodes, item)
	}
	return out, nodes
}

// MinPeriod is the shortest period slokit accepts; periods under MinDefaultTiersPeriod
// need alerting.windows, because the default tiers scaled to them collapse to a second.
const (
	MinPeriod             = time.Minute
	MinDefaultTiersPeriod = time.Hour
)

// periodFits checks that a period is long enough for its alert windows.
func (w *walker) periodFits(period time.Duration, overridden bool, n *yaml.Node, path string) bool {
	switch {
	case period < MinPeriod:
		w.Errf(n, path, "%s is too short for an SLO period: use at least %s (30d or 28d in production)", FormatWindow(period), FormatWindow(MinPeriod))
		return false
	case period < MinDefaultTiersPeriod && !overridden:
		fast := DefaultWindows(period)[0]
		w.Errf(n, path, "%s is too short for the default alert tiers (the fast page would use %s and %s windows): use a period of at least %s, or %s",
			FormatWindow(period), FormatWindow(fast.Long), FormatWindow(fast.Short), FormatWindow(MinDefaultTiersPeriod), w.windowsHint("set the tiers"))
		return false
	}
	return true
}

// describeWindow renders a tier for messages: "page tier 14.4× over 1h/5m".
func describeWindow(win Window) string {
	return fmt.Sprintf("%s tier %s× over %s/%s", win.Severity, formatFloat(win.BurnRate), FormatWindow(win.Long), FormatWindow(win.Short))
}

func isMetricName(s string) bool { return model.LegacyValidation.IsValidMetricName(s) }

func isLabelName(s string) bool { return model.LegacyValidation.IsValidLabelName(s) }
