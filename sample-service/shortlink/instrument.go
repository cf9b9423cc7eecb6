package shortlink

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/slokit/slokit/sli"
	"github.com/slokit/slokit/sli/otelsli"
	"github.com/slokit/slokit/sli/promsli"
)

// DefaultInstrument is the default Config.Instrument: slokit's sli middleware recording
// http_requests_total, http_request_duration_seconds (sli.DefaultBuckets, which hold the
// 100ms and 250ms thresholds of slos.yaml) and http_requests_in_flight into reg, labelled
// service=cfg.ServiceName, with the trace ID of sampled requests as exemplar.
func DefaultInstrument(cfg Config, reg *prometheus.Registry) (func(http.Handler) http.Handler, error) {
	rec, err := promsli.New(reg, promsli.Config{Service: cfg.ServiceName, Exemplar: otelsli.TraceExemplar})
	if err != nil {
		return nil, err
	}
	return sli.Middleware(rec), nil
}
