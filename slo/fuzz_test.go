package slo_test

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/slokit/slokit/slo"
)

// FuzzParseSpec feeds arbitrary bytes to Parse, seeded with every spec in testdata and
// examples. Parse must never panic, and whatever it returns must hold the invariants
// every generator relies on.
func FuzzParseSpec(f *testing.F) {
	for _, pattern := range []string{"testdata/*/*.yaml", "testdata/openslo/*/*.yaml", "testdata/pyrra/*/*.yaml", "../examples/*.yaml"} {
		paths, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, p := range paths {
			data, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		svc, ds := slo.Parse("fuzz.yaml", data)
		if (svc == nil) != (len(ds.Errors()) > 0) {
			t.Fatalf("service returned = %v with %d errors: a service comes back iff there is no error\n%s",
				svc != nil, len(ds.Errors()), diagText(ds))
		}
		for _, d := range ds {
			if d.File != "fuzz.yaml" || d.Message == "" || d.Line < 0 || d.Col < 0 || (d.Line > 0) != (d.Col > 0) {
				t.Fatalf("malformed diagnostic %#v", d)
			}
		}
		if svc == nil {
			return
		}
		checkService(t, svc)
		// Whatever the validator accepts, the generator must turn into rules.
		for _, o := range svc.Objectives {
			if _, err := slo.RecordingRules(o); err != nil {
				t.Fatalf("validated objective %s does not generate: %v", o.Name, err)
			}
			if _, err := slo.ClusterGroup(o); err != nil {
				t.Fatalf("validated global objective %s has no cluster group: %v", o.Name, err)
			}
		}
		again, ds2 := slo.Parse("fuzz.yaml", data)
		if !reflect.DeepEqual(svc, again) || !reflect.DeepEqual(ds, ds2) {
			t.Fatalf("Parse is not deterministic")
		}
	})
}

// checkService asserts the invariants of a Service returned without errors.
func checkService(t *testing.T, svc *slo.Service) {
	t.Helper()
	if svc.Name == "" || svc.Labels == nil || len(svc.Objectives) == 0 {
		t.Fatalf("incomplete service: name %q, labels %v, %d objectives", svc.Name, svc.Labels, len(svc.Objectives))
	}
	names := map[string]bool{}
	for _, o := range svc.Objectives {
		if o.Service != svc.Name || o.Name == "" || names[o.Name] {
			t.Fatalf("objective %q of service %q: empty, duplicate or wrong service %q", o.Name, svc.Name, o.Service)
		}
		names[o.Name] = true
		if !(o.Target > 0 && o.Target < 1) {
			t.Fatalf("objective %s: target %v outside (0,1)", o.Name, o.Target)
		}
		if o.Period <= 0 {
			t.Fatalf("objective %s: period %v", o.Name, o.Period)
		}
		kinds := 0
		for _, set := range []bool{o.SLI.Events != nil, o.SLI.Latency != nil, o.SLI.Raw != nil} {
			if set {
				kinds++
			}
		}
		if kinds != 1 || o.SLI.Kind() == "" {
			t.Fatalf("objective %s: %d SLI kinds set, want exactly 1", o.Name, kinds)
		}
		switch {
		case o.SLI.Events != nil && (o.SLI.Events.Bad == "" || o.SLI.Events.Total == "" || o.SLI.Events.Bad == o.SLI.Events.Total):
			t.Fatalf("objective %s: empty or identical events selectors %+v", o.Name, *o.SLI.Events)
		case o.SLI.Latency != nil && (o.SLI.Latency.Histogram == "" || o.SLI.Latency.Threshold <= 0 || o.SLI.Latency.Selector == nil):
			t.Fatalf("objective %s: incomplete latency SLI %+v", o.Name, *o.SLI.Latency)
		case o.SLI.Raw != nil && o.SLI.Raw.ErrorRatio == "":
			t.Fatalf("objective %s: empty raw SLI", o.Name)
		}
		if o.Labels == nil || o.Alerting.Name == "" || o.Alerting.Page.Labels["severity"] == "" || o.Alerting.Ticket.Labels["severity"] == "" {
			t.Fatalf("objective %s: missing defaults in %+v", o.Name, o.Alerting)
		}
		checkScope(t, o)
		for _, w := range o.Windows() {
			// Raised default windows may make short = long; none is shorter than four scrapes.
			if w.Short <= 0 || w.Short > w.Long || w.Long > o.Period || !(w.BurnRate > 0) || w.Short < o.MinWindow() {
				t.Fatalf("objective %s: bad window %+v for period %v", o.Name, w, o.Period)
			}
		}
	}
}

// checkScope asserts what the Thanos generator relies on for a global objective: an
// events or classic latency SLI, a cluster label, replica labels distinct from it and
// from each other, no SLO label named like either.
func checkScope(t *testing.T, o slo.Objective) {
	t.Helper()
	if !o.IsGlobal() {
		if !reflect.DeepEqual(o.Scope, slo.Scope{}) || o.ReplicaLabels() != nil || o.GlobalDelay() != 0 {
			t.Fatalf("objective %s: per-cluster with global settings %+v", o.Name, o.Scope)
		}
		return
	}
	if o.SLI.Raw != nil || o.SLI.Latency != nil && o.SLI.Latency.Native {
		t.Fatalf("objective %s: global with a %s SLI", o.Name, o.SLI.Kind())
	}
	seen := map[string]bool{o.ClusterLabel(): true}
	for _, r := range o.ReplicaLabels() {
		if seen[r] || r == "" {
			t.Fatalf("objective %s: replica label %q empty, repeated or the cluster label %q", o.Name, r, o.ClusterLabel())
		}
		seen[r] = true
	}
	for k := range o.Labels {
		if seen[k] {
			t.Fatalf("objective %s: label %s is the cluster or a replica label", o.Name, k)
		}
	}
	if o.GlobalDelay() <= 0 {
		t.Fatalf("objective %s: global delay %v", o.Name, o.GlobalDelay())
	}
}

// FuzzParseFiles feeds two files at once (the input split at its first NUL byte) to
// ParseFiles, seeded with the OpenSLO corpus, whose objects reference each other across
// files. It must never panic, and every Service it returns must hold the invariants.
func FuzzParseFiles(f *testing.F) {
	dirs, _ := filepath.Glob("testdata/openslo/*")
	pyrra, _ := filepath.Glob("testdata/pyrra/*")
	for _, d := range append(dirs, pyrra...) {
		paths, _ := filepath.Glob(filepath.Join(d, "*.yaml"))
		var parts [][]byte
		for _, p := range paths {
			data, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			parts = append(parts, data)
		}
		if len(parts) > 0 {
			f.Add(bytes.Join(parts, []byte{0}))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, b, _ := bytes.Cut(data, []byte{0})
		svcs, ds := slo.ParseFiles(slo.File{Name: "a.yaml", Data: a}, slo.File{Name: "b.yaml", Data: b})
		if len(ds.Errors()) > 0 && len(svcs) > 0 {
			files := map[string]bool{}
			for _, d := range ds.Errors() {
				files[d.File] = true
			}
			for _, s := range svcs {
				if files[s.Source] {
					t.Fatalf("service %s returned from %s, which has errors", s.Name, s.Source)
				}
			}
		}
		for _, s := range svcs {
			checkService(t, s)
			for _, o := range s.Objectives {
				if _, err := slo.RecordingRules(o); err != nil {
					t.Fatalf("validated objective %s does not generate: %v", o.Name, err)
				}
			}
		}
	})
}
