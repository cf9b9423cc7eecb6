// Package browsertest drives headless Chromium for the UI tests: one tab with its network
// cut off (only loopback answers), every console message recorded, full-page screenshots
// kept as CI artifacts.
package browsertest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/slokit/slokit/internal/testutil"
)

// Browser is one headless Chromium tab that records every console message.
type Browser struct {
	// Ctx is the tab's chromedp context.
	Ctx context.Context
	mu  sync.Mutex
	log []chromedp.ConsoleMessage
	dir string // screenshots
}

// New starts Chromium (skipping loudly when it is missing, failing under
// SLOKIT_REQUIRE_REAL=1) with screenshots going to dir (see ArtifactsDir).
func New(t *testing.T, dir string) *Browser {
	t.Helper()
	bin := testutil.Binary(t, "chromium", "chromium-browser", "google-chrome")
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("proxy-server", "127.0.0.1:9"), // no network: only loopback bypasses the dead proxy
		chromedp.UserDataDir(filepath.Join(t.TempDir(), "profile")), chromedp.WindowSize(1280, 900))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	b := &Browser{Ctx: ctx, dir: dir}
	msgs := chromedp.Console(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range msgs {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.log = append(b.log, m)
			b.mu.Unlock()
		}
	}()
	t.Cleanup(func() { cancel(); cancelA(); <-done })
	return b
}

// ArtifactsDir is $SLOKIT_E2E_ARTIFACTS/sub when set (CI: artifacts/ at the repository
// root), else fallback; it is created.
func ArtifactsDir(t *testing.T, sub, fallback string) string {
	t.Helper()
	dir := fallback
	if a := os.Getenv("SLOKIT_E2E_ARTIFACTS"); a != "" {
		dir = filepath.Join(a, sub)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Open navigates to url, waits for sel and takes a full-page screenshot named shot
// (none when empty).
func (b *Browser) Open(t *testing.T, url, sel, shot string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitReady(sel)); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	b.Screenshot(t, shot)
}

// Screenshot writes a full-page screenshot of the tab to DIR/shot.png.
func (b *Browser) Screenshot(t *testing.T, shot string) {
	t.Helper()
	if shot == "" {
		return
	}
	png, err := chromedp.Run(b.Ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", shot, err)
	}
	path := filepath.Join(b.dir, shot+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", path)
}

// Eval runs a JavaScript expression in the page.
func Eval[T any](t *testing.T, b *Browser, js string) T {
	t.Helper()
	v, err := chromedp.Run(b.Ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

// errors returns the console errors and exceptions since the last call, leaving out
// the browser's note on a page served with an error status when allowStatus is set.
func (b *Browser) errors(allowStatus bool) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, m := range b.log {
		if m.Type != chromedp.ConsoleError && !m.IsException() {
			continue
		}
		if allowStatus && m.Source == "network" && strings.Contains(m.Text, "the server responded with a status of") {
			continue
		}
		out = append(out, m.String())
	}
	b.log = nil
	return out
}

// CheckConsole fails the test for each console error or exception since the last check.
func (b *Browser) CheckConsole(t *testing.T, page string, allowStatus bool) {
	t.Helper()
	time.Sleep(200 * time.Millisecond) // let late messages arrive
	for _, e := range b.errors(allowStatus) {
		t.Errorf("%s: console error: %s", page, e)
	}
}
