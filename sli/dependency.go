package sli

// Metric and label names of outgoing calls to a service's dependencies and of the
// circuit breakers guarding them. Like the request metrics they are a contract: SLO
// specs select them (the shortlink slos.yaml's linkcheck-latency and redirect-checked
// SLOs, game-day mitigations such as "breaker open"), and a test pins them.
const (
	// MetricDependencyCalls counts calls to a dependency by outcome: a counter labelled
	// service, dependency and outcome. Calls a breaker rejected count too (outcome
	// OutcomeRejected), although nothing was sent.
	MetricDependencyCalls = "dependency_calls_total"
	// MetricDependencyDuration is the latency of calls that were sent, in seconds: a
	// histogram labelled service and dependency.
	MetricDependencyDuration = "dependency_call_duration_seconds"
	// MetricDependencyAnswers counts the answers a service used in place of a
	// dependency's, by where each came from: a counter labelled service, dependency and
	// source (SourceDependency, SourceCache, SourceDefault). It is the correctness SLI of
	// a fallback: source="default" is an answer given without the dependency's word.
	MetricDependencyAnswers = "dependency_answers_total"
	// MetricBreakerState is a circuit breaker's state, one series per state with value 1
	// for the current one and 0 for the others: a gauge labelled service, breaker and
	// state. "Breaker open" is circuit_breaker_state{state="open"} == 1.
	MetricBreakerState = "circuit_breaker_state"
	// MetricBreakerTransitions counts state changes: a counter labelled service,
	// breaker, from and to.
	MetricBreakerTransitions = "circuit_breaker_transitions_total"

	// LabelDependency names the dependency called ("linkcheck").
	LabelDependency = "dependency"
	// LabelOutcome is how a call ended (OutcomeOK, …).
	LabelOutcome = "outcome"
	// LabelSource is where an answer came from (SourceDependency, …).
	LabelSource = "source"
	// LabelBreaker names a circuit breaker.
	LabelBreaker = "breaker"
	// LabelState is a breaker state (BreakerClosed, …).
	LabelState = "state"
	// LabelFrom and LabelTo are the states a transition left and entered.
	LabelFrom = "from"
	LabelTo   = "to"
)

// Outcomes of a dependency call, the values of LabelOutcome.
const (
	// OutcomeOK is a call answered in time with a usable answer.
	OutcomeOK = "ok"
	// OutcomeError is a call that failed: refused, reset, a 5xx, an unreadable answer.
	OutcomeError = "error"
	// OutcomeTimeout is a call abandoned at the caller's timeout.
	OutcomeTimeout = "timeout"
	// OutcomeRejected is a call the circuit breaker did not let through.
	OutcomeRejected = "rejected"
)

// Sources of an answer, the values of LabelSource.
const (
	// SourceDependency is an answer the dependency gave for this request.
	SourceDependency = "dependency"
	// SourceCache is an earlier answer of the dependency, still fresh enough to use.
	SourceCache = "cache"
	// SourceDefault is the fallback's answer without any word from the dependency.
	SourceDefault = "default"
)

// Circuit breaker states, the values of LabelState, LabelFrom and LabelTo.
const (
	BreakerClosed   = "closed"
	BreakerHalfOpen = "half-open"
	BreakerOpen     = "open"
)

// BreakerStates lists the states in the order a breaker exports them.
func BreakerStates() []string { return []string{BreakerClosed, BreakerHalfOpen, BreakerOpen} }
