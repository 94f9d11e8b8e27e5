// Package ui is Satchel's Fyne desktop workstation: a navigation list on the left (Assets,
// Keys, Policies, Package, Publish, Verify, Inspect, License server, Simulate, Settings) and the
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
	"runtime"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"satchel/app/services"
	"satchel/app/store"
	"satchel/assets"
	"satchel/internal/version"
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
	ScreenSimulate = "Simulate"
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
	if runtime.GOOS == "linux" && os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		fmt.Fprintln(os.Stderr, "satchel: no display to open the desktop app on (DISPLAY is not set); "+
			"start it from a desktop session, or run a command: satchel help")
		return 2
	}
	fa := fyneapp.NewWithID(AppID)
	fa.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon))
	svc, err := services.Open(services.Options{Dir: *wsDir, Passphrase: os.Getenv("SATCHEL_PASSPHRASE")})
	if err != nil {
		fmt.Fprintln(os.Stderr, "satchel:", err)
		w := fa.NewWindow("Satchel")
		msg := explain(err)
		w.SetContent(container.NewPadded(container.NewVBox(heading("Satchel cannot open its workspace"),
			widget.NewLabel(msg), widget.NewButton("Quit", fa.Quit))))
		w.ShowAndRun()
		return 2
	}
	defer svc.Close()
	if svc.PassphraseUnused {
		svc.Log.Warn("SATCHEL_PASSPHRASE is set but the workspace is not protected by a passphrase; it was not used "+
			"(set one in Settings)", "workspace", svc.Dir)
	}
	a := New(ctx, fa, svc)
	if *samples != "" {
		a.addSamples(*samples)
	}
	a.win.ShowAndRun()
	return 0
}

// App is the running workstation.
type App struct {
	// ctx is the app's lifetime context from main (cancelled on SIGINT/SIGTERM): the jobs and
	// the license server that screens start run under it. It is the one context the GUI
	// keeps, because the window, not a call, is what lives that long.
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
	simulate *simulateScreen
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
	st, err := svc.Settings()
	if err != nil {
		a.log.Warn("read settings; using defaults", "err", err)
	}
	a.applyTheme(st.Theme)
	a.assets = newAssetsScreen(a)
	a.keys = newKeysScreen(a)
	a.policies = newPoliciesScreen(a)
	a.pkg = newPackageScreen(a)
	a.publish = newPublishScreen(a)
	a.verify = newVerifyScreen(a)
	a.inspect = newInspectScreen(a)
	a.license = newLicenseScreen(a)
	a.simulate = newSimulateScreen(a)
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
		{ScreenSimulate, theme.HistoryIcon(), a.simulate.obj, a.simulate.refresh},
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
		a.assets.drop(paths)
	})
	a.win.SetCloseIntercept(func() {
		s, err := a.svc.Settings()
		if err == nil {
			sz := a.win.Canvas().Size()
			s.WindowW, s.WindowH, s.LastScreen = sz.Width, sz.Height, a.current
			err = a.svc.SaveSettings(s)
		}
		if err != nil {
			a.log.Warn("save window settings", "err", err)
		}
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

// showErr shows an error dialog that says what to do (see explain).
func (a *App) showErr(err error) {
	if err == nil {
		return
	}
	a.log.Warn("ui error", "err", err)
	dialog.ShowError(errors.New(explain(err)), a.win)
}

// AboutText is the About text: the name and version (from FyneApp.toml, like the CLI's
// --version) and what Satchel is.
func AboutText() string {
	return "Satchel " + version.String() + " — offline DRM workstation: package, publish and verify video " +
		"for download-and-play-later with Widevine, PlayReady, FairPlay and ClearKey."
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

func (a *App) applyTheme(name store.Theme) {
	switch name {
	case store.ThemeDark:
		a.fa.Settings().SetTheme(forcedTheme{theme.DefaultTheme(), theme.VariantDark})
	case store.ThemeLight:
		a.fa.Settings().SetTheme(forcedTheme{theme.DefaultTheme(), theme.VariantLight})
	default:
		a.fa.Settings().SetTheme(theme.DefaultTheme())
	}
}

// addSamples adds the MP4s of dir as assets unless they are already there (make run).
func (a *App) addSamples(dir string) {
	have := map[string]bool{}
	list, err := a.svc.Assets()
	if err != nil {
		a.showErr(err)
		return
	}
	for _, e := range list {
		have[e.Path] = true
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "ladder_*.mp4")) // the pattern is valid
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

// keySetNames lists the workspace's key sets by name (for the screens' choices).
func (a *App) keySetNames() []string {
	sets, err := a.svc.KeySets()
	if err != nil {
		a.log.Warn("list key sets", "err", err)
	}
	out := make([]string, 0, len(sets))
	for _, ks := range sets {
		out = append(out, ks.Name)
	}
	return out
}

// policyNames lists the presets and stored policies (for the screens' choices).
func (a *App) policyNames() []string {
	names, err := a.svc.PolicyNames()
	if err != nil {
		a.log.Warn("list policies", "err", err)
	}
	return names
}

// lastPackage offers the newest package as the input of a next step: it fills entry when
// the user has not typed anything else there (entry is empty or still shows an earlier
// offer). prev remembers the last offer per entry.
func (a *App) lastPackage(entry *widget.Entry, prev *string) {
	dir, ok := a.svc.LastPackage()
	if !ok || (entry.Text != "" && entry.Text != *prev) {
		return
	}
	*prev = dir
	entry.SetText(dir)
}

// heading is a bold label: a screen's or a section's title.
func heading(text string) *widget.Label {
	return widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
}
