package cli

import (
	"fmt"
	"io"
	"regexp"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Version and Commit may be set at build time (make build, make install, goreleaser):
//
//	-ldflags "-X github.com/slokit/slokit/internal/cli.Version=v1.2.3 -X github.com/slokit/slokit/internal/cli.Commit=abc123"
//
// When empty, `slokit version` reads them from the build information the Go toolchain
// embeds: the module version for `go install …@v1.2.3` and the VCS revision for a build
// inside a git checkout.
var (
	Version string
	Commit  string
)

// buildInfo is what `slokit version` prints.
type buildInfo struct {
	Version  string // v1.2.3, a pseudo-version, or "dev"
	Commit   string // full VCS revision, or its 12-character prefix from a pseudo-version; "" if unknown
	Time     string // commit time (RFC 3339), "" if unknown
	Modified bool   // built from a work tree with uncommitted changes
	Module   string // the main module's path
	Go       string // the toolchain, like go1.26.7
	Platform string // GOOS/GOARCH
	NoKube   bool   // built with -tags slokit_nok8s
}

// pseudoRev matches the revision at the end of a pseudo-version such as
// v0.0.0-20261204221000-0123456789ab.
var pseudoRev = regexp.MustCompile(`[.-]\d{14}-([0-9a-f]{12})(\+incompatible)?$`)

// readBuildInfo combines the ldflags values with the toolchain's build information;
// bi may be nil (a binary built without module support).
func readBuildInfo(bi *debug.BuildInfo, version, commit string) buildInfo {
	out := buildInfo{Version: version, Commit: commit, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi == nil {
		if out.Version == "" {
			out.Version = "dev"
		}
		return out
	}
	out.Module, out.Go = bi.Main.Path, bi.GoVersion
	if out.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		out.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			if out.Commit == "" {
				out.Commit = s.Value
			}
		case "vcs.time":
			out.Time = s.Value
		case "vcs.modified":
			out.Modified = s.Value == "true"
		}
	}
	if out.Commit == "" {
		if m := pseudoRev.FindStringSubmatch(out.Version); m != nil {
			out.Commit = m[1]
		}
	}
	if out.Version == "" {
		out.Version = "dev"
	}
	return out
}

func (b buildInfo) write(w io.Writer) error {
	commit := b.Commit
	if commit == "" {
		commit = "unknown"
	}
	if b.Time != "" {
		commit += ", " + b.Time
	}
	if b.Modified {
		commit += ", modified"
	}
	if _, err := fmt.Fprintf(w, "slokit %s\n  commit  %s\n  module  %s\n  go      %s %s\n", b.Version, commit, b.Module, b.Go, b.Platform); err != nil {
		return err
	}
	if b.NoKube {
		_, err := fmt.Fprintln(w, "  build   -tags slokit_nok8s: without apply, operator, chaos rbac and the chaosmesh backend")
		return err
	}
	return nil
}

func newVersionCmd(e *env) *cobra.Command {
	var short bool
	cmd := &cobra.Command{
		Use:   "version [--short]",
		Short: "Print slokit's version, commit and Go toolchain",
		Long: `version prints the module version (a release tag, or a pseudo-version for
'go install …@main'), the VCS commit it was built from, and the Go toolchain.`,
		Example: `  slokit version
  slokit version --short`,
		Args: noArgs,
		RunE: func(*cobra.Command, []string) error {
			bi, _ := debug.ReadBuildInfo()
			info := readBuildInfo(bi, Version, Commit)
			info.NoKube = !kubeBuilt
			if short {
				_, err := fmt.Fprintln(e.stdout, info.Version)
				return err
			}
			return info.write(e.stdout)
		},
	}
	cmd.Flags().BoolVar(&short, "short", false, "print the version alone")
	return cmd
}
