// Command synth produces the synthetic workload of the rule-cost benchmark: a Sloth
// prometheus/v1 spec of N SLOs (read unchanged by slokit) and the same SLOs for Pyrra,
// the raw counters' history for bench/rules/blocks to backfill, a /metrics target that
// continues the same counters live, and the measurements (samples touched per rule, and
// a snapshot of every recorded series to backfill as steady-state history).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

// workload describes the synthetic service: slos SLOs, each over its own route, each
// route served by pods pods answering codes 200 and 500. Counter values are a pure
// function of time, so backfilled history and live scrapes join without a reset.
type workload struct {
	slos, pods int
	origin     time.Time // counters are zero here
}

const (
	okRate  = 2.0   // requests per second per pod and route answered 200
	errRate = 0.002 // requests per second per pod and route answered 500 (0.1% errors)
)

func (w workload) counter(t time.Time, rate float64) float64 {
	return rate * t.Sub(w.origin).Seconds()
}

func (w workload) eachSeries(fn func(labels string, rate float64)) {
	for s := 0; s < w.slos; s++ {
		for p := 0; p < w.pods; p++ {
			base := fmt.Sprintf(`job="bench",instance="synthetic",route="/r%d",pod="p%d"`, s, p)
			fn(base+`,code="200"`, okRate)
			fn(base+`,code="500"`, errRate)
		}
	}
}

// spec writes the Sloth prometheus/v1 spec; slokit reads the same file unchanged.
func (w workload) spec(out io.Writer) error {
	b := bufio.NewWriter(out)
	fmt.Fprint(b, "version: prometheus/v1\nservice: bench\nslos:\n")
	for s := 0; s < w.slos; s++ {
		fmt.Fprintf(b, `  - name: availability-%d
    objective: 99.9
    description: Route /r%d answers without a server error.
    sli:
      events:
        error_query: sum(rate(http_requests_total{job="bench",route="/r%d",code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total{job="bench",route="/r%d"}[{{.window}}]))
    alerting:
      name: BenchAvailability%d
      page_alert:
        labels: {severity: page}
      ticket_alert:
        labels: {severity: ticket}
`, s, s, s, s, s)
	}
	return b.Flush()
}

// specV1 writes the same SLOs as a slokit/v1 spec, each with scope global (evaluated over
// every cluster by Thanos Ruler, docs/rules.md "Global SLOs on Thanos") or cluster (each
// Prometheus its own): the two sides of the cost of going global.
func (w workload) specV1(out io.Writer, global bool, scrape time.Duration) error {
	scope := "cluster"
	if global {
		scope = "global"
	}
	b := bufio.NewWriter(out)
	fmt.Fprintf(b, "version: slokit/v1\nservice: bench\nscrapeInterval: %s\nslos:\n", model.Duration(scrape))
	for s := 0; s < w.slos; s++ {
		fmt.Fprintf(b, `  - name: availability-%d
    objective: 99.9
    description: Route /r%d answers without a server error.
    scope: %s
    sli:
      events:
        bad: http_requests_total{job="bench",route="/r%d",code=~"5.."}
        total: http_requests_total{job="bench",route="/r%d"}
    alerting:
      name: BenchAvailability%d
`, s, s, scope, s, s, s)
	}
	return b.Flush()
}

// pyrra writes the same SLOs as Pyrra v0.10 ServiceLevelObjective documents.
func (w workload) pyrra(out io.Writer) error {
	b := bufio.NewWriter(out)
	for s := 0; s < w.slos; s++ {
		fmt.Fprintf(b, `---
apiVersion: pyrra.dev/v1alpha1
kind: ServiceLevelObjective
metadata:
  name: availability-%d
  namespace: bench
spec:
  target: "99.9"
  window: 30d
  indicator:
    ratio:
      errors:
        metric: http_requests_total{job="bench",route="/r%d",code=~"5.."}
      total:
        metric: http_requests_total{job="bench",route="/r%d"}
`, s, s, s)
	}
	return b.Flush()
}

