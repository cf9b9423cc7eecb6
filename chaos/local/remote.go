package local

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/slokit/slokit/chaos"
)

// RemoteProxyConfig configures a RemoteProxy.
type RemoteProxyConfig struct {
	// Control is the control API of a `slokit chaos proxy`: a unix socket
	// ("unix:///run/slokit/proxy.sock") or a loopback URL ("http://127.0.0.1:8474").
	Control string
	// Token is sent as a bearer token; "" sends none.
	Token string
	// Fault is what Inject sets.
	Fault *HTTPFault
	// Lease is how long the proxy keeps the fault without a renewal; 0 means DefaultLease.
	Lease time.Duration
	// RunID names the fault on the proxy.
	RunID string
	// Log receives diagnostics; nil discards them.
	Log *slog.Logger
}

// RemoteProxy drives the fault of a long-lived HTTP fault proxy through its control
// API: the traffic path belongs to the proxy process and survives the run, whatever
// happens to it. Inject sets the fault under a lease that a goroutine renews every
// quarter lease; Remove stops the renewal and removes the fault. If slokit dies or
// stalls, the proxy removes the fault when the lease ends.
type RemoteProxy struct {
	cfg    RemoteProxyConfig
	client *http.Client
	base   string
	log    *slog.Logger

	mu    sync.Mutex
	stats *chaos.FaultStats
	stop  chan struct{}
	done  chan struct{}
	lost  chan error
}

var (
	_ chaos.Injector     = (*RemoteProxy)(nil)
	_ chaos.FaultCounter = (*RemoteProxy)(nil)
	_ chaos.LeaseHolder  = (*RemoteProxy)(nil)
	_ Starter            = (*RemoteProxy)(nil)
)

// NewRemoteProxy checks cfg; it connects to nothing until Start or Inject.
func NewRemoteProxy(cfg RemoteProxyConfig) (*RemoteProxy, error) {
	client, base, err := controlClient(cfg.Control)
	if err != nil {
		return nil, err
	}
	if cfg.Lease == 0 {
		cfg.Lease = DefaultLease
	}
	p := &RemoteProxy{cfg: cfg, client: client, base: base, log: cfg.Log, lost: make(chan error, 1)}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	return p, nil
}

// controlClient returns an HTTP client and base URL for a control address.
func controlClient(control string) (*http.Client, string, error) {
	if path, ok := unixPath(control); ok {
		tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		}}
		return &http.Client{Transport: tr, Timeout: 5 * time.Second}, "http://slokit-proxy", nil
	}
	u, err := url.Parse(control)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return nil, "", fmt.Errorf("http-proxy: control %q: want unix:///path/to.sock or http://127.0.0.1:PORT", control)
	}
	return &http.Client{Timeout: 5 * time.Second}, strings.TrimSuffix(control, "/"), nil
}

// unixPath returns the socket path of "unix:///p", "unix:/p" or "unix:p".
func unixPath(control string) (string, bool) {
	rest, ok := strings.CutPrefix(control, "unix:")
	if !ok {
		return "", false
	}
	return "/" + strings.TrimLeft(rest, "/"), true
}

// ReadToken reads a token file, trimming white space.
func ReadToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("http-proxy: token: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

func (p *RemoteProxy) call(ctx context.Context, method, path string, body any) (Status, error) {
	var st Status
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return st, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, p.base+path, rd)
	if err != nil {
		return st, err
	}
	if p.cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+p.cfg.Token)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return st, fmt.Errorf("the control API of the fault proxy at %s does not answer (is `slokit chaos proxy` running?): %w", p.cfg.Control, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error string }
		_ = json.Unmarshal(b, &e)
		return st, &controlError{code: resp.StatusCode, msg: e.Error}
	}
	return st, json.Unmarshal(b, &st)
}

type controlError struct {
	code int
	msg  string
}

func (e *controlError) Error() string {
	return fmt.Sprintf("fault proxy answered %d: %s", e.code, e.msg)
}

