package alerts

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slokit/slokit/slo"
)

// checkWriteRuleFile asserts that WriteRuleFile writes MarshalRuleFile's bytes, and both
// yaml.v3's alone (one Encode of the whole file).
func checkWriteRuleFile(t *testing.T, f slo.RuleFile) {
	t.Helper()
	want, err := marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	got, err := MarshalRuleFile(f)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("MarshalRuleFile differs from yaml.v3\ngot:\n%s\nwant:\n%s", got, want)
	}
	var b bytes.Buffer
	if err := WriteRuleFile(&b, f); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Fatalf("WriteRuleFile differs from yaml.v3\ngot:\n%s\nwant:\n%s", b.Bytes(), want)
	}
}

// TestWriteRuleFileExamples compares WriteRuleFile with yaml.v3 on the bundled examples'
// rule files, and on a file of many SLOs (several rounds of parallel chunks).
func TestWriteRuleFileExamples(t *testing.T) {
	files, _ := filepath.Glob("../examples/*.yaml")
	if len(files) == 0 {
		t.Fatal("no examples under ../examples")
	}
	var all []*slo.Service
	for _, spec := range files {
		svcs, ds := slo.LoadFiles(spec)
		if err := ds.Err(); err != nil {
			t.Fatal(err)
		}
		all = append(all, svcs...)
	}
	f, err := RuleFile(all, Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkWriteRuleFile(t, f)

	big := *all[0]
	big.Objectives = nil
	for i := range 300 {
		o := all[0].Objectives[i%len(all[0].Objectives)]
		o.Name = o.Name + "-" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + "-" + strings.Repeat("y", i/26)
		big.Objectives = append(big.Objectives, o)
	}
	if f, err = RuleFile([]*slo.Service{&big}, Options{}); err != nil {
		t.Fatal(err)
	}
	if n := len(f.Groups[0].Rules); n < 4*rulesPerChunk {
		t.Fatalf("the big file's first group has %d rules, want several chunks", n)
	}
	checkWriteRuleFile(t, f)
	// Many SLOs: RenderRuleFile and Check run them on several goroutines (go test -race).
	checkRenderRuleFile(t, []*slo.Service{&big})
	checkCheck(t, &big)
	big.Objectives[250].Labels = map[string]string{"slokit_x": "y"}
	big.Objectives[40].Labels = map[string]string{"slokit_y": "y"}
	checkRenderRuleFile(t, []*slo.Service{&big})
	checkCheck(t, &big)
}

// TestWriteRuleFileFallbacks covers the values ruleyaml leaves to yaml.v3: a rule it does
// not handle among rules it does (encoded alone), and a group head it does not handle
// (the group encoded whole), and a file without groups.
func TestWriteRuleFileFallbacks(t *testing.T) {
	ok := slo.Rule{Record: "a:b", Expr: `sum(rate(x{a="b"}[5m]))`, Labels: map[string]string{"slokit_window": "5m"}}
	odd := []slo.Rule{
		{Alert: "A", Expr: "up == 0", Labels: map[string]string{"Team": "x", "severity": "page"}},
		{Alert: "B", Expr: "up\n== 0", Annotations: map[string]string{"description": "two\nlines", "summary": ""}},
		{Alert: "C", Expr: "vector(1)", For: "5m", Annotations: map[string]string{"tier": "007", "x": strings.Repeat("long words ", 20)}},
		{Record: "d", Expr: "- 1", Labels: map[string]string{"k": "true", "é": "\t"}},
	}
	var rules []slo.Rule
	for i := range 3 * rulesPerChunk {
		if i%17 == 3 {
			rules = append(rules, odd[i%len(odd)])
		} else {
			rules = append(rules, ok)
		}
	}
	for _, f := range []slo.RuleFile{
		{},
		{Groups: []slo.RuleGroup{{Name: "slokit-a", Interval: "30s", Rules: rules}}},
		{Groups: []slo.RuleGroup{
			{Name: "007", Rules: []slo.Rule{ok, odd[0]}},
			{Name: "g", Interval: "1m", PartialResponseStrategy: "warn", Rules: odd},
			{Name: "empty"},
			{Name: "two\nlines", Rules: rules[:5]},
		}},
	} {
		checkWriteRuleFile(t, f)
	}
}

// checkRenderRuleFile asserts that RenderRuleFile writes the bytes of MarshalRuleFile of
// RuleFile, or returns the same error.
func checkRenderRuleFile(t *testing.T, services []*slo.Service) {
	t.Helper()
	f, wantErr := RuleFile(services, Options{})
	r, err := RenderRuleFile(services, Options{})
	if wantErr != nil || err != nil {
		if wantErr == nil || err == nil || err.Error() != wantErr.Error() {
			t.Fatalf("RenderRuleFile error %v, RuleFile error %v", err, wantErr)
		}
		return
	}
	want, err := MarshalRuleFile(f)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	n, err := r.WriteTo(&b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), want) || n != int64(len(want)) {
		t.Fatalf("RenderRuleFile (%d bytes reported) differs from MarshalRuleFile(RuleFile)\ngot:\n%s\nwant:\n%s", n, b.Bytes(), want)
	}
}

