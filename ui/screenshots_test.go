package ui

import (
	"context"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"satchel/app/jobs"
	"satchel/engine/drm"
	"satchel/engine/license"
	"satchel/engine/verify"
)

// TestScreenshots is the screen tour behind `make screenshots`: on a fresh workspace it adds
// the sample ladder, packages and verifies it, licenses a key through the running license
// server and inspects an init segment, so every screen shows real results; then it renders
// each screen (1280×800, default theme) to a PNG in $SATCHEL_SCREENSHOTS. Without that
// variable it is skipped.
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
	a.license.loadLedger()
	a.Show(ScreenInspect)
	a.inspect.path.SetText(filepath.Join(a.verify.path.Text, "cenc", "360p", "init.mp4"))
	a.inspect.load()
	a.Show(ScreenKeys)
	a.keys.list.Select(0)
	a.Show(ScreenAssets)
	a.assets.list.Select(0)

	a.win.Resize(fyne.NewSize(1280, 800))
	for _, s := range a.screens {
		a.Show(s.name)
		file := filepath.Join(dir, strings.ReplaceAll(strings.ToLower(s.name), " ", "-")+".png")
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
}
