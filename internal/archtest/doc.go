// Package archtest holds the test that enforces the import rules of docs/architecture.md:
// which slokit package may import which, and which packages must never pull in the
// Kubernetes or tracing stacks. It has no non-test code.
package archtest
