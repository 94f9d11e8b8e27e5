package ui

import (
	"fmt"
	"image/color"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"satchel/app/jobs"
	"satchel/app/services"
)

// ScreenJobs is the job queue and history screen.
const ScreenJobs = "Jobs"

// notifyAfter is how long a job must run for its end to be announced by a desktop
// notification (the user has probably turned to something else by then).
const notifyAfter = 10 * time.Second

// busy queues j behind the job the view follows, when that one is still running: the view
// follows j when the current one ends. It reports whether j was queued.
func (v *jobView) busy(j *jobs.Job) bool {
	if v.job == nil || v.job.Snapshot().State.Finished() {
		return false
	}
	v.pending = append(v.pending, j)
	v.status.SetText(fmt.Sprintf("running: %s · %d queued", v.job.Snapshot().Title, len(v.pending)))
	return true
}

// next follows the first queued job, if any (after the current one ended).
func (v *jobView) next() {
	if len(v.pending) == 0 {
		return
	}
	j := v.pending[0]
	v.pending = v.pending[1:]
	v.start(j)
}

// notifyEnd sends a desktop notification when a long job ends.
func (a *App) notifyEnd(rec jobs.Record, err error) {
	took := rec.Finished.Sub(rec.Started)
	if rec.Started.IsZero() || took < a.notifyAfter {
		return
	}
	say := fmt.Sprintf("done in %s", took.Round(time.Second))
	switch {
	case rec.State == jobs.Cancelled:
		say = "cancelled"
	case err != nil:
		say = "failed: " + firstLine(explain(err))
	}
	n := fyne.NewNotification(rec.Title, say)
	a.notified = append(a.notified, n)
	a.fa.SendNotification(n)
}

// activeJobs returns the jobs queued or running in this session.
func (a *App) activeJobs() []*jobs.Job { return a.svc.Jobs.Active() }

// watchJobs keeps the sidebar badges and the Jobs screen current as jobs start and end.
func (a *App) watchJobs() {
	events, unsub := a.svc.Jobs.Subscribe(64)
	a.unwatch = unsub
	go func() {
		for ev := range events {
			if ev.Message != "" && ev.State == jobs.Running {
				continue // a log line: nothing for the badges
			}
			if ev.Item != "" {
				continue // progress
			}
			fyne.Do(a.jobsChanged)
		}
	}()
}

// jobsChanged refreshes what shows the queue.
func (a *App) jobsChanged() {
	a.nav.Refresh()
	if a.jobsScr != nil {
		a.jobsScr.refresh()
	}
}

// badge is the number of active jobs a sidebar row shows (0: none).
func (a *App) badge(s *screen) int {
	n := 0
	for _, j := range a.activeJobs() {
		if s.name == ScreenJobs || (s.kind != "" && j.Snapshot().Kind == s.kind) {
			n++
		}
	}
	return n
}

// requestClose is the window's close intercept: with jobs queued or running it asks first
// (closing cancels them); otherwise it saves the window's size and screen and closes.
func (a *App) requestClose() {
	active := a.activeJobs()
	if len(active) == 0 {
		a.closeNow()
		return
	}
	msg := fmt.Sprintf("%s still running or queued (%s). Quitting cancels %s; a cancelled job "+
		"leaves nothing half-written.", plural(len(active), "job is", "jobs are"), active[0].Snapshot().Title,
		map[bool]string{true: "it", false: "them"}[len(active) == 1])
	d := dialog.NewConfirm("Quit while jobs run?", msg, func(quit bool) {
		if quit {
			for _, j := range a.activeJobs() {
				j.Cancel()
			}
			a.closeNow()
		}
	}, a.win)
	d.SetConfirmText("Cancel jobs and quit")
	d.SetDismissText("Keep working")
	a.quitAsked = true
	a.showDialog(d, 0)
}

// closeNow saves the window settings and closes the window.
func (a *App) closeNow() {
	s, err := a.svc.Settings()
	if err == nil {
		sz := a.win.Canvas().Size()
		s.WindowW, s.WindowH, s.LastScreen = sz.Width, sz.Height, a.current
		err = a.svc.SaveSettings(s)
	}
	if err != nil {
		a.log.Warn("save window settings", "err", err)
	}
	if a.unwatch != nil {
		a.unwatch()
	}
	a.closed = true
	a.win.Close()
}

// follow shows job j on the screen of its kind (a re-run from the history).
func (a *App) follow(j *jobs.Job) {
	switch j.Snapshot().Kind {
	case services.KindPackage:
		a.Show(ScreenPackage)
		a.pkg.follow(j)
	case services.KindPublish:
		a.Show(ScreenPublish)
		a.publish.follow(j)
	case services.KindVerify:
		a.Show(ScreenVerify)
		a.verify.banner.running("Checking…", j.Snapshot().Title)
		a.verify.view.start(j)
	}
}

// rerun starts a finished job again with its settings and shows it.
func (a *App) rerun(rec jobs.Record) {
	j, err := a.svc.Rerun(a.ctx, rec.ID)
	if err != nil {
		a.showErr(err)
		return
	}
	a.follow(j)
}

// openJobReport opens the verification report a job holds in the browser.
func (a *App) openJobReport(rec jobs.Record) {
	rep := services.JobReport(rec)
	if rep == nil {
		a.showErr(fmt.Errorf("%s has no verification report", rec.Title))
		return
	}
	path, err := a.svc.WriteReportHTML(rep)
	if err != nil {
		a.showErr(err)
		return
	}
	a.openPath(path)
}

