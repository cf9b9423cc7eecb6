package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"

	"github.com/slokit/slokit/chaos"
	"github.com/slokit/slokit/internal/demo"
	"github.com/slokit/slokit/slo"
)

// demoServeListen is the UI's address for demo --serve; when it is taken a free port is used.
const demoServeListen = "127.0.0.1:8080"

// serveDemo records the demo's run in DIR/gamedays.db and serves the UI over the demo's
// SLO, its lab (or Prometheus) and that store, with the load still flowing, until ctx
// is done (Ctrl-C).
func serveDemo(ctx context.Context, e *env, o demoOptions, stack *demo.Stack, res *chaos.Result) error {
	db := filepath.Join(o.out, "gamedays.db")
	recordRun(ctx, e, db, res, "demo")
	services, ds := slo.LoadFiles(stack.Files[demo.FileSLOs])
	if err := ds.Err(); err != nil {
		return err
	}
	listen := o.serveListen
	if listen == "" {
		listen = demoServeListen
		if ln, err := net.Listen("tcp", listen); err != nil {
			listen = "127.0.0.1:0"
		} else {
			ln.Close()
		}
	}
	ui, err := startUI(ctx, e, uiConfig{services: services, prometheus: stack.SignalsURL, listen: listen, db: db, echarts: o.echartsJS})
	if err != nil {
		return fmt.Errorf("demo --serve: %w", err)
	}
	fmt.Fprintf(e.stderr, `
the lab, the service and the load keep running; the UI shows them live:
  %s            every SLO: budget, burn rate per tier, alert state
  %s   the SLO: burn against the threshold, the alert that fired, its game day
  %s   this run: verdict, detection measured vs predicted
open %s (Ctrl-C stops everything)
`, ui.url+"?range=15m", ui.url+"slo/"+url.PathEscape(res.Service)+"/"+url.PathEscape(res.SLO)+"?range=15m",
		ui.url+"gamedays/"+url.PathEscape(res.RunID), ui.url+"slo/"+url.PathEscape(res.Service)+"/"+url.PathEscape(res.SLO)+"?range=15m")
	err = ui.wait()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}
