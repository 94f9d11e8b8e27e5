package ui

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"satchel/app/jobs"
	"satchel/app/services"
	"satchel/engine/devices"
	"satchel/engine/verify"
)

const keysAuto = "(keys.cpix.xml of the package)"

// verifyScreen runs the checker and shows the verdict banner, the findings by category, the
// license exchanges and exports.
type verifyScreen struct {
	a        *App
	obj      fyne.CanvasObject
	banner   *banner
	path     *widget.Entry
	keySet   *widget.Select
	policy   *widget.Select
	licURL   *widget.Entry
	problem  problemLabel
	offered  string // the package folder last offered as the target
	runBtn   *widget.Button
	htmlBtn  *widget.Button
	jsonBtn  *widget.Button
	view     *jobView
	findings *findingsView
	report   *verify.Report
	exchange *widget.Select
	exText   *widget.Label
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
	s.banner = newBanner(a)
	s.path = widget.NewEntry()
	s.path.SetPlaceHolder("file, folder, .mpd/.m3u8 or http(s) URL (or drop it on the window)")
	file := widget.NewButton("File…", func() { a.openFile(nil, s.path.SetText) })
	folder := widget.NewButton("Folder…", func() { a.openFolder(s.path.SetText) })
	s.keySet = widget.NewSelect(nil, nil)
	s.policy = widget.NewSelect(nil, nil)
	s.licURL = widget.NewEntry()
	s.licURL.SetPlaceHolder("license server URL (empty: a private embedded server)")
	s.problem = newProblemLabel()
	s.view = newJobView(a)
	s.view.onDone = s.finished
	s.runBtn = widget.NewButtonWithIcon("Verify", theme.ConfirmIcon(), s.start)
	s.runBtn.Importance = widget.HighImportance
	submitRuns(s.runBtn, s.path, s.licURL)
	s.path.Validator = func(t string) error { return pathProblem(t) }
	s.findings = newFindingsView()
	s.exchange = widget.NewSelect(nil, func(sel string) { s.showExchange(sel) })
	s.exchange.PlaceHolder = "(verify to see the license exchanges)"
	s.exText = widget.NewLabel("")
	s.exText.TextStyle.Monospace = true
	s.exText.Selectable = true
	s.htmlBtn = widget.NewButtonWithIcon("Export HTML…", theme.DocumentSaveIcon(), func() { s.export(true) })
	s.jsonBtn = widget.NewButtonWithIcon("Export JSON…", theme.DocumentSaveIcon(), func() { s.export(false) })
	s.htmlBtn.Disable()
	s.jsonBtn.Disable()
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
		s.problem.Label, container.NewHBox(s.runBtn, s.htmlBtn, s.jsonBtn), s.view.box)
	exLabel := widget.NewLabel("License request / response (ClearKey: W3C; Widevine, PlayReady, FairPlay: Satchel test protocol)")
	exLabel.Wrapping = fyne.TextWrapWord
	exch := container.NewBorder(container.NewVBox(exLabel, s.exchange), nil, nil, nil, container.NewScroll(s.exText))
	body := container.NewHSplit(s.findings.obj, exch)
	body.Offset = 0.62
	s.ready = newReadinessView(container.NewHBox(s.devices, widget.NewLabel("simulate"), s.scenario))
	s.timeline = newTimelineView()
	s.simTab = container.NewTabItem("License timeline", container.NewScroll(s.timeline))
	s.tabs = container.NewAppTabs(container.NewTabItem("Findings", body), s.simTab)
	results := container.NewVSplit(s.ready.obj, s.tabs)
	results.Offset = 0.5
	whole := container.NewVSplit(container.NewVScroll(top), results)
	whole.Offset = 0.2
	s.obj = s.banner.above(whole)
	return s
}

// pathProblem is the inline check of a target path as it is typed: it must exist (URLs are
// checked when verified).
func pathProblem(t string) error {
	t = strings.TrimSpace(t)
	if t == "" || strings.HasPrefix(t, "http://") || strings.HasPrefix(t, "https://") {
		return nil
	}
	if _, err := os.Stat(t); err != nil {
		return errors.New("no such file or folder")
	}
	return nil
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
	s.banner.running("Checking…", s.request().Path)
	s.view.start(j)
}

