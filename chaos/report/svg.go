package report

import (
	"fmt"
	"html/template"
	"math"
	"sort"
	"strings"
	"time"
)

// chart is one time-series chart drawn as inline SVG: no script, no network, readable in
// any browser or viewer, also years later from an attached artifact.
type chart struct {
	ID       string
	Title    string
	Subtitle string
	YLabel   string
	X0, X1   float64 // seconds since the run started
	Y0, Y1   float64
	Log      bool // log10 y axis (Y0 > 0)
	Series   []series
	HLines   []hline
	VMarks   []vmark
	Bands    []band
}

type series struct {
	Name   string
	Color  string
	Points [][2]float64
	Dashed bool
	Area   bool
}

// hline is a horizontal reference (a tier's threshold, the objective, a guardrail).
type hline struct {
	Y            float64
	Label, Color string
}

// vmark is a vertical mark (an alert transition, a prediction, a deadline).
type vmark struct {
	X            float64
	Label, Color string
	Dashed       bool
}

// band shades a time span (the fault).
type band struct {
	X0, X1       float64
	Label, Color string
}

// Geometry of every chart, in SVG user units.
const (
	chartW     = 1000
	plotH      = 260
	marginL    = 64
	marginR    = 16
	marginB    = 34
	laneH      = 15
	charW      = 6.4 // average advance of the 11px label font
	labelPad   = 8
	topPadding = 8
)

// placed is a label's box after layout.
type placed struct {
	X, W float64
	Lane int
}

// layoutMarks places the labels of vertical marks in lanes above the plot: each label
// starts at its mark and goes in the first lane where it does not overlap the previous
// label, so no two labels ever overlap whatever the times. It returns the boxes in the
// marks' order and the number of lanes used.
func layoutMarks(xs []float64, labels []string) ([]placed, int) {
	idx := make([]int, len(xs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return xs[idx[a]] < xs[idx[b]] })
	out := make([]placed, len(xs))
	var laneEnd []float64
	for _, i := range idx {
		w := float64(len([]rune(labels[i])))*charW + 4
		x := math.Min(xs[i]+2, chartW-marginR-w) // keep inside the picture
		lane := 0
		for lane < len(laneEnd) && laneEnd[lane]+labelPad > x {
			lane++
		}
		if lane == len(laneEnd) {
			laneEnd = append(laneEnd, 0)
		}
		laneEnd[lane] = x + w
		out[i] = placed{X: x, W: w, Lane: lane}
	}
	return out, len(laneEnd)
}

// spreadY moves labels (pixel ys) apart to at least gap, keeping their order.
func spreadY(ys []float64, gap, lo float64) []float64 {
	idx := make([]int, len(ys))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return ys[idx[a]] < ys[idx[b]] })
	out := append([]float64(nil), ys...)
	prev := math.Inf(-1)
	for _, i := range idx {
		out[i] = math.Max(math.Max(out[i], prev+gap), lo)
		prev = out[i]
	}
	return out
}

func (c *chart) px(x float64) float64 {
	if c.X1 <= c.X0 {
		return marginL
	}
	return marginL + (x-c.X0)/(c.X1-c.X0)*(chartW-marginL-marginR)
}

func (c *chart) py(top, y float64) float64 {
	lo, hi, v := c.Y0, c.Y1, y
	if c.Log {
		lo, hi, v = math.Log10(lo), math.Log10(hi), math.Log10(math.Max(y, c.Y0))
	}
	if hi <= lo {
		return top + plotH
	}
	v = math.Min(math.Max(v, lo), hi)
	return top + plotH - (v-lo)/(hi-lo)*plotH
}

// SVG renders the chart.
func (c *chart) SVG() template.HTML {
	xs := make([]float64, len(c.VMarks))
	labels := make([]string, len(c.VMarks))
	for i, m := range c.VMarks {
		xs[i], labels[i] = c.px(m.X), m.Label
	}
	boxes, lanes := layoutMarks(xs, labels)
	top := float64(topPadding + laneH*(lanes+1))
	h := top + plotH + marginB
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" id="%s" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %.0f" width="100%%" role="img" aria-label="%s">`,
		c.ID, chartW, h, template.HTMLEscapeString(c.Title))
	b.WriteString(`<style>text{font:11px system-ui,sans-serif;fill:#333}.ax{stroke:#999;stroke-width:1}.grid{stroke:#eee;stroke-width:1}</style>`)
	c.drawBands(&b, top)
	c.drawAxes(&b, top)
	for _, s := range c.Series {
		c.drawSeries(&b, top, s)
	}
	c.drawHLines(&b, top)
	for i, m := range c.VMarks {
		x := xs[i]
		ly := float64(topPadding + laneH*(boxes[i].Lane+1))
		dash := ""
		if m.Dashed {
			dash = ` stroke-dasharray="5,4"`
		}
		fmt.Fprintf(&b, `<line class="mark" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"%s/>`, x, ly+3, x, top+plotH, m.Color, dash)
		fmt.Fprintf(&b, `<text class="mark-label" x="%.1f" y="%.1f" fill="%s" data-w="%.0f">%s</text>`, boxes[i].X, ly, m.Color, boxes[i].W, template.HTMLEscapeString(m.Label))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // every text is escaped above
}

func (c *chart) drawBands(b *strings.Builder, top float64) {
	for i, bd := range c.Bands {
		x0, x1 := c.px(bd.X0), c.px(bd.X1)
		fmt.Fprintf(b, `<rect class="band" x="%.1f" y="%.1f" width="%.1f" height="%d" fill="%s"/>`, x0, top, math.Max(1, x1-x0), plotH, bd.Color)
		// One row per band, so that overlapping spans never print labels on each other.
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" fill="#555">%s</text>`, x0+4, top+14+float64(i)*13, template.HTMLEscapeString(bd.Label))
	}
}

func (c *chart) drawAxes(b *strings.Builder, top float64) {
	for _, t := range c.yTicks() {
		y := c.py(top, t)
		fmt.Fprintf(b, `<line class="grid" x1="%d" y1="%.1f" x2="%d" y2="%.1f"/>`, marginL, y, chartW-marginR, y)
		fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`, marginL-6, y+4, fmtNum(t))
	}
	for _, t := range niceTicks(c.X0, c.X1, 8) {
		x := c.px(t)
		fmt.Fprintf(b, `<line class="ax" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, x, top+plotH, x, top+plotH+4)
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, x, top+plotH+16, time.Duration(t*float64(time.Second)).Round(time.Second))
	}
	fmt.Fprintf(b, `<line class="ax" x1="%d" y1="%.1f" x2="%d" y2="%.1f"/>`, marginL, top+plotH, chartW-marginR, top+plotH)
	fmt.Fprintf(b, `<line class="ax" x1="%d" y1="%.1f" x2="%d" y2="%.1f"/>`, marginL, top, marginL, top+plotH)
	fmt.Fprintf(b, `<text x="%d" y="%.1f">%s</text>`, 4, top-4, template.HTMLEscapeString(c.YLabel))
	fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end">time since the run started</text>`, chartW-marginR, top+plotH+30)
}

