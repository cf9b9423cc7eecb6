// Command shortlink runs the shortlink sample service: the JSON short-link API with SLI
// metrics, health endpoints and pprof on a separate admin listener.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/slokit/slokit/sample-service/shortlink"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stderr))
}

// run parses args, serves until ctx is cancelled and returns the exit code:
// 0 after a clean shutdown, 1 on an error, 2 on bad flags.
func run(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("shortlink", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		addr            = fs.String("addr", ":8080", "listen address of the API, /healthz, /readyz and /metrics")
		adminAddr       = fs.String("admin-addr", "127.0.0.1:6060", `listen address of pprof (/debug/pprof/); "" disables it`)
		dbPath          = fs.String("db", "shortlink.db", "bbolt file holding the links")
		baseURL         = fs.String("base-url", "", `prefix of returned short URLs, like https://sho.rt ("" = http://<Host header>)`)
		service         = fs.String("service", "shortlink", `"service" label of the SLI metrics and trace service name`)
		drainDelay      = fs.Duration("drain-delay", 5*time.Second, "time /readyz reports 503 before the listener closes on SIGTERM")
		shutdownTimeout = fs.Duration("shutdown-timeout", 20*time.Second, "longest wait for in-flight requests on SIGTERM")
		logLevel        = fs.String("log-level", "info", "debug, info, warn or error")
		instrument      = fs.Bool("instrument", true, "record SLI metrics (false serves bare, the throughput baseline)")
		lc              shortlink.LinkCheckConfig
	)
	fs.StringVar(&lc.URL, "linkcheck-url", "", `base URL of the link-safety service asked before every redirect, like http://127.0.0.1:8090 ("" = no check)`)
	fs.DurationVar(&lc.Timeout, "linkcheck-timeout", 300*time.Millisecond, "timeout of each linkcheck call")
	fs.DurationVar(&lc.CacheTTL, "linkcheck-cache-ttl", 10*time.Minute, "how long a verdict serves the fallback")
	breaker := fs.Bool("breaker", true, "guard linkcheck with a circuit breaker (false: every redirect waits for linkcheck, the game-day control)")
	fs.DurationVar(&lc.Breaker.Window, "breaker-window", time.Minute, "rolling window the breaker's failure ratio is computed over")
	fs.Float64Var(&lc.Breaker.FailureRatio, "breaker-failure-ratio", 0.5, "failed share of the window's calls that opens the breaker, in (0,1]")
	minCalls := fs.Uint("breaker-min-calls", 20, "fewest calls in the window before the breaker may open")
	fs.DurationVar(&lc.Breaker.OpenFor, "breaker-open-for", 30*time.Second, "time the breaker stays open before one probe call")
	fs.DurationVar(&lc.Breaker.SlowCall, "breaker-slow-call", 0, "answers slower than this count as failures for the breaker (0: only errors and timeouts)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "shortlink: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if *minCalls == 0 || *minCalls > 1<<31 {
		fmt.Fprintf(stderr, "shortlink: -breaker-min-calls must be in [1, 2^31], got %d\n", *minCalls)
		return 2
	}
	lc.Breaker.MinCalls = uint32(*minCalls)
	lc.Breaker.Disabled = !*breaker
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "shortlink: -log-level: %v\n", err)
		return 2
	}
	log := slog.New(shortlink.NewLogHandler(stderr, level))
	if err := serve(ctx, log, *addr, *adminAddr, shortlink.Config{
		DBPath:          *dbPath,
		BaseURL:         *baseURL,
		ServiceName:     *service,
		Logger:          log,
		DrainDelay:      *drainDelay,
		ShutdownTimeout: *shutdownTimeout,
		LinkCheck:       lc,
	}, *instrument); err != nil {
		log.Error("shortlink failed", "err", err)
		return 1
	}
	return 0
}

func serve(ctx context.Context, log *slog.Logger, addr, adminAddr string, cfg shortlink.Config, instrument bool) error {
	tp, shutdownTracing, err := tracingFromEnv(ctx, cfg.ServiceName)
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := shutdownTracing(sctx); err != nil {
			log.Warn("flushing traces", "err", err)
		}
	}()
	if tp != nil {
		cfg.TracerProvider = tp
		log.Info("tracing on: exporting spans with OTLP")
	}
	if !instrument {
		cfg.Instrument = shortlink.Uninstrumented
	}
	srv, err := shortlink.New(cfg)
	if err != nil {
		return err
	}
	defer func() {
		if err := srv.Close(); err != nil {
			log.Error("closing the link store", "err", err)
		}
	}()
	ctx, cancel := context.WithCancel(ctx) // one listener failing stops the other
	defer cancel()
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on -addr %s: %w", addr, err)
	}
	errc := make(chan error, 2)
	n := 1
	if adminAddr != "" {
		al, err := lc.Listen(ctx, "tcp", adminAddr)
		if err != nil {
			l.Close()
			return fmt.Errorf("listen on -admin-addr %s: %w", adminAddr, err)
		}
		n++
		go func() { errc <- srv.ServeAdmin(ctx, al) }()
	}
	go func() { errc <- srv.Serve(ctx, l) }()
	var first error
	for range n {
		if err := <-errc; err != nil && first == nil {
			first = err
		}
		cancel()
	}
	return first
}
