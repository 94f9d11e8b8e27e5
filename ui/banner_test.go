package ui

import (
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"satchel/app/jobs"
	"satchel/app/services"
	"satchel/engine/verify"
)

// report builds a verify report with the findings given as (status, category, message, fix).
func report(target string, findings ...verify.Finding) *verify.Report {
	rep := &verify.Report{Target: target, Tracks: 3, Samples: 120, Started: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	for _, f := range findings {
		rep.Findings = append(rep.Findings, f)
		switch f.Status {
		case verify.Pass:
			rep.Summary.Pass++
		case verify.Warn:
			rep.Summary.Warn++
		case verify.Fail:
			rep.Summary.Fail++
		}
	}
	return rep
}

func finding(st verify.Severity, cat, msg, fix string) verify.Finding {
	return verify.Finding{Status: st, Category: cat, Subject: "360p", Message: msg, Fix: fix}
}

// TestVerdictBanner shows a pass, a warn and a fail on the Verify screen: the banner's title,
// counts, colour, target, next steps, and the warnings and failures one click away, grouped
// with their fixes.
func TestVerdictBanner(t *testing.T) {
	a := newTestApp(t)
	var opened []string
	a.opener = func(u *url.URL) error { opened = append(opened, u.Path); return nil }
	a.Show(ScreenVerify)
	pkg := t.TempDir()
	tests := []struct {
		name     string
		rep      *verify.Report
		title    string
		counts   string
		color    fyne.ThemeColorName
		actions  []string
		issues   int
		headings []string
	}{
		{"pass", report(pkg, finding(verify.Pass, "manifest", "DASH manifest parses", ""),
			finding(verify.Pass, "decrypt", "samples decrypt", "")),
			"PASS", "2 pass · 0 warn · 0 fail", theme.ColorNameSuccess, []string{"Publish", "Open report"}, 0, nil},
		{"warn", report(pkg, finding(verify.Pass, "manifest", "DASH manifest parses", ""),
			finding(verify.Warn, "policy", "rental is 48 h", "make it 72 h"),
			finding(verify.Warn, "segments", "segment 3 is 2402 s", "re-encode with aligned GOPs")),
			"PASS WITH WARNINGS", "1 pass · 2 warn · 0 fail", theme.ColorNameWarning,
			[]string{"Publish", "Open report", "Show 2 warnings"}, 2, []string{"policy (1)", "segments (1)"}},
		{"fail", report(pkg, finding(verify.Warn, "policy", "rental is 48 h", "make it 72 h"),
			finding(verify.Fail, "decrypt", "wrong key for KID 1234", "package with the key set that holds it")),
			"FAIL", "0 pass · 1 warn · 1 fail", theme.ColorNameError,
			[]string{"Open report", "Show 1 failure and 1 warning"}, 2, []string{"decrypt (1)", "policy (1)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a.verify.show(tt.rep)
			b := a.verify.banner
			if !b.Visible() || b.title.Text != tt.title || b.counts.Text != tt.counts {
				t.Fatalf("banner %v %q %q", b.Visible(), b.title.Text, b.counts.Text)
			}
			if b.bg.StrokeColor != theme.Color(tt.color) || b.mark.Color != theme.Color(tt.color) {
				t.Errorf("banner colour %v, want %s", b.bg.StrokeColor, tt.color)
			}
			if b.path.Text != "Target: "+pkg || b.pathRow.Hidden {
				t.Errorf("path %q", b.path.Text)
			}
			if got := b.actionLabels(); !slices.Equal(got, tt.actions) {
				t.Errorf("actions %q, want %q", got, tt.actions)
			}
			if len(b.out.issues) != tt.issues {
				t.Fatalf("%d issues, want %d", len(b.out.issues), tt.issues)
			}
			// The banner sits above everything else on the screen.
			if pos := b.Position(); pos.Y != 0 || b.Size().Height < b.MinSize().Height {
				t.Errorf("banner at %v size %v", pos, b.Size())
			}
			if tt.issues == 0 {
				return
			}
			test.Tap(b.button(tt.actions[len(tt.actions)-1]))
			if len(a.dialogs) != 1 {
				t.Fatalf("%d dialogs open after the issues button", len(a.dialogs))
			}
			box := issuesBox(b.out.issues)
			var heads, fixes []string
			for _, o := range box.Objects {
				if l, ok := o.(*widget.Label); ok {
					heads = append(heads, l.Text)
					continue
				}
				rows := o.(*fyne.Container).Objects
				fixes = append(fixes, rows[1].(*fyne.Container).Objects[0].(*widget.Label).Text)
			}
			if !slices.Equal(heads, tt.headings) || len(fixes) != tt.issues || !strings.HasPrefix(fixes[0], "Fix: ") {
				t.Errorf("issues grouped %q, fixes %q", heads, fixes)
			}
			a.typedKey(&fyne.KeyEvent{Name: fyne.KeyEscape})
			if len(a.dialogs) != 0 {
				t.Error("Escape did not close the issues dialog")
			}
		})
	}
	test.Tap(a.verify.banner.button("Open report"))
	if len(opened) != 1 || !strings.HasSuffix(opened[0], ".html") || !strings.Contains(opened[0], "/reports/verify-") {
		t.Fatalf("Open report opened %q", opened)
	}
	// The last report failed: no Publish. Show a pass again and publish from it.
	a.verify.show(tests[0].rep)
	test.Tap(a.verify.banner.button("Publish"))
	if a.current != ScreenPublish || a.publish.src.Text != pkg {
		t.Fatalf("Publish from the banner: screen %s, package %q", a.current, a.publish.src.Text)
	}
}

// TestFindingsRowsSizeToText renders long findings in a narrow pane: each row is as tall as
// its wrapped text and starts below the one before (no text runs into the next row).
func TestFindingsRowsSizeToText(t *testing.T) {
	a := newTestApp(t)
	a.win.Resize(fyne.NewSize(900, 700))
	a.Show(ScreenVerify)
	long := strings.Repeat("the segment durations differ between renditions, so players switching bitrate stall ", 3)
	a.verify.show(report(t.TempDir(), finding(verify.Warn, "segments", long, "re-encode with aligned GOPs"),
		finding(verify.Fail, "segments", "short one", "fix it"), finding(verify.Warn, "segments", long, "")))
	rows := a.verify.findings.rows
	if len(rows) != 3 {
		t.Fatalf("%d rows", len(rows))
	}
	line := rows[1].MinSize().Height // a one-line row
	for i, r := range rows {
		if r.Size().Height < r.MinSize().Height {
			t.Errorf("row %d is %v high, its text needs %v", i, r.Size().Height, r.MinSize().Height)
		}
		if i > 0 && r.Position().Y < rows[i-1].Position().Y+rows[i-1].Size().Height {
			t.Errorf("row %d starts at %v, inside row %d (%v + %v)", i, r.Position().Y, i-1,
				rows[i-1].Position().Y, rows[i-1].Size().Height)
		}
	}
	if rows[0].Size().Height < 2*line {
		t.Errorf("a long finding is %v high, one line is %v: it did not wrap", rows[0].Size().Height, line)
	}
	test.Tap(a.verify.findings.problems)
	if len(a.verify.findings.rows) != 3 {
		t.Errorf("only problems: %d rows", len(a.verify.findings.rows))
	}
}

// TestPackageBannerNextSteps packages, reads the banner (PASS, the output folder, Verify now,
// Publish, Open folder) and follows Verify now to a verification of that folder; Open folder
// without a file manager shows the path with a Copy button.
func TestPackageBannerNextSteps(t *testing.T) {
	a := newTestApp(t)
	a.opener = func(*url.URL) error { return errNoOpener }
	added := make(chan struct{}, 1)
	a.assets.onAdded = func() { added <- struct{}{} }
	abs, _ := filepath.Abs(media + "ladder_240p.mp4")
	a.assets.add([]string{abs})
	wait(t, added, "assets")
	a.Show(ScreenPackage)
	out := filepath.Join(t.TempDir(), "pkg")
	a.pkg.outDir.SetText(out)
	done := make(chan jobs.Record, 1)
	a.pkg.onFinish = func(r jobs.Record) { done <- r }
	test.Tap(a.pkg.runBtn)
	if rec := wait(t, done, "packaging"); rec.State != jobs.Done {
		t.Fatalf("package job %s: %s", rec.State, rec.Error)
	}
	b := a.pkg.banner
	if !strings.HasPrefix(b.title.Text, "PASS") || b.out.path != out || !strings.Contains(b.counts.Text, "2 renditions") {
		t.Fatalf("banner %q %q %q", b.title.Text, b.out.path, b.counts.Text)
	}
	if got := b.actionLabels(); !slices.Equal(got[:3], []string{"Verify now", "Publish", "Open folder"}) {
		t.Fatalf("actions %q", got)
	}
	test.Tap(b.button("Open folder"))
	if a.lastPathDialog != out {
		t.Fatalf("no file manager: path shown %q", a.lastPathDialog)
	}
	a.typedKey(&fyne.KeyEvent{Name: fyne.KeyEscape})
	got := make(chan *verify.Report, 1)
	a.verify.onFinish = func(r *verify.Report) { got <- r }
	test.Tap(b.button("Verify now"))
	if a.current != ScreenVerify || a.verify.path.Text != out {
		t.Fatalf("Verify now: screen %s, target %q", a.current, a.verify.path.Text)
	}
	rep := wait(t, got, "verify")
	if a.verify.banner.title.Text != rep.Verdict() || !strings.Contains(a.verify.banner.counts.Text, " pass · ") {
		t.Fatalf("verify banner %q %q", a.verify.banner.title.Text, a.verify.banner.counts.Text)
	}
}

// TestPublishBanner publishes a package to a folder with the HTTP check: the banner carries
// the check's verdict and counts, the destination, Open report and Open folder.
func TestPublishBanner(t *testing.T) {
	a := newTestApp(t)
	pkg := packageFor(t, a)
	a.Show(ScreenPublish)
	dest := filepath.Join(t.TempDir(), "www")
	a.publish.src.SetText(pkg)
	a.publish.target.SetText(dest)
	done := make(chan struct{}, 1)
	a.publish.onDone = func() { done <- struct{}{} }
	test.Tap(a.publish.runBtn)
	if a.publish.view.job == nil {
		t.Fatalf("publish did not start: %q", a.publish.problem.Text)
	}
	wait(t, done, "publish")
	b := a.publish.banner
	r := a.publish.last
	if r == nil || r.Verify == nil {
		t.Fatalf("no publish result with a check: %+v", r)
	}
	if b.title.Text != r.Verify.Verdict() || !strings.Contains(b.counts.Text, "checked: ") || b.out.path != dest {
		t.Fatalf("banner %q %q %q", b.title.Text, b.counts.Text, b.out.path)
	}
	for _, want := range []string{"Open report", "Open folder"} {
		if b.button(want) == nil {
			t.Errorf("no %q in %q", want, b.actionLabels())
		}
	}
	if services.JobReport(a.publish.view.job.Snapshot()) == nil {
		t.Error("the publish record holds no report for the history's Report button")
	}
}
