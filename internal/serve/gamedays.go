package serve

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/slokit/slokit/chaos"
	"github.com/slokit/slokit/chaos/report"
	"github.com/slokit/slokit/internal/store"
	"github.com/slokit/slokit/slo"
)

// GameDays is the history page, also served as JSON by /api/gamedays.
type GameDays struct {
	// Store is the database path, "" when the server has none.
	Store    string      `json:"store"`
	Params   RunFilter   `json:"params"`
	Runs     []store.Run `json:"runs"`
	SLOs     []string    `json:"slos"`
	Outcomes []string    `json:"outcomes"`
	// Trend is the detection time of each SLO's runs, oldest first.
	Trend      []NamedSeries `json:"detectionTrend"`
	TrendChart template.HTML `json:"-"`
}

// RunFilter is the history page's query string.
type RunFilter struct {
	SLO     string `json:"slo,omitempty"` // "service/slo"
	Outcome string `json:"outcome,omitempty"`
}

func (s *Server) gamedaysPage(r *http.Request) (string, any, int, error) {
	p := newParams(r.URL.Query(), "slo", "outcome")
	f := RunFilter{SLO: p.str("slo", ""), Outcome: p.oneOf("outcome", "", string(chaos.Pass), string(chaos.Fail),
		string(chaos.Aborted), string(chaos.Interrupted))}
	var sf store.Filter
	if f.SLO != "" {
		svc, name, ok := strings.Cut(f.SLO, "/")
		if !ok || svc == "" || name == "" {
			p.addf("slo: want service/slo, got %q", f.SLO)
		}
		sf.Service, sf.SLO = svc, name
	}
	if err := p.err(); err != nil {
		return "", nil, 0, err
	}
	sf.Outcome = chaos.Outcome(f.Outcome)
	g := &GameDays{Params: f, Runs: []store.Run{}, Outcomes: []string{"pass", "fail", "aborted", "interrupted"}}
	if s.cfg.Store == nil {
		return "gamedays", g, http.StatusOK, nil
	}
	g.Store = s.cfg.Store.Path()
	runs, err := s.cfg.Store.List(r.Context(), sf)
	if err != nil {
		return "", nil, 0, &httpError{status: http.StatusInternalServerError, title: "Game-day store unreadable", problems: []string{err.Error()}}
	}
	g.Runs = runs
	all, err := s.cfg.Store.List(r.Context(), store.Filter{})
	if err == nil {
		seen := map[string]bool{}
		for _, run := range all {
			if k := run.Service + "/" + run.SLO; !seen[k] {
				seen[k] = true
				g.SLOs = append(g.SLOs, k)
			}
		}
		sort.Strings(g.SLOs)
	}
	g.trend()
	return "gamedays", g, http.StatusOK, nil
}

// trend draws each SLO's measured detection times across runs, with the predictions.
func (g *GameDays) trend() {
	bySLO := map[string]*NamedSeries{}
	var names []string
	var from, to time.Time
	ch := &chart{ID: "trend", Title: "Detection time per SLO across runs",
		Desc:    "Seconds from fault to alert for each recorded run, per SLO; the dashed lines are the predicted times.",
		YFormat: func(v float64) string { return slo.FormatFloat(v) + "s" }}
	for i := len(g.Runs) - 1; i >= 0; i-- {
		r := g.Runs[i]
		if r.DetectedSeconds == nil {
			continue
		}
		k := r.Service + "/" + r.SLO
		if bySLO[k] == nil {
			bySLO[k] = &NamedSeries{Name: k}
			names = append(names, k)
		}
		bySLO[k].Points = append(bySLO[k].Points, Point{T: r.StartedAt, V: *r.DetectedSeconds})
		if from.IsZero() || r.StartedAt.Before(from) {
			from = r.StartedAt
		}
		to = r.StartedAt
		if r.PredictedSeconds != nil {
			ch.HLines = appendUnique(ch.HLines, hline{Y: *r.PredictedSeconds, Label: k + " predicted " + slo.FormatFloat(*r.PredictedSeconds) + "s"})
		}
	}
	g.Trend = []NamedSeries{}
	for _, k := range names {
		g.Trend = append(g.Trend, *bySLO[k])
		ch.Series = append(ch.Series, series{Name: k, Points: bySLO[k].Points, Dots: true})
	}
	if len(g.Trend) == 0 {
		return
	}
	pad := max(to.Sub(from)/20, time.Minute)
	ch.From, ch.To = from.Add(-pad), to.Add(pad)
	g.TrendChart = ch.SVG()
}

