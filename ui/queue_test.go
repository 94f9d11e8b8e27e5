package ui

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"satchel/app/jobs"
	"satchel/engine/verify"
)

// TestJobQueueAndRerun queues jobs behind one that hangs: a second verification on the same
// screen and a package job wait (the sidebar badges count them), the Verify screen follows
// its queued job when the first is cancelled, and each job's end is announced. From the
// history a job is re-run with the same settings (into a new folder beside the first) and its
// output revealed.
func TestJobQueueAndRerun(t *testing.T) {
	a := newTestApp(t)
	a.notifyAfter = 0
	var opened []string
	a.opener = func(u *url.URL) error { opened = append(opened, u.Path); return nil }
	pkg := packageFor(t, a)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer ts.Close()
	added := make(chan struct{}, 1)
	a.assets.onAdded = func() { added <- struct{}{} }
	abs, _ := filepath.Abs(media + "ladder_240p.mp4")
	a.assets.add([]string{abs})
	wait(t, added, "assets")

	a.Show(ScreenVerify)
	a.verify.path.SetText(ts.URL + "/manifest.mpd")
	test.Tap(a.verify.runBtn) // hangs until cancelled
	hung := a.verify.view.job
	a.verify.path.SetText(pkg)
	verified := make(chan *verify.Report, 1)
	a.verify.onFinish = func(r *verify.Report) { verified <- r }
	test.Tap(a.verify.runBtn)
	if hung == nil || len(a.verify.view.pending) != 1 {
		t.Fatalf("second verification not queued on the screen: %q", a.verify.problem.Text)
	}
	queued := a.verify.view.pending[0]
	a.Show(ScreenPackage)
	first := filepath.Join(t.TempDir(), "first")
	a.pkg.outDir.SetText(first)
	done := make(chan jobs.Record, 2)
	a.pkg.onFinish = func(r jobs.Record) { done <- r }
	test.Tap(a.pkg.runBtn)
	if a.pkg.outDir.Text == first {
		t.Fatal("the output folder was not renewed for the next job")
	}
	for _, j := range []*jobs.Job{queued, a.pkg.view.job} {
		if st := j.Snapshot().State; st != jobs.Queued {
			t.Fatalf("%s is %s behind a running job", j.Snapshot().Title, st)
		}
	}
	a.jobsChanged()
	if v, p, all := a.navBadgeText(ScreenVerify), a.navBadgeText(ScreenPackage), a.navBadgeText(ScreenJobs); v != "2" ||
		p != "1" || all != "3" || a.navBadgeText(ScreenPublish) != "" {
		t.Fatalf("badges: Verify %q, Package %q, Jobs %q", v, p, all)
	}
	a.Show(ScreenJobs)
	if len(a.jobsScr.active) != 3 || !a.jobsScr.idle.Hidden {
		t.Fatalf("Jobs screen lists %d active jobs", len(a.jobsScr.active))
	}
	hung.Cancel()
	rep := wait(t, verified, "queued verification")
	if a.verify.view.job != queued || a.verify.banner.title.Text != rep.Verdict() {
		t.Fatalf("the Verify screen did not follow its queued job: %q", a.verify.banner.title.Text)
	}
	rec := wait(t, done, "package job")
	if rec.State != jobs.Done {
		t.Fatalf("package job %s: %s", rec.State, rec.Error)
	}
	recs := []jobs.Record{rec}
	waitFor(t, func() bool { return len(a.notified) >= 3 }, "three notifications")
	if n := len(a.notified); n != 3 || a.notified[0].Content != "cancelled" ||
		!strings.HasPrefix(a.notified[2].Content, "done in ") {
		t.Fatalf("%d notifications: %+v", n, a.notified)
	}
	a.jobsChanged()
	if a.navBadgeText(ScreenJobs) != "" {
		t.Fatalf("badge %q with no job running", a.navBadgeText(ScreenJobs))
	}

	// The history: re-run the first job, reveal its output.
	h := a.jobsScr.history
	h.refresh()
	row := -1
	for i, r := range h.recs {
		if r.ID == recs[0].ID {
			row = i
		}
	}
	if row < 0 || h.empty.Visible() {
		t.Fatalf("first job not in the history (%d records)", len(h.recs))
	}
	o := h.createRow()
	h.updateRow(row, o)
	btns := o.(*fyne.Container).Objects[1].(*fyne.Container).Objects
	report, rerun, reveal := btns[0].(*widget.Button), btns[1].(*widget.Button), btns[2].(*widget.Button)
	if !report.Disabled() || rerun.Disabled() || reveal.Disabled() {
		t.Fatalf("package row: report %v, rerun %v, reveal %v disabled", report.Disabled(), rerun.Disabled(), reveal.Disabled())
	}
	test.Tap(reveal)
	if len(opened) != 1 || opened[0] != first {
		t.Fatalf("reveal opened %q, want %s", opened, first)
	}
	test.Tap(rerun)
	if a.current != ScreenPackage || a.pkg.view.job.ID() == recs[0].ID {
		t.Fatalf("re-run not shown on the Package screen (%s)", a.current)
	}
	rec = wait(t, done, "re-run")
	if rec.State != jobs.Done || !strings.HasSuffix(rec.Title, "first-2") {
		t.Fatalf("re-run %s %q: %s", rec.State, rec.Title, rec.Error)
	}
}

// TestQuitAsksWhileJobsRun closes the window while a job runs: it asks first, Escape keeps
// working, and with no job left it closes at once.
func TestQuitAsksWhileJobsRun(t *testing.T) {
	a := newTestApp(t)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer ts.Close()
	a.Show(ScreenVerify)
	a.verify.path.SetText(ts.URL + "/manifest.mpd")
	test.Tap(a.verify.runBtn)
	j := a.verify.view.job
	if j == nil {
		t.Fatalf("no job: %q", a.verify.problem.Text)
	}
	a.requestClose()
	if !a.quitAsked || a.closed || len(a.dialogs) != 1 {
		t.Fatalf("closing with a running job: asked %v, closed %v", a.quitAsked, a.closed)
	}
	a.typedKey(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if a.closed || len(a.dialogs) != 0 {
		t.Fatal("Escape did not keep the window open")
	}
	j.Cancel()
	select {
	case <-j.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("job did not stop")
	}
	a.quitAsked = false
	a.requestClose()
	if a.quitAsked || !a.closed {
		t.Fatalf("closing with no job: asked %v, closed %v", a.quitAsked, a.closed)
	}
}
