package operator

// The operator image's Dockerfile, checked without a Docker engine (internal/testutil/
// imagetest): BuildKit's parser, the rules every slokit image keeps, the operator's own
// command and ports, and its exact go build command run to prove the binary static.

import (
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/slokit/slokit/internal/testutil/imagetest"
)

const imageDockerfile = "../Dockerfile"

var operatorImage = imagetest.Image{GoMod: "../go.mod", Package: "./cmd/slokit", Binary: "/slokit", Entrypoint: "/slokit"}

func TestImageDockerfile(t *testing.T) {
	d := imagetest.Parse(t, imageDockerfile)
	imagetest.Check(t, d, operatorImage)
	final := d.Stages[len(d.Stages)-1]
	if cmd := final.Last("cmd"); cmd == nil || !cmd.Attributes["json"] || final.LastArgs("cmd") != "operator" {
		t.Errorf(`CMD should be exec form ["operator"]`)
	}
	if exp := final.LastArgs("expose"); exp != "8080 8081" {
		t.Errorf("EXPOSE %q should list the chart's metrics and probe ports 8080 8081", exp)
	}
	uid := strings.Split(final.LastArgs("user"), ":")[0]
	for _, o := range render(t, nil) {
		if dep, ok := o.(*appsv1.Deployment); ok {
			sc := dep.Spec.Template.Spec.SecurityContext
			if sc.RunAsUser == nil {
				t.Errorf("chart sets no runAsUser, image USER %s", uid)
			} else if uid != strconv.FormatInt(*sc.RunAsUser, 10) {
				t.Errorf("chart runAsUser %d, image USER %s", *sc.RunAsUser, uid)
			}
		}
	}
}

// The build context filter keeps the history out and every Go source in.
func TestImageDockerignore(t *testing.T) {
	imagetest.Dockerignore(t, imageDockerfile, "go.mod", "go.sum", "cmd", "internal", "operator", "slo", "alerts", "chaos", "sli", "dashboards", "sample-service")
}

// TestImageBuildIsStatic runs the Dockerfile's own go build command and checks the binary
// with debug/elf: statically linked, stripped, no build paths.
func TestImageBuildIsStatic(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the slokit binary; skipped with -short")
	}
	imagetest.BuildStatic(t, imagetest.Parse(t, imageDockerfile), "..", operatorImage)
}
