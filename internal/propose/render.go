package propose

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/slokit/slokit/slo"
)

// Proposal is one proposed spec file: one service.
type Proposal struct {
	// Service is the slokit service name; File the suggested file name, <service>.yaml.
	Service, File string
	// Data is the slokit/v1 YAML, comments included; it passes slo.Parse.
	Data []byte
	// SLOs counts the SLOs in it. With none, Data is nil and Skipped says why.
	SLOs    int
	Skipped []string
}

// Request is what Propose reads.
type Request struct {
	// URL is the Prometheus the metrics come from, named in the file's header.
	URL string
	// Window is how much history to judge objectives on (7 days if zero).
	Window time.Duration
	// Now is the end of the window (time.Now if zero).
	Now time.Time
	// Services, when set, keeps only these slokit service names.
	Services []string
	Options  Options
}

// item is one discovered convention of a service with its history and choices.
type item struct {
	found        Found
	hist         History
	avail, laten Choice
}

// Propose discovers p's request metrics and returns one proposal per service, sorted by
// service name. No services found is not an error: the result is empty.
func Propose(ctx context.Context, p Prometheus, req Request) ([]Proposal, error) {
	if req.Window <= 0 {
		req.Window = 7 * 24 * time.Hour
	}
	if req.Now.IsZero() {
		req.Now = time.Now()
	}
	found, err := Discover(ctx, p, Conventions(), req.Now.Add(-req.Window), req.Now)
	if err != nil {
		return nil, err
	}
	byService := map[string][]item{}
	for _, f := range found {
		name := serviceName(f.Service)
		if len(req.Services) > 0 && !contains(req.Services, name) {
			continue
		}
		h, err := ReadHistory(ctx, p, f, req.Window, req.Now)
		if err != nil {
			return nil, fmt.Errorf("%s service %s: %w", f.Convention.Name, f.Service, err)
		}
		it := item{found: f, hist: h, avail: ChooseAvailability(h, req.Options)}
		if f.Histogram {
			it.laten = ChooseLatency(h, req.Options)
		}
		byService[name] = append(byService[name], it)
	}
	names := make([]string, 0, len(byService))
	for n := range byService {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]Proposal, 0, len(names))
	for _, n := range names {
		pr, err := render(req, n, byService[n])
		if err != nil {
			return nil, err
		}
		out = append(out, pr)
	}
	return out, nil
}

// serviceName turns a label value into a slokit service name.
func serviceName(v string) string { return slo.SuggestName(v) }

// render writes one service's spec and checks that slo accepts it.
func render(req Request, service string, items []item) (Proposal, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "# slokit/v1 SLOs for %s, proposed by `slokit init` from %s\n", service, req.URL)
	fmt.Fprintf(&b, "# on %s, judged on the last %s of history.\n", req.Now.UTC().Format("2006-01-02 15:04 MST"), days(req.Window))
	b.WriteString("# Every choice is explained above its SLO: review them, then\n")
	fmt.Fprintf(&b, "#   slokit validate %s.yaml && slokit generate -f %s.yaml --out rules/\n", service, service)
	fmt.Fprintf(&b, "version: slokit/v1\nservice: %s\n", service)
	var body strings.Builder
	n := 0
	prefix := len(items) > 1
	for _, it := range items {
		n += writeItem(&body, it, prefix)
	}
	if n == 0 {
		var why []string
		for _, it := range items {
			why = append(why, it.found.Convention.Name+": "+it.avail.Why[0])
		}
		return Proposal{Service: service, File: service + ".yaml", Skipped: why}, nil
	}
	b.WriteString("slos:\n")
	b.WriteString(body.String())
	data := []byte(b.String())
	if _, ds := slo.Parse(service+".yaml", data); ds.Err() != nil {
		return Proposal{}, fmt.Errorf("the proposal for %s does not validate (a slokit bug): %w", service, ds.Err())
	}
	return Proposal{Service: service, File: service + ".yaml", Data: data, SLOs: n}, nil
}

// writeItem writes the SLOs of one convention and returns how many.
func writeItem(b *strings.Builder, it item, prefix bool) int {
	f, c := it.found, it.found.Convention
	name := func(kind string) string {
		if prefix {
			return slo.SuggestName(c.Name + "-" + kind)
		}
		return kind
	}
	comment(b, "", fmt.Sprintf("%s: %s. Series: %s, by %s.", c.Name, c.About, f.Total(), f.CodeLabel))
	if !it.hist.Since.IsZero() {
		comment(b, "", fmt.Sprintf("History: data since %s.", it.hist.Since.Format("2006-01-02 15:04 MST")))
	}
	n := 0
	comment(b, "", it.avail.Why...)
	if it.avail.Objective > 0 {
		n++
		fmt.Fprintf(b, "  - name: %s\n    objective: %s\n", name("availability"), slo.FormatFloat(it.avail.Objective))
		fmt.Fprintf(b, "    description: %s\n", quote(fmt.Sprintf("%s end without a %s.", requests(c), c.BadWords)))
		fmt.Fprintf(b, "    sli:\n      events:\n        bad: %s\n        total: %s\n", quote(f.Bad()), quote(f.Total()))
	}
	if !f.Histogram {
		comment(b, "", fmt.Sprintf("No %s histogram for this service: no latency SLO.", c.Histogram))
		return n
	}
	comment(b, "", it.laten.Why...)
	if it.laten.Objective == 0 {
		return n
	}
	n++
	th := it.laten.Threshold
	fmt.Fprintf(b, "  - name: %s\n    objective: %s\n", name("latency"), slo.FormatFloat(it.laten.Objective))
	fmt.Fprintf(b, "    description: %s\n", quote(fmt.Sprintf("%s are served within %s.", requests(c), durationOf(th.Seconds))))
	writeLatencySLI(b, f, th)
	return n
}

// writeLatencySLI writes a latency SLI when the histogram is in seconds, else a raw
// error ratio over the bucket the threshold names.
func writeLatencySLI(b *strings.Builder, f Found, th Bucket) {
	c := f.Convention
	if c.UnitSeconds == 1 {
		fmt.Fprintf(b, "    sli:\n      latency:\n        histogram: %s\n        selector: {%s: %s}\n        threshold: %s\n",
			c.Histogram, f.ServiceLabel, quote(f.Service), durationOf(th.Seconds))
		return
	}
	svc := fmt.Sprintf("%s=%q", f.ServiceLabel, f.Service)
	expr := fmt.Sprintf(`1 - sum(rate(%s_bucket{%s,le="%s"}[{{.window}}])) / sum(rate(%s_count{%s}[{{.window}}]))`,
		c.Histogram, svc, th.LE, c.Histogram, svc)
	fmt.Fprintf(b, "    # %s is in %s: a raw ratio over its le=%q bucket.\n", c.Histogram, unitName(c.UnitSeconds), th.LE)
	fmt.Fprintf(b, "    sli:\n      raw:\n        errorRatio: %s\n", quote(expr))
}

func unitName(u float64) string {
	if u == 0.001 {
		return "milliseconds"
	}
	return fmt.Sprintf("units of %gs", u)
}

func requests(c Convention) string {
	if c.Kind == "grpc" {
		return "RPCs"
	}
	return "Requests"
}

func comment(b *strings.Builder, indent string, lines ...string) {
	for _, l := range lines {
		fmt.Fprintf(b, "%s  # %s\n", indent, l)
	}
}

// quote writes s as a double-quoted YAML scalar.
func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}
