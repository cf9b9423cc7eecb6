package alerts_test

import (
	"fmt"
	"time"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/slo"
)

// What each default tier of a 99.9%/30d SLO does when the service fails completely.
func ExamplePredict() {
	o := slo.Objective{Service: "shortlink", Name: "redirects", Target: 0.999, Period: 30 * 24 * time.Hour}
	for _, w := range o.Windows() {
		p := alerts.Predict(o, w, 1) // error ratio 1: a total outage
		fmt.Printf("%-6s %3s/%-3s fires after %-6s resets %-9s spending %.0f%% of the budget\n",
			w.Severity, slo.FormatWindow(w.Long), slo.FormatWindow(w.Short), p.Detect, p.Reset, 100*p.BudgetAtDetect)
	}
	// Output:
	// page    1h/5m  fires after 52s    resets 4m56s     spending 2% of the budget
	// page    6h/30m fires after 2m10s  resets 29m49s    spending 5% of the budget
	// ticket  1d/2h  fires after 4m19s  resets 1h59m38s  spending 10% of the budget
	// ticket  3d/6h  fires after 4m19s  resets 5h59m38s  spending 10% of the budget
}
