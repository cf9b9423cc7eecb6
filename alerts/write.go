package alerts

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"runtime"

	"github.com/slokit/slokit/internal/ruleyaml"
	"github.com/slokit/slokit/slo"
)

// rulesPerChunk is how many rules WriteRuleFile renders into one buffer: a few hundred
// kilobytes, so that a round of chunks keeps both cores busy and the buffers stay small.
const rulesPerChunk = 64

// WriteRuleFile writes to w exactly the bytes MarshalRuleFile returns for f, without
// holding the whole file in memory: the rules are rendered in parallel (GOMAXPROCS)
// into small reused buffers, written in order. A rule ruleyaml does not handle is
// encoded on its own with yaml.v3 (a block sequence item's bytes do not depend on its
// neighbours'); a group whose head it does not handle is encoded whole with yaml.v3, as
// MarshalRuleFile does. On an error, w may hold part of the file.
func WriteRuleFile(w io.Writer, f slo.RuleFile) error {
	if len(f.Groups) == 0 {
		b, err := MarshalRuleFile(f)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString(slo.GeneratedHeader + "groups:\n")
	r := chunkRenderer{bufs: make([][]byte, 4*runtime.GOMAXPROCS(0)), errs: make([]error, 4*runtime.GOMAXPROCS(0))}
	for _, g := range f.Groups {
		head, ok := ruleyaml.AppendRuleGroupHead(nil, g, 2)
		if !ok {
			b, err := groupYAMLv3(g)
			if err != nil {
				return err
			}
			bw.Write(b)
			continue
		}
		bw.Write(head)
		if err := r.write(bw, g.Rules); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// chunkRenderer renders rules a round of chunks at a time, one buffer per chunk.
type chunkRenderer struct {
	bufs [][]byte
	errs []error
}

// write renders rules as items of a rule file group's rules (column 6) into w, in order.
func (c *chunkRenderer) write(w io.Writer, rules []slo.Rule) error {
	round := len(c.bufs) * rulesPerChunk
	for start := 0; start < len(rules); start += round {
		batch := rules[start:min(start+round, len(rules))]
		n := (len(batch) + rulesPerChunk - 1) / rulesPerChunk
		parallel(n, func(k int) {
			c.bufs[k], c.errs[k] = appendRules(c.bufs[k][:0], batch[k*rulesPerChunk:min((k+1)*rulesPerChunk, len(batch))])
		})
		for k := range n {
			if c.errs[k] != nil {
				return c.errs[k]
			}
			if _, err := w.Write(c.bufs[k]); err != nil {
				return err
			}
		}
	}
	return nil
}

// appendRules appends rules as items of a rule file group's rules (column 6).
func appendRules(dst []byte, rules []slo.Rule) ([]byte, error) {
	for _, r := range rules {
		var ok bool
		if dst, ok = ruleyaml.AppendRule(dst, r, 6); ok {
			continue
		}
		b, err := ruleYAMLv3(r)
		if err != nil {
			return dst, err
		}
		dst = append(dst, b...)
	}
	return dst, nil
}

// groupYAMLv3 is g as yaml.v3 writes it as an item of a rule file's groups.
func groupYAMLv3(g slo.RuleGroup) ([]byte, error) {
	b, err := marshalYAML(slo.RuleFile{Groups: []slo.RuleGroup{g}})
	if err != nil {
		return nil, err
	}
	rest, ok := bytes.CutPrefix(b, []byte("groups:\n"))
	if !ok {
		return nil, fmt.Errorf("rule group %s: unexpected YAML encoding", g.Name)
	}
	return rest, nil
}

// ruleYAMLv3 is r as yaml.v3 writes it as an item of a rule file group's rules.
func ruleYAMLv3(r slo.Rule) ([]byte, error) {
	const head = "groups:\n  - name: g\n    rules:\n"
	b, err := marshalYAML(slo.RuleFile{Groups: []slo.RuleGroup{{Name: "g", Rules: []slo.Rule{r}}}})
	if err != nil {
		return nil, err
	}
	rest, ok := bytes.CutPrefix(b, []byte(head))
	if !ok {
		return nil, fmt.Errorf("rule %s%s: unexpected YAML encoding", r.Record, r.Alert)
	}
	return rest, nil
}
