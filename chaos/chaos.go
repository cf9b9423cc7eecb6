// Package chaos runs game days: it injects a fault, watches an SLO's burn rates and
// alerts, removes the fault on every path, and judges whether the alerting did its job.
package chaos

import (
	"context"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/slokit/slokit/slo"
)

// Run identifies one game-day run; backends label everything they create with it so that
// `slokit chaos cleanup` can find leftovers.
type Run struct {
	// ID is unique per run (a short random token).
	ID string
	// GameDay is the game day's name from its file.
	GameDay string
	// Timeout bounds the run (guardrails.timeout). Backends whose faults can expire by
	// themselves give a fault without its own lifetime this one, so that it ends even
	// if slokit dies and nobody runs cleanup (Chaos Mesh's spec.duration). 0: none.
	Timeout time.Duration
}

// Injector applies one fault and takes it away again.
type Injector interface {
	// Inject starts the fault and returns once it is applied.
	Inject(ctx context.Context) error
	// Remove stops the fault. It is idempotent and safe after a failed or partial Inject.
	Remove(ctx context.Context) error
}

// FaultTimer is implemented by injectors that learn when the fault really took effect and
// ended (Chaos Mesh records them); the verdict then measures from those times.
type FaultTimer interface {
	FaultTimes(ctx context.Context) (began, ended time.Time, err error)
}

// Sweeper removes what runs left behind; runID "" sweeps every slokit run.
type Sweeper interface {
	Sweep(ctx context.Context, runID string) (removed []string, err error)
}

// FaultParams is a backend's typed fault: what its Parse decoded from the fault's params,
// opaque to chaos. Run time never sees YAML.
type FaultParams any

// Backend builds Injectors of one kind from the fault parameters of a GameDay file.
type Backend interface {
	// Name is the value of fault.backend that selects this backend ("http-proxy", "chaosmesh", …).
	Name() string
	// Parse decodes params strictly, once, into the backend's typed fault, returning
	// every problem with its position; the fault is nil when there is an error.
	Parse(file string, params *yaml.Node) (FaultParams, slo.Diagnostics)
	// New builds the injector of a fault Parse returned, for run.
	New(params FaultParams, run Run) (Injector, error)
}

// AlertState is one active alert of the SLO under test, as the signal source sees it.
type AlertState struct {
	// Name is the alertname.
	Name string
	// Severity is "page" or "ticket" (slo.Page, slo.Ticket).
	Severity slo.SeverityName
	// Window is the tier's long window (the slokit_window label, parsed by the signal
	// source).
	Window time.Duration
	// State is "pending" or "firing".
	State string
	// ActiveAt is when the alert's condition first became true.
	ActiveAt time.Time
	Labels   map[string]string
}

// Signals reads an SLO's burn rates and alerts from wherever the rules are evaluated
// (a Prometheus server, or slokit's embedded lab).
type Signals interface {
	// BurnRates returns the latest burn rate of o per window (the slokit_window label,
	// parsed by the signal source).
	BurnRates(ctx context.Context, o slo.Objective) (map[time.Duration]float64, error)
	// Alerts returns o's pending and firing alerts.
	Alerts(ctx context.Context, o slo.Objective) ([]AlertState, error)
}

// BudgetReader is implemented by Signals that can read the fraction of the period's
// error budget left (slo.MetricBudgetRemaining); the runner reports it before and after.
type BudgetReader interface {
	BudgetRemaining(ctx context.Context, o slo.Objective) (float64, error)
}

// Starter is implemented by injectors that must run for the whole game day without the
// fault applied yet, like a proxy that the load flows through. The runner starts them
// before preflight; whoever built the injector closes it (io.Closer) after the run.
type Starter interface {
	Start(ctx context.Context) error
}

// FaultStats counts what a fault did, as the side that holds it saw it.
type FaultStats struct {
	// Matched is how many requests (or connections) the fault applied to.
	Matched int64 `json:"matched"`
	// Injected is how many of them it failed or delayed.
	Injected int64 `json:"injected"`
	// Errors is how many it answered with an error itself (aborts).
	Errors int64 `json:"errors"`
}

// FaultCounter is implemented by injectors that count what their fault did (the HTTP
// fault proxy). The verdict uses it to tell a fault the SLI never saw ("not on the SLI's
// traffic path") from an alert that did not fire.
type FaultCounter interface {
	// FaultStats reports the counts of the last fault, also after its removal; ok is
	// false when nothing was counted.
	FaultStats() (stats FaultStats, ok bool)
}

// LeaseHolder is implemented by injectors whose fault lives in another process under a
// lease they renew (the long-lived HTTP fault proxy, a process watchdog). When a renewal
// fails the holder has already removed the fault or will at the lease's end: Lost
// receives the reason once, and the runner ends the run.
type LeaseHolder interface {
	Lost() <-chan error
}

// Pinger is implemented by Signals that can check they answer at all; the runner calls
// it first, so that an unreachable Prometheus ends the run before anything is injected
// with one message saying what to check.
type Pinger interface {
	Ping(ctx context.Context) error
}

// HistoryReader is implemented by Signals that can tell how far back an SLO's data goes.
// A window longer than the history holds no healthy past to dilute a fault: the alert
// fires early and the measured detection means nothing.
type HistoryReader interface {
	// HistoryCovers reports whether o's SLI has data from at least d ago.
	HistoryCovers(ctx context.Context, o slo.Objective, d time.Duration) (bool, error)
}