func (s *verifyScreen) finished(rec jobs.Record, res any, err error) {
	if err != nil {
		if rec.State == jobs.Cancelled {
			s.banner.set(outcome{level: levelWarn, title: "CANCELLED", detail: "The verification was cancelled."})
			return
		}
		s.banner.set(outcome{level: levelFail, title: "COULD NOT VERIFY", detail: explain(err),
			pathLabel: "Target", path: s.request().Path})
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

// show displays a report: the banner, the findings, the exchanges, readiness and timeline.
func (s *verifyScreen) show(rep *verify.Report) {
	s.report = rep
	if rep == nil {
		return
	}
	s.banner.set(s.outcome(rep))
	s.htmlBtn.Enable()
	s.jsonBtn.Enable()
	var ex []string
	for i, e := range rep.LicenseExchanges {
		ex = append(ex, fmt.Sprintf("%d. %s", i+1, e.System))
	}
	s.exchange.Options = ex
	s.exchange.ClearSelected()
	s.exText.SetText("")
	if len(ex) > 0 {
		s.exchange.SetSelected(ex[0]) // never the previous run's exchange
	}
	s.exchange.Refresh()
	s.findings.set(rep)
	s.ready.set(rep.Readiness)
	s.timeline.set(rep.Simulation)
	if rep.Simulation != nil {
		s.tabs.Select(s.simTab)
	} else {
		s.tabs.SelectIndex(0)
	}
}

// outcome is the banner of a report: the verdict with its counts, the target and the next
// steps (publish a package that passed, open the report).
func (s *verifyScreen) outcome(rep *verify.Report) outcome {
	o := outcome{level: reportLevel(rep), title: rep.Verdict(), counts: reportCounts(rep),
		detail: fmt.Sprintf("%d tracks checked, %d samples decrypted in %s.", rep.Tracks, rep.Samples,
			rep.Duration.Round(100*time.Millisecond)),
		pathLabel: "Target", path: rep.Target, issues: reportIssues(rep)}
	if st, err := os.Stat(rep.Target); err == nil && st.IsDir() && !rep.Failed() {
		target := rep.Target
		o.actions = append(o.actions, bannerAction{label: "Publish", icon: theme.UploadIcon(), primary: true,
			do: func() { s.a.publishFrom(target) }})
	}
	o.actions = append(o.actions, bannerAction{label: "Open report", icon: theme.DocumentIcon(), do: s.openReport})
	return o
}

// openReport writes the report as HTML into the workspace and opens it in the browser.
func (s *verifyScreen) openReport() {
	if s.report == nil {
		return
	}
	path, err := s.a.svc.WriteReportHTML(s.report)
	if err != nil {
		s.a.showErr(err)
		return
	}
	s.a.openPath(path)
}

// categories lists the report's finding categories (tests).
func (s *verifyScreen) categories() []string {
	if s.report == nil {
		return nil
	}
	return categoriesOf(s.report)
}

func (s *verifyScreen) showExchange(sel string) {
	if s.report == nil {
		return
	}
	for i, e := range s.report.LicenseExchanges {
		if sel == fmt.Sprintf("%d. %s", i+1, e.System) {
			txt := "POST " + e.Endpoint + "\n\n" + prettyJSON(e.Request) + "\n\n→ " + prettyJSON(e.Response)
			if e.Error != "" {
				txt += "\n\nerror: " + e.Error
			}
			s.exText.SetText(txt)
		}
	}
}

// prettyJSON indents raw JSON; other bytes are shown as they are.
func prettyJSON(raw []byte) string {
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return string(raw)
	}
	return b.String()
}

func (s *verifyScreen) export(html bool) {
	if s.report == nil {
		s.a.showErr(errors.New("run a verification first"))
		return
	}
	rep := s.report
	ext := ".json"
	if html {
		ext = ".html"
	}
	s.a.saveFile(services.ReportFileName(rep, ext), func(w fyne.URIWriteCloser) error {
		if html {
			return rep.WriteHTML(w)
		}
		return rep.WriteJSON(w)
	})
}
