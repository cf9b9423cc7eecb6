package backtest

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/slokit/slokit/internal/strictyaml"
	"github.com/slokit/slokit/slo"
)

// MaxScenarioDuration bounds one scenario's length (a backtest's cost grows with it).
const MaxScenarioDuration = 90 * 24 * time.Hour

var nameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)

// ParseScenarios decodes a scenario file strictly, reporting every problem with its
// position. The file holds:
//
//	version: slokit/v1          # optional
//	scenarios:
//	  - name: brownout          # [a-z0-9-]+, unique in the file
//	    description: text       # optional
//	    traffic: 20             # events per second; default 10
//	    scrape:                 # how Prometheus sees it; every field optional
//	      interval: 1m          # default: --scrape-interval (30s)
//	      offset: 30s           # scrapes this long after each evaluation
//	      jitter: 5s            # each scrape up to this late (below interval)
//	      instances: 3          # targets summed by the selector; default 1
//	      lazy: true            # the error series appears with the first error
//	      staleness: false      # no staleness markers; default true
//	      buckets: [0.1, 0.25]  # latency histogram layout in seconds
//	    segments:               # consecutive stretches, from time 0
//	      - {duration: 3d}                              # clean warm-up
//	      - {duration: 2h, errorRatio: 0.02, fault: true}
//	      - {duration: 30m, slowRatio: 0.3, traffic: 50} # latency SLIs: share slower than the threshold
//	      - {duration: 1h, missing: true}                # scrapes fail; counters keep counting
//	      - {duration: 1h, restart: true}                # counters restart from 0
//	      - {duration: 1h, absent: true}                 # series not exposed
//	      - {duration: 1h, renamed: true}                # series exposed under RenamedMetric
//	    expect: {mustFire: [page, nodata], mustNotFire: [ticket]}
func ParseScenarios(file string, data []byte) ([]Scenario, slo.Diagnostics) {
	d := &decoder{strictyaml.New(file, len(data))}
	root := d.Document(data, "a scenarios list")
	if root == nil {
		return nil, d.Diagnostics()
	}
	top := d.mapping(root, "", []string{"version", "scenarios"})
	if top == nil {
		return nil, d.Diagnostics()
	}
	if v := top["version"]; v != nil {
		if s, ok := d.str(v, "version"); ok && s != "slokit/v1" {
			d.errf(v, "version", "must be slokit/v1, got %q", s)
		}
	}
	seq := top["scenarios"]
	if seq == nil {
		d.errf(root, "scenarios", "required: a list of scenarios")
		return nil, d.Diagnostics()
	}
	seq = d.resolve(seq)
	if seq == nil || seq.Kind != yaml.SequenceNode || len(seq.Content) == 0 {
		d.errf(seq, "scenarios", "must be a non-empty list of scenarios")
		return nil, d.Diagnostics()
	}
	var out []Scenario
	names := map[string]int{}
	for i, n := range seq.Content {
		path := fmt.Sprintf("scenarios[%d]", i)
		sc, ok := d.scenario(n, path)
		if sc.Name != "" {
			if first, dup := names[sc.Name]; dup {
				d.errf(n, path+".name", "%q is already the name of scenarios[%d]", sc.Name, first)
				continue
			}
			names[sc.Name] = i
		}
		if ok {
			out = append(out, sc)
		}
	}
	if d.Failed() {
		return nil, d.Diagnostics()
	}
	return out, d.Diagnostics()
}

// decoder is the strict YAML decoder with the value readers of scenario files.
type decoder struct {
	*strictyaml.Decoder
}

func (d *decoder) errf(n *yaml.Node, path, format string, args ...any) {
	d.Errf(n, path, format, args...)
}

func (d *decoder) resolve(n *yaml.Node) *yaml.Node { return d.Resolve(n) }

// mapping returns n's fields, reporting unknown and duplicate keys; nil when n is not a
// mapping (reported).
func (d *decoder) mapping(n *yaml.Node, path string, known []string) map[string]*yaml.Node {
	f, ok := d.Fields(n, path, known...)
	if !ok {
		return nil
	}
	return f
}

func (d *decoder) str(n *yaml.Node, path string) (string, bool) {
	n = d.resolve(n)
	if n == nil {
		return "", false
	}
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.errf(n, path, "must be a string")
		return "", false
	}
	return n.Value, true
}

func (d *decoder) num(n *yaml.Node, path string, lo, hi float64, what string) (float64, bool) {
	n = d.resolve(n)
	if n == nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(n.Value, 64)
	if n.Kind != yaml.ScalarNode || err != nil || (n.Tag != "!!int" && n.Tag != "!!float") {
		d.errf(n, path, "must be a number (%s), got %q", what, n.Value)
		return 0, false
	}
	if !(v >= lo && v <= hi) {
		d.errf(n, path, "must be in [%g, %g] (%s), got %s", lo, hi, what, n.Value)
		return 0, false
	}
	return v, true
}

