// Package ui is Satchel's Fyne desktop workstation: a navigation list on the left (Assets,
// Keys, Policies, Package, Publish, Verify, Inspect, License server, Settings) and the
// screen on the right. It holds no media logic: every action calls app/services, long work
// runs as jobs in goroutines, and widgets are only touched on the UI goroutine (fyne.Do).
package ui

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"image/color"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"satchel/app/services"
	"satchel/app/store"
	"satchel/assets"
	"satchel/engine/drm"
	"satchel/engine/license"
)

// AppID is the desktop application ID (FyneApp.toml).
const AppID = "io.satchel.workstation"

// Screen names, in navigation order.
const (
	ScreenAssets   = "Assets"
	ScreenKeys     = "Keys"
	ScreenPolicies = "Policies"
	ScreenPackage  = "Package"
	ScreenPublish  = "Publish"
	ScreenVerify   = "Verify"
	ScreenInspect  = "Inspect"
	ScreenLicense  = "License server"
	ScreenSettings = "Settings"
)

// Main runs the desktop app and returns the exit code. Flags: --workspace DIR, --samples DIR
// (add the MP4s in DIR as assets when they are not there yet).
func Main(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("satchel", flag.ContinueOnError)
	wsDir := fs.String("workspace", "", "workspace folder")
	samples := fs.String("samples", "", "add the MP4 files in this folder as assets")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fa := fyneapp.NewWithID(AppID)
	fa.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon))
	svc, err := services.Open(services.Options{Dir: *wsDir, Passphrase: os.Getenv("SATCHEL_PASSPHRASE")})
	if err != nil {
		var inUse *store.InUseError
		fmt.Fprintln(os.Stderr, "satchel:", err)
		w := fa.NewWindow("Satchel")
		msg := err.Error()
		if errors.As(err, &inUse) {
			msg += "\n\nOnly one Satchel window can use a workspace at a time."
		}
		w.SetContent(container.NewPadded(container.NewVBox(widget.NewLabelWithStyle("Satchel cannot open its workspace", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
			widget.NewLabel(msg), widget.NewButton("Quit", fa.Quit))))
		w.ShowAndRun()
		return 2
	}
	defer svc.Close()
	a := New(ctx, fa, svc)
	if *samples != "" {
		a.addSamples(*samples)
	}
	if dir := os.Getenv("SATCHEL_SCREENSHOTS"); dir != "" {
		go a.screenshots(dir)
	}
	a.win.ShowAndRun()
	return 0
}

// App is the running workstation.
type App struct {
	ctx     context.Context
	fa      fyne.App
	win     fyne.Window
	svc     *services.Service
	log     *slog.Logger
	screens []*screen
	content *fyne.Container
	nav     *widget.List
	current string

	assets   *assetsScreen
	keys     *keysScreen
	policies *policiesScreen
	pkg      *packageScreen
	publish  *publishScreen
	verify   *verifyScreen
	inspect  *inspectScreen
	license  *licenseScreen
	settings *settingsScreen
}

type screen struct {
	name    string
	icon    fyne.Resource
	obj     fyne.CanvasObject
	refresh func()
}

// New builds the main window on fa for svc (tests pass a test app).
func New(ctx context.Context, fa fyne.App, svc *services.Service) *App {
	a := &App{ctx: ctx, fa: fa, svc: svc, log: svc.Log}
	a.win = fa.NewWindow("Satchel — offline DRM workstation")
	st, _ := svc.Settings()
	a.applyTheme(st.Theme)
	a.assets = newAssetsScreen(a)
	a.keys = newKeysScreen(a)
	a.policies = newPoliciesScreen(a)
	a.pkg = newPackageScreen(a)
	a.publish = newPublishScreen(a)
	a.verify = newVerifyScreen(a)
	a.inspect = newInspectScreen(a)
	a.license = newLicenseScreen(a)
	a.settings = newSettingsScreen(a)
	a.screens = []*screen{
		{ScreenAssets, theme.FileVideoIcon(), a.assets.obj, a.assets.refresh},
		{ScreenKeys, theme.AccountIcon(), a.keys.obj, a.keys.refresh},
		{ScreenPolicies, theme.DocumentIcon(), a.policies.obj, a.policies.refresh},
		{ScreenPackage, theme.MediaRecordIcon(), a.pkg.obj, a.pkg.refresh},
		{ScreenPublish, theme.UploadIcon(), a.publish.obj, a.publish.refresh},
		{ScreenVerify, theme.ConfirmIcon(), a.verify.obj, a.verify.refresh},
		{ScreenInspect, theme.SearchIcon(), a.inspect.obj, nil},
		{ScreenLicense, theme.ComputerIcon(), a.license.obj, a.license.refresh},
		{ScreenSettings, theme.SettingsIcon(), a.settings.obj, a.settings.refresh},
	}
	a.content = container.NewStack()
	a.nav = widget.NewList(func() int { return len(a.screens) },
		func() fyne.CanvasObject {
			return container.NewHBox(widget.NewIcon(theme.HomeIcon()), widget.NewLabel("License server__"))
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			row := o.(*fyne.Container)
			row.Objects[0].(*widget.Icon).SetResource(a.screens[i].icon)
			row.Objects[1].(*widget.Label).SetText(a.screens[i].name)
		})
	a.nav.OnSelected = func(i widget.ListItemID) { a.show(a.screens[i].name) }
	split := container.NewHSplit(a.nav, a.content)
	split.Offset = 0.16
	a.win.SetContent(split)
	w, h := st.WindowW, st.WindowH
	if w < 800 || h < 500 {
		w, h = 1200, 780
	}
	a.win.Resize(fyne.NewSize(w, h))
	a.win.SetOnDropped(func(_ fyne.Position, uris []fyne.URI) {
		var paths []string
		for _, u := range uris {
			paths = append(paths, u.Path())
		}
		a.Show(ScreenAssets)
		a.assets.add(paths)
	})
	a.win.SetCloseIntercept(func() {
		s, _ := a.svc.Settings()
		sz := a.win.Canvas().Size()
		s.WindowW, s.WindowH, s.LastScreen = sz.Width, sz.Height, a.current
		_ = a.svc.SaveSettings(s)
		a.win.Close()
	})
	last := st.LastScreen
	if last == "" {
		last = ScreenAssets
	}
	a.Show(last)
	return a
}

