package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/slokit/slokit/slo"
)

// JournalEntry records one run's fault before it is injected, with what is needed to
// remove it again from another process.
type JournalEntry struct {
	RunID     string    `json:"runId"`
	GameDay   string    `json:"gameDay"`
	File      string    `json:"file,omitempty"`
	Backend   string    `json:"backend"`
	Params    string    `json:"params"` // the fault's params node, as YAML
	PID       int       `json:"pid"`
	StartedAt time.Time `json:"startedAt"`
}

// NewJournalEntry builds the entry for a game day's fault.
func NewJournalEntry(g *GameDay) (JournalEntry, error) {
	return JournalEntry{GameDay: g.Name, File: g.Source, Backend: g.Fault.Backend, PID: os.Getpid(), Params: g.Fault.ParamsYAML}, nil
}

// ParamsNode decodes Params back into a node for Backend.New.
func (e JournalEntry) ParamsNode() (*yaml.Node, error) {
	var doc yaml.Node
	if strings.TrimSpace(e.Params) == "" {
		return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}, nil
	}
	if err := yaml.Unmarshal([]byte(e.Params), &doc); err != nil {
		return nil, err
	}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		return doc.Content[0], nil
	}
	return &doc, nil
}

// Journal is a directory of run entries, one JSON file per run in flight.
type Journal struct {
	Dir string
}

// DefaultJournalDir is $XDG_STATE_HOME/slokit/runs, or ~/.local/state/slokit/runs.
func DefaultJournalDir() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "slokit", "runs"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("finding the journal directory: set XDG_STATE_HOME or --journal-dir: %w", err)
	}
	return filepath.Join(home, ".local", "state", "slokit", "runs"), nil
}

func (j *Journal) path(runID string) string { return filepath.Join(j.Dir, runID+".json") }

