package serve

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/slo"
)

// entry is one SLO of the catalogue with what the pages need from the spec, computed
// once at start.
type entry struct {
	O       slo.Objective
	Service *slo.Service
	// Tiers are the enabled alert tiers, fastest first.
	Tiers []tier
	// Runbook and Dashboard come from the generated alerting rules' annotations.
	Runbook, Dashboard string
	// Team is the "team" label, "" when unset.
	Team string
}

// tier is one enabled alert tier of an SLO.
type tier struct {
	W slo.Window
	// Name is "page/1h", as the game-day results name tiers.
	Name string
	// Long and Short are the window labels ("1h", "5m").
	Long, Short string
}

// catalog is every SLO the server was started with, in spec order.
type catalog struct {
	entries []*entry
	byKey   map[string]*entry // "service/slo"
}

// teamLabel is the label the overview filters and sorts teams by.
const teamLabel = "team"

func newCatalog(services []*slo.Service, opts alerts.Options) (*catalog, error) {
	c := &catalog{byKey: map[string]*entry{}}
	for _, s := range services {
		for _, o := range s.Objectives {
			key := o.Service + "/" + o.Name
			if _, dup := c.byKey[key]; dup {
				return nil, fmt.Errorf("SLO %s is defined twice (in %s and an earlier file)", key, s.Source)
			}
			e, err := newEntry(s, o, opts)
			if err != nil {
				return nil, err
			}
			c.entries = append(c.entries, e)
			c.byKey[key] = e
		}
	}
	return c, nil
}

func newEntry(s *slo.Service, o slo.Objective, opts alerts.Options) (*entry, error) {
	e := &entry{O: o, Service: s, Team: o.Labels[teamLabel]}
	rules, err := alerts.Rules(o, opts)
	if err != nil {
		return nil, fmt.Errorf("SLO %s/%s: %w", o.Service, o.Name, err)
	}
	for _, r := range rules {
		if e.Runbook == "" {
			e.Runbook = r.Annotations[alerts.AnnotationRunbook]
		}
		if e.Dashboard == "" {
			e.Dashboard = r.Annotations[alerts.AnnotationDashboard]
		}
	}
	for _, w := range o.Tiers() {
		e.Tiers = append(e.Tiers, tier{W: w, Name: w.Name(), Long: slo.FormatWindow(w.Long), Short: slo.FormatWindow(w.Short)})
	}
	return e, nil
}

func (c *catalog) get(service, name string) *entry { return c.byKey[service+"/"+name] }

// services and teams list the distinct values for the filter menus.
func (c *catalog) services() []string {
	return c.distinct(func(e *entry) string { return e.O.Service })
}

func (c *catalog) teams() []string { return c.distinct(func(e *entry) string { return e.Team }) }

func (c *catalog) distinct(f func(*entry) string) []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range c.entries {
		if v := f(e); v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	sort.Strings(out)
	return out
}

// windows returns the distinct window labels of the given kind over every SLO, sorted,
// for label matchers like slokit_window=~"1h|5m".
func (c *catalog) windows(f func(*entry) []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range c.entries {
		for _, w := range f(e) {
			if !seen[w] {
				seen[w] = true
				out = append(out, w)
			}
		}
	}
	sort.Strings(out)
	return out
}

// sparkWindow is the window an SLO's sparkline draws: its fastest tier's long window,
// else its shortest recorded window.
func (e *entry) sparkWindow() string {
	if len(e.Tiers) > 0 {
		return e.Tiers[0].Long
	}
	if ws := e.O.RatioWindows(); len(ws) > 0 {
		return slo.FormatWindow(ws[0])
	}
	return ""
}

// objectiveText renders the objective like "99.9%".
func (e *entry) objectiveText() string { return e.O.ObjectivePercent() + "%" }

func (e *entry) periodText() string { return slo.FormatWindow(e.O.Period) }

// shortest is the shortest recorded window, the SLI's resolution.
func (e *entry) shortest() time.Duration {
	ws := e.O.RatioWindows()
	if len(ws) == 0 {
		return 0
	}
	return ws[0]
}

// matches reports whether q (lower case) is in the SLO's service, name, team or description.
func (e *entry) matches(q string) bool {
	if q == "" {
		return true
	}
	for _, s := range []string{e.O.Service, e.O.Name, e.Team, e.O.Description, e.O.Service + "/" + e.O.Name} {
		if strings.Contains(strings.ToLower(s), q) {
			return true
		}
	}
	return false
}

// parseWindow reads a window label like "5m".
func parseWindow(s string) (time.Duration, error) {
	d, err := model.ParseDuration(s)
	return time.Duration(d), err
}
