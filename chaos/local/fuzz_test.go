package local

import (
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
			ds := b.Validate("f.yaml", n)
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
			if _, err := b.New(n, chaos.Run{ID: "fuzz"}); err != nil {
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
