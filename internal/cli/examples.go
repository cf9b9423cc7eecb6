package cli

import "github.com/spf13/cobra"

// defaultExamples are the Example blocks of commands whose constructor sets none, by
// command path. A command's own Example wins; TestEveryCommandHasAnExample keeps the
// set complete.
var defaultExamples = map[string]string{
	"slokit": `  slokit init --prometheus http://127.0.0.1:9090 --dry-run
  slokit validate slos/
  slokit generate -f slos/ --out rules/
  slokit test -f slos/
  slokit chaos run gameday.yaml --report report.html
  slokit help spec`,
	"slokit apply": `  slokit generate -f slos.yaml -o prometheusrule --namespace monitoring --label release=kube-prometheus-stack > rules.yaml
  slokit apply -f rules.yaml --dry-run
  slokit apply -f rules.yaml
  slokit generate -f slos/ -o prometheusrule | slokit apply -f - -n monitoring`,
	"slokit chaos": `  slokit chaos validate gamedays/*.yaml
  slokit chaos run gamedays/redirect-errors.yaml --report report.html
  slokit chaos cleanup`,
	"slokit chaos run": `  slokit chaos run gamedays/redirect-errors.yaml
  slokit chaos run gameday.yaml --prometheus http://127.0.0.1:9090 --report report.html --result result.json
  slokit chaos run gameday.yaml -o json > result.json`,
	"slokit chaos validate": `  slokit chaos validate gamedays/*.yaml
  slokit chaos validate gameday.yaml --prometheus http://127.0.0.1:9090`,
	"slokit chaos cleanup": `  slokit chaos cleanup
  slokit chaos cleanup --run 4ed753bb
  slokit chaos cleanup --sweep -o json`,
	"slokit chaos rbac": `  slokit chaos rbac --namespace payments > rbac.yaml
  slokit chaos rbac --namespace payments --name gameday-runner | kubectl apply -f -`,
}

// addExamples fills in the Example of every command that has none and a default.
func addExamples(c *cobra.Command) {
	if c.Example == "" {
		c.Example = defaultExamples[c.CommandPath()]
	}
	for _, sub := range c.Commands() {
		addExamples(sub)
	}
}
