// Package throughput holds the smoke test of run.sh, the wrk benchmark comparing the
// shortlink service's throughput with and without sli instrumentation.
package throughput
