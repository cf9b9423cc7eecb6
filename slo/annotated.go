package slo

import _ "embed" // AnnotatedSpec

// AnnotatedSpec is a slokit/v1 spec using every field, each commented with its meaning
// and default: the example of this package's documentation, printed by
// `slokit help spec`. A test keeps it and the package documentation identical and
// checks that it validates.
//
//go:embed annotated.yaml
var AnnotatedSpec string
