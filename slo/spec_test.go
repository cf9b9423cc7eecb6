package slo_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/slokit/slokit/internal/golden"
	"github.com/slokit/slokit/slo"
)

func mustParse(t *testing.T, path string) *slo.Service {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	svc, ds := slo.Parse(path, data)
	if svc == nil || len(ds.Errors()) > 0 {
		t.Fatalf("%s: want a valid spec, got:\n%s", path, ds.Err())
	}
	return svc
}

func TestParseShortlinkExample(t *testing.T) {
	path := filepath.Join("..", "examples", "shortlink.yaml")
	svc := mustParse(t, path)
	sev := func(name string, disabled bool) slo.Severity {
		return slo.Severity{Disabled: disabled, Labels: map[string]string{"severity": name}, Annotations: map[string]string{}}
	}
	labels := map[string]string{"team": "platform"}
	noData := slo.NoData{}
	buckets := []time.Duration{5 * time.Millisecond, 10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
		100 * time.Millisecond, 200 * time.Millisecond, 250 * time.Millisecond, 300 * time.Millisecond, 500 * time.Millisecond,
		time.Second, 2500 * time.Millisecond, 5 * time.Second, 10 * time.Second}
	runbook := func(anchor string) map[string]string {
		return map[string]string{"runbook_url": "https://runbooks.example/shortlink#" + anchor}
	}
	want := &slo.Service{
		Name:   "shortlink",
		Labels: labels,
		Source: path,
		Objectives: []slo.Objective{
			{
				Service: "shortlink", Name: "redirect-availability", Target: 0.999, Period: 30 * 24 * time.Hour,
				Description: "Redirects are served without a server error.", Labels: labels,
				SLI: slo.SLI{Events: &slo.EventsSLI{
					Bad:   `http_requests_total{code=~"5..",route="GET /{code}",service="shortlink"}`,
					Total: `http_requests_total{route="GET /{code}",service="shortlink"}`,
				}},
				Alerting: slo.Alerting{Name: "ShortlinkRedirectAvailability", Labels: map[string]string{},
					Annotations: runbook("redirect-availability"), Page: sev("page", false), Ticket: sev("ticket", false), NoData: noData},
				ScrapeInterval: 30 * time.Second,
			},
			{
				Service: "shortlink", Name: "redirect-latency", Target: 0.99, Period: 30 * 24 * time.Hour,
				Description: "Redirects answer within 100ms.", Labels: labels,
				SLI: slo.SLI{Latency: &slo.LatencySLI{
					Histogram: "http_request_duration_seconds",
					Selector:  map[string]string{"service": "shortlink", "route": "GET /{code}", "method": "GET"},
					Threshold: 100 * time.Millisecond, Buckets: buckets,
				}},
				Alerting: slo.Alerting{Name: "ShortlinkRedirectLatency", Labels: map[string]string{},
					Annotations: runbook("redirect-latency"), Page: sev("page", false), Ticket: sev("ticket", false), NoData: noData},
				ScrapeInterval: 30 * time.Second,
			},
			{
				Service: "shortlink", Name: "create-availability", Target: 0.995, Period: 30 * 24 * time.Hour,
				Description: "Short links are created without a server error.", Labels: labels,
				SLI: slo.SLI{Events: &slo.EventsSLI{
					Bad:   `http_requests_total{code=~"5..",route="POST /api/v1/links",service="shortlink"}`,
					Total: `http_requests_total{route="POST /api/v1/links",service="shortlink"}`,
				}},
				Alerting: slo.Alerting{Name: "ShortlinkCreateAvailability", Labels: map[string]string{},
					Annotations: runbook("create-availability"), Page: sev("page", false), Ticket: sev("ticket", true), NoData: noData},
				ScrapeInterval: 30 * time.Second,
			},
			{
				Service: "shortlink", Name: "create-latency", Target: 0.95, Period: 30 * 24 * time.Hour,
				Description: "Short links are created within 250ms.", Labels: labels,
				SLI: slo.SLI{Latency: &slo.LatencySLI{
					Histogram: "http_request_duration_seconds",
					Selector:  map[string]string{"service": "shortlink", "route": "POST /api/v1/links", "method": "POST"},
					Threshold: 250 * time.Millisecond, Buckets: buckets,
				}},
				Alerting: slo.Alerting{Name: "ShortlinkCreateLatency", Labels: map[string]string{},
					Annotations: runbook("create-latency"), Page: sev("page", false), Ticket: sev("ticket", false), NoData: noData},
				ScrapeInterval: 30 * time.Second,
			},
		},
	}
	// Positions: where live checks (validate --prometheus) point; checked, then compared
	// with the rest of the value.
	for _, tc := range []struct{ slo, field, want string }{
		{"redirect-availability", slo.FieldEventsTotal, "../examples/shortlink.yaml:19:16 slos[0].sli.events.total"},
		{"redirect-latency", slo.FieldThreshold, "../examples/shortlink.yaml:38:20 slos[1].sli.latency.threshold"},
		{"redirect-latency", slo.FieldScrapeInterval, "../examples/shortlink.yaml:73:17 scrapeInterval"},
		{"create-latency", slo.FieldEventsTotal, "../examples/shortlink.yaml:65:7 slos[3].sli"},
	} {
		if got := svc.Where(tc.slo, tc.field, slo.FieldSLI).String(); got != tc.want {
			t.Errorf("Where(%s, %s) = %s, want %s", tc.slo, tc.field, got, tc.want)
		}
	}
	svc.Positions = nil
	if !reflect.DeepEqual(svc, want) {
		t.Errorf("Parse(shortlink.yaml):\n got %+v\nwant %+v", svc, want)
	}
}

