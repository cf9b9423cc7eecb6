// Package otelsli links sli latency observations to OpenTelemetry traces through
// exemplars.
package otelsli

import (
	"context"

	"go.opentelemetry.io/otel/trace"
)

// TraceIDLabel is the exemplar label holding the trace ID, the name Grafana's
// "exemplars → trace" link looks for by default.
const TraceIDLabel = "trace_id"

// TraceExemplar returns {"trace_id": "<32 hex digits>"} when ctx carries a sampled span,
// else nil without allocating. Unsampled spans get no exemplar, because their trace is
// not stored anywhere to link to. Use it as promsli.Config.Exemplar.
func TraceExemplar(ctx context.Context) map[string]string {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsSampled() {
		return nil
	}
	return map[string]string{TraceIDLabel: sc.TraceID().String()}
}
