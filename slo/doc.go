// Package slo reads slokit/v1 SLO specs (and Sloth prometheus/v1 and OpenSLO v1 files),
// validates them strictly, and turns them into domain Objectives and SLI recording rules.
package slo
