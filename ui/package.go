package ui

import (
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
	a         *App
	obj       fyne.CanvasObject
	ladder    *widget.Label
	keySet    *widget.Select
	policy    *widget.Select
	schemes   *widget.CheckGroup
	formats   *widget.CheckGroup
	systems   *widget.CheckGroup
	segment   *widget.Entry
	lead      *widget.Entry
	outDir    *widget.Entry
	laURL     *widget.Entry
	contentID *widget.Entry
	oneKey    *widget.Check // one generated key for every track
	allKIDs   *widget.Check // every PSSH lists every key ID (one license for all keys)
	piff      *widget.Check // PIFF 1.1 boxes in the single-file download
	smooth    *widget.Check // Smooth Streaming client manifest over the cenc segments
	overwrt   *widget.Check
	problem   problemLabel // what is wrong with the request, inline
	runBtn    *widget.Button
	openBtn   *widget.Button
	view      *jobView
	outcome   *widget.Label
	history   *widget.List
	histRef   func()
	lastOut   string
	onFinish  func(jobs.Record) // tests
}

// names returns the string values of a typed closed set, for check groups.
func names[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// typed converts check-group selections back to a typed closed set.
func typed[T ~string](vs []string) []T {
	out := make([]T, len(vs))
	for i, v := range vs {
		out[i] = T(v)
	}
	return out
}

func newPackageScreen(a *App) *packageScreen {
	s := &packageScreen{a: a}
	def := services.DefaultPackageRequest()
	s.ladder = widget.NewLabel("")
	s.ladder.Wrapping = fyne.TextWrapWord
	s.keySet = widget.NewSelect(nil, nil)
	s.policy = widget.NewSelect(nil, nil)
	s.schemes = widget.NewCheckGroup(names(drm.WrittenSchemes), nil)
	s.schemes.Horizontal = true
	s.schemes.SetSelected(names(def.Schemes))
	s.formats = widget.NewCheckGroup(names(packaging.AllFormats), nil)
	s.formats.Horizontal = true
	s.formats.SetSelected(names(def.Formats))
	s.systems = widget.NewCheckGroup(names(drm.AllSystems), nil)
	s.systems.Horizontal = true
	s.systems.SetSelected(names(def.Systems))
	s.segment = widget.NewEntry()
	s.segment.SetText(def.SegmentDuration.String())
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
	s.laURL.SetPlaceHolder("e.g. http://127.0.0.1:8787/clearkey (optional: written as dashif:laurl)")
	s.contentID = widget.NewEntry()
	s.contentID.SetPlaceHolder("title ID for the Widevine PSSH and CPIX (default: the output folder name)")
	s.oneKey = widget.NewCheck("one key for all tracks (when generating keys)", nil)
	s.allKIDs = widget.NewCheck("list every key ID in each PSSH: one license request returns every key (offline)", nil)
	s.allKIDs.SetChecked(!def.PerTrackInitData)
	s.piff = widget.NewCheck("PIFF 1.1 download (PlayReady/Smooth offline players)", nil)
	s.smooth = widget.NewCheck("Smooth Streaming manifest over the cenc segments (PlayReady, one key)", nil)
	s.overwrt = widget.NewCheck("replace an existing package", nil)
	s.problem = newProblemLabel()
	s.view = newJobView(a)
	s.view.onDone = s.finished
	s.runBtn = widget.NewButton("Package", s.start)
	s.runBtn.Importance = widget.HighImportance
	s.openBtn = widget.NewButton("Open output folder", func() {
		if s.lastOut != "" {
			a.showErr(a.fa.OpenURL(&url.URL{Scheme: "file", Path: s.lastOut}))
		}
	})
	s.openBtn.Disable()
	s.outcome = widget.NewLabel("")
	s.outcome.Wrapping = fyne.TextWrapWord
	s.history, s.histRef = a.historyList(services.KindPackage)
	form := widget.NewForm(
		widget.NewFormItem("Key set", s.keySet), widget.NewFormItem("Policy", s.policy),
		widget.NewFormItem("Schemes", s.schemes), widget.NewFormItem("Outputs", s.formats), widget.NewFormItem("DRM systems", s.systems),
		widget.NewFormItem("Segment duration", s.segment), widget.NewFormItem("Clear lead", s.lead), widget.NewFormItem("ClearKey license URL", s.laURL),
		widget.NewFormItem("Content ID", s.contentID), widget.NewFormItem("Keys", container.NewVBox(s.oneKey, s.allKIDs)),
		widget.NewFormItem("PIFF download", s.piff), widget.NewFormItem("Smooth Streaming", s.smooth),
		widget.NewFormItem("Output folder", container.NewBorder(nil, nil, nil, browse, s.outDir)), widget.NewFormItem("", s.overwrt))
	top := container.NewVBox(heading("Package"), s.ladder, form,
		s.problem.Label, container.NewHBox(s.runBtn, s.openBtn), s.view.box, s.outcome)
	split := container.NewVSplit(container.NewVScroll(top), container.NewBorder(widget.NewLabel("Job history"), nil, nil, nil, s.history))
	split.Offset = 0.75
	s.obj = split
	return s
}

func (s *packageScreen) refresh() {
	paths, err := s.a.svc.SelectedLadder()
	switch {
	case err != nil && len(paths) == 0:
		s.ladder.SetText("⚠ " + explain(err))
	case err != nil:
		s.ladder.SetText(fmt.Sprintf("⚠ %d renditions selected, but: %v", len(paths), err))
	default:
		files := make([]string, len(paths))
		for i, p := range paths {
			files[i] = filepath.Base(p)
		}
		s.ladder.SetText(fmt.Sprintf("Ladder (from Assets): %s", strings.Join(files, ", ")))
	}
	s.keySet.Options = append([]string{generateKeys}, s.a.keySetNames()...)
	if s.keySet.Selected == "" {
		s.keySet.SetSelected(generateKeys)
	}
	s.keySet.Refresh()
	popts := append([]string{noPolicy}, s.a.policyNames()...)
	s.policy.Options = popts
	if s.policy.Selected == "" {
		s.policy.SetSelected(popts[min(1, len(popts)-1)])
	}
	s.policy.Refresh()
	if s.outDir.Text == "" {
		s.outDir.SetText(s.a.newOutDir())
	}
	s.histRef()
}

// newOutDir proposes a new output folder under the default output folder.
func (a *App) newOutDir() string {
	st, err := a.svc.Settings()
	if err != nil {
		a.log.Warn("read settings", "err", err)
	}
	base := st.DefaultOutDir
	if base == "" {
		home, _ := os.UserHomeDir() // "" on a system without a home: the folder is relative then
		base = filepath.Join(home, "Satchel")
	}
	return filepath.Join(base, "package-"+time.Now().Format("20060102-150405"))
}

// request reads the form into a services request. It parses what the user typed; the
// rules are checked by the request's Validate.
func (s *packageScreen) request() (services.PackageRequest, error) {
	req := services.DefaultPackageRequest()
	paths, err := s.a.svc.SelectedLadder()
	if err != nil {
		return req, err
	}
	if req.SegmentDuration, err = time.ParseDuration(strings.TrimSpace(s.segment.Text)); err != nil {
		return req, fmt.Errorf("segment duration %q: write it like 4s or 6s", s.segment.Text)
	}
	if req.ClearLead, err = time.ParseDuration(strings.TrimSpace(s.lead.Text)); err != nil {
		return req, fmt.Errorf("clear lead %q: write it like 0s or 4s", s.lead.Text)
	}
	req.Inputs, req.OutDir, req.Overwrite = paths, strings.TrimSpace(s.outDir.Text), s.overwrt.Checked
	req.ClearKeyLAURL = strings.TrimSpace(s.laURL.Text)
	req.ContentID = strings.TrimSpace(s.contentID.Text)
	req.OneKey, req.PerTrackInitData, req.PIFF = s.oneKey.Checked, !s.allKIDs.Checked, s.piff.Checked
	req.Smooth = s.smooth.Checked
	req.Systems = typed[drm.System](s.systems.Selected)
	req.Formats = typed[packaging.Format](s.formats.Selected)
	req.Schemes = typed[drm.Scheme](s.schemes.Selected)
	if s.keySet.Selected != generateKeys {
		req.KeySet = s.keySet.Selected
	}
	if s.policy.Selected != noPolicy {
		req.Policy = s.policy.Selected
	}
	return req, req.Validate()
}

func (s *packageScreen) start() {
	req, err := s.request()
	if err == nil {
		var j *jobs.Job
		if j, err = s.a.svc.StartPackage(s.a.ctx, req); err == nil {
			s.problem.set(nil)
			s.outcome.SetText("")
			s.runBtn.Disable()
			s.openBtn.Disable()
			s.view.start(j)
			return
		}
	}
	s.problem.set(err)
}

func (s *packageScreen) finished(rec jobs.Record, res any, err error) {
	s.runBtn.Enable()
	s.histRef()
	if r, ok := res.(*services.PackageResult); ok && err == nil {
		s.lastOut = r.OutDir
		s.openBtn.Enable()
		s.outcome.SetText(packageOutcome(r))
		s.outDir.SetText("")
		s.refresh()
	} else if err != nil && rec.State != jobs.Cancelled {
		s.a.showErr(err)
	}
	if s.onFinish != nil {
		s.onFinish(rec)
	}
}

// packageOutcome summarises a finished package: where it is, the saved key set, warnings.
func packageOutcome(r *services.PackageResult) string {
	lines := []string{fmt.Sprintf("Packaged %d renditions into %s.", len(r.Renditions), r.OutDir)}
	if r.KeySet != "" {
		lines = append(lines, fmt.Sprintf("Generated keys saved as key set “%s” (Keys screen).", r.KeySet))
	}
	for _, w := range r.PolicyWarnings {
		lines = append(lines, "⚠ policy: "+w.String())
	}
	for _, w := range r.Result.Warnings {
		lines = append(lines, "⚠ "+w)
	}
	return strings.Join(lines, "\n")
}
