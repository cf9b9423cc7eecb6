package corpus

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/slo"
)

// alertSig is what must agree between an anchor tool's alert and slokit's for the same
// SLO and severity: the things an on-call engineer sees and the maths behind them.
type alertSig struct {
	Service, SLO, Severity string
	Name                   string
	Labels                 map[string]string // user labels only
	Objective              float64           // ratio
	Period                 time.Duration
	Tiers                  []string // "14.4x over 1h/5m", sorted
}

func (a alertSig) key() string { return a.Service + "/" + a.SLO + "/" + a.Severity }

func (a alertSig) String() string {
	keys := make([]string, 0, len(a.Labels))
	for k := range a.Labels {
		keys = append(keys, k+"="+a.Labels[k])
	}
	sort.Strings(keys)
	return fmt.Sprintf("%s alert %q objective %s period %s tiers [%s] labels {%s}", a.key(), a.Name,
		formatRatio(a.Objective), model.Duration(a.Period), strings.Join(a.Tiers, ", "), strings.Join(keys, ","))
}

func formatRatio(r float64) string { return fmt.Sprintf("%.10g", math.Round(r*1e12)/1e12) }

func tierString(burn float64, long, short time.Duration) string {
	return fmt.Sprintf("%gx over %s/%s", math.Round(burn*1e9)/1e9, model.Duration(long), model.Duration(short))
}

// slokitSigs returns slokit's alert signatures for services. defaultSeverity drops the
// severity label slokit adds by default (page/ticket) when the anchor has no such label:
// it is slokit's routing label, not a user's.
func slokitSigs(services []*slo.Service) ([]alertSig, error) {
	var out []alertSig
	for _, s := range services {
		for _, o := range s.Objectives {
			rules, err := alerts.Rules(o, alerts.Options{})
			if err != nil {
				return nil, err
			}
			i := 0
			for _, sev := range []slo.SeverityName{slo.Page, slo.Ticket} {
				var tiers []string
				for _, w := range o.Windows() {
					if w.Severity == sev {
						tiers = append(tiers, tierString(w.BurnRate, w.Long, w.Short))
					}
				}
				disabled := o.Alerting.Page.Disabled
				if sev == slo.Ticket {
					disabled = o.Alerting.Ticket.Disabled
				}
				if disabled || len(tiers) == 0 {
					continue
				}
				if i >= len(rules) {
					return nil, fmt.Errorf("%s: fewer alert rules than severities", o.ID())
				}
				r := rules[i]
				i++
				sort.Strings(tiers)
				labels := map[string]string{}
				for k, v := range r.Labels {
					if !strings.HasPrefix(k, "slokit_") {
						labels[k] = v
					}
				}
				out = append(out, alertSig{Service: o.Service, SLO: o.Name, Severity: string(sev), Name: r.Alert,
					Labels: labels, Objective: o.Target, Period: o.Period, Tiers: tiers})
			}
		}
	}
	return out, nil
}

// compareSigs lists the differences between the anchor's alerts and slokit's, matched by
// service, SLO and severity. A severity label equal to slokit's default (page, ticket)
// that the anchor does not set is not a difference.
func compareSigs(anchor, ours []alertSig) []string {
	byKey := map[string]alertSig{}
	for _, a := range ours {
		byKey[a.key()] = a
	}
	var diffs []string
	for _, a := range anchor {
		o, ok := byKey[a.key()]
		if !ok {
			diffs = append(diffs, "only the anchor has: "+a.String())
			continue
		}
		delete(byKey, a.key())
		if _, set := a.Labels[slo.LabelSeverity]; !set && o.Labels[slo.LabelSeverity] == a.Severity {
			delete(o.Labels, slo.LabelSeverity)
		}
		if a.String() != o.String() {
			diffs = append(diffs, "anchor: "+a.String()+"\n\tslokit: "+o.String())
		}
	}
	for _, o := range byKey {
		diffs = append(diffs, "only slokit has: "+o.String())
	}
	sort.Strings(diffs)
	return diffs
}

// sloSig is what must agree for every SLO, alerting or not.
type sloSig struct {
	Service, SLO string
	Objective    float64
	Period       time.Duration
}

func (s sloSig) String() string {
	return fmt.Sprintf("%s/%s objective %s period %s", s.Service, s.SLO, formatRatio(s.Objective), model.Duration(s.Period))
}

// compareSLOs lists the anchor's SLOs that slokit lacks or reads differently.
func compareSLOs(anchor []sloSig, services []*slo.Service) []string {
	ours := map[string]sloSig{}
	for _, s := range services {
		for _, o := range s.Objectives {
			ours[o.Service+"/"+o.Name] = sloSig{Service: o.Service, SLO: o.Name, Objective: o.Target, Period: o.Period}
		}
	}
	var diffs []string
	for _, a := range anchor {
		o, ok := ours[a.Service+"/"+a.SLO]
		switch {
		case !ok:
			diffs = append(diffs, "SLO only the anchor has: "+a.String())
		case o.String() != a.String():
			diffs = append(diffs, "anchor: "+a.String()+"\n\tslokit: "+o.String())
		}
		delete(ours, a.Service+"/"+a.SLO)
	}
	for _, o := range ours {
		diffs = append(diffs, "SLO only slokit has: "+o.String())
	}
	sort.Strings(diffs)
	return diffs
}
