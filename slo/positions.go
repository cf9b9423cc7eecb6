package slo

import (
	"go.yaml.in/yaml/v3"

	"github.com/slokit/slokit/internal/strictyaml"
)

// Position fields: the keys of Service.Positions[slo], the fields that checks against a
// running Prometheus (slokit validate --prometheus) report on.
const (
	FieldSLO            = "slo"
	FieldSLI            = "sli"
	FieldEventsBad      = "sli.events.bad"
	FieldEventsTotal    = "sli.events.total"
	FieldLatency        = "sli.latency"
	FieldHistogram      = "sli.latency.histogram"
	FieldThreshold      = "sli.latency.threshold"
	FieldBuckets        = "sli.latency.buckets"
	FieldRawErrorRatio  = "sli.raw.errorRatio"
	FieldScrapeInterval = "scrapeInterval"
)

// Where locates the first of fields known for the SLO named slo: its slokit/v1 position
// (Positions), else where an imported spec's SLI or SLO came from (Origins), else the file
// alone. Path is the field's path in the file ("slos[0].sli.events.total").
func (s *Service) Where(slo string, fields ...string) Origin {
	for _, f := range fields {
		if o, ok := s.Positions[slo][f]; ok {
			return o
		}
	}
	for _, f := range []string{"sli", "name"} {
		if o, ok := s.Origins[slo][f]; ok && o.Line > 0 {
			return o
		}
	}
	if o, ok := s.Positions[slo][FieldSLO]; ok {
		return o
	}
	return Origin{File: s.Source}
}

// positionsV1 records where a slokit/v1 SLO's checked fields are. An SLO's own
// scrapeInterval wins over the file's, as in intervalsAt.
func (w *walker) positionsV1(s sloV1, spec specV1) map[string]Origin {
	out := map[string]Origin{}
	at := func(field string, n *yaml.Node, path string) {
		if n != nil {
			out[field] = Origin{File: w.File, Line: n.Line, Col: n.Column, Path: path}
		}
	}
	p := s.Path
	at(FieldSLO, s.Node, p)
	if s.Scrape.set() {
		at(FieldScrapeInterval, s.Scrape.Node, strictyaml.Join(p, "scrapeInterval"))
	} else {
		at(FieldScrapeInterval, spec.Scrape.Node, "scrapeInterval")
	}
	if s.SLI == nil {
		return out
	}
	sp := strictyaml.Join(p, "sli")
	at(FieldSLI, s.SLI.Node, sp)
	if e := s.SLI.Events; e != nil {
		ep := strictyaml.Join(sp, "events")
		at(FieldEventsBad, e.Bad.Node, strictyaml.Join(ep, "bad"))
		at(FieldEventsTotal, e.Total.Node, strictyaml.Join(ep, "total"))
	}
	if l := s.SLI.Latency; l != nil {
		lp := strictyaml.Join(sp, "latency")
		at(FieldLatency, l.Node, lp)
		at(FieldHistogram, l.Histogram.Node, strictyaml.Join(lp, "histogram"))
		at(FieldThreshold, l.Threshold.Node, strictyaml.Join(lp, "threshold"))
		at(FieldBuckets, l.Buckets, strictyaml.Join(lp, "buckets"))
	}
	if r := s.SLI.Raw; r != nil {
		at(FieldRawErrorRatio, r.ErrorRatio.Node, strictyaml.Join(strictyaml.Join(sp, "raw"), "errorRatio"))
	}
	return out
}
