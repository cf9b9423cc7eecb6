package serve

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Charts are drawn on the server as inline SVG: no script, no library, nothing to load,
// so pages work offline, render without JavaScript and are read by screen readers
// through each chart's <title> and <desc> (docs/serve.md explains the choice).

// chart is one line chart over time.
type chart struct {
	// ID makes the <title>/<desc> ids unique on a page.
	ID, Title, Desc string
	From, To        time.Time
	Series          []series
	HLines          []hline
	Bands           []band
	Marks           []mark
	// YMin and YMax fix the y range when set; otherwise it fits the data and lines.
	YMin, YMax *float64
	// YFormat renders tick labels; nil prints numbers.
	YFormat func(float64) string
}

type series struct {
	Name   string
	Points []Point
	// Dots marks every point with a circle (sparse data such as one point per run).
	Dots bool
}

// hline is a horizontal reference line, like a tier's threshold.
type hline struct {
	Y     float64
	Label string
}

// band shades a span of time, like the fault of a game day.
type band struct {
	From, To time.Time
	Label    string
}

// mark is a vertical line at a moment, like an alert firing.
type mark struct {
	T     time.Time
	Label string
}

const (
	chartW, chartH                     = 760, 240
	padL, padR, padT, padB             = 58, 14, 12, 30
	plotW, plotH                       = chartW - padL - padR, chartH - padT - padB
	sparkW, sparkH                     = 120, 28
	maxLegendColors                    = 8
	gapFactor                          = 3.0
	chartClass, sparkClass, emptyClass = "chart", "spark", "nodata"
)

// yRange is the span of the y axis: data, lines and fixed bounds, padded to nice ticks.
func (c *chart) yRange() (lo, hi float64, ticks []float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, s := range c.Series {
		for _, p := range s.Points {
			lo, hi = math.Min(lo, p.V), math.Max(hi, p.V)
		}
	}
	for _, h := range c.HLines {
		lo, hi = math.Min(lo, h.Y), math.Max(hi, h.Y)
	}
	if c.YMin != nil {
		lo = *c.YMin
	}
	if c.YMax != nil {
		hi = *c.YMax
	}
	if math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		lo, hi = 0, 1
	}
	if lo > 0 && c.YMin == nil {
		lo = 0
	}
	if hi-lo < 1e-9 {
		hi = lo + 1
	}
	ticks = niceTicks(lo, hi, 5)
	if c.YMin == nil {
		lo = math.Min(lo, ticks[0])
	}
	if c.YMax == nil {
		hi = math.Max(hi, ticks[len(ticks)-1])
	}
	return lo, hi, ticks
}

// niceTicks returns about n round values spanning [lo, hi].
func niceTicks(lo, hi float64, n int) []float64 {
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var out []float64
	for v := math.Floor(lo/step) * step; v <= hi+step*1e-9; v += step {
		out = append(out, math.Round(v/step)*step)
	}
	return out
}

func num(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }

// SVG renders the chart and its legend as a figure.
func (c *chart) SVG() template.HTML {
	var b strings.Builder
	b.WriteString(`<figure class="chart">`)
	c.svg(&b)
	b.WriteString(`<ul class="legend">`)
	for i, s := range c.Series {
		state := ""
		if len(s.Points) == 0 {
			state = ` <span class="nodata">(no data)</span>`
		}
		fmt.Fprintf(&b, `<li><svg width="22" height="8" aria-hidden="true"><line class="line s%d" x1="0" x2="22" y1="4" y2="4"/></svg> %s%s</li>`,
			i%maxLegendColors, html.EscapeString(s.Name), state)
	}
	for _, h := range c.HLines {
		fmt.Fprintf(&b, `<li><svg width="22" height="8" aria-hidden="true"><line class="threshold" x1="0" x2="22" y1="4" y2="4"/></svg> %s</li>`, html.EscapeString(h.Label))
	}
	b.WriteString(`</ul></figure>`)
	return template.HTML(b.String())
}

