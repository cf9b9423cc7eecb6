// Command slokit turns SLOs written in YAML into Prometheus rules, alerts, routing and
// dashboards, and runs game days that prove the alerts fire.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/slokit/slokit/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	code := cli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
