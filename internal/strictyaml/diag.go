package strictyaml

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Diagnostic is one problem found in a user's file, with its position.
type Diagnostic struct {
	File string
	Line int // 1-based; 0 when unknown
	Col  int // 1-based; 0 when unknown
	// Path is the field path inside the document, like "slos[1].objective".
	Path    string
	Message string
	// Warning marks a problem that does not stop generation.
	Warning bool
	// Err is the I/O error when the file could not be read at all, nil otherwise. Such a
	// diagnostic is about the machine, not the file's content: it makes Diagnostics.Err
	// a *ReadError instead of a *ValidationError.
	Err error
}

// String renders "file:line:col: path: message" ("warning: " precedes warnings' message).
func (d Diagnostic) String() string {
	var b strings.Builder
	b.WriteString(d.File)
	if d.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", d.Line, d.Col)
	}
	b.WriteString(": ")
	if d.Path != "" {
		b.WriteString(d.Path)
		b.WriteString(": ")
	}
	if d.Warning {
		b.WriteString("warning: ")
	}
	b.WriteString(d.Message)
	return b.String()
}

// Diagnostics is every problem found in one or more files, in file order.
type Diagnostics []Diagnostic

// Errors returns the diagnostics that are not warnings.
func (ds Diagnostics) Errors() Diagnostics { return ds.filter(false) }

// Warnings returns the diagnostics that are warnings.
func (ds Diagnostics) Warnings() Diagnostics { return ds.filter(true) }

func (ds Diagnostics) filter(warn bool) Diagnostics {
	var out Diagnostics
	for _, d := range ds {
		if d.Warning == warn {
			out = append(out, d)
		}
	}
	return out
}

// Err returns nil when there are no errors, a *ReadError holding every error when a
// file could not be read (a Diagnostic with Err set), and a *ValidationError holding the
// errors otherwise.
func (ds Diagnostics) Err() error {
	errs := ds.Errors()
	if len(errs) == 0 {
		return nil
	}
	for _, d := range errs {
		if d.Err != nil {
			return &ReadError{Diagnostics: errs}
		}
	}
	return &ValidationError{Diagnostics: errs}
}

// render joins the diagnostics' strings, one a line.
func (ds Diagnostics) render() string {
	lines := make([]string, len(ds))
	for i, d := range ds {
		lines[i] = d.String()
	}
	return strings.Join(lines, "\n")
}

// ValidationError reports that a user's file is invalid. The CLI maps it to the
// "spec invalid" exit code.
type ValidationError struct {
	Diagnostics Diagnostics
}

func (e *ValidationError) Error() string { return e.Diagnostics.render() }

// ReadError reports that at least one file could not be read. It holds every error
// found, those of the files that were read too, and is not a validation error: the CLI
// maps it to the plain error exit code. It unwraps to the I/O errors, so
// errors.Is(err, fs.ErrNotExist) tells a missing file.
type ReadError struct {
	Diagnostics Diagnostics
}

func (e *ReadError) Error() string { return e.Diagnostics.render() }

// Unwrap returns the I/O errors behind the diagnostics.
func (e *ReadError) Unwrap() []error {
	var errs []error
	for _, d := range e.Diagnostics {
		if d.Err != nil {
			errs = append(errs, d.Err)
		}
	}
	return errs
}

// IsValidation reports whether err is or wraps a *ValidationError.
func IsValidation(err error) bool {
	var v *ValidationError
	return errors.As(err, &v)
}

// Sort puts diagnostics in reading order: by file (position-less diagnostics of a file
// first), then line, then column, keeping the order in which they were found for equal
// positions. Files keep the order in which they first appear.
func (ds Diagnostics) Sort() {
	rank := map[string]int{}
	for _, d := range ds {
		if _, ok := rank[d.File]; !ok {
			rank[d.File] = len(rank)
		}
	}
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i], ds[j]
		if a.File != b.File {
			return rank[a.File] < rank[b.File]
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}
