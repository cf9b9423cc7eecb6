package deploy

// The shortlink image's Dockerfile, checked without a Docker engine (internal/testutil/
// imagetest): BuildKit's parser, the rules every slokit image keeps, the service's command
// and store, and its exact go build command run to prove the binary static.

import (
	"slices"
	"strings"
	"testing"

	"github.com/slokit/slokit/internal/testutil/imagetest"
)

const dockerfilePath = "../Dockerfile"

var shortlinkImage = imagetest.Image{GoMod: "../../go.mod", Package: "./sample-service/cmd/shortlink", Binary: "/shortlink", Entrypoint: "/shortlink"}

func TestDockerfile(t *testing.T) {
	d := imagetest.Parse(t, dockerfilePath)
	imagetest.Check(t, d, shortlinkImage)
	final := d.Stages[len(d.Stages)-1]
	if cmd := final.Last("cmd"); cmd == nil || !cmd.Attributes["json"] || !strings.Contains(final.LastArgs("cmd"), "-db /data/") {
		t.Errorf("CMD %q, want exec form with the store under /data", final.LastArgs("cmd"))
	}
}

// TestDockerignore: the context filter BuildKit reads for this Dockerfile keeps the
// repository's history and local stores out of the image build, and the sources in.
func TestDockerignore(t *testing.T) {
	rules := imagetest.Dockerignore(t, dockerfilePath, "go.mod", "go.sum", "sli", "sample-service", "sample-service/cmd", "sample-service/shortlink")
	if !slices.Contains(rules, "**/*.db") {
		t.Error("dockerignore lacks **/*.db")
	}
}

// TestDockerfileBuildIsStaticAndStripped runs the Dockerfile's own go build command (no
// Docker engine needed) and checks the binary: statically linked, no symbol table, no
// paths of the build machine.
func TestDockerfileBuildIsStaticAndStripped(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the service binary; skipped with -short")
	}
	imagetest.BuildStatic(t, imagetest.Parse(t, dockerfilePath), "../..", shortlinkImage)
}