// Start checks that the proxy answers; the run then starts with the fault off.
func (p *RemoteProxy) Start(ctx context.Context) error {
	st, err := p.call(ctx, http.MethodGet, "/v1/status", nil)
	if err != nil {
		return fmt.Errorf("http-proxy: %w", err)
	}
	if st.RunID != "" && st.RunID != p.cfg.RunID {
		return fmt.Errorf("http-proxy: run %s holds a fault on the proxy at %s; one run at a time", st.RunID, p.cfg.Control)
	}
	p.log.Info("http-proxy: control API answers", "control", p.cfg.Control, "listen", st.Listen, "target", st.Target)
	return nil
}

// Inject sets the fault on the proxy and starts renewing its lease.
func (p *RemoteProxy) Inject(ctx context.Context) error {
	if p.cfg.Fault == nil {
		return errors.New("http-proxy: no fault configured")
	}
	req := FaultRequest{RunID: p.cfg.RunID, Lease: p.cfg.Lease.String(), Fault: wireFault(p.cfg.Fault)}
	if _, err := p.call(ctx, http.MethodPut, "/v1/fault", req); err != nil {
		return fmt.Errorf("http-proxy: %w", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stop == nil {
		p.stop, p.done = make(chan struct{}), make(chan struct{})
		go p.renew(p.stop, p.done)
	}
	return nil
}

// renew extends the lease every quarter lease until stop closes. When the proxy says
// the fault is gone, or no renewal succeeded for a whole lease (the proxy has removed
// it by then), Lost receives the reason.
func (p *RemoteProxy) renew(stop, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(p.cfg.Lease / 4)
	defer t.Stop()
	lastOK := time.Now()
	path := "/v1/fault/renew?run=" + url.QueryEscape(p.cfg.RunID) + "&lease=" + p.cfg.Lease.String()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), p.cfg.Lease/2)
		_, err := p.call(ctx, http.MethodPost, path, nil)
		cancel()
		var ce *controlError
		switch {
		case err == nil:
			lastOK = time.Now()
			continue
		case errors.As(err, &ce) && ce.code == http.StatusNotFound:
			p.lose(fmt.Errorf("the fault proxy removed the fault before the run did: %s", ce.msg))
			return
		case time.Since(lastOK) >= p.cfg.Lease:
			p.lose(fmt.Errorf("no lease renewal succeeded for %s, so the fault proxy has removed the fault: %w", p.cfg.Lease, err))
			return
		}
		p.log.Warn("http-proxy: renewing the fault's lease", "err", err)
	}
}

func (p *RemoteProxy) lose(err error) {
	select {
	case p.lost <- err:
	default:
	}
}

// Lost receives the reason when the fault's lease was lost.
func (p *RemoteProxy) Lost() <-chan error { return p.lost }

// Remove stops renewing the lease and removes the run's fault; it is idempotent. The
// proxy's final counts are kept for FaultStats.
func (p *RemoteProxy) Remove(ctx context.Context) error {
	p.mu.Lock()
	stop, done := p.stop, p.done
	p.stop, p.done = nil, nil
	p.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
	st, err := p.call(ctx, http.MethodDelete, "/v1/fault?run="+url.QueryEscape(p.cfg.RunID), nil)
	if err != nil {
		return fmt.Errorf("http-proxy: %w (the proxy removes the fault by itself at the end of its %s lease)", err, p.cfg.Lease)
	}
	if st.Removed || stop != nil {
		p.mu.Lock()
		p.stats = &st.Stats
		p.mu.Unlock()
	}
	return nil
}

// FaultStats is the proxy's count of the fault, known once Remove succeeded.
func (p *RemoteProxy) FaultStats() (chaos.FaultStats, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stats == nil {
		return chaos.FaultStats{}, false
	}
	return *p.stats, true
}

// Close stops renewing the lease; the fault, if still set, ends with it.
func (p *RemoteProxy) Close() error {
	p.mu.Lock()
	stop, done := p.stop, p.done
	p.stop, p.done = nil, nil
	p.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
	return nil
}
