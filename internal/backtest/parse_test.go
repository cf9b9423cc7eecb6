package backtest

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/slokit/slokit/slo"
)

func TestParseScenariosValid(t *testing.T) {
	data, err := os.ReadFile("testdata/valid/brownout.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got, ds := ParseScenarios("brownout.yaml", data)
	if len(ds) > 0 {
		t.Fatalf("diagnostics: %v", ds)
	}
	const day = 24 * time.Hour
	want := []Scenario{
		{Name: "brownout", Description: "a 2% error brownout for two hours after a clean warm-up", Traffic: 20, Source: "brownout.yaml",
			Segments: []Segment{{Duration: 3 * day}, {Duration: 2 * time.Hour, BadRatio: 0.02, Fault: true}, {Duration: 8 * time.Hour}},
			Expect:   Expect{MustFire: []slo.SeverityName{slo.Ticket}, MustNotFire: []slo.SeverityName{slo.Page}}},
		{Name: "slow-then-gap", Source: "brownout.yaml",
			Segments: []Segment{{Duration: day}, {Duration: time.Hour, BadRatio: 0.3, Traffic: 50, Fault: true}, {Duration: time.Hour, Missing: true}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

// TestParseScenariosInvalid pairs each testdata/invalid file with its full expected
// diagnostics in the .err file next to it (UPDATE_GOLDEN=1 rewrites them).
func TestParseScenariosInvalid(t *testing.T) {
	files, _ := filepath.Glob("testdata/invalid/*.yaml")
	if len(files) == 0 {
		t.Fatal("no invalid fixtures")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			sc, ds := ParseScenarios(filepath.Base(f), data)
			if sc != nil || len(ds.Errors()) == 0 {
				t.Fatalf("want errors and no scenarios, got %v and %v", sc, ds)
			}
			var b strings.Builder
			for _, d := range ds {
				b.WriteString(d.String() + "\n")
			}
			golden := strings.TrimSuffix(f, ".yaml") + ".err"
			if os.Getenv("UPDATE_GOLDEN") == "1" {
				if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with UPDATE_GOLDEN=1)", err)
			}
			if b.String() != string(want) {
				t.Errorf("diagnostics differ\n got:\n%s\nwant:\n%s", b.String(), want)
			}
		})
	}
}

// FuzzParseScenarios feeds arbitrary bytes: no panics, and whatever parses is usable.
func FuzzParseScenarios(f *testing.F) {
	for _, dir := range []string{"testdata/valid", "testdata/invalid"} {
		files, _ := filepath.Glob(dir + "/*.yaml")
		for _, p := range files {
			b, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		scs, ds := ParseScenarios("fuzz.yaml", data)
		if len(ds.Errors()) > 0 && scs != nil {
			t.Fatal("scenarios returned alongside errors")
		}
		for _, sc := range scs {
			if sc.Name == "" || len(sc.Segments) == 0 {
				t.Fatalf("accepted scenario without name or segments: %+v", sc)
			}
			if d := sc.Duration(); d <= 0 || d > MaxScenarioDuration {
				t.Fatalf("accepted duration %v", d)
			}
			for _, g := range sc.Segments {
				if g.BadRatio < 0 || g.BadRatio > 1 || g.Traffic < 0 || g.Duration <= 0 {
					t.Fatalf("accepted segment %+v", g)
				}
			}
			m := sc.Scrape
			if m.Interval < 0 || m.Offset < 0 || m.Jitter < 0 || m.Interval > 0 && (m.Offset >= m.Interval || m.Jitter >= m.Interval) ||
				m.Instances < 0 || m.Instances > 1000 || sc.Traffic < 0 {
				t.Fatalf("accepted scrape model %+v", m)
			}
			for i := 1; i < len(m.Buckets); i++ {
				if m.Buckets[i] <= m.Buckets[i-1] || m.Buckets[0] <= 0 {
					t.Fatalf("accepted bucket layout %v", m.Buckets)
				}
			}
		}
	})
}

func TestParseScenariosScrapeModel(t *testing.T) {
	data, err := os.ReadFile("testdata/valid/scrape.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got, ds := ParseScenarios("scrape.yaml", data)
	if len(ds) > 0 {
		t.Fatalf("diagnostics: %v", ds)
	}
	want := []Scenario{{Name: "pod-restarts-during-gap", Description: "three pods scraped every minute, out of phase; one restart; a gap", Source: "scrape.yaml",
		Scrape: Scrape{Interval: time.Minute, Offset: 15 * time.Second, Jitter: 5 * time.Second, Instances: 3, Lazy: true, NoStaleness: true, Buckets: []float64{0.05, 0.1, 0.5}},
		Segments: []Segment{{Duration: 72 * time.Hour}, {Duration: 30 * time.Minute, BadRatio: 0.2, Fault: true, Restart: true},
			{Duration: 20 * time.Minute, BadRatio: 0.2, Fault: true, Missing: true}, {Duration: time.Hour, Absent: true}, {Duration: time.Hour, Renamed: true}},
		Expect: Expect{MustFire: []slo.SeverityName{slo.Page, NoData}}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}
