package serve

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/slokit/slokit/slo"
)

// pages are the templates, each parsed with the layout and the shared partials.
var pages = []string{"overview", "detail", "backtest", "gamedays", "run", "error"}

func parseTemplates() (map[string]*template.Template, error) {
	out := map[string]*template.Template{}
	for _, p := range pages {
		t, err := template.New(p).Funcs(funcs).ParseFS(assets, "templates/layout.html", "templates/runs.html", "templates/"+p+".html")
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", p, err)
		}
		out[p] = t
	}
	return out, nil
}

var funcs = template.FuncMap{
	"percent":     percentText,
	"num":         numText,
	"budget":      budgetText,
	"budgetClass": budgetClass,
	"burn":        burnHTML,
	"secs": func(v *float64) string {
		if v == nil {
			return "–"
		}
		return durText(*v)
	},
	"dur":        durText,
	"stamp":      stamp,
	"budgetHTML": func(v *float64, c *Coverage) template.HTML { return template.HTML(budgetHTML(v, c)) },
	"clock":      func(t time.Time) string { return t.UTC().Format("15:04:05") },
	"ms":         func(d time.Duration) string { return fmt.Sprintf("%d ms", d.Milliseconds()) },
	"upper":      func(v any) string { return strings.ToUpper(fmt.Sprint(v)) },
	"states":     func() []string { return overviewStates },
	"sorts":      func() []string { return overviewSorts },
	"ranges":     func() []string { return []string{"15m", "1h", "6h", "1d", "7d", "30d"} },
	"stateText":  stateText,
	"sortText": func(s string) string {
		return map[string]string{"service": "service", "team": "team", "name": "SLO name",
			"budget": "budget left (least first)", "burn": "burn rate (highest first)"}[s]
	},
}

func percentText(v float64) string { return slo.FormatFloat(roundTo(v*100, 4)) + "%" }

func numText(v float64) string { return slo.FormatFloat(roundTo(v, 3)) }

// budgetText renders a budget left; nil is no data, never 100%.
func budgetText(v *float64) string {
	if v == nil {
		return "no data"
	}
	return strconv.FormatFloat(*v*100, 'f', 2, 64) + "%"
}

func budgetClass(v *float64) string {
	switch {
	case v == nil:
		return "nodata"
	case *v < 0:
		return "bad"
	case *v < 0.25:
		return "warn"
	}
	return "ok"
}

func burnHTML(v *float64) template.HTML {
	if v == nil {
		return `<span class="nodata">no data</span>`
	}
	return template.HTML(template.HTMLEscapeString(slo.FormatFloat(roundTo(*v, 3)) + "×"))
}

func stateText(s string) string {
	if s == stateNoData {
		return "no data"
	}
	return s
}

// stamp renders a time (or *time.Time) in UTC to the second.
func stamp(v any) string {
	switch t := v.(type) {
	case time.Time:
		return t.UTC().Format("2006-01-02 15:04:05")
	case *time.Time:
		if t != nil {
			return t.UTC().Format("2006-01-02 15:04:05")
		}
	}
	return "–"
}

// durText renders seconds like 35s, 1m44s or 2h0m; below 10s with one decimal.
func durText(s float64) string {
	if s < 10 {
		return slo.FormatFloat(roundTo(s, 2)) + "s"
	}
	return time.Duration(math.Round(s) * float64(time.Second)).String()
}

// roundTo keeps n significant digits.
func roundTo(v float64, n int) float64 {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return v
	}
	p := math.Pow(10, float64(n)-math.Ceil(math.Log10(math.Abs(v))))
	return math.Round(v*p) / p
}
