package ui

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"satchel/app/jobs"
	"satchel/app/services"
	"satchel/engine/devices"
	"satchel/engine/simulate"
)

// Choices of the Simulate screen that are not names.
const (
	policyAuto   = "(the package's policy.json, or the scenario's own)"
	anyDevice    = "any device (every DRM system)"
	customScenar = "custom (edit the spec)"
)

// simulateScreen plays a package or a policy on a simulated offline device: choose the
// policy, a scenario preset (or edit its spec) and a device, run, and read the timeline — one
// lane per DRM system with the license windows as bars and a mark per play attempt — and the
// decision on every attempt with the clock that refused it.
type simulateScreen struct {
	a        *App
	obj      fyne.CanvasObject
	pkg      *widget.Entry
	policy   *widget.Select
	preset   *widget.Select
	spec     *widget.Entry
	device   *widget.Select
	about    *widget.Label
	problem  problemLabel
	runBtn   *widget.Button
	view     *jobView
	banner   *banner
	timeline *timelineView
	steps    []simulate.Step
	list     *widget.List
	result   *services.SimulateResult
	offered  string
	onFinish func(*services.SimulateResult) // tests
}

func newSimulateScreen(a *App) *simulateScreen {
	s := &simulateScreen{a: a}
	s.pkg = widget.NewEntry()
	s.pkg.SetPlaceHolder("package folder, manifest, MP4 or URL (empty: the policy alone)")
	folder := widget.NewButton("Folder…", func() { a.openFolder(s.pkg.SetText) })
	s.policy = widget.NewSelect(nil, nil)
	s.spec = widget.NewEntry()
	s.spec.SetPlaceHolder("download@0,play@day2+20h for 2h,play@+47h,clock@day3=-2d,play@+49h")
	s.about = widget.NewLabel("")
	s.about.Wrapping = fyne.TextWrapWord
	var names []string
	for _, p := range services.ScenarioPresets() {
		names = append(names, p.Name)
	}
	s.preset = widget.NewSelect(append(names, customScenar), s.choosePreset)
	s.spec.OnChanged = func(text string) {
		if p, ok := simulate.PresetByName(s.preset.Selected); ok && text != p.Spec {
			s.preset.SetSelected(customScenar)
		}
	}
	s.device = widget.NewSelect(append([]string{anyDevice}, devices.Names()...), nil)
	s.device.SetSelected(anyDevice)
	s.problem = newProblemLabel()
	s.view = newJobView(a)
	s.view.onDone = s.finished
	s.runBtn = widget.NewButtonWithIcon("Run", theme.MediaPlayIcon(), s.start)
	s.runBtn.Importance = widget.HighImportance
	submitRuns(s.runBtn, s.pkg, s.spec)
	s.banner = newBanner(a)
	s.timeline = newTimelineView()
	s.list = widget.NewList(func() int { return len(s.steps) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("day 1, 00:00  play 2 h  PlayReady  refused")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(i widget.ListItemID, o fyne.CanvasObject) { s.updateStep(i, o.(*widget.Label)) })
	note := widget.NewLabel("The device downloads at T0 (day 1, 00:00) through the real license endpoints, keeps its " +
		"licenses across the days, and decides every play; each step goes to the license ledger.")
	note.Wrapping = fyne.TextWrapWord
	pair := func(a fyne.CanvasObject, label string, b fyne.CanvasObject) fyne.CanvasObject {
		return container.NewGridWithColumns(2, a, container.NewBorder(nil, nil, widget.NewLabel(label), nil, b))
	}
	form := widget.NewForm(
		widget.NewFormItem("Package", container.NewBorder(nil, nil, nil, folder, s.pkg)),
		widget.NewFormItem("Policy", pair(s.policy, "Device", s.device)),
		widget.NewFormItem("Scenario", container.NewBorder(nil, nil, container.NewHBox(s.preset, widget.NewLabel("Spec")),
			s.runBtn, s.spec)))
	top := container.NewVBox(heading("Simulate an offline device"), note, form, s.about, s.problem.Label,
		s.view.box)
	picture := container.NewScroll(s.timeline)
	body := container.NewVSplit(picture, s.list)
	body.Offset = 0.68
	whole := container.NewVSplit(container.NewVScroll(top), body)
	whole.Offset = 0.3
	s.obj = s.banner.above(whole)
	s.preset.SetSelected(simulate.PresetRental)
	return s
}

func (s *simulateScreen) refresh() {
	if s.offered == "" { // offered once: an empty Package means the policy alone
		s.a.lastPackage(s.pkg, &s.offered)
	}
	opts := []string{policyAuto}
	for _, p := range services.ScenarioPresets() {
		if n := p.Policy().Name; !contains(opts, n) {
			opts = append(opts, n)
		}
	}
	for _, n := range s.a.policyNames() {
		if !contains(opts, n) {
			opts = append(opts, n)
		}
	}
	s.policy.Options = opts
	if s.policy.Selected == "" {
		s.policy.SetSelected(policyAuto)
	}
	s.policy.Refresh()
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// choosePreset fills the spec with the preset's and explains the case.
func (s *simulateScreen) choosePreset(name string) {
	p, ok := simulate.PresetByName(name)
	if !ok {
		s.about.SetText("Write the scenario: download@T, play@T [for D], stop@T, clock@T=±D; times 0, 47h, 1d12h, " +
			"dayN, dayN+D or +D (after the first play). See docs/offline-simulation.md.")
		return
	}
	s.spec.SetText(p.Spec)
	s.about.SetText(p.Title + " — " + p.Description + " Usually shown with: " + p.Policy().Name + ".")
}

// request reads the form into a services request.
func (s *simulateScreen) request() services.SimulateRequest {
	req := services.SimulateRequest{Package: strings.TrimSpace(s.pkg.Text), Scenario: strings.TrimSpace(s.spec.Text)}
	if p, ok := simulate.PresetByName(s.preset.Selected); ok && req.Scenario == p.Spec {
		req.Scenario = p.Name // keeps the preset's name on the timeline
	}
	if s.policy.Selected != policyAuto && s.policy.Selected != "" {
		req.Policy = s.policy.Selected
	}
	if s.device.Selected != anyDevice && s.device.Selected != "" {
		req.Device = s.device.Selected
	}
	return req
}

func (s *simulateScreen) start() {
	j, err := s.a.svc.StartSimulate(s.a.ctx, s.request())
	if err != nil {
		s.problem.set(err)
		return
	}
	s.problem.set(nil)
	s.banner.running("Simulating…", j.Snapshot().Title)
	s.view.start(j)
}

func (s *simulateScreen) finished(rec jobs.Record, res any, err error) {
	if err != nil {
		if rec.State == jobs.Cancelled {
			s.banner.set(outcome{level: levelWarn, title: "CANCELLED"})
			return
		}
		s.banner.set(outcome{level: levelFail, title: "COULD NOT SIMULATE", detail: explain(err)})
		return
	}
	r, _ := res.(*services.SimulateResult)
	if r == nil {
		return
	}
	s.show(r)
	if s.onFinish != nil {
		s.onFinish(r)
	}
}

// show draws a result: the summary, the timeline picture and the decisions.
func (s *simulateScreen) show(r *services.SimulateResult) {
	s.result = r
	tl := r.Timeline
	plays, refused := 0, 0
	for _, l := range tl.Lanes {
		for _, m := range l.Marks {
			if m.Outcome == simulate.OutcomePlays {
				plays++
			} else {
				refused++
			}
		}
	}
	pol := "no policy (open test licenses)"
	if r.Policy != "" {
		pol = fmt.Sprintf("policy “%s”", r.Policy)
	}
	s.banner.set(outcome{level: levelInfo, title: "SIMULATED",
		counts: fmt.Sprintf("%d play · %d refused", plays, refused),
		detail: fmt.Sprintf("%s on %s, %s: %d play attempts play, %d are refused. Each step is in the "+
			"license ledger.", tl.Content, tl.Device, pol, plays, refused)})
	s.timeline.set(tl)
	s.steps = tl.Steps()
	s.list.Refresh()
}

func (s *simulateScreen) updateStep(i int, l *widget.Label) {
	if i < 0 || i >= len(s.steps) {
		return
	}
	st := s.steps[i]
	who := "all lanes"
	if st.System != "" {
		who = st.System.Title()
	}
	l.SetText(fmt.Sprintf("%-14s  %-10s  %-10s  %s", st.At.Label(), st.Event, who, st.Text))
	switch st.Outcome {
	case simulate.OutcomePlays:
		l.Importance = widget.SuccessImportance
	case simulate.OutcomeRefused:
		l.Importance = widget.DangerImportance
	default:
		l.Importance = widget.MediumImportance
	}
	l.Refresh()
}
