package local

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"go.yaml.in/yaml/v3"

	"github.com/slokit/slokit/chaos"
	"github.com/slokit/slokit/internal/strictyaml"
	"github.com/slokit/slokit/slo"
)

// TCP toxics, as toxiproxy names them.
const (
	ToxicLatency   = "latency"    // delay data by Latency ± Jitter
	ToxicResetPeer = "reset_peer" // reset connections (TCP RST) after Timeout
	ToxicTimeout   = "timeout"    // stop all data, close after Timeout (0: never)
	ToxicBandwidth = "bandwidth"  // limit throughput to RateKBps
)

// TCPFault is one toxiproxy toxic.
type TCPFault struct {
	// Toxic is ToxicLatency, ToxicResetPeer, ToxicTimeout or ToxicBandwidth.
	Toxic string
	// Latency and Jitter configure ToxicLatency.
	Latency, Jitter time.Duration
	// Timeout configures ToxicResetPeer and ToxicTimeout.
	Timeout time.Duration
	// RateKBps configures ToxicBandwidth, in KB/s.
	RateKBps int
	// Upstream applies the toxic to client→server data; false (the default) applies it
	// to server→client data.
	Upstream bool
	// Percent is the share of connections affected, in (0,100]; 0 means 100.
	Percent float64
}

func (f TCPFault) json() ([]byte, error) {
	attrs := map[string]int64{}
	switch f.Toxic {
	case ToxicLatency:
		attrs["latency"], attrs["jitter"] = f.Latency.Milliseconds(), f.Jitter.Milliseconds()
	case ToxicResetPeer, ToxicTimeout:
		attrs["timeout"] = f.Timeout.Milliseconds()
	case ToxicBandwidth:
		if f.RateKBps <= 0 {
			return nil, fmt.Errorf("bandwidth rate must be > 0 KB/s, got %d", f.RateKBps)
		}
		attrs["rate"] = int64(f.RateKBps)
	default:
		return nil, fmt.Errorf("unknown toxic %q, want latency, reset_peer, timeout or bandwidth", f.Toxic)
	}
	stream := "downstream"
	if f.Upstream {
		stream = "upstream"
	}
	toxicity := f.Percent / 100
	if f.Percent == 0 {
		toxicity = 1
	}
	if !(toxicity > 0 && toxicity <= 1) {
		return nil, fmt.Errorf("percent must be in (0,100], got %v", f.Percent)
	}
	return json.Marshal(map[string]any{
		"name": tcpToxicName, "type": f.Toxic, "stream": stream, "toxicity": toxicity, "attributes": attrs,
	})
}

// tcpToxicName names the one toxic a TCPProxy adds.
const tcpToxicName = "slokit"

// TCPProxyConfig configures a TCPProxy.
type TCPProxyConfig struct {
	// Listen is the proxy's address, like 127.0.0.1:15432 (port 0 picks one).
	Listen string
	// Upstream is the address connections are forwarded to, like 127.0.0.1:5432.
	Upstream string
	// Fault is what Inject applies.
	Fault TCPFault
	// Log receives diagnostics; nil discards them.
	Log *slog.Logger
}

// TCPProxy forwards TCP connections through an in-process toxiproxy and adds one toxic
// while the fault is active. Like HTTPProxy it implements Start and Close for the
// proxy's lifetime, and chaos.Injector for the fault.
type TCPProxy struct {
	cfg  TCPProxyConfig
	log  *slog.Logger
	body []byte // the toxic, as toxiproxy's JSON

	mu    sync.Mutex
	proxy *toxiproxy.Proxy
}

var _ chaos.Injector = (*TCPProxy)(nil)

// NewTCPProxy checks cfg; Start makes the proxy listen.
func NewTCPProxy(cfg TCPProxyConfig) (*TCPProxy, error) {
	if cfg.Listen == "" || cfg.Upstream == "" {
		return nil, errors.New("tcp: listen and upstream are both required, like 127.0.0.1:15432 and 127.0.0.1:5432")
	}
	body, err := cfg.Fault.json()
	if err != nil {
		return nil, fmt.Errorf("tcp: %w", err)
	}
	p := &TCPProxy{cfg: cfg, log: cfg.Log, body: body}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	return p, nil
}

// Start listens and forwards connections until Close. Calling it again is a no-op.
func (p *TCPProxy) Start(context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.proxy != nil {
		return nil
	}
	server := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	proxy := toxiproxy.NewProxy(server, "slokit", p.cfg.Listen, p.cfg.Upstream)
	if err := proxy.Start(); err != nil {
		return fmt.Errorf("tcp: listen on %s: %w", p.cfg.Listen, err)
	}
	p.proxy = proxy
	p.log.Info("tcp proxy listening", "listen", proxy.Listen, "upstream", p.cfg.Upstream)
	return nil
}

// Addr is the address the proxy listens on once started.
func (p *TCPProxy) Addr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.proxy == nil {
		return ""
	}
	return p.proxy.Listen
}

// Inject starts the proxy if needed and adds the toxic; existing connections get it too.
func (p *TCPProxy) Inject(ctx context.Context) error {
	if err := p.Start(ctx); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.proxy.Toxics.GetToxic(tcpToxicName) != nil {
		return nil
	}
	if _, err := p.proxy.Toxics.AddToxicJson(bytes.NewReader(p.body)); err != nil {
		return fmt.Errorf("tcp: add %s toxic: %w", p.cfg.Fault.Toxic, err)
	}
	p.log.Info("tcp: fault injected", "toxic", p.cfg.Fault.Toxic)
	return nil
}

