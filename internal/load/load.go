// Package load drives a shortlink service with a steady mix of creates, redirects and
// misses through the vegeta load-testing library, and summarises latency and status codes.
package load

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Request kinds, the keys of Report.Kinds.
const (
	KindCreate   = "create"   // POST /api/v1/links, expects 201
	KindRedirect = "redirect" // GET /{code} of a created link, expects 302 (not followed)
	KindMiss     = "miss"     // GET /{code} of an unknown code, expects 404
)

// kinds lists the request kinds in report order.
var kinds = [...]string{KindCreate, KindRedirect, KindMiss}

// expected is the status each kind should get from a healthy service.
func expected(kind string) int {
	switch kind {
	case KindCreate:
		return http.StatusCreated
	case KindRedirect:
		return http.StatusFound
	}
	return http.StatusNotFound
}

// missPrefix starts every code a miss asks for; created codes never carry it because the
// service generates them, so the prefix also tells results apart.
const missPrefix = "zzmiss"

// Mix weighs the request kinds; each request picks a kind with probability weight/sum.
type Mix struct {
	Create, Redirect, Miss int
}

// DefaultMix is one create and one miss for every eight redirects, a read-heavy link
// shortener.
func DefaultMix() Mix { return Mix{Create: 1, Redirect: 8, Miss: 1} }

// ParseMix reads "create=1,redirect=8,miss=1"; omitted kinds weigh 0.
func ParseMix(s string) (Mix, error) {
	var m Mix
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		n, err := strconv.Atoi(v)
		if !ok || err != nil || n < 0 {
			return Mix{}, fmt.Errorf("mix %q: want kind=weight pairs like create=1,redirect=8,miss=1 with weights >= 0", s)
		}
		switch k {
		case KindCreate:
			m.Create = n
		case KindRedirect:
			m.Redirect = n
		case KindMiss:
			m.Miss = n
		default:
			return Mix{}, fmt.Errorf("mix %q: unknown kind %q, want create, redirect or miss", s, k)
		}
	}
	if m.Create+m.Redirect+m.Miss == 0 {
		return Mix{}, fmt.Errorf("mix %q: every weight is 0", s)
	}
	return m, nil
}

func (m Mix) String() string {
	return fmt.Sprintf("create=%d,redirect=%d,miss=%d", m.Create, m.Redirect, m.Miss)
}

// Config configures a load run.
type Config struct {
	// Target is the service's base URL, like http://127.0.0.1:8080. Required.
	Target string
	// Rate is the number of requests per second across all kinds. Required, > 0.
	Rate float64
	// Duration bounds the run; 0 runs until Stop is called or the context ends.
	Duration time.Duration
	// Mix weighs the kinds; the zero value means DefaultMix(). Redirects need created
	// links: until the first create succeeds, a redirect turn sends a create instead.
	Mix Mix
	// Timeout bounds each request; 0 means 5s.
	Timeout time.Duration
	// MaxWorkers bounds the concurrent requests (and so the goroutines and connections
	// a slow target can make the generator hold); 0 means 256. When every worker is
	// busy, requests are delayed and the achieved rate falls below Rate.
	MaxWorkers uint64
	// Client, when set, sends the requests (its CheckRedirect is kept: set it to
	// refuse redirects). Nil means vegeta's own keep-alive client.
	Client *http.Client
}

func (c *Config) defaults() {
	if c.Mix == (Mix{}) {
		c.Mix = DefaultMix()
	}
	if c.Timeout == 0 {
		c.Timeout = 5 * time.Second
	}
	if c.MaxWorkers == 0 {
		c.MaxWorkers = 256
	}
}

func (c *Config) validate() error {
	var errs []error
	u, err := url.Parse(c.Target)
	if c.Target == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("target %q: want an http(s) base URL like http://127.0.0.1:8080", c.Target))
	}
	if !(c.Rate > 0) || math.IsInf(c.Rate, 0) {
		errs = append(errs, fmt.Errorf("rate %v: want requests per second > 0", c.Rate))
	}
	if c.Duration < 0 {
		errs = append(errs, fmt.Errorf("duration %v: want >= 0 (0 runs until stopped)", c.Duration))
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout %v: want > 0", c.Timeout))
	}
	if m := c.Mix; m.Create < 0 || m.Redirect < 0 || m.Miss < 0 {
		errs = append(errs, fmt.Errorf("mix %v: weights must be >= 0", m))
	}
	return errors.Join(errs...)
}

// Generator is a running load. Start it with Start; it is safe for concurrent use.
type Generator struct {
	cfg      Config
	base     string
	attacker *vegeta.Attacker
	began    time.Time
	done     chan struct{} // closed when every result is in

	mu      sync.Mutex
	codes   []string // created link codes, a ring of at most maxCodes
	next    int      // ring position
	stats   map[string]*kindStats
	all     vegeta.LatencyMetrics // every result, for the total's quantiles
	ended   time.Time
	missSeq uint64
	rng     *rand.Rand
}

const maxCodes = 4096

type kindStats struct {
	requests uint64
	ok       uint64
	codes    map[int]int
	errors   map[string]int
	lat      vegeta.LatencyMetrics
}

