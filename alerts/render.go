package alerts

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"github.com/slokit/slokit/internal/ruleyaml"
	"github.com/slokit/slokit/slo"
)

// RenderedRuleFile is a Prometheus rule file rendered by RenderRuleFile, ready to write.
type RenderedRuleFile struct {
	groups []renderedGroup
	// whole is the file when it was rendered the slow way (RuleFile, then WriteRuleFile).
	whole *slo.RuleFile
}

// renderedGroup is one rule group: its head as ruleyaml writes it (or, for a group
// without rules, the whole group as yaml.v3 writes it) and its rules' bytes in order.
type renderedGroup struct {
	head  []byte
	parts [][]byte
}

// errSlowPath makes RenderRuleFile fall back to RuleFile and WriteRuleFile.
var errSlowPath = errors.New("a group head needs yaml.v3")

// RenderRuleFile renders the rule file RuleFile(services, opts) describes, with its error
// when it has one: its WriteTo writes exactly the bytes MarshalRuleFile gives for that
// file. Each objective's rules are built and rendered at once, in parallel (GOMAXPROCS),
// so the rules never exist all at once as structures, only as their YAML.
func RenderRuleFile(services []*slo.Service, opts Options) (*RenderedRuleFile, error) {
	var out RenderedRuleFile
	owner := map[string]string{}
	for _, s := range mergeByName(services) {
		names, gs, err := renderServiceGroups(s, opts)
		if errors.Is(err, errSlowPath) {
			return renderSlow(services, opts)
		}
		if err != nil {
			return nil, err
		}
		for _, name := range names {
			if other, ok := owner[name]; ok {
				return nil, fmt.Errorf("services %s and %s both need a rule group named %s: rename one of them", other, s.Name, name)
			}
			owner[name] = s.Name
		}
		out.groups = append(out.groups, gs...)
	}
	if len(out.groups) == 0 {
		return &RenderedRuleFile{whole: &slo.RuleFile{}}, nil
	}
	return &out, nil
}

func renderSlow(services []*slo.Service, opts Options) (*RenderedRuleFile, error) {
	f, err := RuleFile(services, opts)
	if err != nil {
		return nil, err
	}
	return &RenderedRuleFile{whole: &f}, nil
}

// WriteTo writes the rule file to w.
func (f *RenderedRuleFile) WriteTo(w io.Writer) (int64, error) {
	cw := &countingWriter{w: w}
	if f.whole != nil {
		err := WriteRuleFile(cw, *f.whole)
		return cw.n, err
	}
	bw := bufio.NewWriterSize(cw, 64<<10)
	bw.WriteString(slo.GeneratedHeader + "groups:\n")
	for _, g := range f.groups {
		bw.Write(g.head)
		for _, p := range g.parts {
			bw.Write(p)
		}
	}
	err := bw.Flush()
	return cw.n, err
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// renderedObjective is one objective's rules rendered for the fast group and the long
// group (empty when the two are merged), or the first error building them.
type renderedObjective struct {
	fast, long   []byte
	nFast, nLong int
	err          error
}

// renderServiceGroups is ServiceGroups rendered: the names of the groups and the groups,
// or the error ServiceGroups returns.
func renderServiceGroups(s *slo.Service, opts Options) ([]string, []renderedGroup, error) {
	evals, byEval := byEvaluation(s.Objectives)
	merged := make([]bool, len(s.Objectives))
	for _, ev := range evals {
		idx := byEval[ev]
		m := s.Objectives[idx[0]].LongEvaluation() == ev
		for _, i := range idx {
			merged[i] = m
		}
	}
	built := make([]renderedObjective, len(s.Objectives))
	parallel(len(s.Objectives), func(i int) {
		if !s.Objectives[i].IsGlobal() {
			built[i] = renderObjective(s.Objectives[i], opts, merged[i])
		}
	})
	var names []string
	var out []renderedGroup
	for _, ev := range evals {
		idx := byEval[ev]
		first := s.Objectives[idx[0]]
		name := slo.ServiceGroupName(s.Name, ev, len(evals) > 1)
		fast := slo.RuleGroup{Name: name, Interval: slo.FormatWindow(ev)}
		long := slo.RuleGroup{Name: name + slo.LongGroupSuffix, Interval: slo.FormatWindow(first.LongEvaluation())}
		var fastParts, longParts [][]byte
		nFast, nLong := 0, 0
		for _, i := range idx {
			b := built[i]
			if b.err != nil {
				return nil, nil, b.err
			}
			fastParts, longParts = append(fastParts, b.fast), append(longParts, b.long)
			nFast, nLong = nFast+b.nFast, nLong+b.nLong
		}
		g, err := renderGroup(fast, nFast, fastParts)
		if err != nil {
			return nil, nil, err
		}
		names, out = append(names, fast.Name), append(out, g)
		if nLong > 0 {
			if g, err = renderGroup(long, nLong, longParts); err != nil {
				return nil, nil, err
			}
			names, out = append(names, long.Name), append(out, g)
		}
	}
	return names, out, nil
}

// renderGroup is g (without its rules) with n rules rendered as parts.
func renderGroup(g slo.RuleGroup, n int, parts [][]byte) (renderedGroup, error) {
	if n == 0 {
		b, err := groupYAMLv3(g)
		return renderedGroup{head: b}, err
	}
	g.Rules = []slo.Rule{{}} // any rule: the head only checks that there are some
	head, ok := ruleyaml.AppendRuleGroupHead(nil, g, 2)
	if !ok {
		return renderedGroup{}, errSlowPath
	}
	return renderedGroup{head: head, parts: parts}, nil
}

// renderObjective builds o's rules as ServiceGroups does and renders them: the fast
// group's (recording rules, page and no-data alerts; everything when merged) and the
// long group's (long recording rules, ticket alert).
func renderObjective(o slo.Objective, opts Options, merged bool) renderedObjective {
	fr, lr, err := slo.RecordingRuleSets(o)
	if err != nil {
		return renderedObjective{err: err}
	}
	as, err := alertSet(o, opts, false)
	if err != nil {
		return renderedObjective{err: err}
	}
	var fast, long []slo.Rule
	if merged {
		fast = append(append(append(make([]slo.Rule, 0, len(fr)+len(lr)+3), fr...), lr...), as.all()...)
	} else {
		fast = append(append(append(make([]slo.Rule, 0, len(fr)+3), fr...), as.page...), as.noData...)
		long = append(append(make([]slo.Rule, 0, len(lr)+1), lr...), as.ticket...)
	}
	var r renderedObjective
	r.nFast, r.nLong = len(fast), len(long)
	if r.fast, err = appendRules(make([]byte, 0, ruleBytes(fast)), fast); err == nil {
		r.long, err = appendRules(make([]byte, 0, ruleBytes(long)), long)
	}
	r.err = err
	return r
}

// ruleBytes estimates the YAML size of rules, to size buffers once.
func ruleBytes(rules []slo.Rule) int {
	if len(rules) == 0 {
		return 0
	}
	return ruleyaml.RuleGroupYAMLSize(slo.RuleGroup{Rules: rules})
}