// historyView lists the job records of kind ("" for all), newest first, each with Open report,
// Re-run and Reveal output; it says so when there are none yet.
type historyView struct {
	a     *App
	kind  jobs.Kind
	recs  []jobs.Record
	list  *widget.List
	empty *widget.Label
	obj   fyne.CanvasObject
}

func (a *App) newHistoryView(kind jobs.Kind, title string) *historyView {
	h := &historyView{a: a, kind: kind}
	h.empty = widget.NewLabel("No jobs yet: the jobs you run are listed here, with their report, a re-run and " +
		"their output.")
	h.empty.Wrapping = fyne.TextWrapWord
	h.list = widget.NewList(func() int { return len(h.recs) }, h.createRow, h.updateRow)
	h.list.HideSeparators = false
	h.obj = container.NewBorder(heading(title), nil, nil, nil, container.NewStack(h.list, container.NewVBox(h.empty)))
	return h
}

func (h *historyView) createRow() fyne.CanvasObject {
	l := widget.NewLabel("2026-01-01 00:00  done  Package 3 renditions → package-20260101")
	l.Truncation = fyne.TextTruncateEllipsis
	report := widget.NewButtonWithIcon("Report", theme.DocumentIcon(), nil)
	rerun := widget.NewButtonWithIcon("Re-run", theme.ViewRefreshIcon(), nil)
	reveal := widget.NewButtonWithIcon("Show output", theme.FolderOpenIcon(), nil)
	return container.NewBorder(nil, nil, nil, container.NewHBox(report, rerun, reveal), l)
}

func (h *historyView) updateRow(i widget.ListItemID, o fyne.CanvasObject) {
	if i < 0 || i >= len(h.recs) {
		return
	}
	r := h.recs[i]
	row := o.(*fyne.Container)
	l := row.Objects[0].(*widget.Label)
	btns := row.Objects[1].(*fyne.Container).Objects
	s := fmt.Sprintf("%s  %-9s %s", r.Created.Local().Format("2006-01-02 15:04"), r.State, r.Title)
	if r.Error != "" {
		s += " — " + r.Error
	}
	l.SetText(s)
	switch r.State {
	case jobs.Failed:
		l.Importance = widget.DangerImportance
	default:
		l.Importance = widget.MediumImportance
	}
	l.Refresh()
	report, rerun, reveal := btns[0].(*widget.Button), btns[1].(*widget.Button), btns[2].(*widget.Button)
	report.OnTapped = func() { h.a.openJobReport(r) }
	enable(report, services.JobReport(r) != nil)
	rerun.OnTapped = func() { h.a.rerun(r) }
	enable(rerun, r.State.Finished() && r.Kind != "" && (r.Kind == services.KindPackage ||
		r.Kind == services.KindPublish || r.Kind == services.KindVerify))
	out := services.JobOutput(r)
	reveal.OnTapped = func() { h.a.openPath(out) }
	enable(reveal, out != "")
}

func enable(b *widget.Button, on bool) {
	if on {
		b.Enable()
	} else {
		b.Disable()
	}
}

// refresh reloads the records.
func (h *historyView) refresh() {
	recs, err := h.a.svc.JobHistory(h.kind)
	if err != nil {
		h.a.log.Warn("read job history", "kind", h.kind, "err", err)
	}
	h.recs = recs
	h.empty.Hidden = len(recs) > 0
	h.list.Refresh()
}

// jobsScreen is the queue (this session's queued and running jobs, each with Cancel) and the
// history of every job.
type jobsScreen struct {
	a       *App
	obj     fyne.CanvasObject
	active  []*jobs.Job
	queue   *fyne.Container
	idle    *widget.Label
	history *historyView
}

func newJobsScreen(a *App) *jobsScreen {
	s := &jobsScreen{a: a}
	s.queue = container.NewVBox()
	s.idle = widget.NewLabel("No job is running. Package, Verify and Publish jobs queue here and run one at a " +
		"time; you can start the next while one runs.")
	s.idle.Wrapping = fyne.TextWrapWord
	s.history = a.newHistoryView("", "History")
	top := container.NewVBox(heading("Jobs"), s.idle, s.queue)
	split := container.NewVSplit(container.NewVScroll(top), s.history.obj)
	split.Offset = 0.3
	s.obj = split
	return s
}

func (s *jobsScreen) refresh() {
	s.active = s.a.activeJobs()
	s.queue.Objects = nil
	for _, j := range s.active {
		j := j
		rec := j.Snapshot()
		l := widget.NewLabel(fmt.Sprintf("%-8s %s", rec.State, rec.Title))
		l.Truncation = fyne.TextTruncateEllipsis
		cancel := widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), func() { j.Cancel() })
		s.queue.Add(container.NewBorder(nil, nil, nil, cancel, l))
	}
	s.idle.Hidden = len(s.active) > 0
	s.queue.Refresh()
	s.history.refresh()
}

// logBox holds a job's log in a scroll that opens at least eight lines high.
func logBox(l *widget.Label) fyne.CanvasObject {
	min := canvas.NewRectangle(color.Transparent)
	min.SetMinSize(fyne.NewSize(0, 8*theme.TextSize()*1.4))
	return container.NewStack(min, container.NewVScroll(l))
}
