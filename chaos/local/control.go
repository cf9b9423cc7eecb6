package local

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/slokit/slokit/chaos"
)

// Lease bounds of a fault set through the control API. DefaultLease keeps traffic clean
// within 2s of a runner's death: the proxy removes the fault when the lease ends.
const (
	DefaultLease = 1500 * time.Millisecond
	MinLease     = 100 * time.Millisecond
	MaxLease     = 10 * time.Minute
)

// Control serves the control API of a long-lived HTTP fault proxy (`slokit chaos proxy`):
// a run sets its fault under a lease, renews the lease while it runs, and removes the
// fault at its end. When the lease ends without renewal (the runner was killed, stalled
// or lost its connection) the proxy removes the fault by itself. One fault at a time:
// a second run is refused while another run's fault is set.
//
//	GET    /v1/status                 the proxy, its fault and the counters
//	PUT    /v1/fault                  {"runId":…, "lease":"1.5s", "fault":{abort, delay, match}}
//	POST   /v1/fault/renew?run=ID     extends the lease; 404 when the fault is gone
//	DELETE /v1/fault?run=ID           removes the run's fault (any fault without run)
//
// Every request needs "Authorization: Bearer TOKEN" when Token is set.
type Control struct {
	// Proxy is the proxy whose fault the API sets.
	Proxy *HTTPProxy
	// Token authenticates requests; "" accepts every request (a unix socket whose file
	// mode already limits who can connect).
	Token string
	// Log receives diagnostics; nil discards them.
	Log *slog.Logger

	mu    sync.Mutex
	run   string
	until time.Time
	timer *time.Timer
}

// FaultRequest is the body of PUT /v1/fault.
type FaultRequest struct {
	RunID string `json:"runId"`
	// Lease is a Go duration; "" means DefaultLease.
	Lease string    `json:"lease,omitempty"`
	Fault FaultWire `json:"fault"`
}

// FaultWire is an HTTPFault on the wire, durations written like "300ms".
type FaultWire struct {
	Abort *HTTPAbortWire `json:"abort,omitempty"`
	Delay *HTTPDelayWire `json:"delay,omitempty"`
	Match HTTPMatchWire  `json:"match,omitzero"`
}

// HTTPAbortWire is HTTPAbort on the wire.
type HTTPAbortWire struct {
	Percent float64 `json:"percent"`
	Status  int     `json:"status,omitempty"`
}

// HTTPDelayWire is HTTPDelay on the wire.
type HTTPDelayWire struct {
	Percent      float64 `json:"percent"`
	Latency      string  `json:"latency"`
	Jitter       string  `json:"jitter,omitempty"`
	Distribution string  `json:"distribution,omitempty"`
}

// HTTPMatchWire is HTTPMatch on the wire.
type HTTPMatchWire struct {
	Routes     []string `json:"routes,omitempty"`
	PathPrefix string   `json:"pathPrefix,omitempty"`
}

// Status is the answer of the control API.
type Status struct {
	Listen string `json:"listen"`
	Target string `json:"target"`
	// RunID is the run whose fault is set; "" when the proxy only forwards.
	RunID      string     `json:"runId,omitempty"`
	LeaseUntil *time.Time `json:"leaseUntil,omitempty"`
	// Stats counts the current fault, or the last one after its removal.
	Stats chaos.FaultStats `json:"stats"`
	// Removed is set by DELETE: whether a fault was removed.
	Removed bool `json:"removed,omitempty"`
}

func wireFault(f *HTTPFault) FaultWire {
	var w FaultWire
	if a := f.Abort; a != nil {
		w.Abort = &HTTPAbortWire{Percent: a.Percent, Status: a.Status}
	}
	if d := f.Delay; d != nil {
		w.Delay = &HTTPDelayWire{Percent: d.Percent, Latency: d.Latency.String(), Distribution: d.Distribution}
		if d.Jitter > 0 {
			w.Delay.Jitter = d.Jitter.String()
		}
	}
	w.Match = HTTPMatchWire(f.Match)
	return w
}

// HTTPFault converts w and checks it.
func (w FaultWire) HTTPFault() (*HTTPFault, error) {
	f := &HTTPFault{Match: HTTPMatch(w.Match)}
	if a := w.Abort; a != nil {
		f.Abort = &HTTPAbort{Percent: a.Percent, Status: a.Status}
	}
	if d := w.Delay; d != nil {
		f.Delay = &HTTPDelay{Percent: d.Percent, Distribution: d.Distribution}
		var err error
		if f.Delay.Latency, err = time.ParseDuration(d.Latency); err != nil {
			return nil, fmt.Errorf("delay.latency: %w", err)
		}
		if d.Jitter != "" {
			if f.Delay.Jitter, err = time.ParseDuration(d.Jitter); err != nil {
				return nil, fmt.Errorf("delay.jitter: %w", err)
			}
		}
	}
	return f, f.Validate()
}

