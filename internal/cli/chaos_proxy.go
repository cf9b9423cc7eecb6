package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/slokit/slokit/chaos/local"
)

func newChaosProxyCmd(e *env) *cobra.Command {
	var cfg local.ProxyServerConfig
	cmd := &cobra.Command{
		Use:   "proxy --listen ADDR --target URL --control unix:///PATH.sock",
		Short: "Run a long-lived HTTP fault proxy that game days drive through a control API",
		Long: `Run an HTTP fault proxy as its own process, in front of a service: without a fault it
forwards every request untouched; game days (fault.backend: http-proxy with
params.control) set a fault through its control API and never touch the listener, so the
traffic path stays up whatever happens to a run.

Every fault carries a lease (default 1.5s) that the run renews; when the run ends, is
killed (kill -9) or stalls, the proxy removes the fault by itself when the lease ends.
One run at a time: a second run's fault is refused while one is set.

The control API listens on a unix socket (mode 0600) or on a loopback address with a
bearer token read from --token-file (created with a random token when missing):

  GET    /v1/status                 the proxy, the fault's run and lease, counters
  PUT    /v1/fault                  {"runId":"…","lease":"1.5s","fault":{"abort":{"percent":50}}}
  POST   /v1/fault/renew?run=ID     extend the lease
  DELETE /v1/fault?run=ID           remove the fault (any fault without run)

It stops on SIGINT or SIGTERM, removing any fault first. See docs/gameday.md.`,
		Example: `  slokit chaos proxy --listen 127.0.0.1:8081 --target http://127.0.0.1:8080 --control unix://$XDG_RUNTIME_DIR/slokit/shortlink.sock
  slokit chaos proxy --listen 127.0.0.1:8081 --target http://127.0.0.1:8080 --control 127.0.0.1:8474 --token-file /run/slokit/proxy.token`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cfg.Listen == "" || cfg.Target == "" || cfg.Control == "" {
				return &usageError{fmt.Errorf("--listen, --target and --control are required")}
			}
			cfg.Log = e.log
			cfg.Ready = func(proxyURL, control string) {
				fmt.Fprintf(e.stderr, "fault proxy on %s → %s, no fault; control API on %s\n", proxyURL, cfg.Target, control)
			}
			return local.RunProxyServer(cmd.Context(), cfg)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Listen, "listen", "", "address traffic arrives on, like 127.0.0.1:8081")
	f.StringVar(&cfg.Target, "target", "", "service URL traffic is forwarded to, like http://127.0.0.1:8080")
	f.StringVar(&cfg.Control, "control", "", "control API: unix:///path/to.sock or 127.0.0.1:PORT")
	f.StringVar(&cfg.TokenFile, "token-file", "", "bearer token of the control API (created when missing; required with a TCP control address)")
	return cmd
}
