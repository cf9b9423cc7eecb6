// Command synth produces the synthetic workload of the rule-cost benchmark: a Sloth
// prometheus/v1 spec of N SLOs, days of OpenMetrics history to backfill, and a /metrics
// target that continues the same counters live.
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

// backfill writes OpenMetrics history from start to end every step: the raw counters,
// and the shortest-window series each generator records from them and later reads over
// long windows (slokit's 5m bad and total rates, Sloth's 5m error ratio), with the values
// the rules compute for these constant rates. Without that history a derived 30d window
// would read a few minutes of samples and cost nothing.
func (w workload) backfill(out io.Writer, start, end time.Time, step time.Duration) error {
	b := bufio.NewWriterSize(out, 1<<20)
	// OpenMetrics wants counter families named without _total; as a gauge the name stays.
	fmt.Fprint(b, "# HELP http_requests_total Requests.\n# TYPE http_requests_total gauge\n")
	w.eachSeries(func(labels string, rate float64) {
		for t := start; !t.After(end); t = t.Add(step) {
			fmt.Fprintf(b, "http_requests_total{%s} %g %d\n", labels, w.counter(t, rate), t.Unix())
		}
	})
	bad := float64(w.pods) * errRate
	total := float64(w.pods) * (okRate + errRate)
	gauge := func(name string, each func(s int) (labels string, v float64)) {
		fmt.Fprintf(b, "# HELP %s Recorded.\n# TYPE %s gauge\n", name, name)
		for s := 0; s < w.slos; s++ {
			labels, v := each(s)
			for t := start; !t.After(end); t = t.Add(step) {
				fmt.Fprintf(b, "%s{%s} %g %d\n", name, labels, v, t.Unix())
			}
		}
	}
	slokit := func(s int) string {
		return fmt.Sprintf(`slokit_service="bench",slokit_slo="availability-%d",slokit_window="5m"`, s)
	}
	gauge("slokit:sli_bad:rate", func(s int) (string, float64) { return slokit(s), bad })
	gauge("slokit:sli_total:rate", func(s int) (string, float64) { return slokit(s), total })
	gauge("slo:sli_error:ratio_rate5m", func(s int) (string, float64) {
		return fmt.Sprintf(`sloth_id="bench-availability-%d",sloth_service="bench",sloth_slo="availability-%d",sloth_window="5m"`, s, s), bad / total
	})
	fmt.Fprint(b, "# EOF\n")
	return b.Flush()
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

// querySamples evaluates every rule expression of the groups of rulesFile whose name ends
// with suffix once, now, through the HTTP API with stats=all, and returns the samples the
// engine touched in total (totalQueryableSamples) and the number of rules: a measure of
// evaluation cost that does not depend on how busy the machine is.
func querySamples(ctx context.Context, base, rulesFile, suffix string) (total int64, rules int, err error) {
	data, err := os.ReadFile(rulesFile)
	if err != nil {
		return 0, 0, err
	}
	var f struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Expr string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(data, &f); err != nil {
		return 0, 0, fmt.Errorf("%s: %w", rulesFile, err)
	}
	for _, g := range f.Groups {
		if !strings.HasSuffix(g.Name, suffix) {
			continue
		}
		for _, r := range g.Rules {
			n, err := queryStats(ctx, base, r.Expr)
			if err != nil {
				return 0, 0, fmt.Errorf("group %s: %w", g.Name, err)
			}
			total += n
			rules++
		}
	}
	return total, rules, nil
}

func queryStats(ctx context.Context, base, expr string) (int64, error) {
	q := url.Values{"query": {expr}, "stats": {"all"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/query", strings.NewReader(q.Encode()))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Stats struct {
				Samples struct {
					TotalQueryableSamples int64 `json:"totalQueryableSamples"`
				} `json:"samples"`
			} `json:"stats"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return 0, err
	}
	if body.Status != "success" {
		return 0, fmt.Errorf("query %q: %s", expr, body.Error)
	}
	return body.Data.Stats.Samples.TotalQueryableSamples, nil
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
		return errors.New("usage: synth spec|backfill|serve [flags]")
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	slos := fs.Int("slos", 20, "number of SLOs")
	pods := fs.Int("pods", 10, "pods per SLO route (two series each: code 200 and 500)")
	origin := fs.Int64("origin", 0, "Unix time at which the counters are zero")
	end := fs.Int64("end", 0, "backfill: Unix time of the last sample")
	days := fs.Duration("history", 72*time.Hour, "backfill: length of history")
	step := fs.Duration("step", time.Minute, "backfill: sample interval (scrape and rule evaluation interval)")
	addr := fs.String("listen", "127.0.0.1:0", "serve: address")
	prom := fs.String("prometheus", "http://127.0.0.1:9090", "samples: Prometheus base URL")
	rulesFile := fs.String("rules", "", "samples: rule file")
	group := fs.String("group", "", "samples: only groups whose name ends with this")
	v1 := fs.Bool("v1", false, "spec: write a slokit/v1 spec (scope: cluster) instead of Sloth's prometheus/v1")
	global := fs.Bool("global", false, "spec: write a slokit/v1 spec whose SLOs have scope: global (Thanos Ruler)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	w := workload{slos: *slos, pods: *pods, origin: time.Unix(*origin, 0)}
	switch args[0] {
	case "spec":
		if *v1 || *global {
			return w.specV1(os.Stdout, *global, *step)
		}
		return w.spec(os.Stdout)
	case "backfill":
		e := time.Unix(*end, 0)
		return w.backfill(os.Stdout, e.Add(-*days), e, *step)
	case "samples":
		total, rules, err := querySamples(context.Background(), *prom, *rulesFile, *group)
		if err != nil {
			return err
		}
		fmt.Printf("%d %d\n", total, rules)
		return nil
	case "serve":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return w.serve(ctx, *addr)
	}
	return fmt.Errorf("unknown mode %q: use spec, backfill, samples or serve", args[0])
}
