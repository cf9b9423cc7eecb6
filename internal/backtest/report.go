package backtest

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
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
	// Silent counts must-fire severities that did not fire (each with reasons in its
	// result); they are the false negatives.
	Silent int `json:"silent"`
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
			if r.Fired(sev) {
				s.TruePositives++
			}
		}
		s.FalseNegatives += len(r.Silent)
		s.Silent += len(r.Silent)
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
				if p.Reset == 0 {
					pr = "-" // no reset prediction (a fault hidden in a scrape gap)
				}
			}
			note := ""
			if t.Mismatch != "" {
				note = "✗ MISMATCH: " + t.Mismatch
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, scen,
				tierName(t), fired, detect, pd, reset, pr, budget, pb, note)
		}
		for _, v := range r.Violations {
			fmt.Fprintf(tw, "\t\t\t\t\t\t\t\t\t\t✗ EXPECTATION FAILED: %s\n", v)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	s := Summarize(results)
	_, err := fmt.Fprintf(w, "\n%s\n", s)
	return err
}

// String is the one-line summary the text output ends with.
func (s Summary) String() string {
	return fmt.Sprintf("%d runs; expectations: %d must-fire (%d fired, %d silent), %d must-not-fire (%d fired); precision %.2f, recall %.2f; %d tier(s) disagree with the prediction",
		s.Runs, s.TruePositives+s.FalseNegatives, s.TruePositives, s.Silent, s.FalsePositives+s.TrueNegatives, s.FalsePositives, s.Precision, s.Recall, s.Mismatches)
}

// tierName renders a tier as "page 1h/5m 14.4×", or the severity alone for alerts
// without windows (no-data alerts, rules slokit did not generate).
func tierName(t TierResult) string {
	if t.Long == 0 {
		return string(t.Severity)
	}
	return fmt.Sprintf("%s %s/%s %s×", t.Severity, fmtDur(t.Long), fmtDur(t.Short), slo.FormatFloat(t.BurnRate))
}

// WriteJSON writes results and their summary as one indented JSON document.
func WriteJSON(w io.Writer, results []Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Results []Result `json:"results"`
		Summary Summary  `json:"summary"`
	}{results, Summarize(results)})
}

// JUnit XML, as CI systems read it: one testsuite per SLO, one testcase per scenario,
// a failure per broken expectation.
type (
	junitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Name     string       `xml:"name,attr"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Suites   []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name     string      `xml:"name,attr"`
		Tests    int         `xml:"tests,attr"`
		Failures int         `xml:"failures,attr"`
		Cases    []junitCase `xml:"testcase"`
	}
	junitCase struct {
		Name      string        `xml:"name,attr"`
		ClassName string        `xml:"classname,attr"`
		Failure   *junitFailure `xml:"failure,omitempty"`
		SystemOut string        `xml:"system-out,omitempty"`
	}
	junitFailure struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Text    string `xml:",chardata"`
	}
)

// WriteJUnit writes results as JUnit XML.
func WriteJUnit(w io.Writer, results []Result) error {
	out := junitSuites{Name: "slokit test"}
	index := map[string]int{}
	for _, r := range results {
		id := r.Service + "/" + r.SLO
		i, ok := index[id]
		if !ok {
			i = len(out.Suites)
			index[id] = i
			out.Suites = append(out.Suites, junitSuite{Name: id})
		}
		var b strings.Builder
		if err := WriteText(&b, []Result{r}); err != nil {
			return err
		}
		c := junitCase{Name: r.Scenario, ClassName: id, SystemOut: b.String()}
		if len(r.Violations) > 0 {
			kind := "expectation"
			if len(r.Silent) > 0 {
				kind = "silent"
			}
			c.Failure = &junitFailure{Message: r.Violations[0], Type: kind, Text: strings.Join(r.Violations, "\n")}
			out.Suites[i].Failures++
			out.Failures++
		}
		out.Suites[i].Cases = append(out.Suites[i].Cases, c)
		out.Suites[i].Tests++
		out.Tests++
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
