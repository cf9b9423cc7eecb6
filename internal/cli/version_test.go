package cli

import (
	"bytes"
	"runtime/debug"
	"testing"
)

func TestReadBuildInfo(t *testing.T) {
	vcs := []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
		{Key: "vcs.time", Value: "2026-12-04T22:00:00Z"},
		{Key: "vcs.modified", Value: "true"},
	}
	tests := []struct {
		name            string
		bi              *debug.BuildInfo
		version, commit string
		want            buildInfo
	}{{
		name: "go install of a tag",
		bi:   &debug.BuildInfo{GoVersion: "go1.26.7", Main: debug.Module{Path: "github.com/slokit/slokit", Version: "v1.2.3"}},
		want: buildInfo{Version: "v1.2.3", Module: "github.com/slokit/slokit", Go: "go1.26.7"},
	}, {
		name: "go install of a branch: the commit comes from the pseudo-version",
		bi:   &debug.BuildInfo{GoVersion: "go1.26.7", Main: debug.Module{Path: "github.com/slokit/slokit", Version: "v0.0.0-20261204221000-0123456789ab"}},
		want: buildInfo{Version: "v0.0.0-20261204221000-0123456789ab", Commit: "0123456789ab", Module: "github.com/slokit/slokit", Go: "go1.26.7"},
	}, {
		name: "go build in a checkout",
		bi:   &debug.BuildInfo{GoVersion: "go1.26.7", Main: debug.Module{Path: "github.com/slokit/slokit", Version: "(devel)"}, Settings: vcs},
		want: buildInfo{Version: "dev", Commit: "0123456789abcdef0123456789abcdef01234567", Time: "2026-12-04T22:00:00Z", Modified: true, Module: "github.com/slokit/slokit", Go: "go1.26.7"},
	}, {
		name:    "make build: ldflags win",
		bi:      &debug.BuildInfo{GoVersion: "go1.26.7", Main: debug.Module{Path: "github.com/slokit/slokit", Version: "(devel)"}, Settings: vcs},
		version: "v1.2.3-4-gabc", commit: "abc",
		want: buildInfo{Version: "v1.2.3-4-gabc", Commit: "abc", Time: "2026-12-04T22:00:00Z", Modified: true, Module: "github.com/slokit/slokit", Go: "go1.26.7"},
	}, {
		name: "no build information",
		want: buildInfo{Version: "dev"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := readBuildInfo(tt.bi, tt.version, tt.commit)
			got.Platform = ""
			if tt.bi == nil {
				got.Go = ""
			}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestVersionText(t *testing.T) {
	var b bytes.Buffer
	info := buildInfo{Version: "v1.2.3", Commit: "0123456789ab", Time: "2026-12-04T22:00:00Z", Module: "github.com/slokit/slokit", Go: "go1.26.7", Platform: "linux/amd64"}
	if err := info.write(&b); err != nil {
		t.Fatal(err)
	}
	want := `slokit v1.2.3
  commit  0123456789ab, 2026-12-04T22:00:00Z
  module  github.com/slokit/slokit
  go      go1.26.7 linux/amd64
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	info.NoKube = true
	if err := info.write(&b); err != nil {
		t.Fatal(err)
	}
	if want += "  build   -tags slokit_nok8s: without apply, operator, chaos rbac and the chaosmesh backend\n"; b.String() != want {
		t.Errorf("without Kubernetes: got\n%s\nwant\n%s", b.String(), want)
	}
}
