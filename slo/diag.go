package slo

import (
	"errors"
	"fmt"
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

// Err returns a *ValidationError holding the errors, or nil when there are none.
func (ds Diagnostics) Err() error {
	errs := ds.Errors()
	if len(errs) == 0 {
		return nil
	}
	return &ValidationError{Diagnostics: errs}
}

// ValidationError reports that a user's file is invalid. The CLI maps it to the
// "spec invalid" exit code.
type ValidationError struct {
	Diagnostics Diagnostics
}

func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Diagnostics))
	for i, d := range e.Diagnostics {
		lines[i] = d.String()
	}
	return strings.Join(lines, "\n")
}

// IsValidation reports whether err is or wraps a *ValidationError.
func IsValidation(err error) bool {
	var v *ValidationError
	return errors.As(err, &v)
}