// Window returns the main window.
func (a *App) Window() fyne.Window { return a.win }

// Show switches to a screen by name.
func (a *App) Show(name string) {
	for i, s := range a.screens {
		if s.name == name {
			if a.nav.OnSelected != nil {
				a.nav.Select(i)
			}
			a.show(name)
			return
		}
	}
}

func (a *App) show(name string) {
	if a.current == name {
		return
	}
	for _, s := range a.screens {
		if s.name == name {
			a.current = name
			if s.refresh != nil {
				s.refresh()
			}
			a.content.Objects = []fyne.CanvasObject{s.obj}
			a.content.Refresh()
		}
	}
}

// showErr shows an error dialog with the message (which says what to do).
func (a *App) showErr(err error) {
	if err == nil {
		return
	}
	a.log.Warn("ui error", "err", err)
	dialog.ShowError(err, a.win)
}

// run executes fn off the UI goroutine and shows its error, if any, on the UI goroutine.
func (a *App) run(fn func() error, then func()) {
	go func() {
		err := fn()
		fyne.Do(func() {
			if err != nil {
				a.showErr(err)
				return
			}
			if then != nil {
				then()
			}
		})
	}()
}

// forcedTheme pins the light or dark variant of the default theme.
type forcedTheme struct {
	fyne.Theme
	variant fyne.ThemeVariant
}

func (t forcedTheme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	return t.Theme.Color(n, t.variant)
}

func (a *App) applyTheme(name string) {
	switch name {
	case "dark":
		a.fa.Settings().SetTheme(forcedTheme{theme.DefaultTheme(), theme.VariantDark})
	case "light":
		a.fa.Settings().SetTheme(forcedTheme{theme.DefaultTheme(), theme.VariantLight})
	default:
		a.fa.Settings().SetTheme(theme.DefaultTheme())
	}
}

// addSamples adds the MP4s of dir as assets unless they are already there (make run).
func (a *App) addSamples(dir string) {
	have := map[string]bool{}
	if list, err := a.svc.Assets(); err == nil {
		for _, e := range list {
			have[e.Path] = true
		}
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "ladder_*.mp4"))
	var add []string
	for _, m := range matches {
		abs, _ := filepath.Abs(m)
		if !have[abs] {
			add = append(add, abs)
		}
	}
	if len(add) > 0 {
		a.assets.add(add)
	}
}

// screenshots packages and verifies the selected ladder (so the screens show real results),
// visits every screen, saves a PNG of each into dir, then quits.
func (a *App) screenshots(dir string) {
	time.Sleep(1500 * time.Millisecond)
	os.MkdirAll(dir, 0o755)
	waitJob := func(v *jobView) {
		var j interface{ Done() <-chan struct{} }
		fyne.DoAndWait(func() {
			if v.job != nil {
				j = v.job
			}
		})
		if j != nil {
			select {
			case <-j.Done():
			case <-time.After(2 * time.Minute):
			}
			time.Sleep(300 * time.Millisecond)
		}
	}
	fyne.DoAndWait(func() {
		a.Show(ScreenPackage)
		a.pkg.start()
	})
	waitJob(a.pkg.view)
	fyne.DoAndWait(func() {
		a.Show(ScreenVerify)
		a.verify.start()
	})
	waitJob(a.verify.view)
	// Start the license server on the package and license its keys once, so the ledger shows
	// an entry (as the demo player would).
	fyne.DoAndWait(func() {
		a.Show(ScreenLicense)
		a.license.addr.SetText("127.0.0.1:0")
		a.license.start()
	})
	if u, ok := a.svc.LicenseURL(); ok {
		if keys, err := a.svc.AllKeys(); err == nil && len(keys) > 0 {
			_, _ = license.NewClient(u, "").ClearKey(context.Background(), []drm.KID{keys[len(keys)-1].KID}, true)
		}
		time.Sleep(300 * time.Millisecond)
	}
	fyne.DoAndWait(func() {
		a.Show(ScreenInspect)
		if a.verify.path.Text != "" {
			a.inspect.path.SetText(filepath.Join(a.verify.path.Text, "cenc", "360p", "init.mp4"))
			a.inspect.load()
		}
		a.Show(ScreenKeys)
		if len(a.keys.sets) > 0 {
			a.keys.list.Select(0)
		}
		a.Show(ScreenAssets)
		if len(a.assets.entries) > 0 {
			a.assets.list.Select(0)
		}
	})
	// The screenshot script grabs the X display after each SCREEN line (ffmpeg x11grab): a GL
	// framebuffer read-back is unreliable under Xvfb's software GL.
	fyne.DoAndWait(func() { a.win.Resize(fyne.NewSize(1280, 800)) })
	for _, s := range a.screens {
		name := s.name
		fyne.DoAndWait(func() { a.Show(name) })
		time.Sleep(800 * time.Millisecond)
		file := filepath.Join(dir, strings.ReplaceAll(strings.ToLower(name), " ", "-")+".png")
		fmt.Printf("SCREEN %s\n", file)
		time.Sleep(1500 * time.Millisecond)
	}
	fyne.Do(func() { a.fa.Quit() })
}
