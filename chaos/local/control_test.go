package local

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startControl runs a long-lived proxy with its control API on a unix socket (token
// optional) and returns the proxy's URL and the control address.
func startControl(t *testing.T, tokenFile string) (proxyURL, control string) {
	t.Helper()
	up := upstream(t)
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan [2]string, 1)
	done := make(chan error, 1)
	sock := filepath.Join(t.TempDir(), "proxy.sock")
	go func() {
		done <- RunProxyServer(ctx, ProxyServerConfig{Listen: "127.0.0.1:0", Target: up.URL, Control: "unix://" + sock,
			TokenFile: tokenFile, Ready: func(p, c string) { ready <- [2]string{p, c} }})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("proxy server: %v", err)
		}
	})
	select {
	case r := <-ready:
		return r[0], r[1]
	case err := <-done:
		t.Fatalf("proxy server: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("proxy server not ready")
	}
	return "", ""
}

func remote(t *testing.T, control, run string, lease time.Duration, token string) *RemoteProxy {
	t.Helper()
	p, err := NewRemoteProxy(RemoteProxyConfig{Control: control, RunID: run, Lease: lease, Token: token,
		Fault: &HTTPFault{Abort: &HTTPAbort{Percent: 100, Status: 503}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// TestRemoteProxyInjectRemove: no fault forwards cleanly; Inject fails every request;
// the lease is renewed while the run lives; Remove forwards again and reports counts.
func TestRemoteProxyInjectRemove(t *testing.T) {
	t.Parallel()
	proxyURL, control := startControl(t, "")
	ctx := context.Background()
	if got := countStatus(t, "GET", proxyURL+"/abc", 5); got[200] != 5 {
		t.Fatalf("without a fault: %v", got)
	}
	p := remote(t, control, "run1", 200*time.Millisecond, "")
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.Inject(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(600 * time.Millisecond) // three leases: renewals keep the fault
	if got := countStatus(t, "GET", proxyURL+"/abc", 10); got[503] != 10 {
		t.Fatalf("with the fault after 3 leases: %v", got)
	}
	if err := p.Remove(ctx); err != nil {
		t.Fatal(err)
	}
	if got := countStatus(t, "GET", proxyURL+"/abc", 5); got[200] != 5 {
		t.Errorf("after Remove: %v", got)
	}
	st, ok := p.FaultStats()
	if !ok || st.Matched != 10 || st.Errors != 10 {
		t.Errorf("stats %+v %v, want 10 matched and failed", st, ok)
	}
	select {
	case err := <-p.Lost():
		t.Errorf("lease lost: %v", err)
	default:
	}
}

// TestRemoteProxyLeaseExpires: when the run stops renewing (killed, stalled), the proxy
// removes the fault at the end of the lease, and the run learns it lost the lease.
func TestRemoteProxyLeaseExpires(t *testing.T) {
	t.Parallel()
	proxyURL, control := startControl(t, "")
	ctx := context.Background()
	p := remote(t, control, "stalled", 300*time.Millisecond, "")
	if err := p.Inject(ctx); err != nil {
		t.Fatal(err)
	}
	_ = p.Close() // stops renewing, as a dead runner would
	stoppedAt := time.Now()
	for {
		c, _ := do(t, "GET", proxyURL+"/abc")
		if c == 200 {
			break
		}
		if time.Since(stoppedAt) > 2*time.Second {
			t.Fatal("fault still in place 2s after the lease stopped")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if el := time.Since(stoppedAt); el < 250*time.Millisecond || el > time.Second {
		t.Errorf("fault removed %s after the last renewal, want about the 300ms lease", el)
	}
	// A second run can now set its fault; its renewals see the first run's is gone.
	q := remote(t, control, "next", time.Second, "")
	if err := q.Inject(ctx); err != nil {
		t.Fatal(err)
	}
	if err := q.Remove(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestRemoteProxyLostLease: the proxy removed the fault (an operator's DELETE): the
// run's next renewal reports the loss on Lost.
func TestRemoteProxyLostLease(t *testing.T) {
	t.Parallel()
	_, control := startControl(t, "")
	ctx := context.Background()
	p := remote(t, control, "r", 200*time.Millisecond, "")
	if err := p.Inject(ctx); err != nil {
		t.Fatal(err)
	}
	op := remote(t, control, "", time.Second, "")
	if _, err := op.call(ctx, http.MethodDelete, "/v1/fault", nil); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.Lost():
		if !strings.Contains(err.Error(), "removed the fault before the run did") {
			t.Errorf("lost: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("lease loss not reported")
	}
}

// TestRemoteProxyOneRunAtATime: a second run's fault is refused while one is set.
func TestRemoteProxyOneRunAtATime(t *testing.T) {
	t.Parallel()
	_, control := startControl(t, "")
	ctx := context.Background()
	a := remote(t, control, "a", time.Second, "")
	if err := a.Inject(ctx); err != nil {
		t.Fatal(err)
	}
	defer a.Remove(ctx)
	b := remote(t, control, "b", time.Second, "")
	if err := b.Start(ctx); err == nil || !strings.Contains(err.Error(), "run a holds a fault") {
		t.Errorf("Start of a second run: %v", err)
	}
	if err := b.Inject(ctx); err == nil || !strings.Contains(err.Error(), "409") {
		t.Errorf("Inject of a second run: %v", err)
	}
}

// TestRemoteProxyToken: with a token file, requests without the token are refused.
func TestRemoteProxyToken(t *testing.T) {
	t.Parallel()
	tf := filepath.Join(t.TempDir(), "token")
	_, control := startControl(t, tf)
	tok, err := ReadToken(tf)
	if err != nil || len(tok) != 32 {
		t.Fatalf("token %q: %v", tok, err)
	}
	ctx := context.Background()
	if err := remote(t, control, "x", time.Second, "").Start(ctx); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("without a token: %v", err)
	}
	if err := remote(t, control, "x", time.Second, tok).Start(ctx); err != nil {
		t.Errorf("with the token: %v", err)
	}
}
