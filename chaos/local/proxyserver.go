package local

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ProxyServerConfig configures RunProxyServer.
type ProxyServerConfig struct {
	// Listen is where traffic arrives, like 127.0.0.1:8081.
	Listen string
	// Target is the service traffic is forwarded to, like http://127.0.0.1:8080.
	Target string
	// Control is where the control API listens: "unix:///path/to.sock" (created with
	// mode 0600) or a loopback "127.0.0.1:PORT".
	Control string
	// TokenFile holds the bearer token of the control API; a missing file is created
	// with a random token (mode 0600). Required with a TCP control address; optional
	// with a unix socket.
	TokenFile string
	// Log receives diagnostics; nil discards them.
	Log *slog.Logger
	// Ready, when set, is called once both listeners are up.
	Ready func(proxyURL, control string)
}

// RunProxyServer runs a long-lived HTTP fault proxy with its control API until ctx
// ends. Without a fault it forwards every request untouched; runs set and remove
// faults through the control API (see Control) and never touch the listener.
func RunProxyServer(ctx context.Context, cfg ProxyServerConfig) error {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	cl, control, err := listenControl(cfg.Control)
	if err != nil {
		return err
	}
	defer cl.Close()
	token, err := proxyToken(cfg.TokenFile, control)
	if err != nil {
		return err
	}
	p, err := NewHTTPProxy(HTTPProxyConfig{Listen: cfg.Listen, Target: cfg.Target, Log: cfg.Log})
	if err != nil {
		return err
	}
	if err := p.Start(ctx); err != nil {
		return err
	}
	defer p.Close()
	c := &Control{Proxy: p, Token: token, Log: cfg.Log}
	defer c.Close()
	srv := &http.Server{Handler: c.Handler(), ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(cl) }()
	if cfg.Ready != nil {
		cfg.Ready(p.URL(), control)
	}
	select {
	case <-ctx.Done():
	case err := <-errc:
		return fmt.Errorf("control API: %w", err)
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	return nil
}

// listenControl listens on a unix socket (mode 0600, a stale file replaced) or on a
// loopback TCP address, and returns the address in the form RemoteProxy takes.
func listenControl(addr string) (net.Listener, string, error) {
	if path, ok := unixPath(addr); ok {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, "", err
		}
		if c, err := net.Dial("unix", path); err == nil {
			c.Close()
			return nil, "", fmt.Errorf("control socket %s is in use by another proxy", path)
		}
		_ = os.Remove(path)
		l, err := net.Listen("unix", path)
		if err != nil {
			return nil, "", fmt.Errorf("control socket: %w", err)
		}
		if err := os.Chmod(path, 0o600); err != nil {
			l.Close()
			return nil, "", err
		}
		return l, "unix://" + path, nil
	}
	host, _, err := net.SplitHostPort(strings.TrimPrefix(addr, "http://"))
	if err != nil {
		return nil, "", fmt.Errorf("control %q: want unix:///path/to.sock or 127.0.0.1:PORT", addr)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, "", fmt.Errorf("control %q: the control API listens on loopback or a unix socket only", addr)
	}
	l, err := net.Listen("tcp", strings.TrimPrefix(addr, "http://"))
	if err != nil {
		return nil, "", fmt.Errorf("control: %w", err)
	}
	return l, "http://" + l.Addr().String(), nil
}

// proxyToken reads the token file, creating it with a random token when missing.
func proxyToken(path, control string) (string, error) {
	if path == "" {
		if strings.HasPrefix(control, "unix:") {
			return "", nil
		}
		return "", errors.New("a TCP control address needs --token-file (created with a random token when missing)")
	}
	if tok, err := ReadToken(path); err == nil && tok != "" {
		return tok, nil
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	tok := hex.EncodeToString(b)
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("writing the token file: %w", err)
	}
	return tok, nil
}