// Remove takes the toxic away; it is idempotent and safe when nothing was injected.
func (p *TCPProxy) Remove(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.proxy == nil {
		return nil
	}
	err := p.proxy.Toxics.RemoveToxic(ctx, tcpToxicName)
	if errors.Is(err, toxiproxy.ErrToxicNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("tcp: remove toxic: %w", err)
	}
	p.log.Info("tcp: fault removed", "toxic", p.cfg.Fault.Toxic)
	return nil
}

// Close removes the toxic and stops the proxy, closing its connections.
func (p *TCPProxy) Close() error {
	err := p.Remove(context.Background())
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.proxy != nil {
		p.proxy.Stop()
		p.proxy = nil
	}
	return err
}

// TCPBackend builds TCP fault proxies from game-day files:
//
//	fault:
//	  backend: tcp
//	  params:
//	    listen: 127.0.0.1:15432   # clients connect here
//	    upstream: 127.0.0.1:5432  # the real server
//	    toxic: latency            # latency | reset_peer | timeout | bandwidth
//	    latency: 300ms            # latency: added delay; jitter: ± spread
//	    timeout: 1s               # reset_peer: reset after; timeout: close after (0: hold)
//	    rate: 64                  # bandwidth: KB/s
//	    stream: downstream        # downstream (server→client) or upstream
//	    percent: 100              # share of connections affected
type TCPBackend struct {
	// Log receives the proxies' diagnostics; nil discards them.
	Log *slog.Logger
}

var _ chaos.Backend = TCPBackend{}

// Name is "tcp".
func (TCPBackend) Name() string { return "tcp" }

// Parse decodes params strictly into the typed fault (*TCPProxyConfig).
func (TCPBackend) Parse(file string, params *yaml.Node) (chaos.FaultParams, slo.Diagnostics) {
	cfg, ds := decodeTCP(file, params)
	if len(ds.Errors()) > 0 {
		return nil, ds
	}
	return &cfg, ds
}

// New builds the proxy; it does not listen until Start or Inject.
func (b TCPBackend) New(params chaos.FaultParams, run chaos.Run) (chaos.Injector, error) {
	p, ok := params.(*TCPProxyConfig)
	if !ok || p == nil {
		return nil, fmt.Errorf("tcp: params %T are not from TCPBackend.Parse", params)
	}
	cfg := *p
	cfg.Log = b.Log
	if cfg.Log != nil {
		cfg.Log = cfg.Log.With("run", run.ID)
	}
	return NewTCPProxy(cfg)
}

func decodeTCP(file string, n *yaml.Node) (TCPProxyConfig, slo.Diagnostics) {
	d := newDecoder(file)
	var cfg TCPProxyConfig
	f := &cfg.Fault
	var stream string
	seen := d.Mapping(n, paramsPath,
		strictyaml.Required("listen", func(n *yaml.Node, p string) { d.hostPort(n, p, &cfg.Listen) }),
		strictyaml.Required("upstream", func(n *yaml.Node, p string) { d.hostPort(n, p, &cfg.Upstream) }),
		strictyaml.Required("toxic", func(n *yaml.Node, p string) {
			d.oneOf(n, p, &f.Toxic, ToxicLatency, ToxicResetPeer, ToxicTimeout, ToxicBandwidth)
		}),
		strictyaml.Optional("latency", func(n *yaml.Node, p string) { d.duration(n, p, &f.Latency) }),
		strictyaml.Optional("jitter", func(n *yaml.Node, p string) { d.duration(n, p, &f.Jitter) }),
		strictyaml.Optional("timeout", func(n *yaml.Node, p string) { d.duration(n, p, &f.Timeout) }),
		strictyaml.Optional("rate", func(n *yaml.Node, p string) { d.integer(n, p, 1, 1<<30, &f.RateKBps) }),
		strictyaml.Optional("stream", func(n *yaml.Node, p string) { d.oneOf(n, p, &stream, "downstream", "upstream") }),
		strictyaml.Optional("percent", func(n *yaml.Node, p string) { d.percent(n, p, &f.Percent) }),
	)
	f.Upstream = stream == "upstream"
	// Each toxic takes its own attributes; any other is a mistake worth reporting.
	uses := map[string][]string{
		ToxicLatency:   {"latency", "jitter"},
		ToxicResetPeer: {"timeout"},
		ToxicTimeout:   {"timeout"},
		ToxicBandwidth: {"rate"},
	}
	if own, ok := uses[f.Toxic]; ok {
		for _, attr := range []string{"latency", "jitter", "timeout", "rate"} {
			k, present := seen[attr]
			if present && !slices.Contains(own, attr) {
				d.Errf(k, paramsPath+"."+attr, "does not apply to toxic %s, which takes %v", f.Toxic, own)
			}
		}
		switch f.Toxic {
		case ToxicLatency:
			d.Require(n, paramsPath, seen, "latency")
		case ToxicBandwidth:
			d.Require(n, paramsPath, seen, "rate")
		}
	}
	return cfg, d.Diagnostics()
}
