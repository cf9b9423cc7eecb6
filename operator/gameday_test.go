package operator

import (
	"os"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/slokit/slokit/chaos"
	"github.com/slokit/slokit/chaos/chaosmesh"
	"github.com/slokit/slokit/operator/api/v1alpha1"
)

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func scheduled(t *testing.T, s v1alpha1.Schedule, created, last string) (*v1alpha1.GameDay, *schedule) {
	t.Helper()
	gd := &v1alpha1.GameDay{ObjectMeta: metav1.ObjectMeta{Name: "gd", Generation: 1, CreationTimestamp: metav1.NewTime(mustTime(t, created))}}
	gd.Spec.Schedule = &s
	if last != "" {
		gd.Status.LastScheduleTime = &metav1.Time{Time: mustTime(t, last)}
	}
	sched, problems := parseSchedule(&s)
	if problems != nil {
		t.Fatal(problems)
	}
	return gd, sched
}

// The schedule follows CronJob: the latest missed time runs (once), the deadline skips
// a run too late, the concurrency policy decides while a run is in progress, suspend
// stops new runs, and the time zone places the cron's hours.
func TestDecideSchedule(t *testing.T) {
	deadline := int64(300)
	for _, tc := range []struct {
		name          string
		sched         v1alpha1.Schedule
		created, last string
		now           string
		running       int
		want          decision
		wantSkip      string
	}{
		{name: "not yet due", sched: v1alpha1.Schedule{Cron: "0 3 * * *"}, created: "2026-12-04T10:00:00Z", now: "2026-12-05T02:59:59Z",
			want: decision{next: mustTime(t, "2026-12-05T03:00:00Z")}},
		{name: "due at its time", sched: v1alpha1.Schedule{Cron: "0 3 * * *"}, created: "2026-12-04T10:00:00Z", now: "2026-12-05T03:00:00Z",
			want: decision{start: true, record: true, scheduled: mustTime(t, "2026-12-05T03:00:00Z"), next: mustTime(t, "2026-12-06T03:00:00Z")}},
		{name: "only the latest missed time runs", sched: v1alpha1.Schedule{Cron: "0 * * * *"}, created: "2026-12-01T00:30:00Z", now: "2026-12-05T03:10:00Z",
			want: decision{start: true, record: true, scheduled: mustTime(t, "2026-12-05T03:00:00Z"), next: mustTime(t, "2026-12-05T04:00:00Z")}},
		{name: "already run", sched: v1alpha1.Schedule{Cron: "0 3 * * *"}, created: "2026-12-01T00:00:00Z", last: "2026-12-05T03:00:00Z", now: "2026-12-05T03:00:30Z",
			want: decision{next: mustTime(t, "2026-12-06T03:00:00Z")}},
		{name: "missed the starting deadline", sched: v1alpha1.Schedule{Cron: "0 3 * * *", StartingDeadlineSeconds: &deadline}, created: "2026-12-01T00:00:00Z", now: "2026-12-05T03:05:01Z",
			want: decision{record: true, scheduled: mustTime(t, "2026-12-05T03:00:00Z"), next: mustTime(t, "2026-12-06T03:00:00Z")}, wantSkip: "more than startingDeadlineSeconds 300"},
		{name: "forbid skips while running", sched: v1alpha1.Schedule{Cron: "0 3 * * *", ConcurrencyPolicy: "Forbid"}, created: "2026-12-01T00:00:00Z", now: "2026-12-05T03:00:00Z", running: 1,
			want: decision{record: true, scheduled: mustTime(t, "2026-12-05T03:00:00Z"), next: mustTime(t, "2026-12-06T03:00:00Z")}, wantSkip: "concurrencyPolicy Forbid"},
		{name: "allow starts beside the running run", sched: v1alpha1.Schedule{Cron: "0 3 * * *", ConcurrencyPolicy: "Allow"}, created: "2026-12-01T00:00:00Z", now: "2026-12-05T03:00:00Z", running: 1,
			want: decision{start: true, record: true, scheduled: mustTime(t, "2026-12-05T03:00:00Z"), next: mustTime(t, "2026-12-06T03:00:00Z")}},
		{name: "replace stops the running run first", sched: v1alpha1.Schedule{Cron: "0 3 * * *", ConcurrencyPolicy: "Replace"}, created: "2026-12-01T00:00:00Z", now: "2026-12-05T03:00:00Z", running: 1,
			want: decision{replace: true, scheduled: mustTime(t, "2026-12-05T03:00:00Z"), next: mustTime(t, "2026-12-06T03:00:00Z")}},
		{name: "suspended", sched: v1alpha1.Schedule{Cron: "0 3 * * *", Suspend: true}, created: "2026-12-01T00:00:00Z", now: "2026-12-05T03:00:00Z",
			want: decision{}},
		{name: "time zone", sched: v1alpha1.Schedule{Cron: "0 3 * * *", TimeZone: "America/New_York"}, created: "2026-12-04T00:00:00Z", now: "2026-12-05T03:00:00Z",
			want: decision{start: true, record: true, scheduled: mustTime(t, "2026-12-04T08:00:00Z"), next: mustTime(t, "2026-12-05T08:00:00Z")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gd, s := scheduled(t, tc.sched, tc.created, tc.last)
			got := decide(gd, s, mustTime(t, tc.now), tc.running)
			skip := got.skipped
			got.skipped = ""
			if !got.scheduled.Equal(tc.want.scheduled) || !got.next.Equal(tc.want.next) {
				t.Errorf("scheduled %s next %s, want %s and %s", got.scheduled, got.next, tc.want.scheduled, tc.want.next)
			}
			got.scheduled, got.next, tc.want.scheduled, tc.want.next = time.Time{}, time.Time{}, time.Time{}, time.Time{}
			if got != tc.want {
				t.Errorf("decision %+v, want %+v", got, tc.want)
			}
			if !strings.Contains(skip, tc.wantSkip) || (tc.wantSkip == "") != (skip == "") {
				t.Errorf("skipped %q, want %q", skip, tc.wantSkip)
			}
		})
	}
}

