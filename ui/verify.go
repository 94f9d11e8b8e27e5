package ui

import (
	"errors"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"satchel/app/jobs"
	"satchel/app/services"
	"satchel/engine/devices"
	"satchel/engine/verify"
)

const keysAuto = "(keys.cpix.xml of the package)"

// verifyScreen runs the checker and shows findings by category, license exchanges and exports.
type verifyScreen struct {
	a        *App
	obj      fyne.CanvasObject
	path     *widget.Entry
	keySet   *widget.Select
	policy   *widget.Select
	licURL   *widget.Entry
	problem  problemLabel
	offered  string // the package folder last offered as the target
	runBtn   *widget.Button
	view     *jobView
	verdict  *widget.Label
	tree     *widget.Tree
	report   *verify.Report
	exchange *widget.Select
	exText   *widget.Entry
	devices  *widget.Select
	scenario *widget.Select
	ready    *readinessView
	tabs     *container.AppTabs
	simTab   *container.TabItem
	timeline *timelineView
	onFinish func(*verify.Report) // tests
}

// Choices of the Verify screen's device and scenario fields that are not names.
const (
	allDevices = "all devices"
	noScenario = "(none)"
)

func newVerifyScreen(a *App) *verifyScreen {
	s := &verifyScreen{a: a}
	s.path = widget.NewEntry()
	s.path.SetPlaceHolder("file, folder, .mpd/.m3u8 or http(s) URL")
	file := widget.NewButton("File…", func() {
		dialog.ShowFileOpen(func(r fyne.URIReadCloser, err error) {
			if err == nil && r != nil {
				s.path.SetText(r.URI().Path())
				r.Close()
			}
		}, a.win)
	})
	folder := widget.NewButton("Folder…", func() {
		dialog.ShowFolderOpen(func(u fyne.ListableURI, err error) {
			if err == nil && u != nil {
				s.path.SetText(u.Path())
			}
		}, a.win)
	})
	s.keySet = widget.NewSelect(nil, nil)
	s.policy = widget.NewSelect(nil, nil)
	s.licURL = widget.NewEntry()
	s.licURL.SetPlaceHolder("license server URL (empty: a private embedded server)")
	s.problem = newProblemLabel()
	s.view = newJobView(a)
	s.view.onDone = s.finished
	s.runBtn = widget.NewButton("Verify", s.start)
	s.runBtn.Importance = widget.HighImportance
	s.verdict = heading("")
	s.tree = widget.NewTree(s.childUIDs, s.isBranch,
		func(bool) fyne.CanvasObject {
			l := widget.NewLabel("finding")
			l.Wrapping = fyne.TextWrapWord
			return l
		},
		func(uid widget.TreeNodeID, branch bool, o fyne.CanvasObject) { o.(*widget.Label).SetText(s.label(uid)) })
	s.exchange = widget.NewSelect(nil, func(sel string) { s.showExchange(sel) })
	s.exText = widget.NewMultiLineEntry()
	s.exText.Wrapping = fyne.TextWrapBreak
	html := widget.NewButton("Export HTML…", func() { s.export(true) })
	js := widget.NewButton("Export JSON…", func() { s.export(false) })
	s.devices = widget.NewSelect(append([]string{allDevices}, devicesNames()...), nil)
	s.devices.SetSelected(allDevices)
	var presets []string
	for _, p := range services.ScenarioPresets() {
		presets = append(presets, p.Name)
	}
	s.scenario = widget.NewSelect(append([]string{noScenario}, presets...), nil)
	s.scenario.SetSelected(noScenario)
	form := widget.NewForm(widget.NewFormItem("Target", container.NewBorder(nil, nil, nil, container.NewHBox(file, folder), s.path)),
		widget.NewFormItem("Keys", s.keySet), widget.NewFormItem("Policy to lint", s.policy), widget.NewFormItem("License server", s.licURL))
	note := widget.NewLabel("Without a key set or policy, keys.cpix.xml and policy.json " +
		"of the package holding the target are used " +
		"(its folder and up to two folders above).")
	note.Wrapping = fyne.TextWrapWord
	top := container.NewVBox(heading("Verify"), note, form,
		s.problem.Label, container.NewHBox(s.runBtn, html, js), s.view.box, s.verdict)
	exLabel := widget.NewLabel("License request / response (ClearKey: W3C; Widevine, PlayReady, FairPlay: Satchel test protocol)")
	exLabel.Wrapping = fyne.TextWrapWord
	exch := container.NewBorder(container.NewVBox(exLabel, s.exchange), nil, nil, nil, s.exText)
	body := container.NewHSplit(s.tree, exch)
	body.Offset = 0.62
	s.ready = newReadinessView(container.NewHBox(s.devices, widget.NewLabel("simulate"), s.scenario))
	s.timeline = newTimelineView()
	s.simTab = container.NewTabItem("License timeline", container.NewScroll(s.timeline))
	s.tabs = container.NewAppTabs(container.NewTabItem("Findings", body), s.simTab)
	results := container.NewVSplit(s.ready.obj, s.tabs)
	results.Offset = 0.55
	whole := container.NewVSplit(container.NewVScroll(top), results)
	whole.Offset = 0.3
	s.obj = whole
	return s
}

// devicesNames lists the device profiles for the screens' choices.
func devicesNames() []string { return devices.Names() }

