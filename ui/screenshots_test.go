package ui

import (
	"context"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"satchel/app/jobs"
	"satchel/app/services"
	"satchel/app/store"
	"satchel/engine/drm"
	"satchel/engine/encode"
	"satchel/engine/license"
	"satchel/engine/simulate"
	"satchel/engine/verify"
	"satchel/internal/testmedia"
)

// TestScreenshots is the screen tour behind `make screenshots`: on a fresh workspace it adds
// the sample ladder, packages and verifies it, licenses a key through the running license
// server, plays the rental scenario on a simulated device and inspects an init segment, so
// every screen shows real results (a package → verify → publish to a folder run among them);
// then it renders each screen (1200×780, the default window, default theme) to a PNG in
// $SATCHEL_SCREENSHOTS, and the segment chart (assets-segments.png). Then it encodes a ladder
// from a 1080p master on the Assets screen's encoder tab and renders it before the encode
// (assets-encode-ladder.png: the ladder editor, the commands, the bit rate vs resolution chart)
// and after it (assets-encode.png: per-rung progress, the verdict, the bit rate vs PSNR chart).
// With $SATCHEL_SCREENSHOT_VARIANTS set it renders every screen and the encoder tab at
// 1200×780 and 1920×1080 in the light and dark themes to variants/. Without
// $SATCHEL_SCREENSHOTS it is skipped.
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("SATCHEL_SCREENSHOTS")
	if dir == "" {
		t.Skip("set SATCHEL_SCREENSHOTS=DIR to render the screen tour (make screenshots)")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", "/home/studio") // the proposed output folder is ~/Satchel/package-…
	a := newTestApp(t)
	if _, err := a.svc.GenerateKeySet("Studio keys", nil); err != nil {
		t.Fatal(err)
	}
	added := make(chan struct{}, 1)
	a.assets.onAdded = func() { added <- struct{}{} }
	a.addSamples(media)
	wait(t, added, "sample assets")

	a.Show(ScreenPackage)
	a.pkg.outDir.SetText(filepath.Join(t.TempDir(), "package"))
	packaged := make(chan jobs.Record, 1)
	a.pkg.onFinish = func(r jobs.Record) { packaged <- r }
	test.Tap(a.pkg.runBtn)
	if rec := wait(t, packaged, "packaging"); rec.State != jobs.Done {
		t.Fatalf("package job %s: %s", rec.State, rec.Error)
	}
	a.Show(ScreenVerify)
	verified := make(chan *verify.Report, 1)
	a.verify.onFinish = func(r *verify.Report) { verified <- r }
	test.Tap(a.verify.runBtn)
	wait(t, verified, "verification")

	// Publish the package to a folder, checked over HTTP.
	a.publishFrom(a.verify.path.Text)
	a.publish.target.SetText(filepath.Join(t.TempDir(), "www"))
	published := make(chan struct{}, 1)
	a.publish.onDone = func() { published <- struct{}{} }
	test.Tap(a.publish.runBtn)
	if a.publish.view.job == nil {
		t.Fatalf("publish did not start: %s", a.publish.problem.Text)
	}
	wait(t, published, "publish")

	a.Show(ScreenLicense)
	a.license.addr.SetText("127.0.0.1:0")
	test.Tap(a.license.startBtn)
	if u, ok := a.svc.LicenseURL(); ok {
		keys, err := a.svc.AllKeys()
		if err != nil || len(keys) == 0 {
			t.Fatalf("keys: %v", err)
		}
		if _, err := license.NewClient(u, "").ClearKey(context.Background(), []drm.KID{keys[len(keys)-1].KID}, true); err != nil {
			t.Fatal(err)
		}
	}
	a.Show(ScreenSimulate)
	a.simulate.pkg.SetText("")
	a.simulate.preset.SetSelected(simulate.PresetRental)
	simulated := make(chan *services.SimulateResult, 1)
	a.simulate.onFinish = func(r *services.SimulateResult) { simulated <- r }
	test.Tap(a.simulate.runBtn)
	wait(t, simulated, "simulation")
	a.license.loadLedger()
	a.Show(ScreenInspect)
	a.inspect.path.SetText(filepath.Join(a.verify.path.Text, "cenc", "360p", "init.mp4"))
	a.inspect.load()
	a.Show(ScreenKeys)
	a.keys.list.Select(0)
	a.Show(ScreenAssets)
	thumbs := make(chan string, 1)
	a.assets.onThumb = func(p string) { thumbs <- p }
	a.assets.list.Select(2)
	wait(t, thumbs, "first frame")

	a.assets.pics.segDur.SetText("2s")
	a.win.Resize(fyne.NewSize(1200, 780))
	for _, s := range a.screens {
		a.Show(s.name)
		capture(t, a, filepath.Join(dir, screenFile(s.name)+".png"))
	}
	a.Show(ScreenAssets)
	a.assets.pics.tabs.SelectIndex(1)
	capture(t, a, filepath.Join(dir, "assets-segments.png"))
	a.assets.pics.tabs.SelectIndex(0)
	encodeTour(t, a, dir)
	// Every screen and the encoder at the default size and full HD, in both themes
	// (SATCHEL_SCREENSHOT_VARIANTS).
	if os.Getenv("SATCHEL_SCREENSHOT_VARIANTS") == "" {
		return
	}
	vdir := filepath.Join(dir, "variants")
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, th := range []store.Theme{store.ThemeLight, store.ThemeDark} {
		a.applyTheme(th)
		for _, size := range []fyne.Size{{Width: 1200, Height: 780}, {Width: 1920, Height: 1080}} {
			a.win.Resize(size)
			for _, s := range a.screens {
				a.Show(ScreenSettings) // a fresh layout at the new size
				a.Show(s.name)
				file := fmt.Sprintf("%s-%dx%d-%s.png", screenFile(s.name), int(size.Width), int(size.Height), th)
				capture(t, a, filepath.Join(vdir, file))
			}
			a.Show(ScreenVerify)
			a.Show(ScreenAssets) // the encoder tab stays selected
			capture(t, a, filepath.Join(vdir, fmt.Sprintf("assets-encode-%dx%d-%s.png", int(size.Width),
				int(size.Height), th)))
		}
	}
	a.applyTheme(store.ThemeSystem)
}

