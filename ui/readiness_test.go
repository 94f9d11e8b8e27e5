package ui

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"satchel/app/services"
	"satchel/engine/devices"
	"satchel/engine/drm"
	"satchel/engine/license"
	"satchel/engine/policy"
	"satchel/engine/simulate"
	"satchel/engine/verify"
)

// packageFor packages one rung under the rental policy through the services and returns the
// folder.
func packageFor(t *testing.T, a *App) string {
	t.Helper()
	req := services.DefaultPackageRequest()
	abs, _ := filepath.Abs(media + "ladder_240p.mp4")
	req.Inputs, req.OutDir, req.Policy = []string{abs}, filepath.Join(t.TempDir(), "pkg"), policy.PresetRental48h
	j, err := a.svc.StartPackage(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.Wait(); err != nil {
		t.Fatal(err)
	}
	return req.OutDir
}

// readinessRows reads the readiness table as it renders: per row (by the device cell) the
// mark cell's text and colour.
func readinessRows(t *testing.T, v *readinessView) map[devices.ProfileID]*canvas.Text {
	t.Helper()
	rows, cols := v.size()
	if cols != readinessCols {
		t.Fatalf("%d columns", cols)
	}
	out := map[devices.ProfileID]*canvas.Text{}
	for r := 0; r < rows; r++ {
		mark, dev := v.createCell(), v.createCell()
		v.updateCell(widget.TableCellID{Row: r, Col: colMark}, mark)
		v.updateCell(widget.TableCellID{Row: r, Col: colDevice}, dev)
		out[devices.ProfileID(cellText(dev).Text)] = cellText(mark)
	}
	return out
}

// TestVerifyShowsReadiness: the Verify screen puts the readiness matrix above the findings, a
// row per device with ✓ (green) or ✕ (red); selecting a row shows the evidence and the fix;
// a scenario adds the license timeline.
func TestVerifyShowsReadiness(t *testing.T) {
	a := newTestApp(t)
	pkg := packageFor(t, a)
	a.Show(ScreenVerify)
	a.verify.path.SetText(pkg)
	a.verify.scenario.SetSelected(simulate.PresetRental)
	got := make(chan *verify.Report, 1)
	a.verify.onFinish = func(r *verify.Report) { got <- r }
	test.Tap(a.verify.runBtn)
	rep := wait(t, got, "verify")
	if rep.Failed() {
		t.Fatalf("verify: %s %s", a.verify.banner.title.Text, a.verify.banner.detail.Text)
	}
	rows := readinessRows(t, a.verify.ready)
	if len(rows) != len(devices.Profiles()) {
		t.Fatalf("%d rows, want one per device profile", len(rows))
	}
	for _, r := range rep.Readiness.Rows {
		mark := rows[r.Device]
		if mark == nil || mark.Text != r.Verdict.Symbol() || mark.Color != verdictColor(r.Verdict) {
			t.Errorf("%s: mark %+v for %s", r.Device, mark, r.Verdict)
		}
	}
	if m := rows[devices.ChromeDesktop]; m.Text != "✕" || m.Color != theme.Color(theme.ColorNameError) {
		t.Errorf("chrome-desktop mark %q", m.Text)
	}
	if m := rows[devices.AppleFairPlay]; m.Text != "✓" || m.Color != theme.Color(theme.ColorNameSuccess) {
		t.Errorf("apple-fairplay mark %q", m.Text)
	}
	if sum := a.verify.ready.summary; !strings.HasPrefix(sum.title.Text, "NOT READY ON") ||
		!strings.Contains(sum.detail.Text, "Under policy “Offline rental 48 h”") {
		t.Errorf("summary %q %q", sum.title.Text, sum.detail.Text)
	}
	for i, r := range rep.Readiness.Rows {
		if r.Device == devices.ChromeDesktop {
			a.verify.ready.table.Select(widget.TableCellID{Row: i, Col: colWhy})
		}
	}
	if d := a.verify.ready.detail.Text; !strings.Contains(d, "chrome-desktop-no-persistent-license") || !strings.Contains(d, "Fix: ") {
		t.Errorf("detail %q", d)
	}
	tv := a.verify.timeline
	test.WidgetRenderer(tv).Refresh()
	if rep.Simulation == nil || len(tv.marks) == 0 || a.verify.tabs.Selected() != a.verify.simTab {
		t.Fatalf("no timeline drawn for the scenario (%d marks)", len(tv.marks))
	}
}

// marksByLane reads the timeline picture: per lane, "plays"/"refused" by mark colour.
func marksByLane(t *testing.T, tv *timelineView) map[drm.System][]string {
	t.Helper()
	test.WidgetRenderer(tv).Refresh()
	out := map[drm.System][]string{}
	for _, m := range tv.marks {
		switch {
		case m.color == colorPlays && m.outcome == simulate.OutcomePlays:
			out[m.system] = append(out[m.system], "plays")
		case m.color == colorRefused && m.outcome == simulate.OutcomeRefused:
			out[m.system] = append(out[m.system], "refused")
		default:
			t.Fatalf("mark %+v drawn in the wrong colour", m)
		}
	}
	return out
}

func runSimulation(t *testing.T, a *App) *services.SimulateResult {
	t.Helper()
	got := make(chan *services.SimulateResult, 1)
	a.simulate.onFinish = func(r *services.SimulateResult) { got <- r }
	test.Tap(a.simulate.runBtn)
	return wait(t, got, "simulation")
}

// TestSimulateScreen: the preset scenario draws one lane per DRM system with a green mark
// per play and a red one per refusal; a package played on one device draws its one lane; the
// ledger view shows the device, the scenario time and the decision.
func TestSimulateScreen(t *testing.T) {
	a := newTestApp(t)
	a.Show(ScreenSimulate)
	a.simulate.pkg.SetText("")
	a.simulate.preset.SetSelected(simulate.PresetRental)
	if a.simulate.spec.Text != "download@0,play@day2+20h for 2h,play@+47h for 2h,play@+49h" {
		t.Fatalf("preset spec %q", a.simulate.spec.Text)
	}
	res := runSimulation(t, a)
	if res.Policy != simulate.RentalPolicyName {
		t.Fatalf("policy %q", res.Policy)
	}
	lanes := marksByLane(t, a.simulate.timeline)
	want := map[drm.System]string{drm.Widevine: "plays plays refused", drm.PlayReady: "plays plays refused",
		drm.FairPlay: "plays plays refused", drm.ClearKey: "plays plays plays"}
	if len(lanes) != 4 {
		t.Fatalf("%d lanes drawn", len(lanes))
	}
	for sys, w := range want {
		if got := strings.Join(lanes[sys], " "); got != w {
			t.Errorf("%s: %s, want %s", sys, got, w)
		}
	}
	if len(a.simulate.steps) != 16 || !strings.Contains(a.simulate.banner.detail.Text, "9 play attempts play, 3 are refused") {
		t.Errorf("%d steps, summary %q", len(a.simulate.steps), a.simulate.banner.detail.Text)
	}

	// An edited spec, a package and one device.
	pkg := packageFor(t, a)
	a.simulate.pkg.SetText(pkg)
	a.simulate.spec.SetText("download@0,play@day4")
	if a.simulate.preset.Selected != customScenar {
		t.Errorf("editing the spec left preset %q selected", a.simulate.preset.Selected)
	}
	a.simulate.device.SetSelected(string(devices.AppleFairPlay))
	runSimulation(t, a)
	if lanes := marksByLane(t, a.simulate.timeline); len(lanes) != 1 || strings.Join(lanes[drm.FairPlay], " ") != "refused" {
		t.Fatalf("lanes %v", lanes)
	}
	lbl := widget.NewLabel("")
	a.simulate.updateStep(1, lbl)
	if !strings.Contains(lbl.Text, "refused: FairPlay DualExpiry storage duration") || lbl.Importance != widget.DangerImportance {
		t.Errorf("decision row %q", lbl.Text)
	}

	a.Show(ScreenLicense)
	var play *license.Entry
	for i := range a.license.entries {
		if e := &a.license.entries[i]; e.Type == "play" && e.Device == string(devices.AppleFairPlay) {
			play = e
		}
	}
	if play == nil {
		t.Fatalf("no play entry of the simulated device in the ledger view (%d entries)", len(a.license.entries))
	}
	if line := ledgerLine(*play); !strings.Contains(line, "refused (fairplay-storage-duration) · device apple-fairplay · day 4, 00:00") {
		t.Errorf("ledger line %q", line)
	}
}