// Write records e atomically (written to a temporary file, synced, renamed).
func (j *Journal) Write(e JournalEntry) error {
	if e.RunID == "" || strings.ContainsAny(e.RunID, `/\`) {
		return fmt.Errorf("invalid run ID %q", e.RunID)
	}
	if err := os.MkdirAll(j.Dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(j.Dir, ".tmp-"+e.RunID+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), j.path(e.RunID))
}

// Delete removes the entry of runID; a missing entry is not an error.
func (j *Journal) Delete(runID string) error {
	err := os.Remove(j.path(runID))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// List returns every entry, oldest first. A missing directory holds no entries. Files
// are read one by one: one that cannot be read or is not a run journal is reported in
// bad (with why) and skipped, so that one stray file never hides the others.
func (j *Journal) List() (entries []JournalEntry, bad []BadEntry) {
	names, _ := filepath.Glob(filepath.Join(j.Dir, "*.json"))
	for _, n := range names {
		e, err := readEntry(n)
		if err != nil {
			bad = append(bad, BadEntry{File: n, Err: err.Error()})
			continue
		}
		entries = append(entries, e)
	}
	sort.Slice(entries, func(a, b int) bool { return entries[a].StartedAt.Before(entries[b].StartedAt) })
	return entries, bad
}

// BadEntry is a file in the journal directory that is not a readable run journal.
type BadEntry struct {
	File string `json:"file"`
	Err  string `json:"error"`
}

func readEntry(path string) (JournalEntry, error) {
	var e JournalEntry
	b, err := os.ReadFile(path)
	if err != nil {
		return e, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return e, fmt.Errorf("not a slokit run journal: %w", err)
	}
	if e.RunID == "" || e.Backend == "" {
		return e, errors.New("not a slokit run journal: no runId or backend")
	}
	if filepath.Base(path) != e.RunID+".json" {
		return e, fmt.Errorf("not a slokit run journal: it names run %q", e.RunID)
	}
	return e, nil
}

// Lock takes the lock of objective o in the journal directory for runID: one run per SLO
// at a time, since a second run's alerts and burn rates would be credited to the first.
// The lock is an flock on <dir>/<service>-<slo>.lock, so the kernel drops it when its
// process dies however it dies. unlock releases it.
func (j *Journal) Lock(o slo.Objective, runID string) (unlock func(), err error) {
	if err := os.MkdirAll(j.Dir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(j.Dir, o.ID()+".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("locking %s: %w", o.ID(), err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		return nil, fmt.Errorf("another game day runs on %s (%s); one run per SLO at a time, or its alerts would be credited to this run (lock %s)",
			o.ID(), strings.TrimSpace(string(holder)), path)
	}
	_ = f.Truncate(0)
	_, _ = fmt.Fprintf(f, "run %s, pid %d, since %s\n", runID, os.Getpid(), time.Now().UTC().Format(time.RFC3339))
	return func() {
		_ = f.Truncate(0)
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// CleanupResult is what Cleanup did for one journal entry or sweep.
type CleanupResult struct {
	RunID   string   `json:"runId"`
	GameDay string   `json:"gameDay,omitempty"`
	Backend string   `json:"backend"`
	Removed []string `json:"removed,omitempty"`
	// Skipped explains why an entry was left alone (its run is still alive).
	Skipped string `json:"skipped,omitempty"`
	Error   string `json:"error,omitempty"`
	// File is set for a file of the journal directory that is not a run journal.
	File string `json:"file,omitempty"`
}

// CleanupOptions tunes Cleanup.
type CleanupOptions struct {
	// RunID limits the cleanup to one run; "" cleans every entry.
	RunID string
	// Force cleans entries whose process is still running.
	Force bool
	// Sweep also asks every Sweeper backend to remove leftovers of all slokit runs,
	// journalled or not (runID "").
	Sweep bool
}

// Cleanup removes faults that runs left behind: for each journal entry whose process
// is gone, it re-creates the injector from the recorded parameters and removes it, asks
// the backend's Sweeper (when it has one) for the run's leftovers, and deletes the entry
// once both succeeded.
func Cleanup(ctx context.Context, j *Journal, backends []Backend, opt CleanupOptions) ([]CleanupResult, error) {
	entries, bad := j.List()
	byName := map[string]Backend{}
	for _, b := range backends {
		byName[b.Name()] = b
	}
	var out []CleanupResult
	var errs []error
	for _, b := range bad {
		out = append(out, CleanupResult{File: b.File, Skipped: b.Err + "; skipped (remove it if it is not yours)"})
	}
	for _, e := range entries {
		if opt.RunID != "" && e.RunID != opt.RunID {
			continue
		}
		cr := CleanupResult{RunID: e.RunID, GameDay: e.GameDay, Backend: e.Backend}
		if !opt.Force && e.PID != os.Getpid() && processAlive(e.PID) {
			cr.Skipped = fmt.Sprintf("process %d of this run is still running; stop it (it removes its own fault) or use --force", e.PID)
			out = append(out, cr)
			continue
		}
		if err := cleanupEntry(ctx, e, byName[e.Backend], &cr); err != nil {
			cr.Error = err.Error()
			errs = append(errs, fmt.Errorf("run %s: %w", e.RunID, err))
		} else if err := j.Delete(e.RunID); err != nil {
			errs = append(errs, err)
		}
		out = append(out, cr)
	}
	if opt.Sweep {
		for _, b := range backends {
			sw, ok := b.(Sweeper)
			if !ok {
				continue
			}
			removed, err := sw.Sweep(ctx, opt.RunID)
			cr := CleanupResult{RunID: opt.RunID, Backend: b.Name(), Removed: removed}
			if err != nil {
				cr.Error = err.Error()
				errs = append(errs, fmt.Errorf("sweeping %s: %w", b.Name(), err))
			}
			out = append(out, cr)
		}
	}
	return out, errors.Join(errs...)
}

func cleanupEntry(ctx context.Context, e JournalEntry, b Backend, cr *CleanupResult) error {
	if b == nil {
		return fmt.Errorf("backend %q is not built into this slokit; remove the fault by hand and delete the journal entry", e.Backend)
	}
	node, err := e.ParamsNode()
	if err != nil {
		return fmt.Errorf("journal params: %w", err)
	}
	params, ds := b.Parse("", node)
	if err := ds.Err(); err != nil {
		return fmt.Errorf("journal params: %w", err)
	}
	inj, err := b.New(params, Run{ID: e.RunID, GameDay: e.GameDay})
	if err != nil {
		return fmt.Errorf("re-creating the %s injector: %w", e.Backend, err)
	}
	if err := inj.Remove(ctx); err != nil {
		return fmt.Errorf("removing the %s fault: %w", e.Backend, err)
	}
	cr.Removed = append(cr.Removed, e.Backend+" fault of run "+e.RunID)
	if c, ok := inj.(io.Closer); ok {
		// What the run would have stopped at its end: a command it started, a state file.
		if err := c.Close(); err != nil {
			return fmt.Errorf("stopping what the %s backend started: %w", e.Backend, err)
		}
	}
	if sw, ok := b.(Sweeper); ok {
		removed, err := sw.Sweep(ctx, e.RunID)
		cr.Removed = append(cr.Removed, removed...)
		if err != nil {
			return fmt.Errorf("sweeping run %s: %w", e.RunID, err)
		}
	}
	return nil
}

// processAlive reports whether a process with pid exists (signal 0 probe).
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}