// TestRenderRuleFile compares RenderRuleFile with RuleFile and MarshalRuleFile: the
// examples, services split over several inputs, several evaluation intervals (one whose
// long group is merged into the fast one), global objectives, no objectives, and errors.
func TestRenderRuleFile(t *testing.T) {
	files, _ := filepath.Glob("../examples/*.yaml")
	var all []*slo.Service
	for _, spec := range files {
		svcs, ds := slo.LoadFiles(spec)
		if err := ds.Err(); err != nil {
			t.Fatal(err)
		}
		all = append(all, svcs...)
	}
	if len(all) < 2 {
		t.Fatalf("want several example services, got %d", len(all))
	}
	checkRenderRuleFile(t, all)
	checkRenderRuleFile(t, nil)

	mixed := *all[0]
	mixed.Objectives = nil
	for i, o := range append(append([]slo.Objective(nil), all[0].Objectives...), all[1].Objectives...) {
		o.Service = mixed.Name
		switch i % 4 {
		case 1:
			o.EvaluationInterval = time.Minute
		case 2:
			o.EvaluationInterval = slo.LongGroupMaxInterval // long group merged into the fast one
		}
		mixed.Objectives = append(mixed.Objectives, o)
	}
	split := mixed
	split.Objectives = mixed.Objectives[:2]
	rest := mixed
	rest.Objectives = mixed.Objectives[2:]
	checkRenderRuleFile(t, []*slo.Service{&mixed})
	checkRenderRuleFile(t, []*slo.Service{&split, all[1], &rest})

	global := *all[0]
	global.Objectives = append([]slo.Objective(nil), all[0].Objectives...)
	global.Objectives[0].Scope.Global = true
	checkRenderRuleFile(t, []*slo.Service{&global})
	global.Objectives = global.Objectives[:1]
	checkRenderRuleFile(t, []*slo.Service{&global})

	bad := mixed
	bad.Objectives = append([]slo.Objective(nil), mixed.Objectives...)
	bad.Objectives[3].Labels = map[string]string{"slokit_x": "y"} // reserved: cannot generate
	bad.Objectives[2].Labels = map[string]string{"slokit_z": "y"}
	checkRenderRuleFile(t, []*slo.Service{&bad})
	for _, s := range append([]*slo.Service{&bad, &mixed, &global}, all...) {
		checkCheck(t, s)
	}
	badGlobal := global
	badGlobal.Objectives = []slo.Objective{global.Objectives[0]}
	badGlobal.Objectives[0].Labels = map[string]string{"slokit_x": "y"}
	checkCheck(t, &badGlobal)
	clash := *all[0]
	clash.Name = all[0].Name + "-long"
	checkRenderRuleFile(t, []*slo.Service{all[0], &clash})
}

// checkCheck asserts that Check returns the error of RuleFile, else of ThanosRuleFile, for
// s alone (validate's check before Check existed).
func checkCheck(t *testing.T, s *slo.Service) {
	t.Helper()
	var want error
	if _, err := RuleFile([]*slo.Service{s}, Options{}); err != nil {
		want = err
	} else if _, err := ThanosRuleFile([]*slo.Service{s}, Options{}); err != nil {
		want = err
	}
	got := Check(s, Options{})
	if (got == nil) != (want == nil) || got != nil && got.Error() != want.Error() {
		t.Fatalf("Check(%s) = %v, RuleFile/ThanosRuleFile say %v", s.Name, got, want)
	}
}
