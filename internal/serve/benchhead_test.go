package serve

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/klauspost/compress/snappy"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"

	"github.com/slokit/slokit/internal/testutil"
	"github.com/slokit/slokit/slo"
)

// benchPrometheusHead starts the Debian Prometheus with the remote-write receiver and
// writes the history into it oldest first, so that it sits in the in-memory head block
// as the last hours of a live Prometheus evaluating slokit's rules do; the alert rule is
// evaluated every 5s. It returns once the alerts are firing.
func benchPrometheusHead(b *testing.B, svcs []*slo.Service, now time.Time) benchBackend {
	rules := "groups:\n- name: bench\n  interval: 5s\n  rules:\n  - alert: " + benchAlertRule.Alert +
		"\n    expr: '" + benchAlertRule.Expr + "'\n    labels: {severity: page}\n"
	srv := testutil.StartPrometheusArgs(b, "global: {evaluation_interval: 5s}\nrule_files: [rules.yml]\n", func(dir string) {
		if err := os.WriteFile(filepath.Join(dir, "rules.yml"), []byte(rules), 0o644); err != nil {
			b.Fatal(err)
		}
	}, "--web.enable-remote-write-receiver")
	series := benchAllSeries(svcs)
	for _, t := range benchTimes(now) {
		req := &prompb.WriteRequest{Timeseries: make([]prompb.TimeSeries, 0, len(series))}
		for _, s := range series {
			ts := prompb.TimeSeries{Samples: []prompb.Sample{{Value: s.v, Timestamp: t.UnixMilli()}}}
			s.lset.Range(func(l labels.Label) { ts.Labels = append(ts.Labels, prompb.Label{Name: l.Name, Value: l.Value}) })
			req.Timeseries = append(req.Timeseries, ts)
		}
		if err := remoteWrite(srv.URL, req); err != nil {
			b.Fatal(err)
		}
	}
	p, _ := newPromClient(srv.URL)
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		if as, err := p.Alerts(context.Background()); err == nil && len(as) > 0 && as[0].State == v1.AlertStateFiring {
			return benchBackend{url: srv.URL, pid: srv.Process.Pid}
		}
	}
	b.Fatal("the benchmark's alerts did not fire in Prometheus within 60s")
	return benchBackend{}
}

// remoteWrite sends one remote-write 1.0 request (protobuf, snappy block format).
func remoteWrite(base string, req *prompb.WriteRequest) error {
	raw, err := req.Marshal()
	if err != nil {
		return err
	}
	hr, err := http.NewRequest(http.MethodPost, base+"/api/v1/write", bytes.NewReader(snappy.Encode(nil, raw)))
	if err != nil {
		return err
	}
	hr.Header.Set("Content-Type", "application/x-protobuf")
	hr.Header.Set("Content-Encoding", "snappy")
	hr.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("remote write: %s: %s", resp.Status, msg)
	}
	return nil
}