// Start begins sending load and returns at once. The load ends when cfg.Duration has
// passed, Stop is called, or ctx ends, whichever is first.
func Start(ctx context.Context, cfg Config) (*Generator, error) {
	cfg.defaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	opts := []func(*vegeta.Attacker){
		vegeta.Timeout(cfg.Timeout),
		vegeta.MaxWorkers(cfg.MaxWorkers),
		vegeta.Workers(min(cfg.MaxWorkers, 10)),
		vegeta.MaxBody(64 << 10),
		vegeta.Redirects(vegeta.NoFollow),
		vegeta.KeepAlive(true),
	}
	if cfg.Client != nil {
		opts = append(opts, vegeta.Client(cfg.Client))
	}
	g := &Generator{
		cfg:      cfg,
		base:     strings.TrimRight(cfg.Target, "/"),
		attacker: vegeta.NewAttacker(opts...),
		done:     make(chan struct{}),
		stats:    map[string]*kindStats{},
		rng:      rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())),
	}
	for _, k := range kinds {
		g.stats[k] = &kindStats{codes: map[int]int{}, errors: map[string]int{}}
	}
	g.began = time.Now()
	results := g.attacker.Attack(g.target, pacer(cfg.Rate), cfg.Duration, "slokit-load")
	go func() {
		for r := range results {
			g.add(r)
		}
		g.mu.Lock()
		g.ended = time.Now()
		g.mu.Unlock()
		close(g.done)
	}()
	go func() {
		select {
		case <-ctx.Done():
			g.attacker.Stop()
		case <-g.done:
		}
	}()
	return g, nil
}

// pacer turns a fractional rate into vegeta's hits-per-period.
func pacer(rate float64) vegeta.Pacer {
	if rate >= 1 && rate == math.Trunc(rate) {
		return vegeta.ConstantPacer{Freq: int(rate), Per: time.Second}
	}
	return vegeta.ConstantPacer{Freq: int(math.Max(1, math.Round(rate*1000))), Per: 1000 * time.Second}
}

// target is the vegeta Targeter; workers call it concurrently.
func (g *Generator) target(t *vegeta.Target) error {
	g.mu.Lock()
	m := g.cfg.Mix
	n := g.rng.IntN(m.Create + m.Redirect + m.Miss)
	var code string
	kind := KindCreate
	switch {
	case n < m.Create:
	case n < m.Create+m.Redirect:
		if len(g.codes) > 0 {
			kind = KindRedirect
			code = g.codes[g.rng.IntN(len(g.codes))]
		}
	default:
		kind = KindMiss
		g.missSeq++
		code = missPrefix + strconv.FormatUint(g.missSeq, 36)
	}
	g.mu.Unlock()

	t.Header = http.Header{}
	if kind == KindCreate {
		t.Method = http.MethodPost
		t.URL = g.base + "/api/v1/links"
		t.Header.Set("Content-Type", "application/json")
		t.Body = fmt.Appendf(nil, `{"url":"https://example.com/load/%d"}`, time.Now().UnixNano())
		return nil
	}
	t.Method = http.MethodGet
	t.URL = g.base + "/" + url.PathEscape(code)
	return nil
}

func (g *Generator) kindOf(r *vegeta.Result) string {
	switch {
	case r.Method == http.MethodPost:
		return KindCreate
	case strings.HasPrefix(r.URL, g.base+"/"+missPrefix):
		return KindMiss
	}
	return KindRedirect
}

