package local

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slokit/slokit/chaos"
)

// echoServer answers every line with the same line, and "big\n" with 20 KB.
func echoServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if line == "big\n" {
						line = strings.Repeat("x", 20<<10) + "\n"
					}
					if _, err := io.WriteString(c, line); err != nil {
						return
					}
				}
			}()
		}
	}()
	return l.Addr().String()
}

// roundTrip dials addr, sends msg and reads one line back within timeout.
func roundTrip(addr, msg string, timeout time.Duration) (string, time.Duration, error) {
	start := time.Now()
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return "", 0, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	if _, err := io.WriteString(c, msg+"\n"); err != nil {
		return "", 0, err
	}
	line, err := bufio.NewReaderSize(c, 64<<10).ReadString('\n')
	return strings.TrimSuffix(line, "\n"), time.Since(start), err
}

func startTCP(t *testing.T, f TCPFault) *TCPProxy {
	t.Helper()
	p, err := NewTCPProxy(TCPProxyConfig{Listen: "127.0.0.1:0", Upstream: echoServer(t), Fault: f})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	if got, _, err := roundTrip(p.Addr(), "hello", time.Second); err != nil || got != "hello" {
		t.Fatalf("before inject: %q, %v; want the echo", got, err)
	}
	if err := p.Inject(context.Background()); err != nil {
		t.Fatal(err)
	}
	return p
}

// removeAndCheckClean removes the fault and asserts a fresh connection is clean and
// answered within a second.
func removeAndCheckClean(t *testing.T, p *TCPProxy) {
	t.Helper()
	ctx := context.Background()
	if err := p.Remove(ctx); err != nil {
		t.Fatal(err)
	}
	if got, d, err := roundTrip(p.Addr(), "after", time.Second); err != nil || got != "after" {
		t.Errorf("after Remove: %q in %v, %v; want a clean echo within 1s", got, d, err)
	}
	if err := p.Remove(ctx); err != nil {
		t.Errorf("second Remove: %v", err)
	}
}

func TestTCPLatency(t *testing.T) {
	p := startTCP(t, TCPFault{Toxic: ToxicLatency, Latency: 200 * time.Millisecond})
	got, d, err := roundTrip(p.Addr(), "slow", 5*time.Second)
	if err != nil || got != "slow" {
		t.Fatalf("with latency: %q, %v", got, err)
	}
	if d < 200*time.Millisecond {
		t.Errorf("round trip %v with a 200ms latency toxic, want >= 200ms", d)
	}
	removeAndCheckClean(t, p)
}

func TestTCPResetPeer(t *testing.T) {
	p := startTCP(t, TCPFault{Toxic: ToxicResetPeer})
	_, _, err := roundTrip(p.Addr(), "x", 2*time.Second)
	var ne net.Error
	if err == nil || (errors.As(err, &ne) && ne.Timeout()) {
		t.Errorf("with reset_peer: err %v, want a reset or EOF", err)
	}
	removeAndCheckClean(t, p)
}

func TestTCPTimeout(t *testing.T) {
	p := startTCP(t, TCPFault{Toxic: ToxicTimeout}) // hold data, never close
	_, _, err := roundTrip(p.Addr(), "x", 300*time.Millisecond)
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("with timeout toxic: err %v, want no answer (deadline exceeded)", err)
	}
	removeAndCheckClean(t, p)
}

func TestTCPBandwidth(t *testing.T) {
	p := startTCP(t, TCPFault{Toxic: ToxicBandwidth, RateKBps: 40})
	got, d, err := roundTrip(p.Addr(), "big", 5*time.Second)
	if err != nil || len(got) != 20<<10 {
		t.Fatalf("with bandwidth: %d bytes, %v", len(got), err)
	}
	if d < 300*time.Millisecond { // 20 KB at 40 KB/s is 500ms
		t.Errorf("20 KB at 40 KB/s took %v, want about 500ms", d)
	}
	removeAndCheckClean(t, p)
}

func TestTCPBackend(t *testing.T) {
	up := echoServer(t)
	port := freePort(t)
	params := parse(t, TCPBackend{}, "listen: 127.0.0.1:"+strconv.Itoa(port)+"\nupstream: "+up+"\ntoxic: reset_peer\ntimeout: 0s\n")
	inj, err := TCPBackend{}.New(params, chaos.Run{ID: "r"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := inj.Remove(ctx); err != nil { // cleanup after a crash: nothing running
		t.Errorf("Remove before start: %v", err)
	}
	if err := inj.Inject(ctx); err != nil { // starts the proxy itself
		t.Fatal(err)
	}
	p := inj.(*TCPProxy)
	defer p.Close()
	if _, _, err := roundTrip(p.Addr(), "x", time.Second); err == nil {
		t.Error("reset_peer injected through the backend: want a failed round trip")
	}
	removeAndCheckClean(t, p)
	if err := p.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, _, err := roundTrip(p.cfg.Listen, "x", 300*time.Millisecond); err == nil {
		t.Error("proxy still forwards after Close")
	}
}

func TestTCPBackendValidate(t *testing.T) {
	checkValidate(t, TCPBackend{}, []validateCase{
		{"valid latency", "listen: 127.0.0.1:1\nupstream: 127.0.0.1:2\ntoxic: latency\nlatency: 100ms\njitter: 10ms\nstream: upstream\npercent: 50\n", nil},
		{"valid bandwidth", "listen: 127.0.0.1:1\nupstream: db:5432\ntoxic: bandwidth\nrate: 64\n", nil},
		{"missing", "toxic: latency\n", []string{
			"gd.yaml:1:1: fault.params.listen: required field is missing",
			"gd.yaml:1:1: fault.params.upstream: required field is missing",
			"gd.yaml:1:1: fault.params.latency: required field is missing",
		}},
		{"wrong attributes", "listen: 127.0.0.1:1\nupstream: 127.0.0.1:2\ntoxic: reset_peer\nlatency: 1s\nrate: 5\n", []string{
			"gd.yaml:4:1: fault.params.latency: does not apply to toxic reset_peer, which takes [timeout]",
			"gd.yaml:5:1: fault.params.rate: does not apply to toxic reset_peer, which takes [timeout]",
		}},
		{"bad values", "listen: 127.0.0.1:99999\nupstream: x\ntoxic: slow\nstream: sideways\nrate: 0\n", []string{
			`gd.yaml:1:9: fault.params.listen: port must be in [0,65535], got "99999"`,
			`gd.yaml:2:11: fault.params.upstream: must be host:port like 127.0.0.1:8081, got "x"`,
			`gd.yaml:3:8: fault.params.toxic: must be one of latency, reset_peer, timeout, bandwidth, got "slow"`,
			`gd.yaml:4:9: fault.params.stream: must be one of downstream, upstream, got "sideways"`,
			`gd.yaml:5:7: fault.params.rate: must be an integer in [1,1073741824], got "0"`,
		}},
	})
}

func TestTCPRemoveAfterFailedInject(t *testing.T) {
	checkRemoveAfterFailedInject(t, func(listen string) (proxy, error) {
		return NewTCPProxy(TCPProxyConfig{Listen: listen, Upstream: "127.0.0.1:1", Fault: TCPFault{Toxic: ToxicTimeout}})
	})
}