func (c *chart) svg(b *strings.Builder) {
	lo, hi, ticks := c.yRange()
	span := c.To.Sub(c.From)
	if span <= 0 {
		span = time.Second
	}
	x := func(t time.Time) float64 { return padL + float64(plotW)*float64(t.Sub(c.From))/float64(span) }
	y := func(v float64) float64 { return padT + float64(plotH)*(1-(v-lo)/(hi-lo)) }
	yf := c.YFormat
	if yf == nil {
		yf = num
	}
	fmt.Fprintf(b, `<svg class="%s" viewBox="0 0 %d %d" role="img" aria-labelledby="%s-t %s-d" xmlns="http://www.w3.org/2000/svg">`,
		chartClass, chartW, chartH, c.ID, c.ID)
	fmt.Fprintf(b, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, c.ID, html.EscapeString(c.Title), c.ID, html.EscapeString(c.Desc))
	for _, bd := range c.Bands {
		x0, x1 := math.Max(padL, x(bd.From)), math.Min(padL+plotW, x(bd.To))
		if x1 > x0 {
			fmt.Fprintf(b, `<rect class="band" x="%.1f" y="%d" width="%.1f" height="%d"><title>%s</title></rect>`,
				x0, padT, x1-x0, plotH, html.EscapeString(bd.Label))
		}
	}
	for _, tv := range ticks {
		if tv < lo-1e-9 || tv > hi+1e-9 {
			continue
		}
		fmt.Fprintf(b, `<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/><text class="tick" x="%d" y="%.1f" text-anchor="end">%s</text>`,
			padL, padL+plotW, y(tv), y(tv), padL-6, y(tv)+4, html.EscapeString(yf(tv)))
	}
	for i := 0; i <= 4; i++ {
		t := c.From.Add(span * time.Duration(i) / 4)
		anchor := map[int]string{0: "start", 4: "end"}[i]
		if anchor == "" {
			anchor = "middle"
		}
		fmt.Fprintf(b, `<text class="tick" x="%.1f" y="%d" text-anchor="%s">%s</text>`, x(t), chartH-10, anchor, timeLabel(t, span))
	}
	fmt.Fprintf(b, `<rect class="frame" x="%d" y="%d" width="%d" height="%d"/>`, padL, padT, plotW, plotH)
	for _, h := range c.HLines {
		if h.Y < lo || h.Y > hi {
			continue
		}
		fmt.Fprintf(b, `<line class="threshold" x1="%d" x2="%d" y1="%.1f" y2="%.1f"><title>%s</title></line>`+
			`<text class="threshold-label" x="%d" y="%.1f" text-anchor="end">%s</text>`,
			padL, padL+plotW, y(h.Y), y(h.Y), html.EscapeString(h.Label), padL+plotW-4, y(h.Y)-3, html.EscapeString(h.Label))
	}
	for i, s := range c.Series {
		if d := pathData(s.Points, x, y); d != "" {
			fmt.Fprintf(b, `<path class="line s%d" d="%s"><title>%s</title></path>`, i%maxLegendColors, d, html.EscapeString(s.Name))
		}
		for _, p := range s.Points {
			if s.Dots {
				fmt.Fprintf(b, `<circle class="dot s%d" cx="%.1f" cy="%.1f" r="4"><title>%s: %s at %s</title></circle>`,
					i%maxLegendColors, x(p.T), y(p.V), html.EscapeString(s.Name), html.EscapeString(yf(p.V)), p.T.UTC().Format(time.RFC3339))
			}
		}
	}
	for mi, m := range c.Marks {
		if m.T.Before(c.From) || m.T.After(c.To) {
			continue
		}
		// Labels right of the middle read leftwards so that they stay inside the frame;
		// successive marks step down so that close ones do not overlap.
		lx, anchor := x(m.T)+3, "start"
		if x(m.T) > padL+plotW/2 {
			lx, anchor = x(m.T)-3, "end"
		}
		fmt.Fprintf(b, `<line class="mark" x1="%.1f" x2="%.1f" y1="%d" y2="%d"><title>%s</title></line>`+
			`<text class="mark-label" x="%.1f" y="%d" text-anchor="%s">%s</text>`,
			x(m.T), x(m.T), padT, padT+plotH, html.EscapeString(m.Label), lx, padT+12+14*(mi%3), anchor, html.EscapeString(m.Label))
	}
	b.WriteString(`</svg>`)
}

// pathData draws points as an SVG path, lifting the pen across gaps longer than
// gapFactor times the usual spacing (missing data is not drawn as a line).
func pathData(pts []Point, x func(time.Time) float64, y func(float64) float64) string {
	if len(pts) == 0 {
		return ""
	}
	gap := usualStep(pts) * gapFactor
	b := make([]byte, 0, len(pts)*14)
	for i, p := range pts {
		cmd := byte('L')
		if i == 0 || (gap > 0 && p.T.Sub(pts[i-1].T).Seconds() > gap) {
			cmd = 'M'
		}
		b = append(b, cmd)
		b = strconv.AppendFloat(b, x(p.T), 'f', 1, 64)
		b = append(b, ' ')
		b = strconv.AppendFloat(b, y(p.V), 'f', 1, 64)
	}
	if len(pts) == 1 {
		// A single point still shows: a short tick.
		b = append(b, "h2"...)
	}
	return string(b)
}

// usualStep is the median spacing of pts in seconds (0 for fewer than two points).
func usualStep(pts []Point) float64 {
	if len(pts) < 2 {
		return 0
	}
	ds := make([]float64, 0, len(pts)-1)
	for i := 1; i < len(pts); i++ {
		ds = append(ds, pts[i].T.Sub(pts[i-1].T).Seconds())
	}
	sort.Float64s(ds)
	return ds[len(ds)/2]
}

func timeLabel(t time.Time, span time.Duration) string {
	t = t.UTC()
	switch {
	case span <= 10*time.Minute:
		return t.Format("15:04:05")
	case span <= 48*time.Hour:
		return t.Format("15:04")
	}
	return t.Format("Jan 2")
}

// sparkline draws pts between from and to, with the threshold dashed; "no data" when
// there are no points.
func sparkline(label string, pts []Point, from, to time.Time, threshold float64) template.HTML {
	if len(pts) == 0 {
		return template.HTML(`<span class="` + emptyClass + `">no data</span>`)
	}
	hi := threshold
	for _, p := range pts {
		hi = math.Max(hi, p.V)
	}
	if hi <= 0 {
		hi = 1
	}
	span := to.Sub(from)
	x := func(t time.Time) float64 { return 1 + float64(sparkW-2)*float64(t.Sub(from))/float64(span) }
	y := func(v float64) float64 { return 2 + float64(sparkH-4)*(1-v/hi) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="%s" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`,
		sparkClass, sparkW, sparkH, sparkW, sparkH, html.EscapeString(label))
	if threshold > 0 {
		fmt.Fprintf(&b, `<line class="threshold" x1="0" x2="%d" y1="%.1f" y2="%.1f"/>`, sparkW, y(threshold), y(threshold))
	}
	fmt.Fprintf(&b, `<path class="line s0" d="%s"/></svg>`, pathData(pts, x, y))
	return template.HTML(b.String())
}
