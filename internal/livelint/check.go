package livelint

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/slokit/slokit/slo"
)

// DefaultLookback is how far back a selector's series are looked for.
const DefaultLookback = time.Hour

// Checker checks SLOs against one Prometheus.
type Checker struct {
	// Prometheus is the server asked.
	Prometheus *Client
	// Lookback is how far back series count as present; zero means DefaultLookback.
	Lookback time.Duration
	// Logger receives one debug line per query; nil means slog.Default().
	Logger *slog.Logger

	targets map[string]time.Duration // "job\xffinstance" → scrape interval; nil until read
}

func (c *Checker) lookback() time.Duration {
	if c.Lookback > 0 {
		return c.Lookback
	}
	return DefaultLookback
}

func (c *Checker) log() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.Default()
}

// Check checks every SLO of svcs and returns every problem found, errors and warnings,
// positioned like static validation. The error is about Prometheus itself (unreachable,
// too slow, not the Prometheus API): then no diagnostics are returned.
func (c *Checker) Check(ctx context.Context, svcs []*slo.Service) (slo.Diagnostics, error) {
	v, err := c.Prometheus.Version(ctx)
	if err != nil {
		return nil, err
	}
	c.log().Debug("live lint", "prometheus", c.Prometheus.URL(), "version", v)
	var out slo.Diagnostics
	for _, s := range svcs {
		for _, o := range s.Objectives {
			ds, err := c.objective(ctx, s, o)
			if err != nil {
				return nil, fmt.Errorf("%s: SLO %s: %w", s.Source, o.Name, err)
			}
			out = append(out, ds...)
		}
	}
	out.Sort()
	return out, nil
}

// finding collects one SLO's diagnostics.
type finding struct {
	s   *slo.Service
	o   slo.Objective
	out []slo.Diagnostic
}

func (f *finding) add(warn bool, fields []string, format string, args ...any) {
	at := f.s.Where(f.o.Name, fields...)
	msg := fmt.Sprintf(format, args...)
	// A field shared by the file's SLOs (a file-wide scrapeInterval) names the SLO.
	if own := f.s.Where(f.o.Name, slo.FieldSLO).Path; own == "" || (at.Path != own && !strings.HasPrefix(at.Path, own+".")) {
		msg = "SLO " + f.o.Name + ": " + msg
	}
	f.out = append(f.out, slo.Diagnostic{
		File: at.File, Line: at.Line, Col: at.Col, Path: at.Path,
		Message: msg, Warning: warn,
	})
}

func (c *Checker) objective(ctx context.Context, s *slo.Service, o slo.Objective) ([]slo.Diagnostic, error) {
	f := &finding{s: s, o: o}
	var sel string
	var present []Sample
	var err error
	switch {
	case o.SLI.Events != nil:
		sel = o.SLI.Events.Total
		present, err = c.events(ctx, f, *o.SLI.Events)
	case o.SLI.Latency != nil && o.SLI.Latency.Native:
		sel = o.SLI.Latency.Series("")
		present, err = c.native(ctx, f, *o.SLI.Latency)
	case o.SLI.Latency != nil:
		sel = o.SLI.Latency.Series("_count")
		present, err = c.classic(ctx, f, *o.SLI.Latency)
	case o.SLI.Raw != nil:
		sel, present, err = c.raw(ctx, f, *o.SLI.Raw)
	}
	if err != nil {
		return nil, err
	}
	if len(present) > 0 {
		if err := c.scrape(ctx, f, sel, present); err != nil {
			return nil, err
		}
	}
	return f.out, nil
}

// present returns, per job and instance, how many series sel matched over the lookback.
func (c *Checker) present(ctx context.Context, sel string) ([]Sample, error) {
	q := fmt.Sprintf("count by (job, instance) (last_over_time(%s[%s]))", sel, slo.FormatWindow(c.lookback()))
	c.log().Debug("live lint query", "query", q)
	return c.Prometheus.Query(ctx, q)
}

func (c *Checker) events(ctx context.Context, f *finding, e slo.EventsSLI) ([]Sample, error) {
	total, err := c.present(ctx, e.Total)
	if err != nil {
		return nil, err
	}
	if len(total) == 0 {
		hint, err := c.why(ctx, e.Total)
		if err != nil {
			return nil, err
		}
		f.add(false, []string{slo.FieldEventsTotal, slo.FieldSLI}, "%s selects no series in %s over the last %s, so every burn rate of this SLO is absent and only its no-data alert can fire: %s",
			e.Total, c.Prometheus.URL(), slo.FormatWindow(c.lookback()), hint)
	}
	bad, err := c.present(ctx, e.Bad)
	if err != nil {
		return nil, err
	}
	if len(bad) == 0 {
		hint, err := c.why(ctx, e.Bad)
		if err != nil {
			return nil, err
		}
		f.add(true, []string{slo.FieldEventsBad, slo.FieldSLI}, "%s selects no series over the last %s: fine if no bad event has happened yet (slokit counts a bad series from its first sample), but a wrong selector keeps this SLO at 100%% forever: %s",
			e.Bad, slo.FormatWindow(c.lookback()), hint)
	}
	return total, nil
}
