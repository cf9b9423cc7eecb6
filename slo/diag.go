package slo

import "github.com/slokit/slokit/internal/strictyaml"

// The diagnostics of every file slokit reads share one type and one style, defined by
// the strict YAML decoder (internal/strictyaml) and re-exported here for slo's callers.

// Diagnostic is one problem found in a user's file, with its position: File, Line and
// Col (1-based; 0 when unknown), Path (the field path, like "slos[1].objective"),
// Message, Warning (a problem that does not stop generation) and Err (the I/O error when
// the file could not be read at all). String renders "file:line:col: path: message".
type Diagnostic = strictyaml.Diagnostic

// Diagnostics is every problem found in one or more files, in file order. Err returns
// nil without errors, a *ReadError when a file could not be read, and a
// *ValidationError otherwise.
type Diagnostics = strictyaml.Diagnostics

// ValidationError reports that a user's file is invalid. The CLI maps it to the "spec
// invalid" exit code.
type ValidationError = strictyaml.ValidationError

// ReadError reports that at least one file could not be read; it unwraps to the I/O
// errors, so errors.Is(err, fs.ErrNotExist) tells a missing file.
type ReadError = strictyaml.ReadError

// IsValidation reports whether err is or wraps a *ValidationError.
func IsValidation(err error) bool { return strictyaml.IsValidation(err) }