func appendUnique(hs []hline, h hline) []hline {
	for _, x := range hs {
		if x.Label == h.Label {
			return hs
		}
	}
	return append(hs, h)
}

// RunPage is one run's page, also served as JSON (the whole result) by /api/gamedays/{run}.
type RunPage struct {
	Run    store.Run     `json:"summary"`
	Result *chaos.Result `json:"result"`
	Chart  template.HTML `json:"-"`
}

func (s *Server) getRun(r *http.Request) (store.Run, *chaos.Result, error) {
	id := r.PathValue("run")
	if s.cfg.Store == nil {
		return store.Run{}, nil, &httpError{status: http.StatusNotFound, title: "Unknown game-day run",
			problems: []string{"this server has no game-day store (start it with --store)"}}
	}
	run, res, err := s.cfg.Store.GetRun(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Run{}, nil, &httpError{status: http.StatusNotFound, title: "Unknown game-day run",
			problems: []string{fmt.Sprintf("no run %q in %s; the history lists the runs recorded", id, s.cfg.Store.Path())}}
	}
	if err != nil {
		return store.Run{}, nil, &httpError{status: http.StatusInternalServerError, title: "Game-day store unreadable", problems: []string{err.Error()}}
	}
	return run, res, nil
}

func (s *Server) runPage(r *http.Request) (string, any, int, error) {
	if err := newParams(r.URL.Query()).err(); err != nil {
		return "", nil, 0, err
	}
	run, res, err := s.getRun(r)
	if err != nil {
		return "", nil, 0, err
	}
	return "run", &RunPage{Run: run, Result: res, Chart: runChart(res)}, http.StatusOK, nil
}

// runChart draws the burn rates a run polled, the fault shaded and alert transitions marked.
func runChart(res *chaos.Result) template.HTML {
	ch := &chart{ID: "run", Title: "Burn rate during the run", From: res.StartedAt, To: res.EndedAt,
		Desc: "Burn rate per window at every poll of the run; the shaded band is the fault, dashed lines the tier thresholds, vertical lines the alert transitions."}
	byWindow := map[string][]Point{}
	var windows []string
	for _, smp := range res.Samples {
		for w, v := range smp.Burn {
			if _, ok := byWindow[w]; !ok {
				windows = append(windows, w)
			}
			byWindow[w] = append(byWindow[w], Point{T: smp.T, V: v})
		}
	}
	sort.Slice(windows, func(i, j int) bool { return windowLess(windows[i], windows[j]) })
	for _, w := range windows {
		ch.Series = append(ch.Series, series{Name: w, Points: byWindow[w]})
	}
	for _, t := range res.Tiers {
		if !t.Disabled {
			ch.HLines = append(ch.HLines, hline{Y: t.BurnRate, Label: fmt.Sprintf("%s %s×", t.Name, slo.FormatFloat(t.BurnRate))})
		}
	}
	if res.FaultBegan != nil {
		end := res.EndedAt
		if res.FaultEnded != nil {
			end = *res.FaultEnded
		}
		ch.Bands = append(ch.Bands, band{From: *res.FaultBegan, To: end, Label: "fault"})
	}
	for _, a := range res.Alerts {
		if a.FiringAt != nil {
			ch.Marks = append(ch.Marks, mark{T: *a.FiringAt, Label: a.Tier() + " firing"})
		}
		if a.ResolvedAt != nil {
			ch.Marks = append(ch.Marks, mark{T: *a.ResolvedAt, Label: a.Tier() + " resolved"})
		}
	}
	return ch.SVG()
}

// windowLess orders window labels by duration ("5s" < "1m" < "12h").
func windowLess(a, b string) bool {
	da, ea := parseWindow(a)
	db, eb := parseWindow(b)
	if ea != nil || eb != nil {
		return a < b
	}
	return da < db
}

// reportPage serves the run's full HTML report, as `slokit chaos run --report` writes it.
func (s *Server) reportPage(w http.ResponseWriter, r *http.Request) {
	_, res, err := s.getRun(r)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	var b bytes.Buffer
	if err := report.Write(&b, res, report.Options{}); err != nil {
		s.failErr(w, r, fmt.Errorf("rendering the report of run %s: %w", res.RunID, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(b.Bytes())
}