func (d *decoder) boolean(n *yaml.Node, path string) (bool, bool) {
	n = d.resolve(n)
	if n == nil {
		return false, false
	}
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		d.errf(n, path, "must be true or false, got %q", n.Value)
		return false, false
	}
	return n.Value == "true", true
}

func (d *decoder) duration(n *yaml.Node, path string) (time.Duration, bool) {
	s, ok := d.str(n, path)
	if !ok {
		return 0, false
	}
	md, err := model.ParseDuration(s)
	if err != nil || md <= 0 {
		d.errf(n, path, "must be a positive duration like 30s, 5m, 2h or 3d, got %q", s)
		return 0, false
	}
	return time.Duration(md), true
}

func (d *decoder) scenario(n *yaml.Node, path string) (Scenario, bool) {
	before := len(d.Diags)
	f := d.mapping(n, path, []string{"name", "description", "traffic", "scrape", "segments", "expect"})
	if f == nil {
		return Scenario{}, false
	}
	sc := Scenario{Source: d.File}
	if v := f["name"]; v == nil {
		d.errf(n, path+".name", "required: a name of lowercase letters, digits and dashes")
	} else if s, ok := d.str(v, path+".name"); ok {
		if !nameRE.MatchString(s) {
			d.errf(v, path+".name", "must be lowercase letters, digits and dashes (like brownout-2h), got %q", s)
		}
		sc.Name = s
	}
	if v := f["description"]; v != nil {
		sc.Description, _ = d.str(v, path+".description")
	}
	if v := f["traffic"]; v != nil {
		sc.Traffic, _ = d.num(v, path+".traffic", 1e-6, 1e9, "events per second")
	}
	if v := f["scrape"]; v != nil {
		sc.Scrape = d.scrape(v, path+".scrape")
	}
	segs := d.resolve(f["segments"])
	switch {
	case f["segments"] == nil:
		d.errf(n, path+".segments", "required: a list of segments, each with a duration")
	case segs == nil:
	case segs.Kind != yaml.SequenceNode || len(segs.Content) == 0:
		d.errf(segs, path+".segments", "must be a non-empty list of segments")
	default:
		for i, sn := range segs.Content {
			if g, ok := d.segment(sn, fmt.Sprintf("%s.segments[%d]", path, i)); ok {
				sc.Segments = append(sc.Segments, g)
			}
		}
		if total, over := boundedTotal(sc.Segments); over {
			d.errf(segs, path+".segments", "last %s in total; at most %s is allowed", total, fmtDur(MaxScenarioDuration))
		}
	}
	if v := f["expect"]; v != nil {
		sc.Expect = d.expect(v, path+".expect")
	}
	return sc, len(d.Diags) == before
}

// boundedTotal adds the segments' durations without overflowing (segments of centuries
// each would wrap time.Duration around to a negative length): the total as text, and
// whether it passes MaxScenarioDuration.
func boundedTotal(segs []Segment) (string, bool) {
	var total time.Duration
	for _, g := range segs {
		if g.Duration > math.MaxInt64-total {
			return "more than " + fmtDur(total), true
		}
		total += g.Duration
	}
	return fmtDur(total), total > MaxScenarioDuration
}

func (d *decoder) scrape(n *yaml.Node, path string) Scrape {
	var s Scrape
	f := d.mapping(n, path, []string{"interval", "offset", "jitter", "instances", "lazy", "staleness", "buckets"})
	if f == nil {
		return s
	}
	if v := f["interval"]; v != nil {
		s.Interval, _ = d.duration(v, path+".interval")
	}
	for _, k := range []struct {
		key string
		dst *time.Duration
	}{{"offset", &s.Offset}, {"jitter", &s.Jitter}} {
		v := f[k.key]
		if v == nil {
			continue
		}
		*k.dst, _ = d.durationOrZero(v, path+"."+k.key)
		if s.Interval > 0 && *k.dst >= s.Interval {
			d.errf(v, path+"."+k.key, "must be below the interval %s, got %s", fmtDur(s.Interval), fmtDur(*k.dst))
		}
	}
	if v := f["instances"]; v != nil {
		x, ok := d.num(v, path+".instances", 1, 1000, "a number of targets")
		if ok && x != math.Trunc(x) {
			d.errf(v, path+".instances", "must be a whole number of targets, got %s", v.Value)
		}
		s.Instances = int(x)
	}
	if v := f["lazy"]; v != nil {
		s.Lazy, _ = d.boolean(v, path+".lazy")
	}
	if v := f["staleness"]; v != nil {
		on, _ := d.boolean(v, path+".staleness")
		s.NoStaleness = !on
	}
	if v := f["buckets"]; v != nil {
		s.Buckets = d.buckets(v, path+".buckets")
	}
	return s
}