// Without a schedule a GameDay runs once per generation, never beside a running run.
func TestDecideOneShot(t *testing.T) {
	gd := &v1alpha1.GameDay{ObjectMeta: metav1.ObjectMeta{Generation: 2}}
	gd.Status.LastRunGeneration = 1
	if d := decide(gd, nil, time.Now(), 0); !d.start {
		t.Error("a new generation should run")
	}
	if d := decide(gd, nil, time.Now(), 1); d.start {
		t.Error("a new generation waits for the running run")
	}
	gd.Status.LastRunGeneration = 2
	if d := decide(gd, nil, time.Now(), 0); d.start {
		t.Error("a generation runs once")
	}
}

func TestParseScheduleErrors(t *testing.T) {
	_, problems := parseSchedule(&v1alpha1.Schedule{Cron: "61 * * * *", TimeZone: "Mars/Olympus"})
	got := strings.Join(problems, "\n")
	for _, want := range []string{`spec.schedule.timeZone: unknown time zone "Mars/Olympus"`, "spec.schedule.cron: end of range (61) above maximum (59)"} {
		if !strings.Contains(got, want) {
			t.Errorf("problems lack %q:\n%s", want, got)
		}
	}
}

// A GameDay is validated by slokit's game-day parser, every problem at once, positioned
// by the GameDay's field paths.
func TestParseGameDayPositions(t *testing.T) {
	gd := labGameDay("shop", "bad")
	gd.Spec.Fault.Spec = runtime.RawExtension{Raw: []byte(`{"mode":"all","selector":{"labelSelectors":{"app":"lab"}},"target":"Request","port":8080,"abort":true,"delai":"1s"}`)}
	gd.Spec.Expect[0].Within = "soon"
	gd.Spec.Guardrails.MaxBudget = "150%"
	plan, problems := ParseGameDay(gd, labSLO("shop"), "", &chaosmesh.Backend{})
	if plan != nil {
		t.Fatal("plan for an invalid game day")
	}
	got := strings.Join(problems, "\n")
	for _, want := range []string{
		"spec.signals.prometheus: required field is missing",
		"(set spec.signals.prometheus, or start the operator with --gameday-prometheus)",
		`spec.expect[0].within: must be a duration like 90s, 5m or 1h, got "soon"`,
		"spec.guardrails.maxBudget: must be in (0,1]",
		`spec.fault.spec: unknown field "delai", did you mean "delay"?`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("problems lack %q:\n%s", want, got)
		}
	}
}

