package backtest

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/slokit/slokit/slo"
)

// LiveBuckets reads the bucket layout a live Prometheus holds for a classic latency SLI:
// the le values of its histogram's _bucket series under the SLI's selector, now (+Inf
// left out). ok is false when Prometheus has no such series.
func LiveBuckets(ctx context.Context, prom v1.API, l slo.LatencySLI) (layout []float64, ok bool, err error) {
	q := "count by (le) (" + l.Histogram + "_bucket" + selectorOf(l.Selector) + ")"
	val, _, _, err := prom.Query(ctx, q, time.Now())
	if err != nil {
		return nil, false, fmt.Errorf("query %s: %w", q, err)
	}
	vec, isVec := val.(model.Vector)
	if !isVec {
		return nil, false, fmt.Errorf("query %s: a %s, not a vector", q, val.Type())
	}
	for _, s := range vec {
		le, err := strconv.ParseFloat(string(s.Metric["le"]), 64)
		if err != nil || math.IsInf(le, 1) {
			continue
		}
		layout = append(layout, le)
	}
	slices.Sort(layout)
	return slices.Compact(layout), len(vec) > 0, nil
}

func selectorOf(sel map[string]string) string {
	ms := make([]string, 0, len(sel))
	for k, v := range sel {
		ms = append(ms, k+"="+strconv.Quote(v))
	}
	slices.Sort(ms)
	return "{" + strings.Join(ms, ",") + "}"
}

// UseLiveBuckets replaces the declared bucket layout of every classic latency SLI in
// services with the one the live Prometheus holds, so scenarios replay what production
// exposes. It returns a notice per latency SLI: the layout used, that Prometheus has no
// series for it (the declared layout stays), or that the live layout has no bucket at
// the threshold (the SLO's burn-rate alerts cannot fire; scenarios report it silent).
func UseLiveBuckets(ctx context.Context, prom v1.API, services []*slo.Service) ([]string, error) {
	var notices []string
	for _, svc := range services {
		for i := range svc.Objectives {
			o := &svc.Objectives[i]
			l := o.SLI.Latency
			if l == nil || l.Native {
				continue
			}
			layout, ok, err := LiveBuckets(ctx, prom, *l)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", o.ID(), err)
			}
			if !ok {
				notices = append(notices, fmt.Sprintf("%s/%s: Prometheus has no %s_bucket series%s; replaying the declared layout", o.Service, o.Name, l.Histogram, selectorOf(l.Selector)))
				continue
			}
			live := *l
			live.Buckets = make([]time.Duration, len(layout))
			for j, b := range layout {
				live.Buckets[j] = time.Duration(math.Round(b * float64(time.Second)))
			}
			o.SLI.Latency = &live
			msg := fmt.Sprintf("%s/%s: replaying the live layout of %s (%s)", o.Service, o.Name, l.Histogram, fmtBuckets(layout))
			if !hasBucket(layout, l.Threshold.Seconds()) {
				msg += fmt.Sprintf(": it has no le=%q bucket, so the SLO's burn-rate alerts cannot fire (scenarios report them SILENT, bucket missing)", l.ThresholdLE())
			}
			notices = append(notices, msg)
		}
	}
	return notices, nil
}
