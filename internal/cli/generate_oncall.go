package cli

import (
	"fmt"
	"path"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/spf13/pflag"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/dashboards"
	"github.com/slokit/slokit/slo"
)

// oncallFlags configure the on-call formats of `slokit generate`: Alertmanager routing,
// Grafana dashboards and runbooks.
type oncallFlags struct {
	routeBy    string
	secretsDir string
	pager      string
	ticket     string
	folder     string
}

func addOncallFlags(fl *pflag.FlagSet, f *oncallFlags) {
	fl.StringVar(&f.routeBy, "route-by", slo.LabelService, "alert `LABEL` with one Alertmanager route subtree per value, like team (-o alertmanager)")
	fl.StringVar(&f.secretsDir, "secrets-dir", alerts.DefaultSecretsDir, "`DIR` the Alertmanager receivers read their secret files from (-o alertmanager)")
	fl.StringVar(&f.pager, "pager", string(alerts.PagerDuty), "page receiver `KIND`: pagerduty, slack or webhook (-o alertmanager)")
	fl.StringVar(&f.ticket, "ticket", string(alerts.Slack), "ticket receiver `KIND`: pagerduty, slack or webhook (-o alertmanager)")
	fl.StringVar(&f.folder, "grafana-folder", "SLOs", "Grafana `FOLDER` of the dashboards (-o grafana-operator)")
}

func (f oncallFlags) routing() alerts.RoutingOptions {
	return alerts.RoutingOptions{
		RouteBy:    f.routeBy,
		SecretsDir: f.secretsDir,
		Pager:      alerts.ReceiverSpec{Kind: alerts.ReceiverKind(f.pager)},
		Ticket:     alerts.ReceiverSpec{Kind: alerts.ReceiverKind(f.ticket)},
	}
}

// objectives flattens the services' objectives in service then file order.
func objectives(services []*slo.Service) []slo.Objective {
	var out []slo.Objective
	for _, s := range services {
		out = append(out, s.Objectives...)
	}
	return out
}

func routing(in genInput) (*alerts.AMFragment, error) {
	f, err := alerts.Routing(objectives(in.Services), in.Oncall.routing())
	if err != nil {
		return nil, &usageError{err}
	}
	return f, nil
}

func alertmanagerFormat() outputFormat {
	return outputFormat{
		name: "alertmanager",
		help: "complete alertmanager.yml routing pages and tickets per service, with inhibit rules",
		write: func(in genInput) ([]genFile, error) {
			f, err := routing(in)
			if err != nil {
				return nil, err
			}
			data, err := f.Config().YAML()
			return []genFile{{Name: "alertmanager.yml", Data: data}}, err
		},
	}
}

func alertmanagerFragmentFormat() outputFormat {
	return outputFormat{
		name: "alertmanager-fragment",
		help: "routes, receivers and inhibit rules to merge into an existing alertmanager.yml",
		write: func(in genInput) ([]genFile, error) {
			f, err := routing(in)
			if err != nil {
				return nil, err
			}
			data, err := f.YAML()
			return []genFile{{Name: "alertmanager-fragment.yml", Data: data}}, err
		},
	}
}

// allDashboards returns the overview followed by every objective's detail dashboard.
func allDashboards(in genInput) ([]dashboard.Dashboard, error) {
	objs := objectives(in.Services)
	ov, err := dashboards.Overview(objs)
	if err != nil {
		return nil, err
	}
	out := []dashboard.Dashboard{ov}
	for _, o := range objs {
		d, err := dashboards.Detail(o)
		if err != nil {
			return nil, fmt.Errorf("slo %s: %w", o.ID(), err)
		}
		out = append(out, d)
	}
	return out, nil
}

func grafanaFormat() outputFormat {
	return outputFormat{
		name: "grafana",
		help: "Grafana dashboard JSON: an overview and one per SLO (<uid>.json)",
		write: func(in genInput) ([]genFile, error) {
			ds, err := allDashboards(in)
			if err != nil {
				return nil, err
			}
			var out []genFile
			for _, d := range ds {
				data, err := dashboards.JSON(d)
				if err != nil {
					return nil, err
				}
				out = append(out, genFile{Name: *d.Uid + ".json", Data: data})
			}
			return out, nil
		},
	}
}

func grafanaOperatorFormat() outputFormat {
	return outputFormat{
		name: "grafana-operator",
		help: "grafana-operator GrafanaDashboard objects of those dashboards (grafana-dashboards.yaml)",
		write: func(in genInput) ([]genFile, error) {
			ds, err := allDashboards(in)
			if err != nil {
				return nil, err
			}
			objs, err := dashboards.Operator(dashboards.OperatorOptions{Namespace: in.Namespace, Folder: in.Oncall.folder}, ds...)
			if err != nil {
				return nil, err
			}
			data, err := dashboards.MarshalOperator(objs...)
			return []genFile{{Name: "grafana-dashboards.yaml", Data: data}}, err
		},
	}
}

func runbookFormat() outputFormat {
	return outputFormat{
		name: "runbook",
		help: "Markdown runbook per SLO (<service>-<slo>.md); --out runbooks/ matches the alerts' default runbook_url",
		write: func(in genInput) ([]genFile, error) {
			var out []genFile
			for _, o := range objectives(in.Services) {
				data, err := alerts.Runbook(o, in.Alerts)
				if err != nil {
					return nil, err
				}
				out = append(out, genFile{Name: path.Base(alerts.RunbookFileName(o)), Data: data})
			}
			return out, nil
		},
	}
}
