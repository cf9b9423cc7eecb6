package livelint

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/slokit/slokit/slo"
)

// maxValues is how many label values a hint lists.
const maxValues = 8

// why explains why sel selects nothing: the metric does not exist at all, or one of the
// matchers matches none of the values its label takes.
func (c *Checker) why(ctx context.Context, sel string) (string, error) {
	ms, err := parser.NewParser(parser.Options{}).ParseMetricSelector(sel)
	if err != nil {
		return "", fmt.Errorf("selector %s: %w", sel, err)
	}
	var name string
	for _, m := range ms {
		if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
			name = m.Value
		}
	}
	if name == "" {
		return "check its matchers", nil
	}
	n, err := c.present(ctx, name)
	if err != nil {
		return "", err
	}
	if len(n) == 0 {
		return fmt.Sprintf("no series is named %s at all (is the target down, or the metric renamed or misspelt?)", name), nil
	}
	var parts []string
	for _, m := range ms {
		if m.Name == labels.MetricName {
			continue
		}
		vs, err := c.Prometheus.LabelValues(ctx, m.Name, name, c.lookback())
		if err != nil {
			return "", err
		}
		if matchesAny(m, vs) {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s matches none of the values %s has on %s (%s)", m.String(), m.Name, name, listValues(vs)))
	}
	if len(parts) == 0 {
		return fmt.Sprintf("%s exists, but no single series matches all the matchers together", name), nil
	}
	return strings.Join(parts, "; "), nil
}

func matchesAny(m *labels.Matcher, vs []string) bool {
	if len(vs) == 0 {
		return m.Matches("")
	}
	for _, v := range vs {
		if m.Matches(v) {
			return true
		}
	}
	return false
}

func listValues(vs []string) string {
	if len(vs) == 0 {
		return "the label is never set"
	}
	q := make([]string, 0, maxValues)
	for i, v := range vs {
		if i == maxValues {
			q = append(q, fmt.Sprintf("and %d more", len(vs)-maxValues))
			break
		}
		q = append(q, fmt.Sprintf("%q", v))
	}
	return strings.Join(q, ", ")
}

// rawSelectors returns the distinct series selectors of a raw SLI's template, filled in
// with window w.
func rawSelectors(r slo.RawSLI, w time.Duration) ([]string, error) {
	e, err := parser.NewParser(parser.Options{}).ParseExpr(slo.ExpandWindow(r.ErrorRatio, w))
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			s := (&parser.VectorSelector{Name: vs.Name, LabelMatchers: vs.LabelMatchers}).String()
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
		return nil
	})
	return out, nil
}
