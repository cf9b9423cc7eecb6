package corpus

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/slokit/slokit/internal/golden"
	"github.com/slokit/slokit/internal/testutil"
	"github.com/slokit/slokit/slo"
)

// pyrraOut is one ServiceLevelObjective as the helper reports Pyrra's own rules for it.
type pyrraOut struct {
	Name, Namespace string
	Target          float64
	Window          time.Duration
	Error           string
	Alerts          []struct {
		Alert  string
		Expr   string
		Labels map[string]string
	}
}

var pyrraFactor = regexp.MustCompile(`> \(([0-9.]+) \* \(1-`)

// pyrraSigs turns Pyrra's alerts (one rule per tier) into one signature per severity:
// factors 14 and 7 page, 2 and 1 open tickets (Pyrra's fixed tiers).
func pyrraSigs(o pyrraOut) ([]alertSig, error) {
	service := o.Namespace
	if service == "" {
		service = "default"
	}
	bySev := map[string]*alertSig{}
	for _, a := range o.Alerts {
		m := pyrraFactor.FindStringSubmatch(a.Expr)
		if m == nil {
			return nil, fmt.Errorf("no factor in %s", a.Expr)
		}
		f, _ := strconv.ParseFloat(m[1], 64)
		long, err1 := model.ParseDuration(a.Labels["long"])
		short, err2 := model.ParseDuration(a.Labels["short"])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("windows %q/%q", a.Labels["long"], a.Labels["short"])
		}
		sev := "ticket"
		if f >= 7 {
			sev = "page"
		}
		s := bySev[sev]
		if s == nil {
			s = &alertSig{Service: service, SLO: o.Name, Severity: sev, Name: a.Alert,
				Labels: map[string]string{slo.LabelSeverity: a.Labels["severity"]}, Objective: o.Target, Period: o.Window}
			bySev[sev] = s
		}
		// Pyrra files declare no scrape interval, so slokit assumes the default and raises
		// every window to at least MinScrapesPerWindow scrapes (docs/rules.md); Pyrra's
		// short windows under that floor (1m for a 1w period) are compared raised.
		floor := slo.MinScrapesPerWindow * slo.DefaultScrapeInterval
		s.Tiers = append(s.Tiers, tierString(f, max(time.Duration(long), floor), max(time.Duration(short), floor)))
	}
	var out []alertSig
	for _, sev := range []string{"page", "ticket"} {
		if s := bySev[sev]; s != nil {
			sort.Strings(s.Tiers)
			out = append(out, *s)
		}
	}
	return out, nil
}

// TestPyrraEquivalence runs Pyrra's own rule generation (v0.10.1, through the helper) on
// every Pyrra file slokit accepts and checks that slokit's alerts have the same objective,
// window, tiers (factor, long and short windows), alert name and severity labels;
// testdata/pyrra-equivalence.txt records the verdict per file.
func TestPyrraEquivalence(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Pyrra's rule generation: skipped with -short")
	}
	root := testutil.ModuleDir(t, pyrraModule, pyrraVersion)
	helper := testutil.PyrraHelper(t)
	var b strings.Builder
	b.WriteString("# slokit vs Pyrra " + pyrraVersion + " alerts, per file slokit accepts (UPDATE_GOLDEN=1 refreshes)\n")
	for _, rel := range pyrraCorpus(t, root) {
		e := load(root, rel)
		if len(e.errs) > 0 {
			continue
		}
		out, err := exec.CommandContext(t.Context(), helper, filepath.Join(root, rel)).Output()
		if err != nil {
			t.Fatalf("%s: pyrra helper: %v", rel, err)
		}
		var anchor []alertSig
		var refused []string
		sc := bufio.NewScanner(bytes.NewReader(out))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var o pyrraOut
			if err := json.Unmarshal(sc.Bytes(), &o); err != nil {
				t.Fatal(err)
			}
			if o.Error != "" {
				refused = append(refused, o.Error)
				continue
			}
			sigs, err := pyrraSigs(o)
			if err != nil {
				t.Fatalf("%s: %v", rel, err)
			}
			anchor = append(anchor, sigs...)
		}
		if len(refused) > 0 {
			fmt.Fprintf(&b, "%s\tpyrra refuses\t%s\n", rel, refused[0])
			continue
		}
		ours, err := slokitSigs(e.services)
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		if diffs := compareSigs(anchor, ours); len(diffs) > 0 {
			t.Errorf("%s: slokit differs from Pyrra:\n\t%s", rel, strings.Join(diffs, "\n\t"))
			fmt.Fprintf(&b, "%s\tDIFFERENT\t%d difference(s)\n", rel, len(diffs))
			continue
		}
		fmt.Fprintf(&b, "%s\tequivalent\t%d alert severities, %d tiers\n", rel, len(anchor), 2*len(anchor))
	}
	golden.Check(t, "testdata/pyrra-equivalence.txt", []byte(b.String()))
}
