package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/util/annotations"
)

// ErrOutOfOrder is returned by Store.Append for a sample older than the series' newest.
var ErrOutOfOrder = errors.New("sample is older than the series' newest sample")

// Store is an in-memory store of float samples per series. It implements
// storage.Queryable for the PromQL engine. Appends must be in time order per series;
// readers see a consistent snapshot of each series and may run concurrently with appends.
type Store struct {
	mu     sync.RWMutex
	byHash map[uint64][]*memSeries
	byName map[string][]*memSeries
	n      int
}

type memSeries struct {
	lset labels.Labels
	// ts and vs only grow at the end or shrink from the front, so a reader that copied
	// the slice headers under the lock can read them without it.
	ts []int64
	vs []float64
}

// NewStore returns an empty Store.
func NewStore() *Store {
	return &Store{byHash: map[uint64][]*memSeries{}, byName: map[string][]*memSeries{}}
}

var _ storage.Queryable = (*Store)(nil)

// Append adds the sample (t in milliseconds, v) to the series lset, creating it when new.
// A sample at the same timestamp as the newest replaces it; an older one is rejected with
// ErrOutOfOrder.
func (s *Store) Append(lset labels.Labels, t int64, v float64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ms := s.getOrCreate(lset)
	if n := len(ms.ts); n > 0 {
		switch last := ms.ts[n-1]; {
		case t == last:
			// Replacing in place could be seen by a reader holding the old header; copy.
			vs := slices.Clone(ms.vs)
			vs[n-1] = v
			ms.vs = vs
			return nil
		case t < last:
			return fmt.Errorf("append %s at %d: %w (%d)", lset, t, ErrOutOfOrder, last)
		}
	}
	ms.ts = append(ms.ts, t)
	ms.vs = append(ms.vs, v)
	s.n++
	return nil
}

// AppendSeries appends samples (ts increasing, all newer than the series' newest) to
// the series lset in one step, creating it when new. The store may keep ts and vs: the
// caller must not modify them afterwards.
func (s *Store) AppendSeries(lset labels.Labels, ts []int64, vs []float64) error {
	if len(ts) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ms := s.getOrCreate(lset)
	if n := len(ms.ts); n > 0 && ts[0] <= ms.ts[n-1] {
		return fmt.Errorf("append %s at %d: %w (%d)", lset, ts[0], ErrOutOfOrder, ms.ts[n-1])
	}
	for i := 1; i < len(ts); i++ {
		if ts[i] <= ts[i-1] {
			return fmt.Errorf("append %s at %d: %w (%d)", lset, ts[i], ErrOutOfOrder, ts[i-1])
		}
	}
	if len(ms.ts) == 0 {
		ms.ts, ms.vs = ts, vs // a new series takes the slices over
	} else {
		ms.ts = append(ms.ts, ts...)
		ms.vs = append(ms.vs, vs...)
	}
	s.n += len(ts)
	return nil
}

// AppendStale writes a staleness marker for lset at t when the series exists and its
// newest sample is not already a marker; it reports whether a marker was written.
func (s *Store) AppendStale(lset labels.Labels, t int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	ms := s.get(lset)
	if ms == nil || len(ms.ts) == 0 || ms.ts[len(ms.ts)-1] >= t || value.IsStaleNaN(ms.vs[len(ms.vs)-1]) {
		return false
	}
	ms.ts = append(ms.ts, t)
	ms.vs = append(ms.vs, math.Float64frombits(value.StaleNaN))
	s.n++
	return true
}

func (s *Store) get(lset labels.Labels) *memSeries {
	for _, ms := range s.byHash[lset.Hash()] {
		if labels.Equal(ms.lset, lset) {
			return ms
		}
	}
	return nil
}

func (s *Store) getOrCreate(lset labels.Labels) *memSeries {
	if ms := s.get(lset); ms != nil {
		return ms
	}
	ms := &memSeries{lset: lset.Copy()}
	h := lset.Hash()
	s.byHash[h] = append(s.byHash[h], ms)
	name := lset.Get(labels.MetricName)
	s.byName[name] = append(s.byName[name], ms)
	return ms
}

// Truncate drops every sample older than mint (milliseconds) and every series left
// without samples. It keeps memory bounded in long-running use.
func (s *Store) Truncate(mint int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for h, list := range s.byHash {
		kept := list[:0]
		for _, ms := range list {
			i := sort.Search(len(ms.ts), func(i int) bool { return ms.ts[i] >= mint })
			if i > 0 {
				s.n -= i
				// Copy once the dead prefix dominates so the old array can be freed.
				if i > len(ms.ts)/2 {
					ms.ts = slices.Clone(ms.ts[i:])
					ms.vs = slices.Clone(ms.vs[i:])
				} else {
					ms.ts, ms.vs = ms.ts[i:], ms.vs[i:]
				}
			}
			if len(ms.ts) > 0 {
				kept = append(kept, ms)
			}
		}
		if len(kept) == 0 {
			delete(s.byHash, h)
		} else {
			s.byHash[h] = kept
		}
	}
	for name, list := range s.byName {
		kept := list[:0]
		for _, ms := range list {
			if len(ms.ts) > 0 {
				kept = append(kept, ms)
			}
		}
		if len(kept) == 0 {
			delete(s.byName, name)
		} else {
			s.byName[name] = kept
		}
	}
}

