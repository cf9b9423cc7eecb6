package report

import (
	"fmt"

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

// addMitigationBand shades the spans the mitigation was active (a breaker open) in
// green across the chart; the legend names it.
func addMitigationBand(c *chart, res *chaos.Result) {
	m := res.Mitigation
	if m == nil {
		return
	}
	for _, iv := range m.Intervals {
		end := res.EndedAt
		if iv.End != nil {
			end = *iv.End
		}
		c.Bands = append(c.Bands, band{X0: x(res, iv.Start), X1: x(res, end), Label: "mitigation " + m.Name + " active", Color: "rgba(38,139,70,0.16)"})
	}
}

// resetUnderFault is the reset row of a fired tier that resolved while the fault was
// still in (a mitigation relieved the SLO): not a missing reset but the point of it.
func resetUnderFault(res *chaos.Result, e chaos.ExpectationResult) (row, bool) {
	if e.FiredTier == "" || res.FaultBegan == nil || res.FaultEnded == nil {
		return row{}, false
	}
	for _, a := range res.Alerts {
		if a.Tier() == e.FiredTier && a.ResolvedAt != nil && a.ResolvedAt.Before(*res.FaultEnded) {
			s := a.ResolvedAt.Sub(*res.FaultBegan).Seconds()
			return row{Check: "reset: " + e.FiredTier, Measured: "resolved " + secs(&s) + " after injection, fault still in",
				Predicted: "—", Allowed: "—", OK: true}, true
		}
	}
	return row{}, false
}
