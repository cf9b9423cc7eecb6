package serve

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// readCache shares what a page read from Prometheus between the requests that arrive
// while it is fresh. Recorded series and alert states change only when Prometheus
// evaluates the rules, so reading them more often than the evaluation interval costs
// Prometheus work and shows nothing new. Requests that arrive while a read is under way
// wait for it rather than starting their own (one read per key at a time). Failed reads
// are not kept.
type readCache struct {
	mu      sync.Mutex
	entries map[string]*cacheEntry
}

// cacheEntry is one read, complete once done is closed.
type cacheEntry struct {
	done    chan struct{}
	started time.Time // monotonic, for the age
	maxAge  time.Duration
	data    overviewData
	queries int
	err     error

	mu   sync.Mutex
	rows map[string]string // rendered overview rows by SLO
}

// rowHTML returns the row rendered for key from this reading, rendering it once. A nil
// entry (no reading) renders every time.
func (e *cacheEntry) rowHTML(key string, render func() string) string {
	if e == nil {
		return render()
	}
	e.mu.Lock()
	h, ok := e.rows[key]
	e.mu.Unlock()
	if ok {
		return h
	}
	h = render()
	e.mu.Lock()
	if e.rows == nil {
		e.rows = map[string]string{}
	}
	e.rows[key] = h
	e.mu.Unlock()
	return h
}

// readTimeout bounds a shared read: it no longer depends on the request that started it.
const readTimeout = 30 * time.Second

// get returns the read under key when it started less than maxAge ago (or is under way),
// else runs fetch. hit reports a read shared with an earlier request.
func (c *readCache) get(ctx context.Context, key string, maxAge time.Duration,
	fetch func(context.Context) (overviewData, int, error)) (e *cacheEntry, hit bool, err error) {
	if maxAge <= 0 {
		d, n, err := fetch(ctx)
		return &cacheEntry{started: time.Now(), data: d, queries: n, err: err}, false, err
	}
	c.mu.Lock()
	if c.entries == nil {
		c.entries = map[string]*cacheEntry{}
	}
	now := time.Now()
	for k, old := range c.entries {
		if isDone(old) && (old.err != nil || now.Sub(old.started) >= old.maxAge) {
			delete(c.entries, k)
		}
	}
	e, hit = c.entries[key]
	if !hit {
		e = &cacheEntry{done: make(chan struct{}), started: now, maxAge: maxAge}
		c.entries[key] = e
	}
	c.mu.Unlock()
	if !hit {
		go func() {
			defer close(e.done)
			defer func() {
				if v := recover(); v != nil {
					e.err = fmt.Errorf("internal error while reading Prometheus: %v", v)
				}
			}()
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), readTimeout)
			defer cancel()
			e.data, e.queries, e.err = fetch(rctx)
		}()
	}
	select {
	case <-e.done:
		return e, hit, e.err
	case <-ctx.Done():
		return nil, hit, ctx.Err()
	}
}

func isDone(e *cacheEntry) bool {
	select {
	case <-e.done:
		return true
	default:
		return false
	}
}
