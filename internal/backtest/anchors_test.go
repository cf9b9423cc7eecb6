package backtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/internal/testutil"
	"github.com/slokit/slokit/slo"
)

// anchorRules generates the rule files of the comparison SLO (testdata/anchors) with
// Sloth v0.16.0 and Pyrra v0.10.1 themselves: their binaries are built by .ci/sloth.sh
// and .ci/pyrra-rules.sh. A missing binary skips (fails with SLOKIT_REQUIRE_REAL=1).
func anchorRules(t *testing.T) map[string][]slo.RuleGroup {
	t.Helper()
	dir := t.TempDir()
	out := map[string][]slo.RuleGroup{}
	run := func(tool, bin string, args ...string) {
		file := filepath.Join(dir, tool+".yml")
		cmd := exec.Command(bin, args...)
		data, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v", tool, err)
		}
		if tool == "sloth" {
			if data, err = os.ReadFile(file); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if out[tool], err = LoadRules(file); err != nil {
			t.Fatal(err)
		}
	}
	sloth := cachedBinary(t, "sloth", "sloth/v0.16.0/sloth")
	run("sloth", sloth, "generate", "--no-log", "-i", "testdata/anchors/sloth.yaml", "-o", filepath.Join(dir, "sloth.yml"))
	pyrra := cachedBinary(t, "pyrrarules", "pyrra/v0.10.1/rules-*/pyrrarules")
	run("pyrra", pyrra, "testdata/anchors/pyrra.yaml")
	return out
}

// cachedBinary finds a binary the .ci scripts build under $SLOKIT_CACHE.
func cachedBinary(t *testing.T, name, glob string) string {
	t.Helper()
	cache := os.Getenv("SLOKIT_CACHE")
	if cache == "" {
		cache = "/var/cache/slokit"
	}
	if m, _ := filepath.Glob(filepath.Join(cache, glob)); len(m) > 0 {
		return m[len(m)-1]
	}
	return testutil.Binary(t, name)
}

// TestThreeToolComparison replays every built-in scenario through the rules slokit,
// Sloth and Pyrra generate for the same SLO (99.9% over 30d, the same series) and prints
// the comparison table of docs/backtest.md. It pins what the table says: slokit's rules
// and Sloth's page on every must-page scenario they can see; only rules with an absent()
// alert report no data.
func TestThreeToolComparison(t *testing.T) {
	if testing.Short() {
		t.Skip("three full libraries")
	}
	rules := anchorRules(t)
	o := loadSLOs(t, "testdata/anchors/slokit.yaml")["availability"]
	own, err := alerts.Group(o, alerts.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rules["slokit"] = []slo.RuleGroup{own}
	results := map[string][]Result{}
	for _, tool := range []string{"slokit", "sloth", "pyrra"} {
		jobs, _, err := Plan([]*slo.Service{{Name: o.Service, Objectives: []slo.Objective{o}}}, Selection{Rules: rules[tool]})
		if err != nil {
			t.Fatal(err)
		}
		if results[tool], err = RunAll(context.Background(), jobs, Options{ForeignRules: true}, 0, nil); err != nil {
			t.Fatal(err)
		}
	}
	var b strings.Builder
	b.WriteString("| scenario | expectation | slokit | Sloth | Pyrra |\n|---|---|---|---|---|\n")
	for i, r := range results["slokit"] {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", r.Scenario, expectText(r.Expect),
			cell(r), cell(results["sloth"][i]), cell(results["pyrra"][i]))
	}
	t.Logf("comparison (detect / reset per severity; SILENT = a must-fire alert did not fire):\n%s", b.String())
	for tool, rs := range results {
		s := Summarize(rs)
		t.Logf("%s: %s", tool, s)
	}
	// What the anchors do is stable: Sloth reads every window from the raw counters, so it
	// pages after a scrape gap; Pyrra's absent() alert reports all targets down.
	byName := func(rs []Result, name string) Result {
		for _, r := range rs {
			if r.Scenario == name {
				return r
			}
		}
		t.Fatalf("no result for %s", name)
		return Result{}
	}
	if !byName(results["sloth"], "gap-outage").Fired(slo.Page) {
		t.Error("Sloth did not page after the scrape gap")
	}
	if r := byName(results["pyrra"], "missing-data"); !r.Fired(NoData) || len(r.Silent) > 0 {
		t.Errorf("Pyrra's absent alert did not report missing data: %+v", r.Silent)
	}
}

func expectText(e Expect) string {
	var parts []string
	for _, s := range e.MustFire {
		parts = append(parts, string(s)+" fires")
	}
	for _, s := range e.MustNotFire {
		parts = append(parts, "no "+string(s))
	}
	if len(parts) == 0 {
		return "report only"
	}
	return strings.Join(parts, ", ")
}

// cell renders one tool's result: page detect/reset, ticket detect, no-data, silences.
func cell(r Result) string {
	var parts []string
	for _, t := range r.Tiers {
		switch {
		case t.HasDetect && t.HasReset:
			parts = append(parts, fmt.Sprintf("%s %s/%s", t.Severity, fmtDur(t.Detect), fmtDur(t.Reset)))
		case t.HasDetect:
			parts = append(parts, fmt.Sprintf("%s %s", t.Severity, fmtDur(t.Detect)))
		case t.Fired:
			parts = append(parts, string(t.Severity)+" fired")
		}
	}
	for _, s := range r.Silent {
		parts = append(parts, "**SILENT "+string(s.Severity)+"**")
	}
	for _, v := range r.Violations {
		if strings.Contains(v, "must not fire") {
			parts = append(parts, "**"+v+"**")
		}
	}
	if len(parts) == 0 {
		return "—"
	}
	return strings.Join(parts, "; ")
}
