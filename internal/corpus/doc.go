// Package corpus holds the tests that read other tools' real SLO files (Sloth's and
// Pyrra's examples and fixtures, from their Go modules in the module cache) and record,
// per file, whether slokit accepts it and whether its alerts match the tool's own.
package corpus
