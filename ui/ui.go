// Package ui is Satchel's Fyne desktop workstation: a navigation list on the left (Assets,
// Keys, Policies, Package, Publish, Verify, Inspect, License server, Simulate, Settings) and the
// screen on the right. It holds no media logic: every action calls app/services, long work
// runs as jobs in goroutines, and widgets are only touched on the UI goroutine (fyne.Do).
package ui

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"satchel/app/jobs"
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
	jobsScr  *jobsScreen

	dialogs        []hider              // open dialogs, newest last: Escape closes the newest
	opener         func(*url.URL) error // opens files and folders (tests replace it)
	lastDir        string               // the folder the file dialogs open in
	lastError      string               // the last error shown (tests)
	lastPathDialog string               // the last path shown with a Copy button (tests)
	notifyAfter    time.Duration        // jobs running this long announce their end
	notified       []*fyne.Notification // the notifications sent (tests)
	unwatch        func()               // stops watching the jobs
	quitAsked      bool                 // the quit confirmation was shown (tests)
	closed         bool                 // the window was closed (tests)
}

type screen struct {
	name    string
	icon    fyne.Resource
	obj     fyne.CanvasObject
	refresh func()
	main    *widget.Button // the screen's main action: Enter runs it
	kind    jobs.Kind      // the jobs the screen runs (its sidebar badge counts them)
}

// New builds the main window on fa for svc (tests pass a test app).
func New(ctx context.Context, fa fyne.App, svc *services.Service) *App {
	a := &App{ctx: ctx, fa: fa, svc: svc, log: svc.Log, notifyAfter: notifyAfter}
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
	a.jobsScr = newJobsScreen(a)
	a.screens = []*screen{
		{name: ScreenAssets, icon: theme.FileVideoIcon(), obj: a.assets.obj, refresh: a.assets.refresh,
			kind: services.KindEncode},
		{name: ScreenKeys, icon: keyIcon, obj: a.keys.obj, refresh: a.keys.refresh, main: a.keys.genBtn},
		{name: ScreenPolicies, icon: theme.DocumentIcon(), obj: a.policies.obj, refresh: a.policies.refresh,
			main: a.policies.saveBtn},
		{name: ScreenPackage, icon: boxIcon, obj: a.pkg.obj, refresh: a.pkg.refresh, main: a.pkg.runBtn,
			kind: services.KindPackage},
		{name: ScreenPublish, icon: theme.UploadIcon(), obj: a.publish.obj, refresh: a.publish.refresh,
			main: a.publish.runBtn, kind: services.KindPublish},
		{name: ScreenVerify, icon: theme.ConfirmIcon(), obj: a.verify.obj, refresh: a.verify.refresh,
			main: a.verify.runBtn, kind: services.KindVerify},
		{name: ScreenInspect, icon: theme.SearchIcon(), obj: a.inspect.obj, main: a.inspect.loadBtn},
		{name: ScreenLicense, icon: theme.ComputerIcon(), obj: a.license.obj, refresh: a.license.refresh,
			main: a.license.startBtn},
		{name: ScreenSimulate, icon: theme.HistoryIcon(), obj: a.simulate.obj, refresh: a.simulate.refresh,
			main: a.simulate.runBtn, kind: services.KindSimulate},
		{name: ScreenJobs, icon: theme.ListIcon(), obj: a.jobsScr.obj, refresh: a.jobsScr.refresh},
		{name: ScreenSettings, icon: theme.SettingsIcon(), obj: a.settings.obj, refresh: a.settings.refresh},
	}
	a.content = container.NewStack()
	a.nav = widget.NewList(func() int { return len(a.screens) }, newNavRow,
		func(i widget.ListItemID, o fyne.CanvasObject) { a.updateNavRow(a.screens[i], o) })
	a.nav.OnSelected = func(i widget.ListItemID) { a.show(a.screens[i].name) }
	split := container.NewHSplit(a.nav, a.content)
	split.Offset = 0.16
	a.win.SetContent(split)
	w, h := st.WindowW, st.WindowH
	if w < 800 || h < 500 {
		w, h = 1200, 780
	}
	a.win.Resize(fyne.NewSize(w, h))
	a.win.SetOnDropped(a.dropped)
	a.win.SetCloseIntercept(a.requestClose)
	a.win.Canvas().SetOnTypedKey(a.typedKey)
	a.watchJobs()
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
	a.errorDialog(explain(err))
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

func (a *App) applyTheme(name store.Theme) {
	switch name {
	case store.ThemeDark:
		a.fa.Settings().SetTheme(newTheme(variantPtr(theme.VariantDark)))
	case store.ThemeLight:
		a.fa.Settings().SetTheme(newTheme(variantPtr(theme.VariantLight)))
	default:
		a.fa.Settings().SetTheme(newTheme(nil))
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