func (g *Generator) add(r *vegeta.Result) {
	kind := g.kindOf(r)
	var created string
	if kind == KindCreate && r.Code == http.StatusCreated {
		var body struct {
			Code string `json:"code"`
		}
		if json.Unmarshal(r.Body, &body) == nil && body.Code != "" {
			created = body.Code
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.stats[kind]
	s.requests++
	s.codes[int(r.Code)]++
	if int(r.Code) == expected(kind) {
		s.ok++
	}
	if r.Code == 0 && r.Error != "" && len(s.errors) < 20 {
		s.errors[r.Error]++
	}
	s.lat.Add(r.Latency)
	g.all.Add(r.Latency)
	if created != "" {
		if len(g.codes) < maxCodes {
			g.codes = append(g.codes, created)
		} else {
			g.codes[g.next] = created
			g.next = (g.next + 1) % maxCodes
		}
	}
}

// Done is closed when the load has ended and every response is in.
func (g *Generator) Done() <-chan struct{} { return g.done }

// Stop ends the load, waits for the requests in flight (at most Config.Timeout) and
// returns the final report. It may be called more than once.
func (g *Generator) Stop() *Report {
	g.attacker.Stop()
	<-g.done
	return g.Snapshot()
}

// Wait blocks until the load ends by itself (Config.Duration) or ctx ends, then stops it
// and returns the final report.
func (g *Generator) Wait(ctx context.Context) *Report {
	select {
	case <-g.done:
	case <-ctx.Done():
	}
	return g.Stop()
}

// Report summarises a load run, overall and per kind.
type Report struct {
	Target string `json:"target"`
	// Rate is the requested rate; Achieved is requests / Elapsed.
	Rate     float64 `json:"rate"`
	Achieved float64 `json:"achieved_rate"`
	// Elapsed is the time from the start to the last response (or now, while running).
	Elapsed time.Duration         `json:"elapsed_ns"`
	Total   KindReport            `json:"total"`
	Kinds   map[string]KindReport `json:"kinds"`
}

// KindReport summarises the requests of one kind (or all of them).
type KindReport struct {
	Requests uint64 `json:"requests"`
	// OK counts responses with the expected status (201, 302, 404 by kind).
	OK uint64 `json:"ok"`
	// Codes counts responses by status; code 0 means no response (see Errors).
	Codes map[int]int `json:"codes"`
	// Errors counts transport errors by message (timeouts, refused connections).
	Errors  map[string]int `json:"errors,omitempty"`
	Latency Latency        `json:"latency"`
}

// OKRatio is OK / Requests, 1 when there were none.
func (k KindReport) OKRatio() float64 {
	if k.Requests == 0 {
		return 1
	}
	return float64(k.OK) / float64(k.Requests)
}

// Latency holds latency quantiles of responses and failures alike.
type Latency struct {
	Mean time.Duration `json:"mean_ns"`
	P50  time.Duration `json:"p50_ns"`
	P90  time.Duration `json:"p90_ns"`
	P95  time.Duration `json:"p95_ns"`
	P99  time.Duration `json:"p99_ns"`
	Max  time.Duration `json:"max_ns"`
}

func latency(l *vegeta.LatencyMetrics, n uint64) Latency {
	if n == 0 {
		return Latency{}
	}
	return Latency{
		Mean: l.Total / time.Duration(n),
		P50:  l.Quantile(0.50),
		P90:  l.Quantile(0.90),
		P95:  l.Quantile(0.95),
		P99:  l.Quantile(0.99),
		Max:  l.Max,
	}
}

// Snapshot reports the load so far; the runner polls it while the load runs.
func (g *Generator) Snapshot() *Report {
	g.mu.Lock()
	defer g.mu.Unlock()
	end := g.ended
	if end.IsZero() {
		end = time.Now()
	}
	rep := &Report{Target: g.cfg.Target, Rate: g.cfg.Rate, Elapsed: end.Sub(g.began), Kinds: map[string]KindReport{}}
	total := KindReport{Codes: map[int]int{}}
	for _, k := range kinds {
		s := g.stats[k]
		kr := KindReport{Requests: s.requests, OK: s.ok, Codes: map[int]int{}, Latency: latency(&s.lat, s.requests)}
		for c, n := range s.codes {
			kr.Codes[c] = n
			total.Codes[c] += n
		}
		if len(s.errors) > 0 {
			kr.Errors = map[string]int{}
			if total.Errors == nil {
				total.Errors = map[string]int{}
			}
			for e, n := range s.errors {
				kr.Errors[e] = n
				total.Errors[e] += n
			}
		}
		rep.Kinds[k] = kr
		total.Requests += s.requests
		total.OK += s.ok
	}
	total.Latency = latency(&g.all, total.Requests)
	rep.Total = total
	if s := rep.Elapsed.Seconds(); s > 0 {
		rep.Achieved = float64(total.Requests) / s
	}
	return rep
}

// WriteText writes the report as a table: one row per kind and a total, then the
// transport errors.
func (r *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "load: %d requests in %s against %s (asked %.4g/s, achieved %.4g/s)\n",
		r.Total.Requests, r.Elapsed.Round(time.Millisecond), r.Target, r.Rate, r.Achieved)
	fmt.Fprintln(tw, "kind\trequests\tok\tmean\tp50\tp90\tp95\tp99\tmax\tcodes")
	row := func(name string, k KindReport) {
		l := k.Latency
		fmt.Fprintf(tw, "%s\t%d\t%.2f%%\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, k.Requests, 100*k.OKRatio(),
			ms(l.Mean), ms(l.P50), ms(l.P90), ms(l.P95), ms(l.P99), ms(l.Max), codesString(k.Codes))
	}
	for _, k := range kinds {
		row(k, r.Kinds[k])
	}
	row("total", r.Total)
	if err := tw.Flush(); err != nil {
		return err
	}
	errs := make([]string, 0, len(r.Total.Errors))
	for e := range r.Total.Errors {
		errs = append(errs, e)
	}
	sort.Strings(errs)
	for _, e := range errs {
		if _, err := fmt.Fprintf(w, "error (%d×): %s\n", r.Total.Errors[e], e); err != nil {
			return err
		}
	}
	return nil
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + "ms"
}

// codesString renders codes as "201:10 404:2" in code order.
func codesString(codes map[int]int) string {
	keys := make([]int, 0, len(codes))
	for c := range codes {
		keys = append(keys, c)
	}
	sort.Ints(keys)
	parts := make([]string, len(keys))
	for i, c := range keys {
		parts[i] = fmt.Sprintf("%d:%d", c, codes[c])
	}
	return strings.Join(parts, " ")
}