// TestExamplesLoadClean checks that every bundled example loads without errors or
// warnings.
func TestExamplesLoadClean(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join("..", "examples", "*.yaml"))
	if len(paths) == 0 {
		t.Fatal("no examples found")
	}
	svcs, ds := slo.LoadFiles(paths...)
	if len(ds) > 0 {
		t.Errorf("examples should load clean, got:\n%s", diagText(ds))
	}
	if len(svcs) != len(paths) {
		t.Errorf("got %d services from %d files", len(svcs), len(paths))
	}
	for _, svc := range svcs {
		checkService(t, svc)
		checkGeneratable(t, svc)
	}
}

// checkGeneratable asserts that the generator accepts every Objective the validator let
// through: the two must agree on what a valid spec is.
func checkGeneratable(t *testing.T, svc *slo.Service) {
	t.Helper()
	for _, o := range svc.Objectives {
		if _, err := slo.RecordingRules(o); err != nil {
			t.Errorf("%s: validated objective %s does not generate: %v", svc.Source, o.Name, err)
		}
	}
}

func diagText(ds slo.Diagnostics) string {
	lines := make([]string, len(ds))
	for i, d := range ds {
		lines[i] = d.String()
	}
	return strings.Join(lines, "\n")
}

func corpus(t *testing.T, dir string, min int) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < min {
		t.Fatalf("testdata/%s holds %d specs, want at least %d", dir, len(paths), min)
	}
	return paths
}

func parseFile(t *testing.T, path string) (*slo.Service, slo.Diagnostics) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return slo.Parse(filepath.ToSlash(path), data)
}

// TestInvalidCorpus parses every broken spec under testdata/invalid and compares all of
// its diagnostics with the .err file next to it.
func TestInvalidCorpus(t *testing.T) {
	for _, path := range corpus(t, "invalid", 30) {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".yaml"), func(t *testing.T) {
			svc, ds := parseFile(t, path)
			if svc != nil {
				t.Errorf("Parse returned a service for an invalid spec")
			}
			if len(ds.Errors()) == 0 {
				t.Errorf("Parse found no error")
			}
			if err := ds.Err(); !slo.IsValidation(err) {
				t.Errorf("Diagnostics.Err() = %v, want a *ValidationError", err)
			}
			golden.Check(t, strings.TrimSuffix(path, ".yaml")+".err", []byte(diagText(ds)+"\n"))
		})
	}
}

// TestWarnCorpus parses valid specs that deserve warnings: a Service is returned, and the
// warnings match the .err file.
func TestWarnCorpus(t *testing.T) {
	for _, path := range corpus(t, "warn", 5) {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".yaml"), func(t *testing.T) {
			svc, ds := parseFile(t, path)
			if svc == nil || len(ds.Errors()) > 0 {
				t.Fatalf("want a valid spec, got:\n%s", diagText(ds))
			}
			if len(ds.Warnings()) == 0 {
				t.Errorf("want at least one warning")
			}
			checkService(t, svc)
			checkGeneratable(t, svc)
			golden.Check(t, strings.TrimSuffix(path, ".yaml")+".err", []byte(diagText(ds)+"\n"))
		})
	}
}

// TestValidCorpus parses every spec under testdata/valid: no error, no warning.
func TestValidCorpus(t *testing.T) {
	for _, path := range corpus(t, "valid", 5) {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".yaml"), func(t *testing.T) {
			svc, ds := parseFile(t, path)
			if len(ds) > 0 {
				t.Errorf("want no diagnostics, got:\n%s", diagText(ds))
			}
			if svc == nil || len(svc.Objectives) == 0 {
				t.Fatalf("want a service with objectives, got %+v", svc)
			}
			checkService(t, svc)
			checkGeneratable(t, svc)
		})
	}
}

