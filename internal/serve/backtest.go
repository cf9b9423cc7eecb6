package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/slokit/slokit/internal/backtest"
	"github.com/slokit/slokit/internal/store"
	"github.com/slokit/slokit/slo"
)

// BacktestRun is the result of `slokit test` for one SLO (the built-in incident
// scenarios replayed through its generated rules in the embedded engine), as run by this
// server; the SLO page shows the last one.
type BacktestRun struct {
	Service string            `json:"service"`
	SLO     string            `json:"slo"`
	At      time.Time         `json:"at"`
	Took    string            `json:"took"`
	Summary backtest.Summary  `json:"summary"`
	Results []backtest.Result `json:"results"`
	Notices []string          `json:"notices,omitempty"`
	Error   string            `json:"error,omitempty"`
	// Source says who ran it ("slokit test", "slokit serve"); StoreError is set when it
	// could not be recorded in the store.
	Source     string `json:"source"`
	StoreError string `json:"storeError,omitempty"`
	Text       string `json:"-"`
	URL        string `json:"-"`

	took time.Duration
}

// backtestJSON is the stored form of one SLO's backtest: what `slokit test -o json`
// writes, plus the planner's notices.
type backtestJSON struct {
	Results []backtest.Result `json:"results"`
	Summary backtest.Summary  `json:"summary"`
	Notices []string          `json:"notices,omitempty"`
}

// BacktestRecord is the store row of one SLO's backtest: results are that SLO's (of
// every scenario), source who ran it.
func BacktestRecord(service, name string, results []backtest.Result, notices []string, ranAt time.Time,
	took time.Duration, source string) (store.Backtest, error) {
	sum := backtest.Summarize(results)
	body, err := json.Marshal(backtestJSON{Results: results, Summary: sum, Notices: notices})
	if err != nil {
		return store.Backtest{}, fmt.Errorf("encoding the backtest of %s/%s: %w", service, name, err)
	}
	return store.Backtest{Service: service, SLO: name, RanAt: ranAt.UTC(), Took: took, Source: source,
		Scenarios: sum.Runs, Violations: len(sum.Violations), Silent: sum.Silent, Mismatches: sum.Mismatches,
		Precision: sum.Precision, Recall: sum.Recall, Result: body}, nil
}

// backtestFromStore rebuilds the page of a stored backtest.
func backtestFromStore(b *store.Backtest) *BacktestRun {
	run := &BacktestRun{Service: b.Service, SLO: b.SLO, At: b.RanAt, Took: b.Took.String(), Source: b.Source,
		URL: sloURL(b.Service, b.SLO), Results: []backtest.Result{}}
	var body backtestJSON
	if err := json.Unmarshal(b.Result, &body); err != nil {
		run.Error = fmt.Sprintf("the stored backtest %d is unreadable: %v", b.ID, err)
		return run
	}
	if body.Results != nil {
		run.Results = body.Results
	}
	run.Summary, run.Notices = body.Summary, body.Notices
	run.Text = backtestText(run.Results)
	return run
}

func backtestText(results []backtest.Result) string {
	if len(results) == 0 {
		return ""
	}
	var b bytes.Buffer
	_ = backtest.WriteText(&b, results)
	return b.String()
}

// lastBacktest is the SLO's latest backtest: from the store when there is one (`slokit
// test --store` and this server record there), else the last one this server ran.
func (s *Server) lastBacktest(ctx context.Context, e *entry) (*BacktestRun, string) {
	key := e.O.Service + "/" + e.O.Name
	if s.cfg.Store == nil {
		return s.bt.get(key), ""
	}
	b, err := s.cfg.Store.LastBacktest(ctx, e.O.Service, e.O.Name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return s.bt.get(key), ""
	case err != nil:
		return s.bt.get(key), err.Error()
	}
	return backtestFromStore(b), ""
}

// backtests keeps the last backtest of each SLO.
type backtests struct {
	mu   sync.Mutex
	last map[string]*BacktestRun
}

func (b *backtests) get(key string) *BacktestRun {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.last[key]
}

func (b *backtests) put(key string, r *BacktestRun) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.last == nil {
		b.last = map[string]*BacktestRun{}
	}
	b.last[key] = r
}

// backtestTimeout bounds one SLO's backtest.
const backtestTimeout = 2 * time.Minute

// backtestPage runs the built-in scenarios against the SLO's generated rules and shows
// the verdict; the result becomes the SLO page's "last backtest".
func (s *Server) backtestPage(r *http.Request) (string, any, int, error) {
	service, name := r.PathValue("service"), r.PathValue("slo")
	e := s.cat.get(service, name)
	if e == nil {
		return "", nil, 0, s.unknownSLO(service, name)
	}
	if err := newParams(r.URL.Query()).err(); err != nil {
		return "", nil, 0, err
	}
	ctx, cancel := context.WithTimeout(r.Context(), backtestTimeout)
	defer cancel()
	run := runBacktest(ctx, e.O)
	s.bt.put(service+"/"+name, run)
	if s.cfg.Store != nil && run.Error == "" {
		rec, err := BacktestRecord(service, name, run.Results, run.Notices, run.At, run.took, run.Source)
		if err == nil {
			_, err = s.cfg.Store.RecordBacktest(ctx, rec)
		}
		if err != nil {
			run.StoreError = err.Error()
		}
	}
	return "backtest", run, http.StatusOK, nil
}

func runBacktest(ctx context.Context, o slo.Objective) *BacktestRun {
	start := time.Now()
	run := &BacktestRun{Service: o.Service, SLO: o.Name, At: start.UTC(), URL: sloURL(o.Service, o.Name),
		Results: []backtest.Result{}, Source: "slokit serve"}
	svc := &slo.Service{Name: o.Service, Labels: o.Labels, Objectives: []slo.Objective{o}}
	jobs, notices, err := backtest.Plan([]*slo.Service{svc}, backtest.Selection{SLOs: []string{o.Name}})
	run.Notices = notices
	if err == nil {
		run.Results, err = backtest.RunAll(ctx, jobs, backtest.Options{}, 0, nil)
	}
	if err != nil {
		run.Error = err.Error()
	}
	run.Summary = backtest.Summarize(run.Results)
	run.Text = backtestText(run.Results)
	run.took = time.Since(start).Round(time.Millisecond)
	run.Took = run.took.String()
	return run
}
