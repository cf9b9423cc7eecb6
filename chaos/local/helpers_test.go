package local

import (
	"context"
	"net"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/slokit/slokit/chaos"
)

// node parses src as a params document; an empty one is an empty mapping.
func node(t *testing.T, src string) *yaml.Node {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Content) == 0 {
		return &yaml.Node{Kind: yaml.MappingNode}
	}
	return doc.Content[0]
}

// parse runs b.Parse on params src and fails the test on any error.
func parse(t *testing.T, b chaos.Backend, src string) chaos.FaultParams {
	t.Helper()
	p, ds := b.Parse("gd.yaml", node(t, src))
	if err := ds.Err(); err != nil {
		t.Fatal(err)
	}
	return p
}

// validateCase is a params document and every diagnostic its backend reports for it.
type validateCase struct {
	name, params string
	want         []string
}

// checkValidate runs b.Validate on each case's params, as file gd.yaml.
func checkValidate(t *testing.T, b chaos.Backend, tests []validateCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			_, ds := b.Parse("gd.yaml", node(t, tt.params))
			for _, d := range ds {
				got = append(got, d.String())
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("diagnostics:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// proxy is what the HTTP and TCP proxies have in common.
type proxy interface {
	chaos.Injector
	Close() error
}

// checkRemoveAfterFailedInject builds a proxy on a port that is already taken: Inject
// must fail, and Remove and Close must then succeed.
func checkRemoveAfterFailedInject(t *testing.T, build func(listen string) (proxy, error)) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	p, err := build(l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Inject(context.Background()); err == nil {
		t.Fatal("Inject on a taken port: want an error")
	}
	if err := p.Remove(context.Background()); err != nil {
		t.Errorf("Remove after failed Inject: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("Close after failed Inject: %v", err)
	}
}
