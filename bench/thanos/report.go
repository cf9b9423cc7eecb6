package main

import (
	"fmt"
	"io"
	"time"
)

// report prints both phases as a Markdown table, per SLO and per evaluation round.
func report(w io.Writer, o options, res []phaseResult) {
	fmt.Fprintf(w, "\n%d SLOs, %d clusters, %d raw series per SLO per cluster, %s of raw history, %s scrape and evaluation, measured %s per mode (%s)\n\n",
		o.slos, o.clusters, 2*o.pods, o.history, o.interval, o.measure, time.Now().UTC().Format("2006-01-02"))
	fmt.Fprintln(w, "| mode | evaluators | rules/SLO | rule eval time per SLO per round (ms) | CPU per SLO per round, all components (ms) | Prometheus | sidecars | Query | Ruler | load average |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
	n := float64(o.slos)
	for _, r := range res {
		total := 0.0
		for _, v := range r.cpuPerRound {
			total += v
		}
		ms := func(k string) string { return fmt.Sprintf("%.2f", 1000*r.cpuPerRound[k]/n) }
		fmt.Fprintf(w, "| %s | %d | %.0f | %.2f | %.2f | %s | %s | %s | %s | %s |\n", r.mode, r.evaluators, r.rulesPerSLO,
			1000*r.evalSeconds/n, 1000*total/n, ms("prometheus"), ms("sidecar"), ms("query"), ms("ruler"), r.load)
	}
	if len(res) == 2 && res[0].evalSeconds > 0 {
		fmt.Fprintf(w, "\nglobal / per-cluster: rule eval time %.2f×, CPU of all components %.2f× (median of %d and %d rounds)\n",
			res[1].evalSeconds/res[0].evalSeconds, sum(res[1].cpuPerRound)/sum(res[0].cpuPerRound), res[0].rounds, res[1].rounds)
	}
}

func sum(m map[string]float64) float64 {
	t := 0.0
	for _, v := range m {
		t += v
	}
	return t
}
