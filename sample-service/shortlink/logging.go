package shortlink

import (
	"context"
	"io"
	"log/slog"

	"go.opentelemetry.io/otel/trace"
)

// NewLogHandler returns a JSON slog handler writing to w at level that adds trace_id and
// span_id to every record logged with a context carrying a valid span, so that a log line
// leads to its trace and back.
func NewLogHandler(w io.Writer, level slog.Leveler) slog.Handler {
	return traceHandler{slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})}
}

type traceHandler struct{ slog.Handler }

func (h traceHandler) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

func (h traceHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return traceHandler{h.Handler.WithAttrs(as)}
}

func (h traceHandler) WithGroup(name string) slog.Handler {
	return traceHandler{h.Handler.WithGroup(name)}
}
