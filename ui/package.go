package ui

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"satchel/app/jobs"
	"satchel/app/services"
	"satchel/engine/drm"
	"satchel/packaging"
)

const generateKeys = "(generate new keys)"
const noPolicy = "(no policy)"

// packageScreen configures and runs packaging jobs with per-rendition progress.
type packageScreen struct {
	a        *App
	obj      fyne.CanvasObject
	ladder   *widget.Label
	keySet   *widget.Select
	policy   *widget.Select
	schemes  *widget.CheckGroup
	formats  *widget.CheckGroup
	systems  *widget.CheckGroup
	segment  *widget.Entry
	lead     *widget.Entry
	outDir   *widget.Entry
	laURL    *widget.Entry
	overwrt  *widget.Check
	runBtn   *widget.Button
	openBtn  *widget.Button
	view     *jobView
	history  *widget.List
	histRef  func()
	lastOut  string
	onFinish func(jobs.Record) // tests
}

func newPackageScreen(a *App) *packageScreen {
	s := &packageScreen{a: a}
	s.ladder = widget.NewLabel("")
	s.ladder.Wrapping = fyne.TextWrapWord
	s.keySet = widget.NewSelect(nil, nil)
	s.policy = widget.NewSelect(nil, nil)
	s.schemes = widget.NewCheckGroup([]string{"cenc", "cbcs"}, nil)
	s.schemes.Horizontal = true
	s.schemes.SetSelected([]string{"cenc", "cbcs"})
	s.formats = widget.NewCheckGroup([]string{"dash", "hls", "mp4"}, nil)
	s.formats.Horizontal = true
	s.formats.SetSelected([]string{"dash", "hls", "mp4"})
	var sysNames []string
	for _, sys := range drm.AllSystems {
		sysNames = append(sysNames, string(sys))
	}
	s.systems = widget.NewCheckGroup(sysNames, nil)
	s.systems.Horizontal = true
	s.systems.SetSelected(sysNames)
	s.segment = widget.NewEntry()
	s.segment.SetText("4s")
	s.lead = widget.NewEntry()
	s.lead.SetText("0s")
	s.outDir = widget.NewEntry()
	s.outDir.SetPlaceHolder("output folder (created; must be new or empty)")
	browse := widget.NewButton("Browse…", func() {
		dialog.ShowFolderOpen(func(u fyne.ListableURI, err error) {
			if err == nil && u != nil {
				s.outDir.SetText(filepath.Join(u.Path(), "package-"+time.Now().Format("20060102-150405")))
			}
		}, a.win)
	})
	s.laURL = widget.NewEntry()
	s.laURL.SetText("http://127.0.0.1:8787/clearkey")
	s.overwrt = widget.NewCheck("replace an existing package", nil)
	s.view = newJobView(a)
	s.view.onDone = s.finished
	s.runBtn = widget.NewButton("Package", s.start)
	s.runBtn.Importance = widget.HighImportance
	s.openBtn = widget.NewButton("Open output folder", func() {
		if s.lastOut != "" {
			_ = a.fa.OpenURL(&url.URL{Scheme: "file", Path: s.lastOut})
		}
	})
	s.openBtn.Disable()
	s.history, s.histRef = a.historyList(services.KindPackage)
	form := widget.NewForm(
		widget.NewFormItem("Key set", s.keySet), widget.NewFormItem("Policy", s.policy),
		widget.NewFormItem("Schemes", s.schemes), widget.NewFormItem("Outputs", s.formats), widget.NewFormItem("DRM systems", s.systems),
		widget.NewFormItem("Segment duration", s.segment), widget.NewFormItem("Clear lead", s.lead), widget.NewFormItem("ClearKey license URL", s.laURL),
		widget.NewFormItem("Output folder", container.NewBorder(nil, nil, nil, browse, s.outDir)), widget.NewFormItem("", s.overwrt))
	top := container.NewVBox(widget.NewLabelWithStyle("Package", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), s.ladder, form,
		container.NewHBox(s.runBtn, s.openBtn), s.view.box)
	split := container.NewVSplit(container.NewVScroll(top), container.NewBorder(widget.NewLabel("Job history"), nil, nil, nil, s.history))
	split.Offset = 0.75
	s.obj = split
	return s
}

