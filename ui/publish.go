package ui

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"satchel/app/jobs"
	"satchel/app/publish"
	"satchel/app/services"
	"satchel/engine/verify"
	"satchel/internal/humanize"
)

// publishScreen uploads a package to Azure Blob Storage or a folder.
type publishScreen struct {
	a       *App
	obj     fyne.CanvasObject
	banner  *banner
	src     *widget.Entry
	target  *widget.SelectEntry
	conn    *widget.Entry
	tname   *widget.Entry
	cors    *widget.Entry
	sasHrs  *widget.Entry
	verify  *widget.Check
	runBtn  *widget.Button
	view    *jobView
	sasBox  *fyne.Container
	result  *widget.Label
	problem problemLabel
	history *historyView
	last    *services.PublishResult // the last finished publish
	onDone  func()                  // tests: a publish job finished and is shown
	offered string                  // the package folder last offered as the source
}

func newPublishScreen(a *App) *publishScreen {
	s := &publishScreen{a: a}
	s.src = widget.NewEntry()
	s.src.SetPlaceHolder("packaged folder")
	browse := widget.NewButton("Browse…", func() { a.openFolder(s.src.SetText) })
	s.target = widget.NewSelectEntry(nil)
	s.target.SetPlaceHolder("azure://CONTAINER/PREFIX, a folder, or a saved target")
	s.conn = widget.NewPasswordEntry()
	s.conn.SetPlaceHolder("connection string or container SAS URL, for this run only " +
		"(empty: the saved target's, else AZURE_STORAGE_CONNECTION_STRING)")
	s.tname = widget.NewEntry()
	s.tname.SetPlaceHolder("name to save this target as")
	save := widget.NewButton("Save target", func() {
		creds := s.credentials()
		if creds == nil {
			creds = &publish.Credentials{}
		}
		if err := a.svc.SaveTarget(services.PublishTarget{Name: s.tname.Text, URL: s.target.Text}, *creds); err != nil {
			a.showErr(err)
			return
		}
		s.refresh()
		s.target.SetText(s.tname.Text)
	})
	s.cors = widget.NewEntry()
	s.cors.SetPlaceHolder("player origin for a CORS rule, e.g. https://player.example.com (optional)")
	s.sasHrs = widget.NewEntry()
	s.sasHrs.SetText("24")
	s.verify = widget.NewCheck("verify the published manifest over HTTP", nil)
	s.verify.SetChecked(true)
	s.problem = newProblemLabel()
	s.view = newJobView(a)
	s.view.onDone = s.finished
	s.runBtn = widget.NewButtonWithIcon("Publish", theme.UploadIcon(), s.start)
	s.runBtn.Importance = widget.HighImportance
	s.banner = newBanner(a)
	s.sasBox = container.NewVBox()
	s.result = widget.NewLabel("")
	s.result.Wrapping = fyne.TextWrapWord
	s.history = a.newHistoryView(services.KindPublish, "Publish history")
	form := widget.NewForm(widget.NewFormItem("Package", container.NewBorder(nil, nil, nil, browse, s.src)), widget.NewFormItem("Destination", s.target),
		widget.NewFormItem("Credentials", s.conn), widget.NewFormItem("Save as", container.NewBorder(nil, nil, nil, save, s.tname)),
		widget.NewFormItem("CORS", s.cors), widget.NewFormItem("SAS validity (hours)", s.sasHrs), widget.NewFormItem("", s.verify))
	note := widget.NewLabel("Manifests are uploaded last, unchanged files are skipped " +
		"(publish again after an interruption), " +
		"keys.cpix.xml and policy.json stay private. " +
		"Credentials typed here are used for this run only and never stored; “Save target” stores them (encrypted).")
	note.Wrapping = fyne.TextWrapWord
	top := container.NewVBox(heading("Publish"), note, form, s.problem.Label, container.NewHBox(s.runBtn), s.view.box, s.result,
		heading("SAS URLs"), s.sasBox)
	submitRuns(s.runBtn, s.src, s.cors, s.sasHrs)
	split := container.NewVSplit(container.NewVScroll(top), s.history.obj)
	split.Offset = 0.75
	s.obj = s.banner.above(split)
	return s
}

func (s *publishScreen) refresh() {
	s.a.lastPackage(s.src, &s.offered)
	ts, err := s.a.svc.Targets()
	if err != nil {
		s.a.log.Warn("list publish targets", "err", err)
	}
	names := make([]string, 0, len(ts))
	for _, t := range ts {
		names = append(names, t.Name)
	}
	s.target.SetOptions(names)
	s.history.refresh()
}

// credentials returns the credentials typed on the form (nil when none): a container SAS
// URL or a connection string.
func (s *publishScreen) credentials() *publish.Credentials {
	c := strings.TrimSpace(s.conn.Text)
	switch {
	case c == "":
		return nil
	case strings.HasPrefix(c, "http://") || strings.HasPrefix(c, "https://"):
		return &publish.Credentials{SASURL: c}
	}
	return &publish.Credentials{ConnectionString: c}
}

