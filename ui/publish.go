package ui

import (
	"context"
	"fmt"
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
	history *widget.List
	histRef func()
	saved   []string
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
	s.conn.SetPlaceHolder("connection string (or empty: AZURE_STORAGE_CONNECTION_STRING)")
	s.tname = widget.NewEntry()
	s.tname.SetPlaceHolder("name to save this target as")
	save := widget.NewButton("Save target", func() {
		creds := publish.Credentials{ConnectionString: strings.TrimSpace(s.conn.Text)}
		if strings.HasPrefix(creds.ConnectionString, "http") {
			creds = publish.Credentials{SASURL: creds.ConnectionString}
		}
		if err := a.svc.SaveTarget(services.PublishTarget{Name: s.tname.Text, URL: s.target.Text}, creds); err != nil {
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
	note := widget.NewLabel("Manifests are uploaded last, unchanged files are skipped (publish again after an interruption), keys.cpix.xml and policy.json stay private.")
	note.Wrapping = fyne.TextWrapWord
	top := container.NewVBox(widget.NewLabelWithStyle("Publish", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), note, form, s.runBtn, s.view.box, s.result,
		widget.NewLabelWithStyle("SAS URLs", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), s.sasBox)
	split := container.NewVSplit(container.NewVScroll(top), container.NewBorder(widget.NewLabel("Publish history"), nil, nil, nil, s.history))
	split.Offset = 0.75
	s.obj = split
	return s
}

func (s *publishScreen) refresh() {
	var names []string
	if ts, err := s.a.svc.Targets(); err == nil {
		for _, t := range ts {
			names = append(names, t.Name)
		}
	}
	s.saved = names
	s.target.SetOptions(names)
	s.histRef()
}

func (s *publishScreen) start() {
	var hrs float64
	fmt.Sscan(strings.TrimSpace(s.sasHrs.Text), &hrs)
	req := services.PublishRequest{SrcDir: strings.TrimSpace(s.src.Text), Target: strings.TrimSpace(s.target.Text), CORSOrigin: strings.TrimSpace(s.cors.Text),
		SASExpiry: time.Duration(hrs * float64(time.Hour)), Verify: s.verify.Checked}
	if req.SrcDir == "" || req.Target == "" {
		s.a.showErr(fmt.Errorf("choose the package folder and the destination"))
		return
	}
	if c := strings.TrimSpace(s.conn.Text); c != "" && !s.isSaved(req.Target) {
		// Unsaved credentials are used for this run only.
		name := "unsaved " + time.Now().Format("150405")
		creds := publish.Credentials{ConnectionString: c}
		if strings.HasPrefix(c, "http") {
			creds = publish.Credentials{SASURL: c}
		}
		if err := s.a.svc.SaveTarget(services.PublishTarget{Name: name, URL: req.Target}, creds); err != nil {
			s.a.showErr(err)
			return
		}
		req.Target = name
	}
	j, err := s.a.svc.StartPublish(context.Background(), req)
	if err != nil {
		s.a.showErr(err)
		return
	}
	s.runBtn.Disable()
	s.sasBox.Objects = nil
	s.result.SetText("")
	s.view.start(j)
}

func (s *publishScreen) isSaved(name string) bool {
	for _, o := range s.saved {
		if o == name {
			return true
		}
	}
	return false
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