func (s *verifyScreen) refresh() {
	s.a.lastPackage(s.path, &s.offered)
	s.keySet.Options = append([]string{keysAuto}, s.a.keySetNames()...)
	if s.keySet.Selected == "" {
		s.keySet.SetSelected(keysAuto)
	}
	s.policy.Options = append([]string{noPolicy}, s.a.policyNames()...)
	if s.policy.Selected == "" {
		s.policy.SetSelected(noPolicy)
	}
}

// request reads the form into a services request.
func (s *verifyScreen) request() services.VerifyRequest {
	req := services.VerifyRequest{Path: strings.TrimSpace(s.path.Text), LicenseURL: strings.TrimSpace(s.licURL.Text)}
	if s.keySet.Selected != keysAuto && s.keySet.Selected != "" {
		req.KeySet = s.keySet.Selected
	}
	if s.policy.Selected != noPolicy && s.policy.Selected != "" {
		req.Policy = s.policy.Selected
	}
	if s.devices.Selected != allDevices {
		req.Devices = s.devices.Selected
	}
	if s.scenario.Selected != noScenario {
		req.Scenario = s.scenario.Selected
	}
	return req
}

func (s *verifyScreen) start() {
	j, err := s.a.svc.StartVerify(s.a.ctx, s.request())
	if err != nil {
		s.problem.set(err)
		return
	}
	s.problem.set(nil)
	s.runBtn.Disable()
	s.verdict.SetText("checking…")
	s.view.start(j)
}

func (s *verifyScreen) finished(rec jobs.Record, res any, err error) {
	s.runBtn.Enable()
	if err != nil {
		s.verdict.SetText("could not verify: " + firstLine(explain(err)))
		if rec.State != jobs.Cancelled {
			s.a.showErr(err)
		}
		return
	}
	r, _ := res.(*services.VerifyResult)
	if r == nil {
		return
	}
	s.show(r.Report)
	if s.onFinish != nil {
		s.onFinish(r.Report)
	}
}

func (s *verifyScreen) show(rep *verify.Report) {
	s.report = rep
	if rep == nil {
		return
	}
	s.verdict.SetText(fmt.Sprintf("%s — %d pass, %d warn, %d fail · %d tracks, %d samples decrypted", rep.Verdict(), rep.Summary.Pass, rep.Summary.Warn, rep.Summary.Fail, rep.Tracks, rep.Samples))
	var ex []string
	for i, e := range rep.LicenseExchanges {
		ex = append(ex, fmt.Sprintf("%d. %s", i+1, e.System))
	}
	s.exchange.Options = ex
	s.exchange.Refresh()
	s.tree.Refresh()
	for _, c := range s.categories() {
		s.tree.OpenBranch(c)
	}
	s.ready.set(rep.Readiness)
	s.timeline.set(rep.Simulation)
	if rep.Simulation != nil {
		s.tabs.Select(s.simTab)
	} else {
		s.tabs.SelectIndex(0)
	}
}

func (s *verifyScreen) categories() []string {
	if s.report == nil {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, f := range s.report.Findings {
		if !seen[f.Category] {
			seen[f.Category] = true
			out = append(out, f.Category)
		}
	}
	return out
}

func (s *verifyScreen) childUIDs(uid widget.TreeNodeID) []widget.TreeNodeID {
	if uid == "" {
		return s.categories()
	}
	var out []string
	if s.report != nil {
		for i, f := range s.report.Findings {
			if f.Category == uid {
				out = append(out, fmt.Sprintf("%s/%d", uid, i))
			}
		}
	}
	return out
}

func (s *verifyScreen) isBranch(uid widget.TreeNodeID) bool {
	return uid == "" || !strings.Contains(uid, "/")
}

func (s *verifyScreen) label(uid string) string {
	if s.report == nil {
		return ""
	}
	if !strings.Contains(uid, "/") {
		p, w, f := 0, 0, 0
		for _, x := range s.report.Findings {
			if x.Category == uid {
				switch x.Status {
				case verify.Pass:
					p++
				case verify.Warn:
					w++
				case verify.Fail:
					f++
				}
			}
		}
		return fmt.Sprintf("%s  (%d pass, %d warn, %d fail)", uid, p, w, f)
	}
	var i int
	fmt.Sscanf(uid[strings.Index(uid, "/")+1:], "%d", &i)
	f := s.report.Findings[i]
	mark := map[verify.Severity]string{verify.Pass: "✓", verify.Warn: "⚠", verify.Fail: "✖"}[f.Status]
	txt := fmt.Sprintf("%s %s: %s", mark, f.Subject, f.Message)
	if f.Fix != "" && f.Status != verify.Pass {
		txt += " — fix: " + f.Fix
	}
	return txt
}

func (s *verifyScreen) showExchange(sel string) {
	if s.report == nil {
		return
	}
	for i, e := range s.report.LicenseExchanges {
		if sel == fmt.Sprintf("%d. %s", i+1, e.System) {
			txt := "POST " + e.Endpoint + "\n\n" + string(e.Request) + "\n\n→ " + string(e.Response)
			if e.Error != "" {
				txt += "\n\nerror: " + e.Error
			}
			s.exText.SetText(txt)
		}
	}
}

func (s *verifyScreen) export(html bool) {
	if s.report == nil {
		s.a.showErr(errors.New("run a verification first"))
		return
	}
	rep := s.report
	dialog.ShowFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		defer w.Close()
		if html {
			err = rep.WriteHTML(w)
		} else {
			err = rep.WriteJSON(w)
		}
		s.a.showErr(err)
	}, s.a.win)
}