// encodeTour encodes the auto ladder of the test master on the Assets screen's encoder tab
// (1280×800, default theme) and renders the tab before the encode, assets-encode-ladder.png,
// and after it, assets-encode.png.
func encodeTour(t *testing.T, a *App, dir string) {
	a.Show(ScreenAssets)
	a.assets.tabs.Select(a.assets.encTab)
	v := a.assets.enc
	probed := make(chan error, 1)
	v.onMaster = func(err error) { probed <- err }
	v.setMaster(testmedia.Master(t))
	if err := wait(t, probed, "the master probe"); err != nil {
		t.Fatal(err)
	}
	v.speed.SetSelected(string(encode.SpeedVeryfast))
	v.outDir.SetText(filepath.Join(t.TempDir(), "renditions-master"))
	planned := make(chan error, 1)
	v.onPlanned = func(err error) {
		select {
		case planned <- err:
		default:
		}
	}
	v.replan()
	if err := wait(t, planned, "the command preview"); err != nil {
		t.Fatal(err)
	}
	v.onPlanned = nil
	capture(t, a, filepath.Join(dir, "assets-encode-ladder.png"))
	done := make(chan jobs.Record, 1)
	v.onFinish = func(r jobs.Record) { done <- r }
	test.Tap(v.encodeBtn)
	if rec := wait(t, done, "the encode"); rec.State != jobs.Done {
		t.Fatalf("encode job %s: %s", rec.State, rec.Error)
	}
	capture(t, a, filepath.Join(dir, "assets-encode.png"))
}

func screenFile(name string) string { return strings.ReplaceAll(strings.ToLower(name), " ", "-") }

// capture renders the window to a PNG file. It lays the whole window out first, as the
// desktop driver does before every frame (the test canvas lays out only on resize, so text a
// job set after the last resize would overlap its neighbours).
func capture(t *testing.T, a *App, file string) {
	t.Helper()
	a.win.Content().Refresh()
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, a.win.Canvas().Capture()); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("saved %s", file)
}
