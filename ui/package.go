package ui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"satchel/app/jobs"
	"satchel/app/services"
	"satchel/engine/drm"
	"satchel/engine/policy"
	"satchel/internal/field"
	"satchel/packaging"
)

const generateKeys = "(generate new keys)"
const noPolicy = "(no policy)"

// packageScreen configures and runs packaging jobs with per-rendition progress.
type packageScreen struct {
	a         *App
	obj       fyne.CanvasObject
	banner    *banner
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
	view      *jobView
	history   *historyView
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
		a.openFolder(func(dir string) {
			s.outDir.SetText(filepath.Join(dir, "package-"+time.Now().Format("20060102-150405")))
		})
	})
	s.segment.Validator = durationProblem("4s", false)
	s.lead.Validator = durationProblem("0s", true)
	s.segment.OnChanged = func(string) { s.problem.set(s.durations()) }
	s.lead.OnChanged = func(string) { s.problem.set(s.durations()) }
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
	s.banner = newBanner(a)
	s.view = newJobView(a)
	s.view.onDone = s.finished
	s.runBtn = widget.NewButtonWithIcon("Package", boxIcon, s.start)
	s.runBtn.Importance = widget.HighImportance
	submitRuns(s.runBtn, s.segment, s.lead, s.outDir, s.laURL, s.contentID)
	s.history = a.newHistoryView(services.KindPackage, "Job history")
	form := widget.NewForm(
		widget.NewFormItem("Key set", s.keySet), widget.NewFormItem("Policy", s.policy),
		widget.NewFormItem("Schemes", s.schemes), widget.NewFormItem("Outputs", s.formats), widget.NewFormItem("DRM systems", s.systems),
		widget.NewFormItem("Segment duration", s.segment), widget.NewFormItem("Clear lead", s.lead), widget.NewFormItem("ClearKey license URL", s.laURL),
		widget.NewFormItem("Content ID", s.contentID), widget.NewFormItem("Keys", container.NewVBox(s.oneKey, s.allKIDs)),
		widget.NewFormItem("PIFF download", s.piff), widget.NewFormItem("Smooth Streaming", s.smooth),
		widget.NewFormItem("Output folder", container.NewBorder(nil, nil, nil, browse, s.outDir)), widget.NewFormItem("", s.overwrt))
	top := container.NewVBox(heading("Package"), s.ladder, form,
		s.problem.Label, container.NewHBox(s.runBtn), s.view.box)
	split := container.NewVSplit(container.NewVScroll(top), s.history.obj)
	split.Offset = 0.75
	s.obj = s.banner.above(split)
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
	s.history.refresh()
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
	if err := s.durations(); err != nil {
		return req, err
	}
	req.SegmentDuration, _ = time.ParseDuration(strings.TrimSpace(s.segment.Text)) // validated above
	req.ClearLead, _ = time.ParseDuration(strings.TrimSpace(s.lead.Text))
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
			s.follow(j)
			s.outDir.SetText(s.a.newOutDir()) // the next job, queued or not, needs a new folder
			return
		}
	}
	s.problem.set(err)
}

// follow shows job j (started here or re-run from the history).
func (s *packageScreen) follow(j *jobs.Job) {
	if s.view.job == nil || s.view.job.Snapshot().State.Finished() {
		s.banner.running("Packaging…", j.Snapshot().Title)
	}
	s.view.start(j)
	s.history.refresh()
}

func (s *packageScreen) finished(rec jobs.Record, res any, err error) {
	s.history.refresh()
	r, _ := res.(*services.PackageResult)
	switch {
	case r != nil && err == nil:
		s.banner.set(s.outcome(r))
		s.refresh()
	case rec.State == jobs.Cancelled:
		s.banner.set(outcome{level: levelWarn, title: "CANCELLED", detail: "Nothing was left half-written."})
	case err != nil:
		s.banner.set(outcome{level: levelFail, title: "FAIL", detail: explain(err)})
	}
	if s.onFinish != nil {
		s.onFinish(rec)
	}
}

// outcome is the banner of a finished package: PASS (or PASS WITH WARNINGS when the policy or
// the packaging warned), where it is, the saved key set, and the next steps.
func (s *packageScreen) outcome(r *services.PackageResult) outcome {
	o := outcome{level: levelPass, title: "PASS", pathLabel: "Output", path: r.OutDir}
	detail := []string{fmt.Sprintf("Packaged %s.", plural(len(r.Renditions), "rendition", "renditions"))}
	if r.KeySet != "" {
		detail = append(detail, fmt.Sprintf("Generated keys saved as key set “%s” (Keys screen).", r.KeySet))
	}
	for _, w := range r.PolicyWarnings {
		o.issues = append(o.issues, issue{group: "Policy", subject: w.Field, message: w.Message, fix: w.Fix,
			fail: w.Severity == policy.SeverityError})
	}
	for _, w := range r.Result.Warnings {
		o.issues = append(o.issues, issue{group: "Packaging", message: w})
	}
	if len(o.issues) > 0 {
		o.level, o.title = levelWarn, "PASS WITH WARNINGS"
	}
	o.counts = fmt.Sprintf("%s · %s · %s", plural(len(r.Renditions), "rendition", "renditions"),
		plural(len(r.Files), "file", "files"), plural(len(o.issues), "warning", "warnings"))
	o.detail = strings.Join(detail, " ")
	out := r.OutDir
	o.actions = []bannerAction{
		{label: "Verify now", icon: theme.ConfirmIcon(), primary: true, do: func() { s.a.verifyNow(out) }},
		{label: "Publish", icon: theme.UploadIcon(), do: func() { s.a.publishFrom(out) }},
		{label: "Open folder", icon: theme.FolderOpenIcon(), do: func() { s.a.openPath(out) }},
	}
	return o
}

// durations checks the typed durations, as the form labels name them.
func (s *packageScreen) durations() error {
	if err := s.segment.Validate(); err != nil {
		return field.Errorf("segment_duration", strings.TrimSpace(s.segment.Text), "%v", err)
	}
	if err := s.lead.Validate(); err != nil {
		return field.Errorf("clear_lead", strings.TrimSpace(s.lead.Text), "%v", err)
	}
	return nil
}

// durationProblem checks a duration as it is typed: it must parse (like 4s) and be positive
// (zero allowed when zeroOK).
func durationProblem(example string, zeroOK bool) func(string) error {
	return func(t string) error {
		d, err := time.ParseDuration(strings.TrimSpace(t))
		switch {
		case err != nil:
			return fmt.Errorf("not a duration; write it like %s", example)
		case d < 0:
			return fmt.Errorf("negative; write a positive duration like %s", example)
		case d == 0 && !zeroOK:
			return fmt.Errorf("must be longer than 0s, e.g. %s", example)
		}
		return nil
	}
}
