package ui

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"satchel/app/jobs"
	"satchel/app/publish"
	"satchel/app/services"
	"satchel/internal/humanize"
)

// publishScreen uploads a package to Azure Blob Storage or a folder.
type publishScreen struct {
	a       *App
	obj     fyne.CanvasObject
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
	history *widget.List
	histRef func()
	offered string // the package folder last offered as the source
}

func newPublishScreen(a *App) *publishScreen {
	s := &publishScreen{a: a}
	s.src = widget.NewEntry()
	s.src.SetPlaceHolder("packaged folder")
	browse := widget.NewButton("Browse…", func() {
		dialog.ShowFolderOpen(func(u fyne.ListableURI, err error) {
			if err == nil && u != nil {
				s.src.SetText(u.Path())
			}
		}, a.win)
	})
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
	s.runBtn = widget.NewButton("Publish", s.start)
	s.runBtn.Importance = widget.HighImportance
	s.sasBox = container.NewVBox()
	s.result = widget.NewLabel("")
	s.result.Wrapping = fyne.TextWrapWord
	s.history, s.histRef = a.historyList(services.KindPublish)
	form := widget.NewForm(widget.NewFormItem("Package", container.NewBorder(nil, nil, nil, browse, s.src)), widget.NewFormItem("Destination", s.target),
		widget.NewFormItem("Credentials", s.conn), widget.NewFormItem("Save as", container.NewBorder(nil, nil, nil, save, s.tname)),
		widget.NewFormItem("CORS", s.cors), widget.NewFormItem("SAS validity (hours)", s.sasHrs), widget.NewFormItem("", s.verify))
	note := widget.NewLabel("Manifests are uploaded last, unchanged files are skipped " +
		"(publish again after an interruption), " +
		"keys.cpix.xml and policy.json stay private. " +
		"Credentials typed here are used for this run only and never stored; “Save target” stores them (encrypted).")
	note.Wrapping = fyne.TextWrapWord
	top := container.NewVBox(heading("Publish"), note, form, s.problem.Label, s.runBtn, s.view.box, s.result,
		heading("SAS URLs"), s.sasBox)
	split := container.NewVSplit(container.NewVScroll(top), container.NewBorder(widget.NewLabel("Publish history"), nil, nil, nil, s.history))
	split.Offset = 0.75
	s.obj = split
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
	s.histRef()
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
			s.runBtn.Disable()
			s.sasBox.Objects = nil
			s.result.SetText("")
			s.view.start(j)
			return
		}
	}
	s.problem.set(err)
}

func (s *publishScreen) finished(rec jobs.Record, res any, err error) {
	s.runBtn.Enable()
	s.histRef()
	r, _ := res.(*services.PublishResult)
	if err != nil && rec.State != jobs.Cancelled {
		s.a.showErr(err)
	}
	if r == nil || r.Report == nil {
		return
	}
	txt := fmt.Sprintf("%d uploaded, %d unchanged, %s to %s", len(r.Report.Uploaded), len(r.Report.Skipped), humanize.Bytes(r.Report.Bytes), r.Report.Target)
	if left := r.Report.Left(); left != "" {
		txt += "\nNot published: " + left
	}
	if r.Report.CORSRule != nil {
		txt += "\nCORS rule: " + r.Report.CORSRule.String()
	}
	if r.Verify != nil {
		txt += fmt.Sprintf("\nVerification of the published package: %s (%d pass, %d warn, %d fail)", r.Verify.Verdict(), r.Verify.Summary.Pass, r.Verify.Summary.Warn, r.Verify.Summary.Fail)
	}
	s.result.SetText(txt)
	for _, sas := range r.SAS {
		u := sas.URL
		s.sasBox.Add(container.NewBorder(nil, nil, widget.NewLabel(sas.Name), s.a.copyButton("Copy", func() string { return u }), widget.NewLabel("until "+sas.Expires.Local().Format("2006-01-02 15:04"))))
	}
	s.sasBox.Refresh()
}
