package chaos

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/slokit/slokit/slo"
)

// Setup is a validated game day with everything a run needs.
type Setup struct {
	// Plan is the game day resolved against its objective.
	Plan *Plan
	// Backend is the fault backend fault.backend names.
	Backend Backend
	// Warnings of the game day and its SLO file: printed, not fatal.
	Warnings slo.Diagnostics
}

// Load reads the game day at path, loads the SLO spec it names (relative to the game
// day's directory) and prepares the plan. prometheus, when set, replaces
// signals.prometheus. Every problem of the game day and the SLO file comes back as one
// *slo.ValidationError; an unreadable game day is a plain error.
func Load(path string, backends []Backend, prometheus string) (*Setup, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the game day: %w", err)
	}
	g, ds := Parse(path, data, backends)
	if g == nil {
		return nil, ds.Err()
	}
	if prometheus != "" {
		g.Signals.Prometheus = prometheus
	}
	o, sds, err := loadObjective(path, g.SLO)
	if err != nil {
		return nil, err
	}
	backend := backendNamed(backends, g.Fault.Backend)
	var estimated float64
	if est, ok := backend.(Estimator); ok {
		if v, ok := est.ExpectedErrorRatio(g.Fault.Params); ok {
			estimated = v
		}
	}
	plan, pds := Prepare(g, o, estimated)
	ds = append(ds, pds...)
	if plan == nil {
		return nil, ds.Err()
	}
	return &Setup{Plan: plan, Backend: backend, Warnings: append(ds.Warnings(), sds.Warnings()...)}, nil
}

// loadObjective loads the SLO ref names from its spec file, relative to the game day.
func loadObjective(gameDay string, ref SLORef) (slo.Objective, slo.Diagnostics, error) {
	sloPath := ref.File
	if !filepath.IsAbs(sloPath) {
		sloPath = filepath.Join(filepath.Dir(gameDay), sloPath)
	}
	if _, err := os.Stat(sloPath); err != nil {
		return slo.Objective{}, nil, slo.Diagnostics{{File: gameDay, Path: "slo.file", Message: fmt.Sprintf("cannot read the SLO spec %s (relative paths start at the game day's directory): %v", sloPath, err)}}.Err()
	}
	services, sds := slo.LoadFiles(sloPath)
	if err := sds.Err(); err != nil {
		return slo.Objective{}, nil, err
	}
	var names []string
	for _, s := range services {
		if ref.Service != "" && s.Name != ref.Service {
			continue
		}
		for _, o := range s.Objectives {
			names = append(names, s.Name+"/"+o.Name)
			if o.Name == ref.Name {
				return o, sds, nil
			}
		}
	}
	in := ""
	if ref.Service != "" {
		in = fmt.Sprintf(" in service %q", ref.Service)
	}
	return slo.Objective{}, nil, slo.Diagnostics{{File: gameDay, Path: "slo.name", Message: fmt.Sprintf("%s has no SLO named %q%s; it has %s",
		sloPath, ref.Name, in, strings.Join(names, ", "))}}.Err()
}

func backendNamed(backends []Backend, name string) Backend {
	for _, b := range backends {
		if b.Name() == name {
			return b
		}
	}
	return nil
}
