package otelsli_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/trace"

	"github.com/slokit/slokit/sli/otelsli"
)

func TestTraceExemplar(t *testing.T) {
	id := trace.TraceID{0xab, 1}
	ctx := func(flags trace.TraceFlags) context.Context {
		return trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
			TraceID: id, SpanID: trace.SpanID{1}, TraceFlags: flags}))
	}
	if got := otelsli.TraceExemplar(ctx(trace.FlagsSampled)); len(got) != 1 || got[otelsli.TraceIDLabel] != "ab010000000000000000000000000000" {
		t.Errorf("sampled span: %v", got)
	}
	for name, c := range map[string]context.Context{"unsampled": ctx(0), "no span": context.Background()} {
		if got := otelsli.TraceExemplar(c); got != nil {
			t.Errorf("%s: %v, want nil", name, got)
		}
		if n := testing.AllocsPerRun(100, func() { otelsli.TraceExemplar(c) }); n != 0 {
			t.Errorf("%s: %v allocs, want 0", name, n)
		}
	}
}
