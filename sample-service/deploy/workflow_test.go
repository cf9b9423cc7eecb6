package deploy

import (
	"bytes"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
	"go.yaml.in/yaml/v3"
)

const workflowPath = "../../.github/workflows/shortlink.yml"

// TestWorkflowActionlint lints the workflow with actionlint (syntax, expressions, job
// needs, action inputs, permissions); with shellcheck on PATH its run: scripts too.
func TestWorkflowActionlint(t *testing.T) {
	var out bytes.Buffer
	opts := &actionlint.LinterOptions{Color: actionlint.ColorOptionKindNever, Oneline: true}
	if p, err := exec.LookPath("shellcheck"); err == nil {
		opts.Shellcheck = p
	} else {
		t.Log("shellcheck not on PATH: run: scripts are not shell-checked")
	}
	l, err := actionlint.NewLinter(&out, opts)
	if err != nil {
		t.Fatal(err)
	}
	errs, err := l.LintFile(workflowPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range errs {
		t.Errorf("actionlint: %s:%d:%d: %s [%s]", workflowPath, e.Line, e.Column, e.Message, e.Kind)
	}
}

// TestWorkflowPipeline checks the pipeline's shape: test → image (build, Trivy scan that
// fails the job, push only on push events) → deploy with helm upgrade, main only.
func TestWorkflowPipeline(t *testing.T) {
	b, err := os.ReadFile(workflowPath)
	if err != nil {
		t.Fatal(err)
	}
	type step struct {
		Name string            `yaml:"name"`
		ID   string            `yaml:"id"`
		Uses string            `yaml:"uses"`
		Run  string            `yaml:"run"`
		If   string            `yaml:"if"`
		With map[string]string `yaml:"with"`
	}
	var wf struct {
		Permissions map[string]string `yaml:"permissions"`
		Jobs        map[string]struct {
			Needs any    `yaml:"needs"`
			If    string `yaml:"if"`
			Steps []step `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(b, &wf); err != nil {
		t.Fatal(err)
	}
	if wf.Permissions["contents"] != "read" || len(wf.Permissions) != 1 {
		t.Errorf("top-level permissions %v, want only contents: read", wf.Permissions)
	}
	find := func(job string, match func(step) bool) (int, step) {
		for i, s := range wf.Jobs[job].Steps {
			if match(s) {
				return i, s
			}
		}
		return -1, step{}
	}
	uses := func(prefix string) func(step) bool {
		return func(s step) bool { return strings.HasPrefix(s.Uses, prefix) }
	}

	if i, _ := find("test", func(s step) bool { return strings.Contains(s.Run, "go test") }); i < 0 {
		t.Error("job test does not run go test")
	}
	if wf.Jobs["image"].Needs != "test" || wf.Jobs["deploy"].Needs != "image" {
		t.Errorf("needs: image ← %v, deploy ← %v; want test → image → deploy", wf.Jobs["image"].Needs, wf.Jobs["deploy"].Needs)
	}
	build, bs := find("image", func(s step) bool {
		return strings.HasPrefix(s.Uses, "docker/build-push-action") && s.With["load"] == "true"
	})
	scan, ss := find("image", uses("aquasecurity/trivy-action"))
	push, ps := find("image", func(s step) bool {
		return strings.HasPrefix(s.Uses, "docker/build-push-action") && s.With["push"] == "true"
	})
	switch {
	case build < 0 || scan < 0 || push < 0:
		t.Fatalf("image job steps: build %d, scan %d, push %d; want all three", build, scan, push)
	case !(build < scan && scan < push):
		t.Errorf("image job order build %d, scan %d, push %d; want build → scan → push", build, scan, push)
	}
	if bs.With["file"] != "sample-service/Dockerfile" || ps.With["file"] != "sample-service/Dockerfile" {
		t.Errorf("images are not built from sample-service/Dockerfile")
	}
	if ss.With["exit-code"] != "1" || !strings.Contains(ss.With["severity"], "CRITICAL") || ss.With["image-ref"] != bs.With["tags"] {
		t.Errorf("Trivy step %v: want it to scan the built image and fail (exit-code 1) on CRITICAL findings", ss.With)
	}
	if !strings.Contains(ps.If, "push") {
		t.Errorf("push step runs on %q; want push events only (not pull requests)", ps.If)
	}
	if !strings.Contains(wf.Jobs["deploy"].If, "refs/heads/main") {
		t.Errorf("deploy runs if %q; want main only", wf.Jobs["deploy"].If)
	}
	_, hs := find("deploy", func(s step) bool { return strings.Contains(s.Run, "helm upgrade") })
	for _, want := range []string{"--install", "sample-service/deploy/helm/shortlink", "--atomic", "--wait", "image.digest"} {
		if !strings.Contains(hs.Run, want) {
			t.Errorf("helm upgrade step lacks %s:\n%s", want, hs.Run)
		}
	}
	// Secrets and untrusted context never expand inside run: scripts (script injection).
	for name, j := range wf.Jobs {
		for _, s := range j.Steps {
			if strings.Contains(s.Run, "${{") {
				t.Errorf("job %s step %q expands ${{ }} inside run:; pass it through env:", name, s.Name)
			}
		}
	}
	if !slices.ContainsFunc(wf.Jobs["deploy"].Steps, uses("azure/setup-helm")) {
		t.Error("deploy job does not install helm")
	}
}
