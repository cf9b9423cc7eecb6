package cli

import (
	"github.com/slokit/slokit/chaos"
	"github.com/slokit/slokit/chaos/local"
)

// backends lists the fault backends `slokit chaos` can use. Each adapter package adds
// its constructor here; chaos itself imports none of them.
func backends() []chaos.Backend {
	return append([]chaos.Backend{
		local.HTTPProxyBackend{},
		local.TCPBackend{},
		local.ProcessBackend{Watchdog: watchdogArgv()},
	}, kubeBackends()...)
}
