package serve

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestReadCache(t *testing.T) {
	var c readCache
	var calls atomic.Int64
	release := make(chan struct{})
	fetch := func(context.Context) (overviewData, int, error) {
		calls.Add(1)
		<-release
		return overviewData{}, 4, nil
	}
	// Ten requests at once share one read.
	var wg sync.WaitGroup
	hits := atomic.Int64{}
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e, hit, err := c.get(context.Background(), "k", time.Hour, fetch)
			if err != nil || e.queries != 4 {
				t.Errorf("%v %+v", err, e)
			}
			if hit {
				hits.Add(1)
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	if calls.Load() != 1 || hits.Load() != 9 {
		t.Errorf("%d reads, %d hits; want 1 and 9", calls.Load(), hits.Load())
	}
	// Another key, a fresh entry of a short-lived key: each its own age.
	if _, hit, _ := c.get(context.Background(), "short", time.Nanosecond, fetch); hit {
		t.Error("a new key hit")
	}
	if _, hit, _ := c.get(context.Background(), "k", time.Hour, fetch); !hit {
		t.Error("the hour-long entry was evicted by a short-lived one")
	}
	// Failures are not kept; MaxAge < 0 reads every time.
	fails := 0
	bad := func(context.Context) (overviewData, int, error) {
		fails++
		return overviewData{}, 1, errors.New("down")
	}
	for range 2 {
		if _, _, err := c.get(context.Background(), "bad", time.Hour, bad); err == nil {
			t.Error("no error")
		}
	}
	for range 2 {
		_, _, _ = c.get(context.Background(), "cold", -1, bad)
	}
	if fails != 4 {
		t.Errorf("%d failing reads, want 4", fails)
	}
	// A panicking read is an error, not a crash.
	if _, _, err := c.get(context.Background(), "panic", time.Hour, func(context.Context) (overviewData, int, error) { panic("boom") }); err == nil {
		t.Error("a panic is not an error")
	}
}
