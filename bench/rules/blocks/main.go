// Command blocks writes TSDB blocks of synthetic history for the rule-cost benchmark
// (bench/rules/run.sh), far faster than text backfill: one JSON object per line on stdin
// describes a series,
//
//	{"labels": {"__name__": "...", ...}, "value": v, "rate": r, "origin": unix, "step": seconds}
//
// whose sample at t (every step seconds, aligned to the Unix epoch, from -from to -to) is
// value + rate·(t − origin): counters take a rate, recorded series a constant value. Blocks
// are cut per day (appends reach back up to half the head chunk range, so it spans days). Prometheus 2.42 reads them (checked with the Debian promtool). It is its
// own module so that slokit's go.mod does not carry the TSDB's dependencies.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
)

type series struct {
	Labels map[string]string `json:"labels"`
	Value  float64           `json:"value"`
	Rate   float64           `json:"rate"`
	Origin int64             `json:"origin"`
	Step   int64             `json:"step"`
	lset   labels.Labels
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "blocks:", err)
		os.Exit(1)
	}
}

func run() error {
	from := flag.Int64("from", 0, "Unix time of the first sample (inclusive)")
	to := flag.Int64("to", 0, "Unix time after the last sample (exclusive)")
	out := flag.String("out", "", "TSDB data directory to add blocks to")
	flag.Parse()
	if *out == "" || *to <= *from {
		return errors.New("usage: blocks -from UNIX -to UNIX -out DIR < series.jsonl")
	}
	ss, err := read()
	if err != nil {
		return err
	}
	const day = 86400
	for a := *from; a < *to; a = (a/day + 1) * day {
		b := min((a/day+1)*day, *to)
		if err := write(*out, ss, a, b); err != nil {
			return err
		}
	}
	return nil
}

func read() ([]series, error) {
	var ss []series
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for line := 1; sc.Scan(); line++ {
		var s series
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			return nil, fmt.Errorf("stdin:%d: %w", line, err)
		}
		if s.Step <= 0 {
			return nil, fmt.Errorf("stdin:%d: step must be positive", line)
		}
		s.lset = labels.FromMap(s.Labels)
		ss = append(ss, s)
	}
	return ss, sc.Err()
}

// write adds one block holding every series' samples in [a, b) seconds.
func write(dir string, ss []series, a, b int64) error {
	w, err := tsdb.NewBlockWriter(slog.New(slog.DiscardHandler), dir, int64(4*24*time.Hour/time.Millisecond) /* appends may reach back half this */)
	if err != nil {
		return err
	}
	defer w.Close()
	ctx := context.Background()
	for _, s := range ss {
		app := w.Appender(ctx)
		var ref storage.SeriesRef
		for t := (a + s.Step - 1) / s.Step * s.Step; t < b; t += s.Step {
			v := s.Value + s.Rate*float64(t-s.Origin)
			r, err := app.Append(ref, s.lset, t*1000, v)
			if err != nil {
				return fmt.Errorf("%s at %d: %w", s.lset, t, err)
			}
			ref = r
		}
		if err := app.Commit(); err != nil {
			return err
		}
	}
	_, err = w.Flush(ctx)
	return err
}
