package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// browseAccessibility checks in Chromium what a keyboard or screen-reader user needs:
// every control, link, chart and table has an accessible name in the browser's own
// accessibility tree, text has WCAG AA contrast against what is behind it, and the
// overview can be used with the keyboard alone (skip link, filters, sort, an SLO's page),
// with a visible focus ring. Each check first proves on a planted defect that it can fail.
func browseAccessibility(t *testing.T, b *browser, base, runID string) {
	b.Open(t, base+"/", "#slos", "")
	plantedDefects(t, b)
	for _, page := range []struct{ path, sel string }{
		{"/", "#slos"},
		{"/?team=web&sort=burn", "#slos"},
		{"/slo/shop/checkout-availability?range=15m", "#tiers"},
		{"/slo/ghost/nothing-here", "#tiers"},
		{"/slo/shop/checkout-availability/backtest", "#backtest-summary"},
		{"/gamedays", "table.runs"},
		{"/gamedays/" + runID, "#verdict"},
		{"/gamedays/" + runID + "/report", "#outcome"},
		{"/slo/shop/nope", "#problems"},
		{"/?sort=sideways", "#problems"},
	} {
		b.Open(t, base+page.path, page.sel, "")
		for _, p := range axUnnamed(t, b) {
			t.Errorf("%s: no accessible name: %s", page.path, p)
		}
		checked, low := lowContrast(t, b)
		if checked < 10 {
			t.Errorf("%s: contrast checked on %d text elements only", page.path, checked)
		}
		for _, p := range low {
			t.Errorf("%s: contrast below WCAG AA: %s", page.path, p)
		}
		t.Logf("%s: %d text elements checked for contrast", page.path, checked)
		if n := eval[int](t, b, `document.querySelectorAll('h1').length`); n != 1 {
			t.Errorf("%s: %d h1 headings, want 1", page.path, n)
		}
		b.CheckConsole(t, page.path, true)
	}
	t.Run("keyboard", func(t *testing.T) { browseKeyboard(t, b, base) })
}

// plantedDefects shows that the name and contrast checks catch what they look for: an
// unlabelled input, a chart without a title and grey text on white.
func plantedDefects(t *testing.T, b *browser) {
	t.Helper()
	eval[bool](t, b, `(() => { const m = document.querySelector('main');
		m.insertAdjacentHTML('beforeend', '<input id="probe-input"><svg role="img" id="probe-svg" width="10" height="10"></svg><p id="probe-text">faint</p>');
		document.getElementById('probe-text').style.color = '#aaa'; // the page's CSP refuses style attributes
		return true })()`)
	unnamed := axUnnamed(t, b)
	if len(unnamed) != 2 || !strings.Contains(strings.Join(unnamed, " "), "textbox") || !strings.Contains(strings.Join(unnamed, " "), "image") {
		t.Errorf("planted an unlabelled input and an untitled chart, the name check found %q", unnamed)
	}
	if _, low := lowContrast(t, b); len(low) != 1 || !strings.Contains(low[0], "probe-text") {
		t.Errorf("planted #aaa text on white (2.3:1), the contrast check found %q", low)
	}
}

// axNamedRoles are the roles that must have an accessible name.
var axNamedRoles = map[string]bool{"link": true, "button": true, "textbox": true, "searchbox": true,
	"combobox": true, "image": true, "img": true, "table": true, "navigation": true, "search": true,
	"form": true, "checkbox": true, "radio": true, "listbox": true, "figure": false}

// axUnnamed lists the nodes of Chromium's accessibility tree, in a role that needs a
// name, whose computed name is empty.
func axUnnamed(t *testing.T, b *browser) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, 20*time.Second)
	defer cancel()
	res, err := chromedp.Call(ctx, accessibility.GetFullAXTree, accessibility.GetFullAXTreeParams{})
	if err != nil {
		t.Fatalf("accessibility tree: %v", err)
	}
	if len(res.Nodes) < 10 {
		t.Fatalf("accessibility tree of %d nodes", len(res.Nodes))
	}
	var out []string
	for _, n := range res.Nodes {
		role := axString(n.Role)
		if n.Ignored || !axNamedRoles[role] {
			continue
		}
		if strings.TrimSpace(axString(n.Name)) == "" {
			out = append(out, fmt.Sprintf("%s (DOM node %d)", role, n.BackendDOMNodeID))
		}
	}
	return out
}

func axString(v *accessibility.Value) string {
	if v == nil || len(v.Value) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal([]byte(v.Value), &s) != nil {
		return string(v.Value)
	}
	return s
}

// contrastJS returns [checked, failures]: every visible element with text of its own
// (SVG text by its fill), its colour against the backgrounds behind it composited up to
// the page's white, against WCAG AA: 4.5:1, or 3:1 for large text (24px, or 18.66px
// bold). A colour it cannot parse is a failure, not a pass.
const contrastJS = `(() => {
  const parse = s => { const m = s.match(/^rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)$/);
    return m ? [+m[1], +m[2], +m[3], m[4] === undefined ? 1 : +m[4]] : null; };
  const over = (top, under) => [0,1,2].map(i => top[i]*top[3] + under[i]*(1-top[3])).concat([1]);
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v/12.92 : Math.pow((v+0.055)/1.055, 2.4); };
    return 0.2126*f(c[0]) + 0.7152*f(c[1]) + 0.0722*f(c[2]); };
  const backdrop = el => { const layers = [];
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] === 1) break; } }
    let bg = [255, 255, 255, 1];
    for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
    return bg; };
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : '');
  let checked = 0; const fail = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (['SCRIPT', 'STYLE', 'title', 'desc'].includes(el.tagName)) continue;
    const own = [...el.childNodes].filter(n => n.nodeType === 3 && n.textContent.trim()).map(n => n.textContent.trim()).join(' ');
    if (!own || el.getClientRects().length === 0) continue;
    const st = getComputedStyle(el);
    if (st.visibility === 'hidden' || st.display === 'none') continue;
    const svg = el instanceof SVGElement;
    const raw = svg ? st.fill : st.color, fg0 = parse(raw);
    checked++;
    if (!fg0) { fail.push(name(el) + ' "' + own.slice(0, 30) + '": colour ' + raw + ' not understood'); continue; }
    const bg = backdrop(el), fg = over(fg0, bg);
    const [a, b] = [lum(fg), lum(bg)], ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const px = parseFloat(st.fontSize), bold = parseInt(st.fontWeight) >= 700;
    const need = (px >= 24 || (px >= 18.66 && bold)) ? 3 : 4.5;
    if (ratio < need) fail.push(name(el) + ' "' + own.slice(0, 30) + '": ' + ratio.toFixed(2) + ':1 (' + raw + ' on rgb(' + bg.slice(0, 3).map(Math.round).join(', ') + '), needs ' + need + ':1)');
  }
  return [checked, fail];
})()`

