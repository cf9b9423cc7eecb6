// Package archtest holds the tests that enforce the rules of docs/architecture.md:
// which slokit package may import which, which packages must never pull in the
// Kubernetes or tracing stacks, and that no function in non-test code exceeds 80
// lines. It has no non-test code.
package archtest
