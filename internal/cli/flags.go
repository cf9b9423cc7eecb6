package cli

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/util/validation"
)

// durationFlag is a duration flag that rejects values below min at parse time, so that
// `--warmup -5s` is a usage error rather than a surprise. unset is the value left in *p
// when the flag is not given; the help text then shows no default (the usage string
// says what unset means).
type durationFlag struct {
	p     *time.Duration
	min   time.Duration
	unset time.Duration
}

func (d durationFlag) String() string {
	if d.p == nil || *d.p == d.unset {
		return ""
	}
	return d.p.String()
}

func (d durationFlag) Set(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("not a duration like 30s or 5m")
	}
	if v < d.min {
		return fmt.Errorf("must be at least %s", d.min)
	}
	*d.p = v
	return nil
}

func (durationFlag) Type() string { return "duration" }

// durationVar defines a duration flag of at least min. With unset >= min the default is
// shown in the help; below min it marks "not given" and the help shows none.
func durationVar(fs *pflag.FlagSet, p *time.Duration, name string, def, min time.Duration, usage string) {
	*p = def
	unset := min - 1
	if def < min {
		unset = def
	}
	f := fs.VarPF(durationFlag{p: p, min: min, unset: unset}, name, "", usage)
	if def >= min {
		f.DefValue = def.String()
	}
}

// labelsFlag collects repeatable k=v Kubernetes labels (--label release=prometheus).
type labelsFlag map[string]string

func (l labelsFlag) String() string {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + l[k]
	}
	return strings.Join(parts, ",")
}

func (l labelsFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok {
		return fmt.Errorf("want KEY=VALUE, like release=kube-prometheus-stack")
	}
	if errs := validation.IsQualifiedName(k); len(errs) > 0 {
		return fmt.Errorf("label key %q: %s", k, strings.Join(errs, "; "))
	}
	if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
		return fmt.Errorf("label %s value %q: %s", k, v, strings.Join(errs, "; "))
	}
	l[k] = v
	return nil
}

func (labelsFlag) Type() string { return "KEY=VALUE" }
