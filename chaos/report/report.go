// Package report draws a game day's result as one self-contained HTML page: the verdict,
// measured against predicted detection and reset times, and timelines of the burn rates,
// the SLI and the budget spent drawn as inline SVG (no script, no network), with the
// fault window shaded, alert transitions, predictions, deadlines and guardrails marked.
package report

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/slokit/slokit/chaos"
	"github.com/slokit/slokit/slo"
)

// Options tunes Write; its zero value is the only mode there is (kept for callers).
type Options struct{}

// Write renders res as an HTML page.
func Write(w io.Writer, res *chaos.Result, _ Options) error {
	if res == nil {
		return errors.New("report: no result")
	}
	page := pageData{R: res, Title: fmt.Sprintf("Game day %s — %s", res.GameDay, strings.ToUpper(string(res.Outcome)))}
	page.Rows = rows(res)
	if len(res.Samples) > 0 {
		page.Charts = []*chart{burnChart(res), sliChart(res), budgetChart(res)}
	}
	var buf bytes.Buffer
	if err := pageTpl.Execute(&buf, page); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

type pageData struct {
	R      *chaos.Result
	Title  string
	Rows   []row
	Charts []*chart
}

// row is one line of the verdict table.
type row struct {
	Check, Measured, Predicted, Allowed string
	OK                                  bool
}

func secs(s *float64) string {
	if s == nil {
		return "—"
	}
	return time.Duration(*s * float64(time.Second)).Round(time.Second).String()
}

func rows(res *chaos.Result) []row {
	var out []row
	for _, e := range res.Expectations {
		allowed := secs(&e.WithinSeconds)
		if e.WithinPredicted {
			allowed += " (predicted + tolerance)"
		}
		measured := "did not fire"
		if e.DetectedSeconds != nil {
			measured = e.FiredTier + " fired after " + secs(e.DetectedSeconds)
		}
		out = append(out, row{Check: "detection: " + e.Alert, Measured: measured, Predicted: secs(e.PredictedSeconds), Allowed: allowed, OK: e.Met})
		if r, ok := resetUnderFault(res, e); ok {
			out = append(out, r)
		} else if e.FiredTier != "" {
			out = append(out, row{Check: "reset: " + e.FiredTier, Measured: secs(e.ResetSeconds), Predicted: secs(e.PredictedResetSeconds), Allowed: "—", OK: e.ResetSeconds != nil})
		}
	}
	for _, m := range res.MustNotFire {
		measured := "did not fire"
		if m.Fired {
			measured = m.FiredTier + " fired"
		}
		out = append(out, row{Check: "must not fire: " + m.Alert, Measured: measured, Predicted: "—", Allowed: "never", OK: !m.Fired})
	}
	rc := res.Recovery
	out = append(out, row{Check: fmt.Sprintf("recovery: %s burn < %g, no alert firing", rc.Window, rc.BurnRateBelow),
		Measured: secs(rc.RecoveredSeconds), Predicted: "—", Allowed: secs(&rc.WithinSeconds), OK: rc.Met})
	if f := res.Fault; f != nil {
		out = append(out, row{Check: "fault on the SLI's traffic path", Measured: fmt.Sprintf("matched %d, failed %d; SLI peak burn %.3g", f.Matched, f.Errors, f.PeakBurnRate),
			Predicted: "—", Allowed: "—", OK: !f.NotOnPath})
	}
	out = append(out, mitigationRows(res.Mitigation)...)
	b := res.Budget
	out = append(out, row{Check: "error budget spent", Measured: fmt.Sprintf("%.2f%%", 100*b.Spent), Predicted: "—",
		Allowed: fmt.Sprintf("%.0f%%", 100*b.Max), OK: b.Spent <= b.Max})
	return out
}

// x is a time's position on the time axis: seconds since the run started.
func x(res *chaos.Result, t time.Time) float64 {
	return t.Sub(res.StartedAt).Seconds()
}

func windowsOf(res *chaos.Result) []string {
	seen := map[string]bool{}
	var ws []string
	for _, s := range res.Samples {
		for w := range s.Burn {
			if !seen[w] {
				seen[w] = true
				ws = append(ws, w)
			}
		}
	}
	sort.Slice(ws, func(i, j int) bool { return windowLess(ws[i], ws[j]) })
	return ws
}

// windowLess orders window labels by length ("5m" < "1h" < "1d12h" < "3d").
func windowLess(a, b string) bool {
	da, ea := slo.ParseWindow(a)
	db, eb := slo.ParseWindow(b)
	if ea != nil || eb != nil {
		return a < b
	}
	return da < db
}

var palette = []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f"}

func secsAt(res *chaos.Result, base time.Time, s float64) float64 {
	return x(res, base.Add(time.Duration(s*float64(time.Second))))
}

// newChart sets the time range (the run, stretched to a timeout that is near) and the
// marks every chart shares: the fault, alert transitions, predictions and deadlines.
func newChart(res *chaos.Result, id, title, subtitle, yLabel string) *chart {
	c := &chart{ID: id, Title: title, Subtitle: subtitle, YLabel: yLabel, X1: x(res, res.EndedAt)}
	for _, s := range res.Samples {
		c.X1 = math.Max(c.X1, x(res, s.T))
	}
	if t := res.TimeoutSeconds; t > 0 {
		if t <= 1.5*c.X1 {
			c.X1 = math.Max(c.X1, t)
			c.VMarks = append(c.VMarks, vmark{X: t, Label: "timeout", Color: "#b22", Dashed: true})
		} else {
			c.Subtitle += fmt.Sprintf("; timeout at %s, beyond the run", time.Duration(t*float64(time.Second)).Round(time.Second))
		}
	}
	if res.FaultBegan != nil {
		end := res.EndedAt
		if res.FaultEnded != nil {
			end = *res.FaultEnded
		}
		c.Bands = append(c.Bands, band{X0: x(res, *res.FaultBegan), X1: x(res, end), Label: "fault", Color: "rgba(220,50,47,0.12)"})
		for _, e := range res.Expectations {
			if e.PredictedSeconds != nil {
				c.VMarks = append(c.VMarks, vmark{X: secsAt(res, *res.FaultBegan, *e.PredictedSeconds), Label: "predicted " + e.Alert, Color: "#555", Dashed: true})
			}
			c.VMarks = append(c.VMarks, vmark{X: secsAt(res, *res.FaultBegan, e.WithinSeconds), Label: "deadline " + e.Alert, Color: "#b22", Dashed: true})
		}
		if res.FaultEnded != nil && res.Recovery.WithinSeconds > 0 {
			c.VMarks = append(c.VMarks, vmark{X: secsAt(res, *res.FaultEnded, res.Recovery.WithinSeconds), Label: "recovery deadline", Color: "#b22", Dashed: true})
		}
	}
	for _, a := range res.Alerts {
		if a.PendingAt != nil && (a.FiringAt == nil || a.PendingAt.Before(*a.FiringAt)) {
			c.VMarks = append(c.VMarks, vmark{X: x(res, *a.PendingAt), Label: a.Tier() + " pending", Color: "#c90"})
		}
		if a.FiringAt != nil {
			c.VMarks = append(c.VMarks, vmark{X: x(res, *a.FiringAt), Label: a.Tier() + " firing", Color: "#d62728"})
		}
		if a.ResolvedAt != nil {
			c.VMarks = append(c.VMarks, vmark{X: x(res, *a.ResolvedAt), Label: a.Tier() + " resolved", Color: "#2a7a2a"})
		}
	}
	for i := range c.VMarks {
		c.VMarks[i].X = math.Min(math.Max(c.VMarks[i].X, 0), c.X1)
	}
	return c
}

func burnChart(res *chaos.Result) *chart {
	c := newChart(res, "chart-burn", "Burn rate per window", "error ratio ÷ error budget, log scale; each tier's threshold dashed", "burn rate (×)")
	c.Log, c.Y0, c.Y1 = true, 0.01, 10
	for i, w := range windowsOf(res) {
		s := series{Name: w, Color: palette[i%len(palette)]}
		for _, smp := range res.Samples {
			if v, ok := smp.Burn[w]; ok {
				s.Points = append(s.Points, [2]float64{x(res, smp.T), v})
				c.Y1 = math.Max(c.Y1, v*2)
			}
		}
		c.Series = append(c.Series, s)
	}
	for _, tr := range res.Tiers {
		if !tr.Disabled {
			c.HLines = append(c.HLines, hline{Y: tr.BurnRate, Label: fmt.Sprintf("%s threshold %g×", tr.Name, tr.BurnRate), Color: "#b22"})
			c.Y1 = math.Max(c.Y1, tr.BurnRate*2)
		}
	}
	c.Y1 = math.Pow(10, math.Ceil(math.Log10(c.Y1)))
	addMitigationBand(c, res)
	return c
}

func sliChart(res *chaos.Result) *chart {
	budget := 1 - res.Objective
	c := newChart(res, "chart-sli", "SLI (good-event ratio)", fmt.Sprintf("1 − error ratio over the shortest window; objective %g%% dashed", 100*res.Objective), "good ratio")
	c.Y0, c.Y1 = res.Objective-budget, 1
	if ws := windowsOf(res); len(ws) > 0 {
		s := series{Name: "SLI " + ws[0], Color: palette[0]}
		for _, smp := range res.Samples {
			if v, ok := smp.Burn[ws[0]]; ok {
				g := math.Max(0, 1-v*budget)
				s.Points = append(s.Points, [2]float64{x(res, smp.T), g})
				c.Y0 = math.Min(c.Y0, g)
			}
		}
		c.Series = append(c.Series, s)
	}
	c.Y0 = math.Floor(c.Y0*100) / 100
	c.HLines = append(c.HLines, hline{Y: res.Objective, Label: fmt.Sprintf("objective %g%%", 100*res.Objective), Color: "#b22"})
	addMitigationBand(c, res)
	return c
}

// budgetChart integrates the shortest window's burn rate, as the runner does, against
// the budget guardrail.
func budgetChart(res *chaos.Result) *chart {
	c := newChart(res, "chart-budget", "Error budget spent", fmt.Sprintf("percent of the %s period's budget; guardrail %.3g%% dashed",
		slo.FormatWindow(time.Duration(res.PeriodSeconds)*time.Second), 100*res.Budget.Max), "% of budget")
	c.Y1 = 100 * res.Budget.Max * 1.1
	s := series{Name: "spent", Color: palette[0], Area: true}
	if ws := windowsOf(res); len(ws) > 0 && res.PeriodSeconds > 0 {
		var spent float64
		var last time.Time
		for _, smp := range res.Samples {
			v, ok := smp.Burn[ws[0]]
			if !ok {
				continue
			}
			if !last.IsZero() {
				spent += v * smp.T.Sub(last).Seconds() / res.PeriodSeconds
			}
			last = smp.T
			s.Points = append(s.Points, [2]float64{x(res, smp.T), 100 * spent})
			c.Y1 = math.Max(c.Y1, 100*spent*1.1)
		}
	}
	c.Series = append(c.Series, s)
	c.HLines = append(c.HLines, hline{Y: 100 * res.Budget.Max, Label: fmt.Sprintf("guardrail %.3g%%", 100*res.Budget.Max), Color: "#b22"})
	return c
}

var pageTpl = template.Must(template.New("page").Funcs(template.FuncMap{
	"upper": func(o chaos.Outcome) string { return strings.ToUpper(string(o)) },
	"pct":   func(f float64) string { return fmt.Sprintf("%.3g%%", 100*f) },
	"ts":    func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
h1{font-size:1.5em} .pass{color:#2a7a2a} .fail,.aborted,.interrupted{color:#b22}
table{border-collapse:collapse;margin:1em 0;width:100%} caption{text-align:left;font-weight:600;padding-bottom:.3em} td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}
th{background:#f4f4f4} .ok{color:#2a7a2a;font-weight:bold} .no{color:#b22;font-weight:bold}
.meta{color:#555} .chart-box{margin:1.5em 0} .chart-box h2{font-size:1.1em;margin:0}
.chart-box .sub{color:#555;margin:.2em 0 .4em} svg.chart{display:block;max-width:100%;height:auto}
.legend span{margin-right:1.2em;white-space:nowrap} .legend i{display:inline-block;width:22px;margin-right:.4em;vertical-align:middle}
</style>
</head>
<body>
<h1>Game day <code>{{.R.GameDay}}</code>: <span class="{{.R.Outcome}}" id="outcome">{{upper .R.Outcome}}</span></h1>
{{if .R.Description}}<p>{{.R.Description}}</p>{{end}}
<p class="meta">Run <code>{{.R.RunID}}</code> on SLO <code>{{.R.Service}}/{{.R.SLO}}</code> (objective {{pct .R.Objective}}),
fault backend <code>{{.R.Backend}}</code>{{if .R.ErrorRatio}}, expected error ratio {{.R.ErrorRatio}} ({{.R.ErrorRatioSource}}){{end}};
started {{ts .R.StartedAt}}, ended {{ts .R.EndedAt}}.</p>
{{if .R.Cause}}<p class="no" id="cause">cause: {{.R.Cause}}</p>{{end}}
{{range .R.Reasons}}<p class="no">{{.}}</p>{{end}}
<table id="verdict"><caption>What the run checked: measured against predicted and allowed</caption>
<tr><th>check</th><th>measured</th><th>predicted</th><th>allowed</th><th>result</th></tr>
{{range .Rows}}<tr><td>{{.Check}}</td><td>{{.Measured}}</td><td>{{.Predicted}}</td><td>{{.Allowed}}</td><td>{{if .OK}}<span class="ok">ok</span>{{else}}<span class="no">failed</span>{{end}}</td></tr>
{{end}}</table>
{{range .Charts}}<div class="chart-box"><h2>{{.Title}}</h2><p class="sub">{{.Subtitle}}</p>
{{.SVG}}
{{.Legend}}</div>
{{end}}
<table id="phases"><caption>The run's phases</caption><tr><th>phase</th><th>start</th><th>end</th></tr>
{{range .R.Phases}}<tr><td>{{.Phase}}</td><td>{{ts .Start}}</td><td>{{ts .End}}</td></tr>
{{end}}</table>
</body>
</html>
`))
