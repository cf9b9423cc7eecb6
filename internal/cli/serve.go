package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	ui "github.com/slokit/slokit/internal/serve"
	"github.com/slokit/slokit/internal/store"
	"github.com/slokit/slokit/slo"
)

type serveOptions struct {
	files                                    []string
	prometheus, listen, db, grafana, echarts string
}

func newServeCmd(e *env) *cobra.Command {
	var o serveOptions
	cmd := &cobra.Command{
		Use:   "serve -f SLOS... --prometheus URL",
		Short: "A web UI of every SLO's budget, burn rates and alerts, and the game-day history",
		Long: `Serve a web UI on 127.0.0.1: the overview of every SLO (objective, error budget left,
burn rate per alert tier, alert state, a sparkline; filter and sort), a page per SLO (burn
rate per window against each tier's threshold, budget burndown, SLI against the objective,
alert history, predictions, the generated rules, its game days) and the game-day history
recorded by 'slokit chaos run' (verdicts, predicted vs measured detection, the detection
trend, each run's report). Every page has a JSON twin under /api and keeps its state in
the query string. Values come from any Prometheus-compatible API (Prometheus, Thanos,
Mimir, the demo's lab) that evaluates slokit's generated rules. See docs/serve.md.`,
		Example: `  slokit serve -f slos.yaml --prometheus http://127.0.0.1:9090
  slokit serve -f specs/ --prometheus http://thanos:10902 --grafana-url https://grafana.example --listen 127.0.0.1:8080
  slokit demo --serve        # the demo's SLO, lab and game day, kept up after the verdict`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.files = append(o.files, args...) // a shell glob's expansion: -f slos/*.yaml
			if len(o.files) == 0 {
				return &usageError{errors.New("no SLO specs: pass -f FILE or -f DIR")}
			}
			if o.prometheus == "" {
				return &usageError{errors.New("no Prometheus: pass --prometheus URL")}
			}
			return runServe(cmd.Context(), e, o)
		},
	}
	f := cmd.Flags()
	f.StringSliceVarP(&o.files, "file", "f", nil, "SLO spec `FILE`s or directories of *.yaml/*.yml (repeat or comma-separate)")
	f.StringVar(&o.prometheus, "prometheus", "", "`URL` of a Prometheus-compatible API evaluating slokit's rules")
	f.StringVar(&o.listen, "listen", "127.0.0.1:8080", "`ADDRESS` to serve on (the UI has no authentication: keep it on loopback or behind a proxy)")
	f.StringVar(&o.grafana, "grafana-url", "", "link each SLO to its generated dashboard in the Grafana at `URL`")
	f.StringVar(&o.echarts, "echarts-js", "", "ignored: game-day reports draw their charts as inline SVG")
	_ = f.MarkDeprecated("echarts-js", "game-day reports draw their charts as inline SVG and need no script")
	addStoreFlag(f, &o.db, "read the game-day history")
	return cmd
}

func runServe(ctx context.Context, e *env, o serveOptions) error {
	files, err := expandFiles(o.files)
	if err != nil {
		return err
	}
	services, ds := slo.LoadFiles(files...)
	for _, d := range ds.Warnings() {
		fmt.Fprintln(e.stderr, d.String())
	}
	if err := ds.Err(); err != nil {
		return err
	}
	ui, err := startUI(ctx, e, uiConfig{services: services, prometheus: o.prometheus, listen: o.listen,
		db: o.db, grafana: o.grafana, echarts: o.echarts})
	if err != nil {
		return err
	}
	n, files := 0, []string{}
	for _, s := range services {
		n += len(s.Objectives)
		if len(files) == 0 || files[len(files)-1] != s.Source {
			files = append(files, s.Source)
		}
	}
	fmt.Fprintf(e.stderr, "slokit serve: %d SLO(s) from %s; signals from %s; game days from %s\n",
		n, strings.Join(files, ", "), o.prometheus, ui.storeText())
	fmt.Fprintf(e.stderr, "open %s (Ctrl-C stops)\n", ui.url)
	return ui.wait()
}

type uiConfig struct {
	services                                 []*slo.Service
	prometheus, listen, db, grafana, echarts string
}

// runningUI is a started UI server.
type runningUI struct {
	url   string
	store *store.Store
	errc  chan error
	srv   *http.Server
	ctx   context.Context
}

func (u *runningUI) storeText() string {
	if u.store == nil {
		return "nowhere (--store none)"
	}
	return u.store.Path()
}

// startUI opens the store, binds the listener and serves until ctx is done.
func startUI(ctx context.Context, e *env, c uiConfig) (*runningUI, error) {
	u := &runningUI{errc: make(chan error, 1), ctx: ctx}
	path, err := storePath(c.db)
	if err != nil {
		return nil, err
	}
	if path != "" {
		if u.store, err = store.Open(ctx, path); err != nil {
			return nil, err
		}
	}
	srv, err := ui.New(ui.Config{Services: c.services, Prometheus: c.prometheus, Store: u.store,
		GrafanaURL: c.grafana, Logger: e.log.With("component", "serve")})
	if err != nil {
		u.close()
		return nil, err
	}
	ln, err := net.Listen("tcp", c.listen)
	if err != nil {
		u.close()
		return nil, fmt.Errorf("serve: listen on %s: %w", c.listen, err)
	}
	if host, _, _ := net.SplitHostPort(c.listen); !isLoopback(host) {
		e.log.Warn("serving on a non-loopback address; the UI has no authentication", "listen", c.listen)
	}
	u.url = "http://" + ln.Addr().String() + "/"
	u.srv = &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(e.log.Handler(), slog.LevelWarn)}
	go func() { u.errc <- u.srv.Serve(ln) }()
	return u, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// wait serves until ctx is done (Ctrl-C: a normal stop) or the server fails.
func (u *runningUI) wait() error {
	var err error
	select {
	case <-u.ctx.Done():
	case err = <-u.errc:
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = u.srv.Shutdown(sctx)
	u.close()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

func (u *runningUI) close() {
	if u.store != nil {
		_ = u.store.Close()
	}
}
