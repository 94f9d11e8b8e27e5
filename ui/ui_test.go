package ui

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"satchel/app/jobs"
	"satchel/app/services"
	"satchel/engine/verify"
)

const media = "../testdata/media/"

func newTestApp(t *testing.T) *App {
	t.Helper()
	fa := test.NewTempApp(t)
	svc, err := services.Open(services.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	a := New(context.Background(), fa, svc)
	a.win.Resize(fyne.NewSize(1200, 800))
	return a
}

func wait[T any](t *testing.T, ch chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(60 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
	var zero T
	return zero
}

func TestAddPackageVerifyFlow(t *testing.T) {
	a := newTestApp(t)
	added := make(chan struct{}, 1)
	a.assets.onAdded = func() { added <- struct{}{} }
	abs1, _ := filepath.Abs(media + "ladder_240p.mp4")
	abs2, _ := filepath.Abs(media + "ladder_360p.mp4")
	a.assets.add([]string{abs1, abs2})
	wait(t, added, "assets")
	if len(a.assets.entries) != 2 || !strings.Contains(a.assets.ladder.Text, "aligned") {
		t.Fatalf("assets: %d entries, ladder %q", len(a.assets.entries), a.assets.ladder.Text)
	}

	a.Show(ScreenPackage)
	if !strings.Contains(a.pkg.ladder.Text, "ladder_240p.mp4") {
		t.Fatalf("package screen ladder: %q", a.pkg.ladder.Text)
	}
	out := filepath.Join(t.TempDir(), "pkg")
	a.pkg.outDir.SetText(out)
	a.pkg.segment.SetText("2s")
	a.pkg.policy.SetSelected("Offline rental 48 h")
	done := make(chan jobs.Record, 1)
	a.pkg.onFinish = func(r jobs.Record) { done <- r }
	test.Tap(a.pkg.runBtn)
	rec := wait(t, done, "packaging")
	if rec.State != jobs.Done {
		t.Fatalf("package job %s: %s", rec.State, rec.Error)
	}
	if len(a.pkg.view.bars) < 3 { // 240p, 360p, audio
		t.Errorf("progress bars for %d renditions, want 3", len(a.pkg.view.bars))
	}
	if a.pkg.history.list.Length() == 0 {
		t.Error("job history is empty after a job")
	}

	a.Show(ScreenVerify)
	if a.verify.path.Text == "" {
		t.Fatal("verify path not prefilled from the package")
	}
	// No policy chosen: the package's policy.json is used, as by `satchel verify` (issue 9:
	// the GUI used to miss it and report the rental as "not persistent").
	a.verify.policy.SetSelected(noPolicy)
	got := make(chan *verify.Report, 1)
	a.verify.onFinish = func(r *verify.Report) { got <- r }
	test.Tap(a.verify.runBtn)
	rep := wait(t, got, "verify")
	if rep.Failed() || !strings.HasPrefix(a.verify.banner.title.Text, "PASS") {
		t.Fatalf("verify verdict %q", a.verify.banner.title.Text)
	}
	usedPolicy := false
	for _, f := range rep.Findings {
		if strings.Contains(f.Message, "not persistent") {
			t.Errorf("the package's offline policy was not used: %s", f.Message)
		}
		usedPolicy = usedPolicy || (f.Category == verify.CatPolicy && strings.Contains(f.Subject, "Offline rental 48 h"))
	}
	if !usedPolicy || !strings.Contains(strings.Join(a.verify.view.lines, "\n"), "using policy from") {
		t.Errorf("no finding or note about the package's policy.json: %v", a.verify.view.lines)
	}
	if len(a.verify.categories()) < 5 || len(a.verify.exchange.Options) < 3 {
		t.Fatalf("findings tree %v, exchanges %v", a.verify.categories(), a.verify.exchange.Options)
	}
	a.verify.exchange.SetSelected(a.verify.exchange.Options[0])
	if !strings.Contains(a.verify.exText.Text, "POST") {
		t.Fatalf("exchange viewer: %q", a.verify.exText.Text)
	}
	// The generated keys were saved as a key set.
	a.Show(ScreenKeys)
	if len(a.keys.sets) != 1 {
		t.Fatalf("key sets after packaging: %d", len(a.keys.sets))
	}
}

func TestInvalidPolicyValueShowsValidation(t *testing.T) {
	a := newTestApp(t)
	a.Show(ScreenPolicies)
	if !strings.Contains(a.policies.issues.Text, "valid for offline") {
		t.Fatalf("preset not valid: %q", a.policies.issues.Text)
	}
	a.policies.wvLicense.SetText("")
	test.Type(a.policies.wvLicense, "-5")
	if !strings.Contains(a.policies.issues.Text, "license_duration_seconds is negative") {
		t.Fatalf("negative duration: %q", a.policies.issues.Text)
	}
	a.policies.wvRental.SetText("")
	test.Type(a.policies.wvRental, "two days")
	if !strings.Contains(a.policies.issues.Text, "not a whole number") {
		t.Fatalf("non-numeric duration: %q", a.policies.issues.Text)
	}
	a.policies.prType.SetSelected("NonPersistent")
	if !strings.Contains(a.policies.issues.Text, "NonPersistent license lives in memory") {
		t.Fatalf("non-persistent PlayReady: %q", a.policies.issues.Text)
	}
	if !strings.Contains(a.policies.preview.Text, `"licenseType": "NonPersistent"`) {
		t.Fatalf("JSON preview not updated: %q", a.policies.preview.Text)
	}
}

func TestCancelStopsJob(t *testing.T) {
	a := newTestApp(t)
	// A server that never answers: the verify job blocks until cancelled.
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer ts.Close()
	a.Show(ScreenVerify)
	a.verify.path.SetText(ts.URL + "/manifest.mpd")
	test.Tap(a.verify.runBtn)
	j := a.verify.view.job
	if j == nil {
		t.Fatal("no job started")
	}
	time.Sleep(200 * time.Millisecond)
	test.Tap(a.verify.view.cancel)
	select {
	case <-j.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("job did not stop after cancel")
	}
	if st := j.Snapshot().State; st != jobs.Cancelled {
		t.Fatalf("state %s, want cancelled", st)
	}
}

// TestValidationShownInline checks that a request the services refuse shows the reason next
// to the button, in the screen's words (the form label), and starts nothing.
func TestValidationShownInline(t *testing.T) {
	a := newTestApp(t)
	added := make(chan struct{}, 1)
	a.assets.onAdded = func() { added <- struct{}{} }
	abs, _ := filepath.Abs(media + "ladder_240p.mp4")
	a.assets.add([]string{abs})
	wait(t, added, "assets")
	a.Show(ScreenPackage)
	a.pkg.segment.SetText("45s")
	test.Tap(a.pkg.runBtn)
	if !strings.HasPrefix(a.pkg.problem.Text, "Segment duration") || a.pkg.view.job != nil {
		t.Fatalf("inline problem %q, job %v", a.pkg.problem.Text, a.pkg.view.job)
	}
	a.pkg.segment.SetText("4s")
	a.pkg.schemes.SetSelected(nil)
	test.Tap(a.pkg.runBtn)
	if !strings.HasPrefix(a.pkg.problem.Text, "Schemes") {
		t.Fatalf("no scheme ticked: %q", a.pkg.problem.Text)
	}
	a.Show(ScreenPublish)
	a.publish.src.SetText("")
	a.publish.target.SetText("azure://media/show")
	test.Tap(a.publish.runBtn)
	if !strings.HasPrefix(a.publish.problem.Text, "Package") {
		t.Fatalf("publish without a package: %q", a.publish.problem.Text)
	}
}

// TestPublishCredentialsAreNotSaved publishes with credentials typed on the Publish screen:
// they are used for the run and never stored as a target.
func TestPublishCredentialsAreNotSaved(t *testing.T) {
	a := newTestApp(t)
	req := services.DefaultPackageRequest()
	req.Inputs, req.OutDir = []string{media + "ladder_240p.mp4"}, filepath.Join(t.TempDir(), "pkg")
	j, err := a.svc.StartPackage(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.Wait(); err != nil {
		t.Fatal(err)
	}
	a.Show(ScreenPublish)
	if a.publish.src.Text != req.OutDir {
		t.Fatalf("the newest package is not offered: %q", a.publish.src.Text)
	}
	a.publish.target.SetText(filepath.Join(t.TempDir(), "www"))
	a.publish.conn.SetText("DefaultEndpointsProtocol=http;AccountName=x;AccountKey=eA==")
	test.Tap(a.publish.runBtn)
	if a.publish.view.job == nil {
		t.Fatalf("publish did not start: %q", a.publish.problem.Text)
	}
	if _, err := a.publish.view.job.Wait(); err != nil {
		t.Fatal(err)
	}
	if ts, err := a.svc.Targets(); err != nil || len(ts) != 0 {
		t.Fatalf("typed credentials were saved as targets %+v (%v)", ts, err)
	}
}

// TestEveryRemedyWorded checks that the GUI words every remedy the services name.
func TestEveryRemedyWorded(t *testing.T) {
	for _, r := range services.Remedies {
		if remedy[r] == "" {
			t.Errorf("remedy %d has no GUI wording", r)
		}
	}
}