// Stats reports the number of series and samples held.
func (s *Store) Stats() (series, samples int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, l := range s.byHash {
		series += len(l)
	}
	return series, s.n
}

// Querier implements storage.Queryable.
func (s *Store) Querier(mint, maxt int64) (storage.Querier, error) {
	return &querier{s: s, mint: mint, maxt: maxt}, nil
}

type querier struct {
	s          *Store
	mint, maxt int64
}

// snapshot is one series as a reader sees it.
type snapshot struct {
	lset labels.Labels
	ts   []int64
	vs   []float64
}

func (q *querier) match(ms ...*labels.Matcher) []snapshot {
	q.s.mu.RLock()
	defer q.s.mu.RUnlock()
	var candidates []*memSeries
	named := false
	for _, m := range ms {
		if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
			candidates, named = q.s.byName[m.Value], true
			break
		}
	}
	if !named {
		for _, l := range q.s.byName {
			candidates = append(candidates, l...)
		}
	}
	var out []snapshot
next:
	for _, c := range candidates {
		for _, m := range ms {
			if !m.Matches(c.lset.Get(m.Name)) {
				continue next
			}
		}
		lo := sort.Search(len(c.ts), func(i int) bool { return c.ts[i] >= q.mint })
		hi := sort.Search(len(c.ts), func(i int) bool { return c.ts[i] > q.maxt })
		if lo >= hi {
			continue
		}
		out = append(out, snapshot{lset: c.lset, ts: c.ts[lo:hi], vs: c.vs[lo:hi]})
	}
	return out
}

// Select always sorts: it is cheap at slokit's cardinality and makes results deterministic.
func (q *querier) Select(_ context.Context, _ bool, _ *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	out := q.match(ms...)
	sort.Slice(out, func(i, j int) bool { return labels.Compare(out[i].lset, out[j].lset) < 0 })
	return &seriesSet{list: out, i: -1}
}

func (q *querier) LabelValues(_ context.Context, name string, hints *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	seen := map[string]struct{}{}
	for _, sn := range q.match(ms...) {
		if v := sn.lset.Get(name); v != "" {
			seen[v] = struct{}{}
		}
	}
	out := sortedKeys(seen)
	out, _ = hints.ApplyLimit(out)
	return out, nil, nil
}

func (q *querier) LabelNames(_ context.Context, hints *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	seen := map[string]struct{}{}
	for _, sn := range q.match(ms...) {
		sn.lset.Range(func(l labels.Label) { seen[l.Name] = struct{}{} })
	}
	out := sortedKeys(seen)
	out, _ = hints.ApplyLimit(out)
	return out, nil, nil
}

func (q *querier) Close() error { return nil }

func sortedKeys(m map[string]struct{}) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

type seriesSet struct {
	list []snapshot
	i    int
}

func (s *seriesSet) Next() bool                        { s.i++; return s.i < len(s.list) }
func (s *seriesSet) At() storage.Series                { return &s.list[s.i] }
func (s *seriesSet) Err() error                        { return nil }
func (s *seriesSet) Warnings() annotations.Annotations { return nil }

func (sn *snapshot) Labels() labels.Labels { return sn.lset }

func (sn *snapshot) Iterator(it chunkenc.Iterator) chunkenc.Iterator {
	if si, ok := it.(*sliceIterator); ok {
		*si = sliceIterator{ts: sn.ts, vs: sn.vs, i: -1}
		return si
	}
	return &sliceIterator{ts: sn.ts, vs: sn.vs, i: -1}
}

// sliceIterator walks one snapshot's samples.
type sliceIterator struct {
	ts []int64
	vs []float64
	i  int
}

func (it *sliceIterator) Next() chunkenc.ValueType {
	if it.i+1 >= len(it.ts) {
		it.i = len(it.ts)
		return chunkenc.ValNone
	}
	it.i++
	return chunkenc.ValFloat
}

// millis is an alias so that go vet's io.Seeker check leaves chunkenc's Seek alone.
type millis = int64

func (it *sliceIterator) Seek(t millis) chunkenc.ValueType {
	if it.i < 0 {
		it.i = 0
	}
	if it.i >= len(it.ts) {
		return chunkenc.ValNone
	}
	if it.ts[it.i] >= t {
		return chunkenc.ValFloat
	}
	rest := it.ts[it.i:]
	it.i += sort.Search(len(rest), func(j int) bool { return rest[j] >= t })
	if it.i >= len(it.ts) {
		return chunkenc.ValNone
	}
	return chunkenc.ValFloat
}

func (it *sliceIterator) At() (int64, float64) { return it.ts[it.i], it.vs[it.i] }
func (it *sliceIterator) AtHistogram(*histogram.Histogram) (int64, *histogram.Histogram) {
	panic("engine: the store holds no histograms")
}
func (it *sliceIterator) AtFloatHistogram(*histogram.FloatHistogram) (int64, *histogram.FloatHistogram) {
	panic("engine: the store holds no histograms")
}
func (it *sliceIterator) AtT() int64  { return it.ts[it.i] }
func (it *sliceIterator) AtST() int64 { return 0 }
func (it *sliceIterator) Err() error  { return nil }
