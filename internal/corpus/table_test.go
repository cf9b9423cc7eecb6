package corpus

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/slo"
)

// Pinned corpora: the versions .ci/run downloads.
const (
	slothModule, slothVersion = "github.com/slok/sloth", "v0.16.0"
	pyrraModule, pyrraVersion = "github.com/pyrra-dev/pyrra", "v0.10.1"
)

// entry is one row of an accept table: one file (or directory) as a user would pass it.
type entry struct {
	rel      string // path relative to the module root
	services []*slo.Service
	errs     slo.Diagnostics
	warns    slo.Diagnostics
}

// load reads rel (a file or directory under root) the way `slokit validate` does, and
// checks that whatever is accepted also generates rules.
func load(root, rel string) entry {
	svcs, ds := slo.LoadFiles(filepath.Join(root, rel))
	e := entry{rel: rel, services: svcs, errs: ds.Errors(), warns: ds.Warnings()}
	if len(e.errs) == 0 {
		if _, err := alerts.RuleFile(svcs, alerts.Options{}); err != nil {
			e.errs = append(e.errs, slo.Diagnostic{File: rel, Message: "generate: " + err.Error()})
		}
	}
	return e
}

// row renders an entry: "rel  accepted  N services, M SLOs" or "rel  refused  first
// error (and how many more)".
func (e entry) row(root string) string {
	if len(e.errs) == 0 {
		n := 0
		for _, s := range e.services {
			n += len(s.Objectives)
		}
		return fmt.Sprintf("%s\taccepted\t%d service(s), %d SLO(s), %d warning(s)", e.rel, len(e.services), n, len(e.warns))
	}
	// Paths relative to the module root: the golden must not depend on GOMODCACHE.
	first := strings.ReplaceAll(e.errs[0].String(), root+string(filepath.Separator), "")
	more := ""
	if len(e.errs) > 1 {
		more = fmt.Sprintf(" (+%d more)", len(e.errs)-1)
	}
	return fmt.Sprintf("%s\trefused\t%s%s", e.rel, first, more)
}

// yamlFiles lists the *.yaml and *.yml files under root/dir, relative to root, skipping
// directories for which skip returns true.
func yamlFiles(t *testing.T, root, dir string, skip func(rel string) bool) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(filepath.Join(root, dir), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			if skip(rel) {
				return filepath.SkipDir
			}
			return nil
		}
		if ext := filepath.Ext(p); ext == ".yaml" || ext == ".yml" {
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func sortStrings(s []string) { sort.Strings(s) }