// TestImports pins how Sloth and OpenSLO files map onto domain Objectives.
func TestImports(t *testing.T) {
	sev := func(labels map[string]string, ann map[string]string, disabled bool) slo.Severity {
		if ann == nil {
			ann = map[string]string{}
		}
		return slo.Severity{Disabled: disabled, Labels: labels, Annotations: ann}
	}
	tests := []struct {
		path string
		want []slo.Objective
	}{
		{
			path: "testdata/valid/sloth-raw.yaml",
			want: []slo.Objective{{
				Service: "myservice", Name: "requests-availability", Target: 0.995, Period: 30 * 24 * time.Hour,
				Description: "A ratio recorded elsewhere.",
				Labels:      map[string]string{"owner": "myteam", "category": "availability"},
				SLI:         slo.SLI{Raw: &slo.RawSLI{ErrorRatio: `sum(rate(http_request_duration_seconds_count{code=~"(5..|429)",job="myservice"}[{{.window}}])) / sum(rate(http_request_duration_seconds_count{job="myservice"}[{{.window}}]))`}},
				Alerting: slo.Alerting{
					Name: "MyServiceHighErrorRate", Labels: map[string]string{},
					Annotations: map[string]string{"summary": "High error rate on 'myservice' requests responses"},
					Page: sev(map[string]string{"severity": "pageteam", "routing_key": "myteam"},
						map[string]string{"runbook": "https://runbooks.example"}, false),
					Ticket: sev(map[string]string{"severity": "ticket"}, nil, true),
				},
			}},
		},
		{
			path: "testdata/valid/openslo-list.yaml",
			want: []slo.Objective{{
				Service: "web", Name: "web-availability", Target: 0.995, Period: 7 * 24 * time.Hour,
				Description: "SLO for web availability",
				Labels:      map[string]string{"env": "prod"},
				SLI:         slo.SLI{Raw: &slo.RawSLI{ErrorRatio: `1 - (sum(rate(http_requests_total{code!~"5..",component="web"}[{{.window}}])) / sum(rate(http_requests_total{component="web"}[{{.window}}])))`}},
				Alerting: slo.Alerting{
					Name: "WebWebAvailability", Labels: map[string]string{}, Annotations: map[string]string{},
					Page:   sev(map[string]string{"severity": "page"}, nil, false),
					Ticket: sev(map[string]string{"severity": "ticket"}, nil, false),
				},
			}},
		},
		{
			path: "../examples/openslo-checkout.yaml",
			want: []slo.Objective{
				{
					Service: "checkout", Name: "checkout-availability", Target: 0.999, Period: 28 * 24 * time.Hour,
					Description: "Checkouts complete without a server error.",
					Labels:      map[string]string{"team": "storefront"},
					SLI: slo.SLI{Events: &slo.EventsSLI{
						Bad:   `http_requests_total{code=~"5..",route="POST /checkout",service="checkout"}`,
						Total: `http_requests_total{route="POST /checkout",service="checkout"}`,
					}},
					Alerting: slo.Alerting{
						Name: "CheckoutCheckoutAvailability", Labels: map[string]string{}, Annotations: map[string]string{},
						Page:   sev(map[string]string{"severity": "page"}, nil, false),
						Ticket: sev(map[string]string{"severity": "ticket"}, nil, false),
					},
				},
				{
					Service: "checkout", Name: "cart-fast", Target: 0.99, Period: 28 * 24 * time.Hour,
					Description: "Cart pages answer within 300ms",
					Labels:      map[string]string{"team": "storefront"},
					SLI:         slo.SLI{Raw: &slo.RawSLI{ErrorRatio: `1 - (sum(rate(http_request_duration_seconds_bucket{le="0.3",route="GET /cart",service="checkout"}[{{.window}}])) / sum(rate(http_request_duration_seconds_count{route="GET /cart",service="checkout"}[{{.window}}])))`}},
					Alerting: slo.Alerting{
						Name: "CheckoutCartFast", Labels: map[string]string{}, Annotations: map[string]string{},
						Page:   sev(map[string]string{"severity": "page"}, nil, false),
						Ticket: sev(map[string]string{"severity": "ticket"}, nil, false),
					},
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.path), func(t *testing.T) {
			svc := mustParse(t, tt.path)
			if !reflect.DeepEqual(svc.Objectives, tt.want) {
				t.Errorf("objectives:\n got %+v\nwant %+v", svc.Objectives, tt.want)
				for i := range min(len(svc.Objectives), len(tt.want)) {
					g, w := svc.Objectives[i], tt.want[i]
					if !reflect.DeepEqual(g.SLI, w.SLI) {
						t.Errorf("[%d] SLI got %+v %+v %+v", i, g.SLI.Events, g.SLI.Latency, g.SLI.Raw)
					}
				}
			}
		})
	}
}

// TestObjectivePrecision checks that percentages convert to the nearest ratio, not to
// a float division artefact (99.9/100 = 0.9990000000000001).
func TestObjectivePrecision(t *testing.T) {
	for _, tt := range []struct {
		objective string
		want      float64
	}{
		{"99.9", 0.999}, {"99.95", 0.9995}, {"99.999", 0.99999}, {"95", 0.95}, {"99", 0.99},
		{`"99.5"`, 0.995}, {"9.99e1", 0.999}, {"0.5", 0.005}, {"99.90", 0.999}, {"0x63", 0.99},
		{"99.99999999", 0.9999999999},
	} {
		spec := "version: slokit/v1\nservice: s\nslos:\n  - name: a\n    objective: " + tt.objective +
			"\n    sli: {events: {bad: 'x{code=\"500\"}', total: x}}\n"
		svc, ds := slo.Parse("p.yaml", []byte(spec))
		if svc == nil {
			t.Errorf("objective %s: %s", tt.objective, ds.Err())
			continue
		}
		if got := svc.Objectives[0].Target; got != tt.want {
			t.Errorf("objective %s: target %v, want %v", tt.objective, got, tt.want)
		}
	}
}

// TestDocExample parses the annotated spec in doc.go, so that the documentation cannot
// drift from what Parse accepts.
func TestDocExample(t *testing.T) {
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	var yaml []string
	for _, line := range strings.Split(string(src), "\n") {
		if rest, ok := strings.CutPrefix(line, "//\t"); ok && (len(yaml) > 0 || strings.HasPrefix(rest, "version: slokit/v1")) {
			yaml = append(yaml, rest)
		}
	}
	if len(yaml) < 10 {
		t.Fatalf("no annotated slokit/v1 example found in doc.go")
	}
	svc, ds := slo.Parse("doc.go", []byte(strings.Join(yaml, "\n")))
	if len(ds) > 0 || svc == nil {
		t.Fatalf("doc.go example:\n%s", diagText(ds))
	}
	if got := len(svc.Objectives); got != 3 {
		t.Errorf("doc.go example has %d objectives, want 3", got)
	}
	checkGeneratable(t, svc)
}

// TestSlothEventsMapping pins which Sloth events queries become an events SLI (exactly
// sum(rate(<selector>[{{.window}}]))) and which stay raw.
func TestSlothEventsMapping(t *testing.T) {
	tests := []struct {
		errorQuery string
		wantKind   string
		wantBad    string
	}{
		{`sum(rate(errors_total{job="a"}[{{.window}}]))`, "events", `errors_total{job="a"}`},
		{`(sum(rate(errors_total[{{ .window }}])))`, "events", `errors_total`},
		{`sum( increase( errors_total{code=~"5.."} [{{.window}}] ) )`, "events", `errors_total{code=~"5.."}`},
		{`sum by (job) (rate(errors_total[{{.window}}]))`, "raw", ""},
		{`sum(rate(errors_total[{{.window}}] offset 1m))`, "raw", ""},
		{`sum(rate(errors_total[{{.window}}])) * 2`, "raw", ""},
		{`sum(irate(errors_total[{{.window}}]))`, "raw", ""},
		{`sum(rate(errors_total[{{.window}}])) / sum(rate(x[{{.window}}]))`, "raw", ""},
	}
	for _, tt := range tests {
		spec := "version: prometheus/v1\nservice: s\nslos:\n  - name: a\n    objective: 99\n    sli:\n      events:\n" +
			"        error_query: '" + tt.errorQuery + "'\n        total_query: sum(rate(requests_total[{{.window}}]))\n"
		svc, ds := slo.Parse("sloth.yaml", []byte(spec))
		if svc == nil {
			t.Errorf("%s: %v", tt.errorQuery, ds.Err())
			continue
		}
		sli := svc.Objectives[0].SLI
		if sli.Kind() != tt.wantKind {
			t.Errorf("%s: kind %s, want %s", tt.errorQuery, sli.Kind(), tt.wantKind)
			continue
		}
		if tt.wantKind == "events" && (sli.Events.Bad != tt.wantBad || sli.Events.Total != "requests_total") {
			t.Errorf("%s: events %+v, want bad %s", tt.errorQuery, *sli.Events, tt.wantBad)
		}
	}
}

// TestLoadFiles reads several files at once: diagnostics of all of them come back
// together, unreadable files are reported, and an SLO defined in two files is an error.
func TestLoadFiles(t *testing.T) {
	dir := t.TempDir()
	spec := "version: slokit/v1\nservice: api\nscrapeInterval: 30s\nslos:\n  - name: %s\n    objective: 99\n    sli: {events: {bad: 'x{c=\"5\"}', total: x}}\n"
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := write("a.yaml", strings.ReplaceAll(spec, "%s", "read"))
	b := write("b.yaml", strings.ReplaceAll(spec, "%s", "write"))
	dup := write("dup.yaml", strings.ReplaceAll(spec, "%s", "read"))
	bad := write("bad.yaml", "version: slokit/v1\nservice: api\n")
	missing := filepath.Join(dir, "missing.yaml")

	svcs, ds := slo.LoadFiles(a, b, dup, bad, missing)
	if len(svcs) != 2 || svcs[0].Source != a || svcs[1].Source != b {
		t.Errorf("want the services of a.yaml and b.yaml, got %d", len(svcs))
	}
	want := []string{
		dup + `: service "api" SLO "read" is also defined in ` + a + `: its rules would collide; keep one definition`,
		bad + ":1:1: slos: required: at least one SLO",
		missing + ": cannot read the spec: open " + missing + ": no such file or directory",
	}
	if got := strings.Split(diagText(ds), "\n"); !reflect.DeepEqual(got, want) {
		t.Errorf("diagnostics:\n got %q\nwant %q", got, want)
	}
	// The unreadable file makes the whole load an I/O failure, every diagnostic kept.
	err := ds.Err()
	var re *slo.ReadError
	if !errors.As(err, &re) || slo.IsValidation(err) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Err() = %T %v, want a *slo.ReadError wrapping fs.ErrNotExist", err, err)
	} else if got := strings.Split(err.Error(), "\n"); !reflect.DeepEqual(got, want) {
		t.Errorf("Err():\n got %q\nwant %q", got, want)
	}
}