// histSeries is one series for bench/rules/blocks: its sample at t is Value + Rate·(t − Origin).
type histSeries struct {
	Labels map[string]string `json:"labels"`
	Value  float64           `json:"value,omitempty"`
	Rate   float64           `json:"rate,omitempty"`
	Origin int64             `json:"origin,omitempty"`
	Step   int64             `json:"step"`
}

// counters writes the raw counters as histSeries lines, sampled every step.
func (w workload) counters(out io.Writer, step time.Duration) error {
	b := bufio.NewWriter(out)
	enc := json.NewEncoder(b)
	var err error
	w.eachSeries(func(labels string, rate float64) {
		m := map[string]string{"__name__": "http_requests_total"}
		for _, kv := range strings.Split(labels, ",") {
			k, v, _ := strings.Cut(kv, "=")
			m[k] = strings.Trim(v, `"`)
		}
		err = errors.Join(err, enc.Encode(histSeries{Labels: m, Rate: rate, Origin: w.origin.Unix(), Step: int64(step.Seconds())}))
	})
	return errors.Join(err, b.Flush())
}

// serve exposes the counters at the current time until ctx ends.
func (w workload) serve(ctx context.Context, addr string) error {
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(rw http.ResponseWriter, _ *http.Request) {
		now := time.Now()
		rw.Header().Set("Content-Type", "text/plain; version=0.0.4")
		b := bufio.NewWriter(rw)
		fmt.Fprint(b, "# TYPE http_requests_total counter\n")
		w.eachSeries(func(labels string, rate float64) {
			fmt.Fprintf(b, "http_requests_total{%s} %g\n", labels, w.counter(now, rate))
		})
		b.Flush()
	})
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// ruleFile is the part of a Prometheus rule file (YAML, or Pyrra's JSON) the bench reads.
type ruleFile struct {
	Groups []struct {
		Name     string `yaml:"name"`
		Interval string `yaml:"interval"`
		Rules    []struct {
			Record string            `yaml:"record"`
			Expr   string            `yaml:"expr"`
			Labels map[string]string `yaml:"labels"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func readRules(path string) (ruleFile, error) {
	var f ruleFile
	data, err := os.ReadFile(path)
	if err != nil {
		return f, err
	}
	if err := yaml.Unmarshal(data, &f); err != nil {
		return f, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// interval is a group's evaluation interval, def when it sets none.
func interval(s string, def time.Duration) (time.Duration, error) {
	if s == "" {
		return def, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		// Prometheus durations also allow d, w, y; the bench's groups use none of them.
		return 0, fmt.Errorf("interval %q: %w", s, err)
	}
	return d, nil
}

// querySamples evaluates every rule expression of rulesFile once, now, through the HTTP
// API with stats=all and returns the samples the engine touched (totalQueryableSamples),
// each rule's weighted by def / its group's interval (what one evaluation cycle of def
// costs on average: a group evaluated every 2m30s costs a fifth per 30s cycle), plus the
// number of rules and groups. Samples touched do not depend on how busy the machine is.
func querySamples(ctx context.Context, base, rulesFile string, def time.Duration) (total float64, rules, groups int, err error) {
	f, err := readRules(rulesFile)
	if err != nil {
		return 0, 0, 0, err
	}
	for _, g := range f.Groups {
		iv, err := interval(g.Interval, def)
		if err != nil {
			return 0, 0, 0, fmt.Errorf("group %s: %w", g.Name, err)
		}
		for _, r := range g.Rules {
			n, _, err := query(ctx, base, r.Expr)
			if err != nil {
				return 0, 0, 0, fmt.Errorf("group %s: %w", g.Name, err)
			}
			total += float64(n) * def.Seconds() / iv.Seconds()
			rules++
		}
		groups++
	}
	return total, rules, groups, nil
}

// snapshot writes, for every recording rule of rulesFile, the series it records now (its
// expression's result with the rule's name and labels) as histSeries lines sampled at its
// group's interval, for bench/rules/blocks to backfill as steady-state history. It
// returns how many series it wrote.
func snapshot(ctx context.Context, out io.Writer, base, rulesFile string, def time.Duration) (int, error) {
	f, err := readRules(rulesFile)
	if err != nil {
		return 0, err
	}
	b := bufio.NewWriter(out)
	enc := json.NewEncoder(b)
	n := 0
	for _, g := range f.Groups {
		iv, err := interval(g.Interval, def)
		if err != nil {
			return 0, fmt.Errorf("group %s: %w", g.Name, err)
		}
		for _, r := range g.Rules {
			if r.Record == "" {
				continue
			}
			_, vec, err := query(ctx, base, r.Expr)
			if err != nil {
				return 0, fmt.Errorf("group %s: %w", g.Name, err)
			}
			for _, s := range vec {
				m := s.Metric
				m["__name__"] = r.Record
				for k, v := range r.Labels {
					m[k] = v
				}
				v, err := strconv.ParseFloat(s.Value[1].(string), 64)
				if err != nil {
					return 0, fmt.Errorf("%s: %w", r.Record, err)
				}
				if err := enc.Encode(histSeries{Labels: m, Value: v, Step: int64(iv.Seconds())}); err != nil {
					return 0, err
				}
				n++
			}
		}
	}
	return n, b.Flush()
}

type sample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

// query runs expr now with stats=all: the samples it touched and its instant vector.
func query(ctx context.Context, base, expr string) (int64, []sample, error) {
	q := url.Values{"query": {expr}, "stats": {"all"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/query", strings.NewReader(q.Encode()))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
			Stats      struct {
				Samples struct {
					TotalQueryableSamples int64 `json:"totalQueryableSamples"`
				} `json:"samples"`
			} `json:"stats"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return 0, nil, err
	}
	if body.Status != "success" {
		return 0, nil, fmt.Errorf("query %q: %s", expr, body.Error)
	}
	var vec []sample
	if body.Data.ResultType == "vector" {
		if err := json.Unmarshal(body.Data.Result, &vec); err != nil {
			return 0, nil, err
		}
	}
	return body.Data.Stats.Samples.TotalQueryableSamples, vec, nil
}

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(os.Args[1:]); err != nil {
		log.Error("synth failed", "err", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: synth spec|pyrra|counters|serve|samples|snapshot [flags]")
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	slos := fs.Int("slos", 20, "number of SLOs")
	pods := fs.Int("pods", 10, "pods per SLO route (two series each: code 200 and 500)")
	origin := fs.Int64("origin", 0, "Unix time at which the counters are zero")
	step := fs.Duration("step", 30*time.Second, "counters: sample interval; samples, snapshot: the default group interval")
	addr := fs.String("listen", "127.0.0.1:0", "serve: address")
	prom := fs.String("prometheus", "http://127.0.0.1:9090", "samples, snapshot: Prometheus base URL")
	rulesFile := fs.String("rules", "", "samples, snapshot: rule file")
	v1 := fs.Bool("v1", false, "spec: write a slokit/v1 spec (scope: cluster) instead of Sloth's prometheus/v1")
	global := fs.Bool("global", false, "spec: write a slokit/v1 spec whose SLOs have scope: global (Thanos Ruler)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	w := workload{slos: *slos, pods: *pods, origin: time.Unix(*origin, 0)}
	ctx := context.Background()
	switch args[0] {
	case "spec":
		if *v1 || *global {
			return w.specV1(os.Stdout, *global, *step)
		}
		return w.spec(os.Stdout)
	case "pyrra":
		return w.pyrra(os.Stdout)
	case "counters":
		return w.counters(os.Stdout, *step)
	case "samples":
		total, rules, groups, err := querySamples(ctx, *prom, *rulesFile, *step)
		if err != nil {
			return err
		}
		fmt.Printf("%.0f %d %d\n", total, rules, groups)
		return nil
	case "snapshot":
		n, err := snapshot(ctx, os.Stdout, *prom, *rulesFile, *step)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "%s: %d recorded series\n", *rulesFile, n)
		return nil
	case "serve":
		ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		defer stop()
		return w.serve(ctx, *addr)
	}
	return fmt.Errorf("unknown mode %q: use spec, pyrra, counters, serve, samples or snapshot", args[0])
}
