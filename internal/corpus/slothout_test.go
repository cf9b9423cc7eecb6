package corpus

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"
)

// ruleDoc is a Prometheus rule file or a PrometheusRule object, as Sloth writes them.
type ruleDoc struct {
	Groups []ruleGroup `yaml:"groups"`
	Spec   struct {
		Groups []ruleGroup `yaml:"groups"`
	} `yaml:"spec"`
}

type ruleGroup struct {
	Rules []struct {
		Record string            `yaml:"record"`
		Alert  string            `yaml:"alert"`
		Expr   string            `yaml:"expr"`
		Labels map[string]string `yaml:"labels"`
	} `yaml:"rules"`
}

// slothSigs reads Sloth's generated rules (one or more YAML documents) into alert
// signatures: the objective and period from its metadata rules, the tiers from each
// alert's expression (max(slo:sli_error:ratio_rate<W>{…} > (F * budget)) pairs).
func slothSigs(out []byte) ([]alertSig, []sloSig, error) {
	dec := yaml.NewDecoder(bytes.NewReader(out))
	objective := map[string]float64{}
	period := map[string]time.Duration{}
	var sigs []alertSig
	p := parser.NewParser(parser.Options{})
	for {
		var d ruleDoc
		if err := dec.Decode(&d); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, nil, err
		}
		for _, g := range append(d.Groups, d.Spec.Groups...) {
			for _, r := range g.Rules {
				id := r.Labels["sloth_service"] + "/" + r.Labels["sloth_slo"]
				switch {
				case r.Record == "slo:objective:ratio":
					v, err := vectorValue(p, r.Expr)
					if err != nil {
						return nil, nil, err
					}
					objective[id] = v
				case r.Record == "slo:time_period:days":
					v, err := vectorValue(p, r.Expr)
					if err != nil {
						return nil, nil, err
					}
					period[id] = time.Duration(v * float64(24*time.Hour))
				case r.Alert != "":
					sig, err := slothAlert(p, r.Alert, r.Expr, r.Labels)
					if err != nil {
						return nil, nil, fmt.Errorf("alert %s: %w", r.Alert, err)
					}
					sigs = append(sigs, sig)
				}
			}
		}
	}
	for i := range sigs {
		id := sigs[i].Service + "/" + sigs[i].SLO
		sigs[i].Objective, sigs[i].Period = objective[id], period[id]
	}
	var slos []sloSig
	for id, o := range objective {
		service, name, _ := strings.Cut(id, "/")
		slos = append(slos, sloSig{Service: service, SLO: name, Objective: o, Period: period[id]})
	}
	return sigs, slos, nil
}

func vectorValue(p parser.Parser, expr string) (float64, error) {
	e, err := p.ParseExpr(expr)
	if err != nil {
		return 0, err
	}
	if c, ok := e.(*parser.Call); ok && c.Func.Name == "vector" && len(c.Args) == 1 {
		if n, ok := c.Args[0].(*parser.NumberLiteral); ok {
			return n.Val, nil
		}
	}
	return 0, fmt.Errorf("not vector(<number>): %s", expr)
}

func slothAlert(p parser.Parser, name, expr string, ls map[string]string) (alertSig, error) {
	sig := alertSig{Name: name, Severity: ls["sloth_severity"], Labels: map[string]string{}}
	for k, v := range ls {
		if !strings.HasPrefix(k, "sloth_") {
			sig.Labels[k] = v
		}
	}
	e, err := p.ParseExpr(expr)
	if err != nil {
		return sig, err
	}
	var walk func(parser.Expr) error
	walk = func(e parser.Expr) error {
		switch e := e.(type) {
		case *parser.ParenExpr:
			return walk(e.Expr)
		case *parser.BinaryExpr:
			switch e.Op {
			case parser.LOR:
				if err := walk(e.LHS); err != nil {
					return err
				}
				return walk(e.RHS)
			case parser.LAND:
				w1, f1, err := slothCondition(&sig, e.LHS)
				if err != nil {
					return err
				}
				w2, f2, err := slothCondition(&sig, e.RHS)
				if err != nil {
					return err
				}
				if f1 != f2 {
					return fmt.Errorf("windows %s and %s have factors %g and %g", w1, w2, f1, f2)
				}
				sig.Tiers = append(sig.Tiers, tierString(f1, max(w1, w2), min(w1, w2)))
				return nil
			}
		}
		return fmt.Errorf("unexpected %s", e)
	}
	if err := walk(e); err != nil {
		return sig, err
	}
	sortStrings(sig.Tiers)
	return sig, nil
}

// slothCondition reads max(slo:sli_error:ratio_rate<W>{…} > (F * budget)) without (…).
func slothCondition(sig *alertSig, e parser.Expr) (time.Duration, float64, error) {
	for {
		switch x := e.(type) {
		case *parser.ParenExpr:
			e = x.Expr
			continue
		case *parser.AggregateExpr:
			e = x.Expr
			continue
		}
		break
	}
	b, ok := e.(*parser.BinaryExpr)
	if !ok || b.Op != parser.GTR {
		return 0, 0, fmt.Errorf("not a > condition: %s", e)
	}
	vs, ok := b.LHS.(*parser.VectorSelector)
	if !ok || !strings.HasPrefix(vs.Name, "slo:sli_error:ratio_rate") {
		return 0, 0, fmt.Errorf("not an error ratio: %s", b.LHS)
	}
	w, err := model.ParseDuration(strings.TrimPrefix(vs.Name, "slo:sli_error:ratio_rate"))
	if err != nil {
		return 0, 0, err
	}
	for _, m := range vs.LabelMatchers {
		if m.Type == labels.MatchEqual {
			switch m.Name {
			case "sloth_service":
				sig.Service = m.Value
			case "sloth_slo":
				sig.SLO = m.Value
			}
		}
	}
	rhs := b.RHS
	if pe, ok := rhs.(*parser.ParenExpr); ok {
		rhs = pe.Expr
	}
	mul, ok := rhs.(*parser.BinaryExpr)
	if !ok || mul.Op != parser.MUL {
		return 0, 0, fmt.Errorf("threshold not (factor * budget): %s", b.RHS)
	}
	f, err := strconv.ParseFloat(mul.LHS.String(), 64)
	if err != nil {
		return 0, 0, err
	}
	return time.Duration(w), f, nil
}
