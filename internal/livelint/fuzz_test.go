package livelint_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/slokit/slokit/internal/livelint"
)

// FuzzResponses feeds arbitrary bodies to the client's decoders: whatever a server says,
// every call returns a value or an error, never panics.
func FuzzResponses(f *testing.F) {
	for _, seed := range []string{
		`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"job":"a"},"value":[1,"2"]}]}}`,
		`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1.5,"1"],[2.5,"2"]]}]}}`,
		`{"status":"success","data":{"activeTargets":[{"labels":{"job":"a","instance":"b"},"scrapeInterval":"15s","health":"up"}]}}`,
		`{"status":"success","data":["0.1","0.25","+Inf"]}`,
		`{"status":"success","data":{"version":"2.42.0"}}`,
		`{"status":"error","errorType":"bad_data","error":"parse error"}`,
		`{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,2]}]}}`,
		`not json`, ``,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		// The body comes back from memory, not a socket: the target measures the decoders,
		// and a listener per input only slows the fuzzer down.
		hc := &http.Client{Transport: bodyTransport(body)}
		c, err := livelint.NewClient("http://127.0.0.1:9090", hc)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		_, _ = c.Version(ctx)
		_, _ = c.Query(ctx, "up")
		_, _ = c.Timestamps(ctx, "up[1m]")
		_, _ = c.LabelValues(ctx, "le", "x", 0)
		_, _ = c.Targets(ctx)
	})
}

// bodyTransport answers every request with 200 and the same body.
type bodyTransport string

func (b bodyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       io.NopCloser(strings.NewReader(string(b))),
		Request:    r,
	}, nil
}
