package backtest

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/slokit/slokit/slo"
)

// Summary scores the alerts over a set of results against their expectations: a
// must-fire severity is a positive, a must-not-fire one a negative.
type Summary struct {
	Runs int `json:"runs"`
	// TruePositives fired when they must; FalseNegatives did not. FalsePositives fired
	// when they must not; TrueNegatives did not.
	TruePositives  int `json:"true_positives"`
	FalseNegatives int `json:"false_negatives"`
	FalsePositives int `json:"false_positives"`
	TrueNegatives  int `json:"true_negatives"`
	// Precision is TP/(TP+FP) and Recall TP/(TP+FN); 1 when their denominator is 0.
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	// Mismatches counts tiers whose measurement disagrees with the prediction.
	Mismatches int `json:"mismatches"`
	// Violations lists every broken expectation as "service/slo scenario: message".
	Violations []string `json:"violations,omitempty"`
}

// Summarize scores results.
func Summarize(results []Result) Summary {
	s := Summary{Runs: len(results)}
	for _, r := range results {
		for _, sev := range r.Expect.MustFire {
			if !severityInResult(r, sev) {
				continue
			}
			if r.Fired(sev) {
				s.TruePositives++
			} else {
				s.FalseNegatives++
			}
		}
		for _, sev := range r.Expect.MustNotFire {
			if r.Fired(sev) {
				s.FalsePositives++
			} else {
				s.TrueNegatives++
			}
		}
		for _, t := range r.Tiers {
			if t.Mismatch != "" {
				s.Mismatches++
			}
		}
		for _, v := range r.Violations {
			s.Violations = append(s.Violations, fmt.Sprintf("%s/%s %s: %s", r.Service, r.SLO, r.Scenario, v))
		}
	}
	s.Precision, s.Recall = ratio(s.TruePositives, s.TruePositives+s.FalsePositives), ratio(s.TruePositives, s.TruePositives+s.FalseNegatives)
	return s
}

// severityInResult reports whether r has a tier of sev; a must-fire for a severity the
// SLO does not alert on (disabled) is not scored.
func severityInResult(r Result, sev slo.SeverityName) bool {
	for _, t := range r.Tiers {
		if t.Severity == sev {
			return true
		}
	}
	return false
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// WriteText renders results as a table, one row per SLO, scenario and tier, measured
// beside predicted, then the summary.
func WriteText(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SLO\tSCENARIO\tTIER\tFIRED\tDETECT\tPREDICTED\tRESET\tPREDICTED\tBUDGET@DETECT\tPREDICTED\tNOTE")
	for _, r := range results {
		for i, t := range r.Tiers {
			name, scen := r.Service+"/"+r.SLO, r.Scenario
			if i > 0 {
				name, scen = "", ""
			}
			fired := "no"
			if t.Fired {
				fired = "yes"
			}
			detect, reset, budget := "-", "-", "-"
			if t.HasDetect {
				detect, budget = fmtDur(t.Detect), fmt.Sprintf("%.1f%%", t.BudgetAtDetect*100)
			}
			if t.HasReset {
				reset = fmtDur(t.Reset)
			}
			pd, pr, pb := "", "", ""
			if p := t.Predicted; p != nil {
				pd, pr, pb = "never", "-", "-"
				if p.Fires {
					pd, pr, pb = fmtDur(p.Detect), fmtDur(p.Reset), fmt.Sprintf("%.1f%%", p.BudgetAtDetect*100)
				}
			}
			note := ""
			if t.Mismatch != "" {
				note = "✗ MISMATCH: " + t.Mismatch
			}
			fmt.Fprintf(tw, "%s\t%s\t%s %s/%s %s×\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, scen,
				t.Severity, fmtDur(t.Long), fmtDur(t.Short), slo.FormatFloat(t.BurnRate),
				fired, detect, pd, reset, pr, budget, pb, note)
		}
		for _, v := range r.Violations {
			fmt.Fprintf(tw, "\t\t✗ EXPECTATION FAILED: %s\t\t\t\t\t\t\t\t\n", v)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	s := Summarize(results)
	_, err := fmt.Fprintf(w, "\n%d runs; expectations: %d must-fire (%d fired), %d must-not-fire (%d fired); precision %.2f, recall %.2f; %d tier(s) disagree with the prediction\n",
		s.Runs, s.TruePositives+s.FalseNegatives, s.TruePositives, s.FalsePositives+s.TrueNegatives, s.FalsePositives, s.Precision, s.Recall, s.Mismatches)
	return err
}
