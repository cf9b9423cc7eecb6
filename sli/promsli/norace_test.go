//go:build !race

package promsli_test

const raceEnabled = false