func (s *packageScreen) refresh() {
	paths, err := s.a.svc.SelectedLadder()
	switch {
	case err != nil && len(paths) == 0:
		s.ladder.SetText("⚠ " + err.Error())
	case err != nil:
		s.ladder.SetText(fmt.Sprintf("⚠ %d renditions selected, but: %v", len(paths), err))
	default:
		var names []string
		for _, p := range paths {
			names = append(names, filepath.Base(p))
		}
		s.ladder.SetText(fmt.Sprintf("Ladder (from Assets): %s", strings.Join(names, ", ")))
	}
	opts := []string{generateKeys}
	if sets, err := s.a.svc.KeySets(); err == nil {
		for _, ks := range sets {
			opts = append(opts, ks.Name)
		}
	}
	s.keySet.Options = opts
	if s.keySet.Selected == "" {
		s.keySet.SetSelected(generateKeys)
	}
	s.keySet.Refresh()
	popts := []string{noPolicy}
	for _, n := range s.a.policies.pick.Options {
		popts = append(popts, n)
	}
	if len(popts) == 1 {
		s.a.policies.refresh()
		popts = append(popts, s.a.policies.pick.Options...)
	}
	s.policy.Options = popts
	if s.policy.Selected == "" {
		s.policy.SetSelected(popts[min(1, len(popts)-1)])
	}
	s.policy.Refresh()
	if s.outDir.Text == "" {
		st, _ := s.a.svc.Settings()
		base := st.DefaultOutDir
		if base == "" {
			home, _ := os.UserHomeDir()
			base = filepath.Join(home, "Satchel")
		}
		s.outDir.SetText(filepath.Join(base, "package-"+time.Now().Format("20060102-150405")))
	}
	s.histRef()
}

func (s *packageScreen) request() (services.PackageRequest, error) {
	var req services.PackageRequest
	paths, err := s.a.svc.SelectedLadder()
	if err != nil {
		return req, err
	}
	seg, err := time.ParseDuration(strings.TrimSpace(s.segment.Text))
	if err != nil {
		return req, fmt.Errorf("segment duration %q: write it like 4s or 6s", s.segment.Text)
	}
	lead, err := time.ParseDuration(strings.TrimSpace(s.lead.Text))
	if err != nil {
		return req, fmt.Errorf("clear lead %q: write it like 0s or 4s", s.lead.Text)
	}
	req = services.PackageRequest{ClearLead: lead, Inputs: paths, OutDir: strings.TrimSpace(s.outDir.Text),
		SegmentDuration: seg, ClearKeyLAURL: strings.TrimSpace(s.laURL.Text), Overwrite: s.overwrt.Checked}
	for _, n := range s.systems.Selected {
		req.Systems = append(req.Systems, drm.System(n))
	}
	for _, n := range s.formats.Selected {
		req.Formats = append(req.Formats, packaging.Format(n))
	}
	for _, n := range s.schemes.Selected {
		req.Schemes = append(req.Schemes, drm.Scheme(n))
	}
	if len(req.Schemes) == 0 || len(req.Formats) == 0 || len(req.Systems) == 0 {
		return req, fmt.Errorf("choose at least one scheme, one output and one DRM system")
	}
	if s.keySet.Selected != generateKeys {
		req.KeySet = s.keySet.Selected
	}
	if s.policy.Selected != noPolicy {
		req.Policy = s.policy.Selected
	}
	return req, nil
}

func (s *packageScreen) start() {
	req, err := s.request()
	if err != nil {
		s.a.showErr(err)
		return
	}
	j, err := s.a.svc.StartPackage(context.Background(), req)
	if err != nil {
		s.a.showErr(err)
		return
	}
	s.runBtn.Disable()
	s.openBtn.Disable()
	s.view.start(j)
}

func (s *packageScreen) finished(rec jobs.Record, res any, err error) {
	s.runBtn.Enable()
	s.histRef()
	if r, ok := res.(*packaging.Result); ok && err == nil {
		s.lastOut = r.OutDir
		s.openBtn.Enable()
		s.a.verify.path.SetText(r.OutDir)
		s.a.publish.src.SetText(r.OutDir)
		s.a.license.content.SetText(r.OutDir)
		s.outDir.SetText("")
		s.refresh()
	} else if err != nil && rec.State != jobs.Cancelled {
		s.a.showErr(err)
	}
	if s.onFinish != nil {
		s.onFinish(rec)
	}
}
