package serve

import (
	"context"
	"net/http/httptest"
	"time"

	"encoding/json"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/slokit/slokit/slo"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	code, body := get(t, url)
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("%s: %v\n%s", url, err, body)
	}
	return code
}

func TestOverviewAgainstLab(t *testing.T) {
	f := newFixture(t)
	var ov Overview
	if code := getJSON(t, f.http.URL+"/api/overview", &ov); code != 200 {
		t.Fatalf("status %d: %+v", code, ov)
	}
	if ov.Error != "" || ov.Total != 3 || len(ov.SLOs) != 3 || ov.Queries != 4 {
		t.Fatalf("overview: error %q, total %d, rows %d, queries %d", ov.Error, ov.Total, len(ov.SLOs), ov.Queries)
	}
	rows := map[string]Row{}
	for _, r := range ov.SLOs {
		rows[r.Service+"/"+r.SLO] = r
	}
	co, br, gh := rows["shop/checkout-availability"], rows["shop/browse-availability"], rows["ghost/nothing-here"]
	if co.State != stateFiring || co.Tiers[0].Alert != "firing" || co.Burn == nil || *co.Burn < 14.4 || co.BudgetRemaining == nil || len(co.Spark) == 0 {
		t.Errorf("checkout: %+v", co)
	}
	if br.State != stateOK || br.BudgetRemaining == nil || *br.BudgetRemaining != 1 || br.Team != "web" || br.Tiers[0].Alert != "inactive" {
		t.Errorf("browse: %+v", br)
	}
	if gh.State != stateNoData || gh.BudgetRemaining != nil || gh.Burn != nil || gh.Tiers[0].LongBurn != nil || len(gh.Spark) != 0 {
		t.Errorf("ghost: %+v", gh)
	}
	code, page := get(t, f.http.URL+"/")
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	for _, want := range []string{`data-slo="ghost/nothing-here"`, `data-state="nodata"`, `<td class="budget nodata">no data</td>`,
		`data-state="firing"`, `<span class="state firing">firing</span> page/10m`, `<svg class="spark"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestOverviewFiltersAndSort(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct{ query, want string }{
		{"", "ghost/nothing-here shop/browse-availability shop/checkout-availability"},
		{"?team=web", "ghost/nothing-here shop/browse-availability"},
		{"?service=shop&sort=budget", "shop/checkout-availability shop/browse-availability"},
		{"?sort=budget", "shop/checkout-availability shop/browse-availability ghost/nothing-here"},
		{"?sort=burn", "shop/checkout-availability shop/browse-availability ghost/nothing-here"},
		{"?state=firing", "shop/checkout-availability"},
		{"?state=nodata", "ghost/nothing-here"},
		{"?q=CHECKOUT", "shop/checkout-availability"},
		{"?q=succeed", "shop/checkout-availability"},
		{"?team=nobody", ""},
	} {
		var ov Overview
		if code := getJSON(t, f.http.URL+"/api/overview"+tc.query, &ov); code != 200 {
			t.Errorf("%s: status %d", tc.query, code)
		}
		var got []string
		for _, r := range ov.SLOs {
			got = append(got, r.Service+"/"+r.SLO)
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%s: got %v, want %s", tc.query, got, tc.want)
		}
	}
}

func TestBadInputPages(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		path   string
		status int
		want   []string
	}{
		{"/?sort=nope&range=forever&bogus=1", 400, []string{"Bad query parameters",
			"bogus: unknown parameter; this page takes q, service, team, state, sort, range",
			"sort: must be one of service, team, name, budget, burn, got &#34;nope&#34;",
			"range: &#34;forever&#34; is not a duration like 15m, 1h or 7d"}},
		{"/?range=1s", 400, []string{"range: must be between 1m and 90d, got 1s"}},
		{"/?sort=budget&sort=burn", 400, []string{"sort: given 2 times; give it once"}},
		{"/slo/shop/nope", 404, []string{"Unknown SLO", "no SLO &#34;nope&#34; in service &#34;shop&#34;", "shop/checkout-availability"}},
		{"/slo/shop/checkout-availability?range=x", 400, []string{"range: &#34;x&#34; is not a duration"}},
		{"/gamedays?outcome=great", 400, []string{"outcome: must be one of pass, fail, aborted, interrupted"}},
		{"/gamedays?slo=noslash", 400, []string{"slo: want service/slo"}},
		{"/gamedays/deadbeef", 404, []string{"Unknown game-day run", "no run &#34;deadbeef&#34;"}},
		{"/gamedays/deadbeef/report", 404, []string{"Unknown game-day run"}},
		{"/nowhere", 404, []string{"Page not found"}},
	} {
		code, body := get(t, f.http.URL+tc.path)
		if code != tc.status {
			t.Errorf("%s: status %d, want %d", tc.path, code, tc.status)
		}
		for _, w := range tc.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: page lacks %q:\n%s", tc.path, w, body)
			}
		}
		if strings.Contains(body, "goroutine") || strings.Contains(body, ".go:") {
			t.Errorf("%s: page shows a stack", tc.path)
		}
		var js map[string]any
		if strings.HasPrefix(tc.path, "/nowhere") {
			continue
		}
		if code := getJSON(t, f.http.URL+"/api"+strings.TrimSuffix(strings.TrimPrefix(tc.path, "/"), "")[0:0]+tc.path, &js); code != tc.status || js["problems"] == nil {
			if !strings.HasSuffix(tc.path, "/report") {
				t.Errorf("/api%s: status %d, want %d with problems: %v", tc.path, code, tc.status, js)
			}
		}
	}
}

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }

// TestDecodeAnswer pins the labels decoded to slo/names.go and checks values: NaN and
// ±Inf are no data, other labels are skipped.
func TestDecodeAnswer(t *testing.T) {
	body := `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"x","` +
		slo.LabelService + `":"s","` + slo.LabelSLO + `":"o","` + slo.LabelWindow + `":"1h","` + slo.LabelSeverity +
		`":"page","alertname":"A","alertstate":"firing","team":"t"},"values":[[1.5,"2"],[2.5,"NaN"],[3,"+Inf"],[4,"0.25"]]}]},"warnings":["w"]}`
	a, err := decodeAnswer([]byte(body))
	if err != nil || a.check("matrix") != nil || len(a.Series) != 1 {
		t.Fatalf("%v %+v", err, a)
	}
	want := Series{Labels: Labels{Service: "s", SLO: "o", Window: "1h", Severity: "page", AlertName: "A", AlertState: "firing"},
		Points: []Point{{T: time.UnixMilli(1500).UTC(), V: 2}, {T: time.UnixMilli(4000).UTC(), V: 0.25}}}
	if !reflect.DeepEqual(a.Series[0], want) {
		t.Errorf("got %+v\nwant %+v", a.Series[0], want)
	}
	a, err = decodeAnswer([]byte(`{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"NaN"]},{"metric":{"` +
		slo.LabelSLO + `":"o"},"value":[1,"3"]}]}}`))
	if err != nil || a.check("vector") != nil || !reflect.DeepEqual(a.Samples, []Sample{{Labels: Labels{SLO: "o"}, V: 3}}) {
		t.Errorf("vector: %v %+v", err, a)
	}
	if err := a.check("matrix"); err == nil || err.Error() != "want a matrix, got a vector" {
		t.Errorf("check: %v", err)
	}
}

func TestPromClientErrors(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/query", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"status":"error","errorType":"bad_data","error":"parse error at char 3"}`)
	})
	mux.HandleFunc("/api/v1/query_range", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `<html>not prometheus</html>`)
	})
	hs := httptest.NewServer(mux)
	defer hs.Close()
	p, err := newPromClient(hs.URL)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Query(context.Background(), "x(", time.Now())
	if err == nil || !strings.Contains(err.Error(), "bad_data: parse error at char 3") {
		t.Errorf("query error: %v", err)
	}
	_, err = p.QueryRange(context.Background(), "x", v1.Range{Start: time.Now(), End: time.Now(), Step: time.Second})
	if err == nil || !strings.Contains(err.Error(), "HTTP 200 OK from "+hs.URL+"/api/v1/query_range: not a Prometheus API answer") {
		t.Errorf("range error: %v", err)
	}
	if _, err := newPromClient("localhost:9090"); err == nil {
		t.Error("a URL without scheme is accepted")
	}
}
