package serve

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/internal/lab"
	"github.com/slokit/slokit/internal/store"
	"github.com/slokit/slokit/slo"
)

// loadSpecs loads the test SLOs: shop (checkout, browse) and ghost (no data).
func loadSpecs(t testing.TB, files ...string) []*slo.Service {
	t.Helper()
	if len(files) == 0 {
		files = []string{"testdata/slos.yaml", "testdata/ghost.yaml"}
	}
	svcs, ds := slo.LoadFiles(files...)
	if err := ds.Err(); err != nil {
		t.Fatal(err)
	}
	return svcs
}

// history appends an hour of requests_total ending at now, every 10s: browse healthy at
// 10 req/s, checkout at 10 req/s with 50% errors in its last faultFor.
func history(t testing.TB, l *lab.Lab, now time.Time, faultFor time.Duration) {
	t.Helper()
	var browseOK, checkoutOK, checkoutBad float64
	for ts := now.Add(-time.Hour); !ts.After(now); ts = ts.Add(10 * time.Second) {
		browseOK += 100
		if now.Sub(ts) < faultFor {
			checkoutOK += 50
			checkoutBad += 50
		} else {
			checkoutOK += 100
		}
		for _, s := range []struct {
			route, code string
			v           float64
		}{{"browse", "200", browseOK}, {"browse", "500", 0}, {"checkout", "200", checkoutOK}, {"checkout", "503", checkoutBad}} {
			ls := labels.FromStrings("__name__", "requests_total", "service", "shop", "route", s.route, "code", s.code)
			if err := l.Engine().Append(ls, ts, s.v); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// startLab serves the rules of svcs from a lab holding history up to now and evaluated
// over it; the lab keeps evaluating every 10s until the test ends.
func startLab(t testing.TB, svcs []*slo.Service, now time.Time, faultFor time.Duration) *lab.Lab {
	t.Helper()
	rf, err := alerts.RuleFile(svcs, alerts.Options{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := lab.New(lab.Config{Groups: rf.Groups, ScrapeInterval: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	history(t, l, now, faultFor)
	if err := l.Engine().Run(context.Background(), now.Add(-time.Hour), now); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = l.Run(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
	return l
}

// fixture is a UI server over the lab, with a store.
type fixture struct {
	lab   *lab.Lab
	store *store.Store
	srv   *Server
	http  *httptest.Server
	now   time.Time
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	now := time.Now().UTC().Truncate(10 * time.Second)
	svcs := loadSpecs(t)
	f := &fixture{now: now}
	f.lab = startLab(t, svcs, now, 8*time.Minute)
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "gamedays.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f.store = st
	f.srv, err = New(Config{Services: svcs, Prometheus: f.lab.URL(), Store: st, GrafanaURL: "https://grafana.example"})
	if err != nil {
		t.Fatal(err)
	}
	f.http = httptest.NewServer(f.srv)
	t.Cleanup(f.http.Close)
	return f
}
