package report

import (
	"fmt"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/slokit/slokit/chaos"
)

// mitigationRows are the verdict table's lines of the mitigation step: engaged,
// relief under the fault, released.
func mitigationRows(m *chaos.MitigationResult) []row {
	if m == nil {
		return nil
	}
	engaged := "never engaged"
	if m.EngagedSeconds != nil {
		engaged = "engaged after " + secs(m.EngagedSeconds)
		if m.EngagedAfterAlertSeconds != nil {
			engaged += fmt.Sprintf(" (%s after the first expected alert)", secs(m.EngagedAfterAlertSeconds))
		}
	}
	var out []row
	if m.ActiveBeforeFault {
		out = append(out, row{Check: "mitigation " + m.Name + " quiet before the fault", Measured: "already active", Predicted: "—", Allowed: "inactive"})
	}
	out = append(out,
		row{Check: "mitigation " + m.Name + ": `" + m.Active + "`", Measured: engaged, Predicted: "—", Allowed: secs(&m.WithinSeconds) + " from injection", OK: m.Engaged},
		row{Check: fmt.Sprintf("relief under the fault: %s burn < %g", m.ReliefWindow, m.ReliefBelow), Measured: secs(m.ReliefSeconds) + " after engaging",
			Predicted: "—", Allowed: secs(&m.ReliefWithinSeconds), OK: m.Relieved},
		row{Check: "mitigation " + m.Name + " released", Measured: secs(m.ReleasedSeconds) + " after removal", Predicted: "—",
			Allowed: secs(&m.ReleaseWithinSeconds), OK: m.Released},
	)
	return out
}

// addMitigationBand draws the spans the mitigation was active (a breaker open) as a
// green band across the chart, on a series of its own so that the legend names it.
func addMitigationBand(c *charts.Line, res *chaos.Result) {
	m := res.Mitigation
	if m == nil || len(m.Intervals) == 0 {
		return
	}
	var so []charts.SeriesOpts
	var data []opts.LineData
	for _, iv := range m.Intervals {
		end := res.EndedAt
		if iv.End != nil {
			end = *iv.End
		}
		so = append(so, charts.WithMarkAreaData([]opts.MarkAreaData{{Name: m.Name, XAxis: x(res, iv.Start)}, {XAxis: x(res, end)}}))
		data = append(data, opts.LineData{Value: []any{x(res, iv.Start), nil}}, opts.LineData{Value: []any{x(res, end), nil}})
	}
	so = append(so, charts.WithMarkAreaStyleOpts(opts.MarkAreaStyle{ItemStyle: &opts.ItemStyle{Color: "rgba(38,139,70,0.16)"},
		Label: &opts.Label{Show: opts.Bool(true), Position: "insideBottom"}}),
		charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(false)}))
	c.AddSeries("mitigation "+m.Name+" active", data, so...)
}