// buckets reads a histogram layout: increasing positive upper bounds in seconds.
func (d *decoder) buckets(n *yaml.Node, path string) []float64 {
	n = d.resolve(n)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 || len(n.Content) > 100 {
		d.errf(n, path, "must be a list of 1 to 100 bucket upper bounds in seconds, like [0.05, 0.1, 0.25]")
		return nil
	}
	var out []float64
	for i, item := range n.Content {
		ip := fmt.Sprintf("%s[%d]", path, i)
		b, ok := d.num(item, ip, 1e-9, 1e9, "seconds")
		if !ok {
			continue
		}
		if len(out) > 0 && b <= out[len(out)-1] {
			d.errf(item, ip, "must be greater than the bucket before it (%g), got %g", out[len(out)-1], b)
			continue
		}
		out = append(out, b)
	}
	return out
}

// durationOrZero is duration that also accepts 0.
func (d *decoder) durationOrZero(n *yaml.Node, path string) (time.Duration, bool) {
	if r := d.resolve(n); r != nil && r.Kind == yaml.ScalarNode && (r.Value == "0" || r.Value == "0s") {
		return 0, true
	}
	return d.duration(n, path)
}

func (d *decoder) segment(n *yaml.Node, path string) (Segment, bool) {
	before := len(d.Diags)
	f := d.mapping(n, path, []string{"duration", "traffic", "errorRatio", "slowRatio", "missing", "restart", "absent", "renamed", "fault"})
	if f == nil {
		return Segment{}, false
	}
	var g Segment
	if v := f["duration"]; v == nil {
		d.errf(n, path+".duration", "required: how long the segment lasts, like 2h")
	} else {
		g.Duration, _ = d.duration(v, path+".duration")
	}
	if v := f["traffic"]; v != nil {
		g.Traffic, _ = d.num(v, path+".traffic", 1e-6, 1e9, "events per second")
	}
	er, sr := f["errorRatio"], f["slowRatio"]
	switch {
	case er != nil && sr != nil:
		d.errf(sr, path+".slowRatio", "set errorRatio (events SLIs) or slowRatio (latency SLIs), not both: both are the segment's share of bad events")
	case er != nil:
		g.BadRatio, _ = d.num(er, path+".errorRatio", 0, 1, "a ratio: 0.02 is 2%")
	case sr != nil:
		g.BadRatio, _ = d.num(sr, path+".slowRatio", 0, 1, "a ratio: 0.2 is 20%")
	}
	flags := []struct {
		key string
		dst *bool
	}{{"missing", &g.Missing}, {"restart", &g.Restart}, {"absent", &g.Absent}, {"renamed", &g.Renamed}}
	var seen []string
	for _, fl := range flags {
		if v := f[fl.key]; v != nil {
			*fl.dst, _ = d.boolean(v, path+"."+fl.key)
			if *fl.dst && fl.key != "restart" {
				if len(seen) > 0 {
					d.errf(v, path+"."+fl.key, "set only one of missing, absent and renamed (already %s)", seen[0])
				}
				seen = append(seen, fl.key)
			}
		}
	}
	if v := f["fault"]; v != nil {
		g.Fault, _ = d.boolean(v, path+".fault")
	}
	return g, len(d.Diags) == before
}

func (d *decoder) expect(n *yaml.Node, path string) Expect {
	f := d.mapping(n, path, []string{"mustFire", "mustNotFire"})
	var ex Expect
	seen := map[slo.SeverityName]string{}
	read := func(key string) []slo.SeverityName {
		v := d.resolve(f[key])
		if v == nil {
			return nil
		}
		p := path + "." + key
		if v.Kind != yaml.SequenceNode {
			d.errf(v, p, "must be a list of severities (page, ticket, nodata)")
			return nil
		}
		var out []slo.SeverityName
		for i, item := range v.Content {
			ip := fmt.Sprintf("%s[%d]", p, i)
			s, ok := d.str(item, ip)
			if !ok {
				continue
			}
			sev := slo.SeverityName(s)
			if sev != slo.Page && sev != slo.Ticket && sev != NoData {
				d.errf(item, ip, "must be page, ticket or nodata, got %q", s)
				continue
			}
			if other, dup := seen[sev]; dup {
				d.errf(item, ip, "%s is already listed in %s", s, other)
				continue
			}
			seen[sev] = key
			out = append(out, sev)
		}
		return out
	}
	if f == nil {
		return ex
	}
	ex.MustFire = read("mustFire")
	ex.MustNotFire = read("mustNotFire")
	return ex
}