// lowContrast runs contrastJS: the number of text elements checked and the failures.
func lowContrast(t *testing.T, b *browser) (int, []string) {
	t.Helper()
	res := eval[[]json.RawMessage](t, b, contrastJS)
	var n int
	var fails []string
	if len(res) != 2 || json.Unmarshal(res[0], &n) != nil || json.Unmarshal(res[1], &fails) != nil {
		t.Fatalf("contrast check answered %s", res)
	}
	return n, fails
}

// focused describes the element that has the focus, and whether it shows a focus ring
// of at least 2px.
type focused struct {
	Desc string `json:"desc"`
	Ring bool   `json:"ring"`
	Href string `json:"href"`
}

const focusedJS = `(() => { const e = document.activeElement || document.body; const st = getComputedStyle(e);
  return { desc: e.tagName.toLowerCase() + (e.name ? '[name=' + e.name + ']' : '') + ' ' + (e.textContent || '').trim().slice(0, 30),
    ring: st.outlineStyle !== 'none' && parseFloat(st.outlineWidth) >= 2,
    href: e.getAttribute('href') || '' }; })()`

// press sends keys to the page and returns the element focused after them.
func press(t *testing.T, b *browser, keys ...string) focused {
	t.Helper()
	typeKeys(t, b, keys...)
	return eval[focused](t, b, focusedJS)
}

// typeKeys sends keys to the page.
func typeKeys(t *testing.T, b *browser, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if err := chromedp.Do(b.Ctx, chromedp.KeyEvent(k)); err != nil {
			t.Fatalf("key %q: %v", k, err)
		}
	}
}

// browseKeyboard uses the overview with the keyboard alone: the skip link leads to the
// filters, every filter and sort control is reached in order with a visible focus ring,
// a state is chosen with the arrow keys and applied with Enter, and an SLO's page is
// opened with Enter on its link.
func browseKeyboard(t *testing.T, b *browser, base string) {
	b.Open(t, base+"/?sort=name", "#slos", "")
	if f := press(t, b, kb.Tab); !strings.Contains(f.Desc, "Skip to content") || !f.Ring {
		t.Fatalf("first Tab focuses %+v, want the skip link with a focus ring", f)
	}
	if f := press(t, b, kb.Enter, kb.Tab); f.Desc != "input[name=q] " {
		t.Errorf("Tab after the skip link focuses %q, want the search box", f.Desc)
	}
	var order []string
	for _, want := range []string{"select[name=service]", "select[name=team]", "select[name=state]"} {
		f := press(t, b, kb.Tab)
		order = append(order, f.Desc)
		if !strings.HasPrefix(f.Desc, want) || !f.Ring {
			t.Fatalf("Tab order %q: want %s next, with a focus ring (%+v)", order, want, f)
		}
	}
	// The state menu, closed, takes the arrow keys: all → firing.
	typeKeys(t, b, kb.ArrowDown)
	for _, want := range []string{"select[name=sort]", "input[name=range]", "button"} {
		if f := press(t, b, kb.Tab); !strings.HasPrefix(f.Desc, want) || !f.Ring {
			t.Fatalf("want %s next, with a focus ring, got %+v", want, f)
		}
	}
	typeKeys(t, b, kb.Enter)
	waitFor(t, b, `location.search.includes('state=firing') && document.readyState === 'complete'`)
	if got := rowsShown(t, b); got != "shop/checkout-availability" {
		t.Errorf("state=firing chosen by keyboard shows %q", got)
	}
	if loc := eval[string](t, b, `location.search`); !strings.Contains(loc, "sort=name") {
		t.Errorf("the sort was lost: %q", loc)
	}
	// Tab on to the SLO's link, open it with Enter.
	var f focused
	for range 30 {
		if f = press(t, b, kb.Tab); strings.HasPrefix(f.Href, "/slo/") {
			break
		}
		if !f.Ring {
			t.Errorf("%s has no visible focus ring", f.Desc)
		}
	}
	if f.Href != "/slo/shop/checkout-availability" {
		t.Fatalf("no SLO link reached with Tab; last focus %+v", f)
	}
	typeKeys(t, b, kb.Enter)
	waitFor(t, b, `location.pathname === '/slo/shop/checkout-availability' && document.readyState === 'complete'`)
	b.CheckConsole(t, "keyboard", false)
}

// waitFor polls a JavaScript condition for up to 10 seconds.
func waitFor(t *testing.T, b *browser, cond string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if ok, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](cond)); err == nil && ok {
			return
		}
	}
	t.Fatalf("still false after 10s: %s", cond)
}