// Handler is the control API.
func (c *Control) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/status", func(w http.ResponseWriter, _ *http.Request) { c.reply(w, http.StatusOK, c.status()) })
	mux.HandleFunc("PUT /v1/fault", c.put)
	mux.HandleFunc("POST /v1/fault/renew", c.renew)
	mux.HandleFunc("DELETE /v1/fault", c.delete)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c.Token != "" {
			got := r.Header.Get("Authorization")
			if subtle.ConstantTimeCompare([]byte(got), []byte("Bearer "+c.Token)) != 1 {
				c.fail(w, http.StatusUnauthorized, "missing or wrong bearer token (see the proxy's --token-file)")
				return
			}
		}
		mux.ServeHTTP(w, r)
	})
}

func (c *Control) log() *slog.Logger {
	if c.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Log
}

func (c *Control) status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.statusLocked()
}

func (c *Control) statusLocked() Status {
	st := Status{Listen: c.Proxy.URL(), Target: c.Proxy.target.String(), RunID: c.run}
	st.Stats, _ = c.Proxy.FaultStats()
	if c.run != "" {
		u := c.until
		st.LeaseUntil = &u
	}
	return st
}

func (c *Control) put(w http.ResponseWriter, r *http.Request) {
	var req FaultRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		c.fail(w, http.StatusBadRequest, "decoding the fault: "+err.Error())
		return
	}
	lease, err := parseLease(req.Lease)
	if err == nil && req.RunID == "" {
		err = errors.New("runId is empty")
	}
	var f *HTTPFault
	if err == nil {
		f, err = req.Fault.HTTPFault()
	}
	if err != nil {
		c.fail(w, http.StatusBadRequest, err.Error())
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.run != "" && c.run != req.RunID {
		c.fail(w, http.StatusConflict, fmt.Sprintf("run %s holds a fault on this proxy (lease until %s); one run at a time", c.run, c.until.Format(time.RFC3339)))
		return
	}
	if _, err := c.Proxy.swapFault(f); err != nil {
		c.fail(w, http.StatusBadRequest, err.Error())
		return
	}
	c.run = req.RunID
	c.extendLocked(lease)
	c.log().Info("fault set", "run", c.run, "lease", lease)
	c.reply(w, http.StatusOK, c.statusLocked())
}

func parseLease(s string) (time.Duration, error) {
	if s == "" {
		return DefaultLease, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < MinLease || d > MaxLease {
		return 0, fmt.Errorf("lease must be a duration in [%s,%s], got %q", MinLease, MaxLease, s)
	}
	return d, nil
}

// extendLocked (re)arms the lease timer: when it fires with the same run still set,
// the fault is removed.
func (c *Control) extendLocked(lease time.Duration) {
	c.until = time.Now().Add(lease)
	if c.timer != nil {
		c.timer.Stop()
	}
	run := c.run
	c.timer = time.AfterFunc(lease, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.run == run && !time.Now().Before(c.until) {
			c.clearLocked("lease expired")
		}
	})
}

func (c *Control) clearLocked(why string) chaos.FaultStats {
	st, _ := c.Proxy.swapFault(nil)
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	c.log().Info("fault removed", "run", c.run, "why", why, "matched", st.Matched, "injected", st.Injected)
	c.run = ""
	return st
}

func (c *Control) renew(w http.ResponseWriter, r *http.Request) {
	run := r.URL.Query().Get("run")
	lease, err := parseLease(r.URL.Query().Get("lease"))
	if err != nil {
		c.fail(w, http.StatusBadRequest, err.Error())
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if run == "" || c.run != run {
		c.fail(w, http.StatusNotFound, fmt.Sprintf("no fault of run %q on this proxy: its lease expired or it was removed", run))
		return
	}
	c.extendLocked(lease)
	c.reply(w, http.StatusOK, c.statusLocked())
}

func (c *Control) delete(w http.ResponseWriter, r *http.Request) {
	run := r.URL.Query().Get("run")
	c.mu.Lock()
	defer c.mu.Unlock()
	removed := c.run != "" && (run == "" || run == c.run)
	if removed {
		by := "an unqualified DELETE"
		if run != "" {
			by = "run " + run
		}
		c.clearLocked("removed by " + by)
	}
	st := c.statusLocked()
	st.Removed = removed
	c.reply(w, http.StatusOK, st)
}

// Close removes any fault; the proxy keeps forwarding.
func (c *Control) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.run != "" {
		c.clearLocked("control closed")
	}
}

func (c *Control) reply(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func (c *Control) fail(w http.ResponseWriter, code int, msg string) {
	c.reply(w, code, map[string]string{"error": msg})
}