// request reads the form into a services request; typed credentials travel in it (used
// for this run only, never stored).
func (s *publishScreen) request() (services.PublishRequest, error) {
	req := services.PublishRequest{SrcDir: strings.TrimSpace(s.src.Text), Target: strings.TrimSpace(s.target.Text),
		CORSOrigin: strings.TrimSpace(s.cors.Text), Verify: s.verify.Checked, Credentials: s.credentials()}
	if t := strings.TrimSpace(s.sasHrs.Text); t != "" {
		hrs, err := strconv.ParseFloat(t, 64)
		if err != nil {
			return req, fmt.Errorf("SAS validity %q: write a number of hours, e.g. 24", t)
		}
		req.SASExpiry = time.Duration(hrs * float64(time.Hour))
	}
	return req, req.Validate()
}

func (s *publishScreen) start() {
	req, err := s.request()
	if err == nil {
		var j *jobs.Job
		if j, err = s.a.svc.StartPublish(s.a.ctx, req); err == nil {
			s.problem.set(nil)
			s.follow(j)
			return
		}
	}
	s.problem.set(err)
}

// follow shows job j (started here or re-run from the history).
func (s *publishScreen) follow(j *jobs.Job) {
	if s.view.job == nil || s.view.job.Snapshot().State.Finished() {
		s.banner.running("Publishing…", j.Snapshot().Title)
		s.sasBox.Objects = nil
		s.result.SetText("")
	}
	s.view.start(j)
	s.history.refresh()
}

func (s *publishScreen) finished(rec jobs.Record, res any, err error) {
	if s.onDone != nil {
		defer s.onDone()
	}
	s.history.refresh()
	r, _ := res.(*services.PublishResult)
	switch {
	case rec.State == jobs.Cancelled:
		s.banner.set(outcome{level: levelWarn, title: "CANCELLED",
			detail: "Publish again to finish: unchanged files are skipped."})
	case err != nil:
		o := outcome{level: levelFail, title: "FAIL", detail: explain(err)}
		if r != nil && r.Verify != nil {
			o.counts, o.issues = reportCounts(r.Verify), reportIssues(r.Verify)
		}
		s.banner.set(o)
	}
	if r == nil || r.Report == nil {
		return
	}
	s.last = r
	if err == nil {
		s.banner.set(s.outcome(r))
	}
	txt := fmt.Sprintf("%d uploaded, %d unchanged, %s to %s", len(r.Report.Uploaded), len(r.Report.Skipped), humanize.Bytes(r.Report.Bytes), r.Report.Target)
	if left := r.Report.Left(); left != "" {
		txt += "\nNot published: " + left
	}
	if r.Report.CORSRule != nil {
		txt += "\nCORS rule: " + r.Report.CORSRule.String()
	}
	s.result.SetText(txt)
	s.sasBox.Objects = nil
	for _, sas := range r.SAS {
		u := sas.URL
		s.sasBox.Add(container.NewBorder(nil, nil, widget.NewLabel(sas.Name), s.a.copyButton("Copy", func() string { return u }), widget.NewLabel("until "+sas.Expires.Local().Format("2006-01-02 15:04"))))
	}
	s.sasBox.Refresh()
}

// outcome is the banner of a finished publish: the verdict of the published package's
// check (PASS when it was not checked), what was uploaded, where, and the next steps.
func (s *publishScreen) outcome(r *services.PublishResult) outcome {
	rep := r.Report
	o := outcome{level: levelPass, title: "PASS", pathLabel: "Destination", path: rep.Target,
		counts: fmt.Sprintf("%d uploaded · %d unchanged · %s", len(rep.Uploaded), len(rep.Skipped),
			humanize.Bytes(rep.Bytes))}
	o.detail = "Published; not verified over HTTP (tick “verify the published manifest” to check it)."
	if v := r.Verify; v != nil {
		o.level, o.title, o.issues = reportLevel(v), v.Verdict(), reportIssues(v)
		o.counts += " · checked: " + reportCounts(v)
		o.detail = "Published and verified over HTTP: " + rep.Manifest
		o.actions = append(o.actions, bannerAction{label: "Open report", icon: theme.DocumentIcon(),
			do: func() { s.openReport(v) }})
	}
	if m := rep.Manifest; m != "" {
		o.actions = append(o.actions, bannerAction{label: "Copy manifest URL", icon: theme.ContentCopyIcon(),
			do: func() { s.a.fa.Clipboard().SetContent(m) }})
	}
	if st, err := os.Stat(rep.Target); err == nil && st.IsDir() {
		dir := rep.Target
		o.actions = append(o.actions, bannerAction{label: "Open folder", icon: theme.FolderOpenIcon(),
			do: func() { s.a.openPath(dir) }})
	}
	return o
}

func (s *publishScreen) openReport(rep *verify.Report) {
	path, err := s.a.svc.WriteReportHTML(rep)
	if err != nil {
		s.a.showErr(err)
		return
	}
	s.a.openPath(path)
}