func TestParseGameDayPlan(t *testing.T) {
	plan, problems := ParseGameDay(labGameDay("shop", "good"), labSLO("shop"), "http://prometheus:9090", &chaosmesh.Backend{})
	if problems != nil {
		t.Fatal(problems)
	}
	if plan.GameDay.Name != "good" || plan.GameDay.Signals.Prometheus != "http://prometheus:9090" || plan.ErrorRatio != 0.5 ||
		plan.Timeout != 4*time.Minute || len(plan.Expect) != 1 || plan.Expect[0].Predicted != 9*time.Second {
		t.Errorf("plan %+v", plan)
	}
	f := plan.GameDay.Fault.Params.(*chaosmesh.Fault)
	if f.Namespace != "shop" || f.Kind != "HTTPChaos" || f.InjectTimeout != 30*time.Second {
		t.Errorf("fault %+v: the fault belongs in the GameDay's namespace", f)
	}
}

// History keeps the newest runs within each limit and names the reports to delete.
func TestHistoryLimits(t *testing.T) {
	one, two := int32(1), int32(2)
	gd := &v1alpha1.GameDay{Spec: v1alpha1.GameDaySpec{Schedule: &v1alpha1.Schedule{SuccessfulRunsHistoryLimit: &two, FailedRunsHistoryLimit: &one}}}
	runs := []v1alpha1.GameDayRun{
		{ID: "a", Outcome: "pass", Report: "r-a"}, {ID: "b", Outcome: "fail", Report: "r-b"}, {ID: "c", Outcome: "pass", Report: "r-c"},
		{ID: "d", Outcome: "aborted", Report: "r-d"}, {ID: "e", Outcome: "pass", Report: "r-e"},
	}
	kept, pruned := history(gd, runs)
	var ids []string
	for _, r := range kept {
		ids = append(ids, r.ID)
	}
	if strings.Join(ids, ",") != "a,b,c" || strings.Join(pruned, ",") != "r-d,r-e" {
		t.Errorf("kept %v pruned %v", ids, pruned)
	}
}

// A report above the ConfigMap limit is gzipped, then loses its HTML page, then its
// samples; the annotation says which.
func TestReportSizeLimit(t *testing.T) {
	gd := labGameDay("shop", "big")
	res := &chaos.Result{RunID: "r1", GameDay: "big", Outcome: chaos.Pass}
	cm, err := reportConfigMap(gd, res)
	if err != nil {
		t.Fatal(err)
	}
	if cm.Data["result.json"] == "" || cm.Data["report.html"] == "" || cm.Annotations != nil || cm.Name != "big-r1" {
		t.Errorf("small report: %v %v", keys(cm.Data), cm.Annotations)
	}
	start := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 40000; i++ { // 11 hours of 1s polls
		res.Samples = append(res.Samples, chaos.Sample{T: start.Add(time.Duration(i) * time.Second), Burn: map[string]float64{"5s": float64(i%97) / 7, "30s": float64(i%89) / 3}})
	}
	cm, err = reportConfigMap(gd, res)
	if err != nil {
		t.Fatal(err)
	}
	size := 0
	for _, b := range cm.BinaryData {
		size += len(b)
	}
	if cm.Data != nil || size > MaxReportBytes || cm.BinaryData["result.json.gz"] == nil || !strings.Contains(cm.Annotations[AnnotationReportNote], "stored gzipped") {
		t.Errorf("large report: data %v, binary %d bytes, note %q", keys(cm.Data), size, cm.Annotations[AnnotationReportNote])
	}
	t.Logf("40,000 samples: %q", cm.Annotations[AnnotationReportNote])
}

// The example GameDay decodes strictly and validates against the example SLO object.
func TestExampleGameDay(t *testing.T) {
	var gd v1alpha1.GameDay
	var sloObj v1alpha1.ServiceLevelObjective
	for path, dst := range map[string]any{"../examples/kubernetes/gameday.yaml": &gd, "../examples/kubernetes/servicelevelobjective.yaml": &sloObj} {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := sigsyaml.UnmarshalStrict(data, dst); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	plan, problems := ParseGameDay(&gd, &sloObj, "", &chaosmesh.Backend{})
	if problems != nil {
		t.Fatal(problems)
	}
	if _, problems := parseSchedule(gd.Spec.Schedule); problems != nil {
		t.Fatal(problems)
	}
	if plan.ErrorRatio != 0.3 || plan.GameDay.Fault.Params.(*chaosmesh.Fault).Namespace != "shortlink" {
		t.Errorf("plan %+v", plan)
	}
}
