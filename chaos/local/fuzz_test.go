package local

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/slokit/slokit/chaos"
)

// FuzzBackendParams feeds arbitrary YAML to every local backend: Validate must not
// panic, must give every error a position, and params it accepts must build an injector.
func FuzzBackendParams(f *testing.F) {
	for _, s := range []string{
		"listen: 127.0.0.1:8081\ntarget: http://127.0.0.1:8080\nabort: {percent: 50, status: 503}\n",
		"listen: 127.0.0.1:0\ntarget: https://svc\ndelay: {latency: 300ms, jitter: 50ms, distribution: normal}\nmatch: {routes: [\"GET /{code}\", \"/api/\"], pathPrefix: /}\n",
		"listen: 127.0.0.1:1\nupstream: db:5432\ntoxic: bandwidth\nrate: 64\n",
		"listen: 127.0.0.1:1\nupstream: 127.0.0.1:2\ntoxic: latency\nlatency: 100ms\njitter: 10ms\nstream: upstream\npercent: 50%\n",
		"action: pause\npid: 1234\n",
		"action: kill\ncommand: [./shortlink, -addr, \"127.0.0.1:8080\"]\nrestart: false\n",
		"control: unix:///run/slokit/p.sock\nlease: 2s\nabort: {percent: 50}\n",
		"[1, 2]\n", "", "abort: {percent: [1]}\n",
	} {
		f.Add(s)
	}
	backends := []chaos.Backend{HTTPProxyBackend{}, TCPBackend{}, ProcessBackend{}}
	f.Fuzz(func(t *testing.T, src string) {
		var doc yaml.Node
		if yaml.Unmarshal([]byte(src), &doc) != nil {
			return
		}
		n := &yaml.Node{Kind: yaml.MappingNode, Line: 1, Column: 1} // what chaos.Parse passes for absent params
		if len(doc.Content) > 0 {
			n = doc.Content[0]
		}
		for _, b := range backends {
			params, ds := b.Parse("f.yaml", n)
			for _, d := range ds {
				if d.Line == 0 || d.Message == "" {
					t.Fatalf("%s: diagnostic without position or message: %+v", b.Name(), d)
				}
			}
			if len(ds.Errors()) > 0 {
				continue
			}
			if _, _, pds := decodeProcess("", n); b.Name() == "process" && len(pds) == 0 {
				// New would open the output file; check the rest without it.
				if out := findKey(n, "output"); out != nil {
					continue
				}
			}
			if findKey(n, "tokenFile") != nil {
				continue // New reads the token file
			}
			if _, err := b.New(params, chaos.Run{ID: "fuzz"}); err != nil {
				t.Fatalf("%s: Validate accepted %q but New failed: %v", b.Name(), src, err)
			}
		}
	})
}

func findKey(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// FuzzControlFault feeds arbitrary bodies to PUT /v1/fault of the proxy's control API: it
// must never panic, must answer 200 only with a valid fault set, 4xx otherwise, and a
// DELETE must always return the proxy to forwarding.
func FuzzControlFault(f *testing.F) {
	for _, s := range []string{
		`{"runId":"r1","lease":"1s","fault":{"abort":{"percent":50,"status":503}}}`,
		`{"runId":"r1","fault":{"delay":{"percent":100,"latency":"300ms","jitter":"50ms","distribution":"normal"},"match":{"routes":["GET /{code}"],"pathPrefix":"/"}}}`,
		`{"runId":"","fault":{}}`, `{"runId":"x","lease":"1h","fault":{"abort":{"percent":50}}}`, `[]`, ``, `{"runId":"x","fault":{"match":{"routes":["GET {x}"]},"abort":{"percent":1}}}`,
	} {
		f.Add(s)
	}
	p, err := NewHTTPProxy(HTTPProxyConfig{Listen: "127.0.0.1:0", Target: "http://127.0.0.1:1"})
	if err != nil {
		f.Fatal(err)
	}
	c := &Control{Proxy: p}
	h := c.Handler()
	f.Fuzz(func(t *testing.T, body string) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPut, "/v1/fault", strings.NewReader(body)))
		switch {
		case w.Code == http.StatusOK && p.fault.Load() == nil:
			t.Fatalf("200 without a fault for %q", body)
		case w.Code != http.StatusOK && (w.Code < 400 || w.Code > 499):
			t.Fatalf("status %d for %q", w.Code, body)
		}
		w = httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodDelete, "/v1/fault", nil))
		if w.Code != http.StatusOK || p.fault.Load() != nil {
			t.Fatalf("DELETE: %d, fault %v", w.Code, p.fault.Load())
		}
	})
}