func (c *chart) drawSeries(b *strings.Builder, top float64, s series) {
	if len(s.Points) == 0 {
		return
	}
	var d strings.Builder
	for i, p := range s.Points {
		cmd := "L"
		if i == 0 {
			cmd = "M"
		}
		fmt.Fprintf(&d, "%s%.1f,%.1f", cmd, c.px(p[0]), c.py(top, p[1]))
	}
	if s.Area {
		first, last := s.Points[0], s.Points[len(s.Points)-1]
		fmt.Fprintf(b, `<path d="%sL%.1f,%.1fL%.1f,%.1fZ" fill="%s" fill-opacity="0.15" stroke="none"/>`,
			d.String(), c.px(last[0]), top+plotH, c.px(first[0]), top+plotH, s.Color)
	}
	dash := ""
	if s.Dashed {
		dash = ` stroke-dasharray="6,4"`
	}
	fmt.Fprintf(b, `<path class="series" data-name="%s" d="%s" fill="none" stroke="%s" stroke-width="1.8"%s/>`,
		template.HTMLEscapeString(s.Name), d.String(), s.Color, dash)
}

func (c *chart) drawHLines(b *strings.Builder, top float64) {
	ys := make([]float64, len(c.HLines))
	for i, l := range c.HLines {
		ys[i] = c.py(top, l.Y)
	}
	labelY := spreadY(ys, 13, top+11)
	for i, l := range c.HLines {
		fmt.Fprintf(b, `<line class="hline" x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s" stroke-dasharray="4,3"/>`, marginL, ys[i], chartW-marginR, ys[i], l.Color)
		fmt.Fprintf(b, `<text class="hline-label" x="%d" y="%.1f" text-anchor="end" fill="%s">%s</text>`, chartW-marginR-4, labelY[i]-3, l.Color, template.HTMLEscapeString(l.Label))
	}
}

func (c *chart) yTicks() []float64 {
	if !c.Log {
		return niceTicks(c.Y0, c.Y1, 5)
	}
	var out []float64
	for e := math.Floor(math.Log10(c.Y0)); e <= math.Ceil(math.Log10(c.Y1)); e++ {
		if v := math.Pow(10, e); v >= c.Y0*0.999 && v <= c.Y1*1.001 {
			out = append(out, v)
		}
	}
	return out
}

// niceTicks returns about n round values covering [lo, hi].
func niceTicks(lo, hi float64, n int) []float64 {
	if !(hi > lo) || n < 1 {
		return []float64{lo}
	}
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
	for v := math.Ceil(lo/step) * step; v <= hi+step*1e-9; v += step {
		out = append(out, math.Round(v/step)*step)
	}
	return out
}

func fmtNum(v float64) string {
	switch {
	case v == 0:
		return "0"
	case math.Abs(v) >= 1e5 || math.Abs(v) < 0.001:
		return fmt.Sprintf("%.0e", v)
	}
	return fmt.Sprintf("%.4g", v)
}

// Legend lists the series and reference lines of the chart below it, in HTML, so that
// it never covers the title or the plot.
func (c *chart) Legend() template.HTML {
	var b strings.Builder
	b.WriteString(`<p class="legend">`)
	for _, s := range c.Series {
		style := "solid"
		if s.Dashed {
			style = "dashed"
		}
		fmt.Fprintf(&b, `<span><i style="border-top:3px %s %s"></i>%s</span> `, style, s.Color, template.HTMLEscapeString(s.Name))
	}
	for _, bd := range c.Bands {
		fmt.Fprintf(&b, `<span><i style="background:%s;height:10px"></i>%s</span> `, bd.Color, template.HTMLEscapeString(bd.Label))
	}
	b.WriteString(`</p>`)
	return template.HTML(b.String()) //nolint:gosec // escaped above
}
