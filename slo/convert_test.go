package slo_test

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/slokit/slokit/internal/golden"
	"github.com/slokit/slokit/slo"
)

// TestMarshalV1RoundTrip converts every accepted import in testdata (Sloth, OpenSLO,
// Pyrra) to slokit/v1, reads the result back and expects the same objectives, names
// aside; the converted files are golden (testdata/converted/).
func TestMarshalV1RoundTrip(t *testing.T) {
	var paths []string
	for _, pattern := range []string{"testdata/valid/*.yaml", "testdata/openslo/*", "testdata/pyrra/*", "../examples/*.yaml"} {
		m, _ := filepath.Glob(pattern)
		paths = append(paths, m...)
	}
	for _, p := range paths {
		if filepath.Ext(p) == ".golden" {
			continue
		}
		svcs, ds := slo.LoadFiles(p)
		if ds.Err() != nil {
			continue
		}
		var all []byte
		for _, s := range svcs {
			data, err := slo.MarshalV1(s)
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			again, ds := slo.Parse("converted.yaml", data)
			if ds.Err() != nil {
				t.Fatalf("%s: the converted spec does not load:\n%v\n%s", p, ds.Err(), data)
			}
			if len(again.Objectives) != len(s.Objectives) {
				t.Fatalf("%s: %d objectives back, want %d", p, len(again.Objectives), len(s.Objectives))
			}
			for i, o := range s.Objectives {
				got := again.Objectives[i]
				o.Service, o.Name, got.Service, got.Name = "", "", "", ""
				if len(o.Alerting.Windows) > 0 {
					o.Alerting.Windows = o.Windows() // written raised to four scrapes
				}
				if !reflect.DeepEqual(got, o) {
					t.Errorf("%s: objective %d differs after conversion:\n got %+v\nwant %+v", p, i, got, o)
				}
			}
			all = append(all, data...)
		}
		name := strings.TrimSuffix(filepath.Base(p), filepath.Ext(p))
		golden.Check(t, filepath.Join("testdata", "converted", filepath.Base(filepath.Dir(p))+"-"+name+".yaml"), all)
	}
}

func TestV1Name(t *testing.T) {
	for in, want := range map[string]string{"redirect-latency": "redirect-latency", "TestSLO": "testslo", "api_errors.v2": "api-errors-v2"} {
		if got := slo.V1Name(in); got != want {
			t.Errorf("V1Name(%q) = %q, want %q", in, got, want)
		}
	}
}
