package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/slokit/slokit/chaos"
	"github.com/slokit/slokit/slo"
)

// writePlanMitigation prints the mitigation step of a plan; nothing without one.
func writePlanMitigation(w io.Writer, m *chaos.PlannedMitigation) {
	if m == nil {
		return
	}
	fmt.Fprintf(w, "  mitigation %s: `%s` active within %s of injection; then, fault still in, %s burn < %g within %s; released within %s of removal\n",
		m.Name, m.Active, m.Within, slo.FormatWindow(m.ReliefWindow), m.ReliefBelow, m.ReliefWithin, m.ReleaseWithin)
}

// writeMitigationText prints the mitigation step's measured times; nothing without one.
func writeMitigationText(b *strings.Builder, m *chaos.MitigationResult) {
	if m == nil {
		return
	}
	if m.EngagedSeconds == nil {
		fmt.Fprintf(b, "  mitigation %s never engaged (allowed %s)  FAILED\n", m.Name, chaosSecs(&m.WithinSeconds))
		return
	}
	after := ""
	if m.EngagedAfterAlertSeconds != nil {
		after = fmt.Sprintf(", %s after the first expected alert", chaosSecs(m.EngagedAfterAlertSeconds))
	}
	fmt.Fprintf(b, "  mitigation %s engaged %s after injection%s (allowed %s)  %s\n",
		m.Name, chaosSecs(m.EngagedSeconds), after, chaosSecs(&m.WithinSeconds), chaosMark(m.Engaged))
	fmt.Fprintf(b, "  relief under the fault: %s burn < %g %s after it engaged (allowed %s)  %s\n",
		m.ReliefWindow, m.ReliefBelow, chaosSecs(m.ReliefSeconds), chaosSecs(&m.ReliefWithinSeconds), chaosMark(m.Relieved))
	fmt.Fprintf(b, "  mitigation released %s after the fault ended (allowed %s)  %s\n",
		chaosSecs(m.ReleasedSeconds), chaosSecs(&m.ReleaseWithinSeconds), chaosMark(m.Released))
}

// resolvedUnderFault describes a fired tier that resolved while the fault was still in
// (a mitigation relieved the SLO); "" otherwise.
func resolvedUnderFault(res *chaos.Result, tier string) string {
	if tier == "" || res.FaultBegan == nil || res.FaultEnded == nil {
		return ""
	}
	for _, a := range res.Alerts {
		if a.Tier() == tier && a.ResolvedAt != nil && a.ResolvedAt.Before(*res.FaultEnded) {
			return fmt.Sprintf("resolved %s after the fault began, with the fault still in", a.ResolvedAt.Sub(*res.FaultBegan).Round(time.Second))
		}
	}
	return ""
}
