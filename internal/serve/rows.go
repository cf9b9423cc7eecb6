package serve

import (
	"html"
	"html/template"
	"strings"
)

// RowsHTML renders the overview's table body. It is written in Go rather than in the
// template because with 1,000 SLOs the template's reflection and per-value escaping
// were half of the page's CPU; every value is escaped here with html.EscapeString. A
// row depends only on the reading of Prometheus behind it, so each row is rendered once
// per reading and shared by the pages that use the reading (other filters, sorts).
func (o *Overview) RowsHTML() template.HTML {
	if len(o.SLOs) == 0 {
		return `<tr><td colspan="7">No SLO matches these filters. <a href="/">Show all</a>.</td></tr>`
	}
	var b strings.Builder
	rows := make([]string, len(o.SLOs))
	n := 0
	for i, r := range o.SLOs {
		rows[i] = o.read.rowHTML(seriesKey(r.Service, r.SLO, ""), func() string { return o.rowHTML(r) })
		n += len(rows[i])
	}
	b.Grow(n)
	for _, r := range rows {
		b.WriteString(r)
	}
	return template.HTML(b.String())
}

// rowHTML renders one row of the overview's table.
func (o *Overview) rowHTML(r Row) string {
	var b strings.Builder
	b.Grow(2048)
	esc := html.EscapeString
	name := esc(r.Service + "/" + r.SLO)
	b.WriteString(`<tr data-state="` + r.State + `" data-slo="` + name + `">` + "\n")
	b.WriteString(`<th scope="row"><a href="` + esc(r.URL) + `">` + name + `</a>`)
	if r.Description != "" {
		b.WriteString(`<div class="desc">` + esc(r.Description) + `</div>`)
	}
	b.WriteString("</th>\n<td>" + esc(r.Team) + "</td>\n")
	b.WriteString(`<td>` + esc(percentText(r.Objective)) + ` <span class="help">over ` + esc(r.Period) + "</span></td>\n")
	b.WriteString(`<td class="budget ` + budgetClass(r.BudgetRemaining) + `">` + budgetHTML(r.BudgetRemaining, r.BudgetCoverage) + "</td>\n")
	b.WriteString(`<td><ul class="tiers">`)
	for _, t := range r.Tiers {
		b.WriteString(`<li><span class="tier">` + esc(t.Tier) + `</span> ` + string(burnHTML(t.LongBurn)) + ` / ` +
			string(burnHTML(t.ShortBurn)) + ` <span class="help">fires &gt;` + esc(numText(t.Threshold)) + `×</span></li>`)
	}
	if len(r.Tiers) == 0 {
		b.WriteString(`<li class="help">no alert tiers</li>`)
	}
	b.WriteString("</ul></td>\n")
	b.WriteString(`<td><span class="state ` + r.State + `">` + stateText(r.State) + `</span><ul class="tiers">`)
	for _, t := range r.Tiers {
		b.WriteString(`<li><span class="state ` + esc(t.Alert) + `">` + esc(t.Alert) + `</span> ` + esc(t.Tier) + `</li>`)
	}
	b.WriteString("</ul></td>\n<td>" + string(o.SparkSVG(r)) + "</td>\n</tr>\n")
	return b.String()
}