// TestLoadFilesErrKind tells I/O failures (a plain error) from invalid files (a
// validation error), whatever else is loaded alongside.
func TestLoadFilesErrKind(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, content []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, content, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	bad := write("bad.yaml", []byte("version: slokit/v1\nservice: api\n"))
	huge := write("huge.yaml", make([]byte, slo.MaxFileSize+1))
	missing := filepath.Join(dir, "missing.yaml")
	tests := []struct {
		name  string
		paths []string
		read  bool // a *ReadError, else a *ValidationError
		nErr  int  // errors it holds
	}{
		{"missing alone", []string{missing}, true, 1},
		{"directory", []string{dir}, false, 2},
		{"empty directory", []string{t.TempDir()}, true, 1},
		{"missing and invalid", []string{bad, missing}, true, 2},
		{"invalid alone", []string{bad}, false, 1},
		{"too large is invalid", []string{huge}, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ds := slo.LoadFiles(tt.paths...)
			err := ds.Err()
			var re *slo.ReadError
			var ve *slo.ValidationError
			switch {
			case tt.read && errors.As(err, &re):
				if len(re.Diagnostics) != tt.nErr {
					t.Errorf("ReadError holds %d diagnostics, want %d:\n%v", len(re.Diagnostics), tt.nErr, err)
				}
			case !tt.read && errors.As(err, &ve):
				if len(ve.Diagnostics) != tt.nErr {
					t.Errorf("ValidationError holds %d diagnostics, want %d:\n%v", len(ve.Diagnostics), tt.nErr, err)
				}
			default:
				t.Errorf("Err() = %T %v, want a read error: %v", err, err, tt.read)
			}
		})
	}
}

// TestCanonicalPromQL checks that selectors and templates come back as the Prometheus
// parser prints them: comments dropped, matchers sorted, {{.window}} kept.
func TestCanonicalPromQL(t *testing.T) {
	svc := mustParse(t, "testdata/valid/promql-comments.yaml")
	ev, raw := svc.Objectives[0].SLI.Events, svc.Objectives[1].SLI.Raw
	want := slo.EventsSLI{Bad: `http_requests_total{code=~"5..",route="GET /#/x"}`, Total: `http_requests_total{route="GET /#/x"}`}
	if *ev != want {
		t.Errorf("events = %+v, want %+v", *ev, want)
	}
	if want := `sum(rate(jobs_failed_total[{{.window}}])) / sum(rate(jobs_total[{{.window}}]))`; raw.ErrorRatio != want {
		t.Errorf("raw = %q, want %q", raw.ErrorRatio, want)
	}
}
