package serve

import (
	"bytes"
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/slokit/slokit/internal/backtest"
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
	Text    string            `json:"-"`
	URL     string            `json:"-"`
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
	return "backtest", run, http.StatusOK, nil
}

func runBacktest(ctx context.Context, o slo.Objective) *BacktestRun {
	start := time.Now()
	run := &BacktestRun{Service: o.Service, SLO: o.Name, At: start.UTC(), URL: sloURL(o.Service, o.Name),
		Results: []backtest.Result{}}
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
	var b bytes.Buffer
	if len(run.Results) > 0 {
		_ = backtest.WriteText(&b, run.Results)
	}
	run.Text = b.String()
	run.Took = time.Since(start).Round(time.Millisecond).String()
	return run
}
