package ui

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"
)

// TestEmptyStatesAndSelection checks what a fresh workspace shows: the empty states of Keys,
// the history, the findings and the ledger, Export and Delete disabled until a key set is
// selected, and the sidebar's key and box icons.
func TestEmptyStatesAndSelection(t *testing.T) {
	a := newTestApp(t)
	a.Show(ScreenKeys)
	if !a.keys.empty.Visible() || !a.keys.expBtn.Disabled() || !a.keys.delBtn.Disabled() {
		t.Fatalf("Keys: empty %v, export %v, delete %v disabled", a.keys.empty.Visible(), a.keys.expBtn.Disabled(),
			a.keys.delBtn.Disabled())
	}
	if _, err := a.svc.GenerateKeySet("Studio", nil); err != nil {
		t.Fatal(err)
	}
	a.keys.refresh()
	if a.keys.empty.Visible() || !a.keys.expBtn.Disabled() {
		t.Fatal("a key set listed but the empty state shows, or Export is enabled without a selection")
	}
	a.keys.list.Select(0)
	if a.keys.expBtn.Disabled() || a.keys.delBtn.Disabled() {
		t.Fatal("Export/Delete disabled with a key set selected")
	}
	a.Show(ScreenPackage)
	if !a.pkg.history.empty.Visible() {
		t.Error("Package history: no empty state")
	}
	a.Show(ScreenVerify)
	if !a.verify.findings.empty.Visible() || !a.verify.htmlBtn.Disabled() {
		t.Error("Verify: no findings empty state, or Export enabled without a report")
	}
	a.Show(ScreenLicense)
	if !a.license.empty.Visible() {
		t.Error("License ledger: no empty state")
	}
	icons := map[string]fyne.Resource{}
	for _, s := range a.screens {
		icons[s.name] = s.icon
	}
	if icons[ScreenKeys] != keyIcon || icons[ScreenPackage] != boxIcon {
		t.Error("Keys and Package do not use the key and box icons")
	}
}

// TestInputHabits covers Enter and Escape, copy feedback, inline validation of a negative
// segment duration, error dialogs that keep a file name's case, the last-used folder, report
// file names, and drops: a non-MP4 on Inspect gives a plain message and clears the previous
// tree; a folder on Assets adds its MP4s.
func TestInputHabits(t *testing.T) {
	a := newTestApp(t)
	a.Show(ScreenPackage)
	a.pkg.segment.SetText("-3s")
	if !strings.HasPrefix(a.pkg.problem.Text, `Segment duration "-3s": negative`) || !a.pkg.problem.Visible() {
		t.Fatalf("inline problem while typing: %q", a.pkg.problem.Text)
	}
	a.typedKey(&fyne.KeyEvent{Name: fyne.KeyReturn}) // Enter runs Package: refused inline, no job
	if a.pkg.view.job != nil {
		t.Fatal("a job was created for a negative segment duration")
	}
	a.pkg.segment.SetText("4s")
	if a.pkg.problem.Visible() {
		t.Fatalf("problem still shown: %q", a.pkg.problem.Text)
	}

	cp := a.copyButton("Copy key", func() string { return "00112233" })
	test.Tap(cp)
	if cp.Text != "Copied" || a.fa.Clipboard().Content() != "00112233" {
		t.Fatalf("copy button says %q, clipboard %q", cp.Text, a.fa.Clipboard().Content())
	}

	a.showErr(errors.New("misaligned_360p.mp4: GOPs do not line up"))
	if !strings.HasPrefix(a.lastError, "misaligned_360p.mp4") {
		t.Fatalf("error dialog changed the file name: %q", a.lastError)
	}
	a.typedKey(escape())
	if len(a.dialogs) != 0 {
		t.Fatal("Escape did not close the error dialog")
	}

	dir := t.TempDir()
	a.remember(filepath.Join(dir, "a.mp4"), false)
	if l := a.lastFolder(); l == nil || l.Path() != dir {
		t.Fatalf("last folder %v, want %s", l, dir)
	}

	// Inspect: a real MP4, then a file named .mp4 that is not one.
	a.Show(ScreenInspect)
	init, _ := filepath.Abs(media + "ladder_240p.mp4")
	loaded := func() {
		for i := 0; i < 200 && strings.HasPrefix(a.inspect.detail.Text, "Reading"); i++ {
			fyne.DoAndWait(func() {})
		}
	}
	a.dropped(fyne.NewPos(10, 10), []fyne.URI{storage.NewFileURI(init)})
	waitFor(t, func() bool { return len(a.inspect.nodes) > 0 }, "inspect tree")
	junk := filepath.Join(dir, "Movie.mp4")
	os.WriteFile(junk, []byte("this is a text file, not boxes"), 0o644)
	a.dropped(fyne.NewPos(10, 10), []fyne.URI{storage.NewFileURI(junk)})
	loaded()
	waitFor(t, func() bool { return strings.HasPrefix(a.inspect.detail.Text, "Movie.mp4 is not an MP4") }, "message")
	if len(a.inspect.nodes) != 0 || strings.Contains(a.inspect.detail.Text, "give an .mp4") {
		t.Fatalf("non-MP4: %d nodes kept, %q", len(a.inspect.nodes), a.inspect.detail.Text)
	}

	// A folder dropped on Assets adds the MP4s in it.
	added := make(chan struct{}, 1)
	a.assets.onAdded = func() { added <- struct{}{} }
	a.Show(ScreenAssets)
	folder := t.TempDir()
	for _, n := range []string{"ladder_240p.mp4", "ladder_360p.mp4"} {
		b, err := os.ReadFile(media + n)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(folder, n), b, 0o644)
	}
	os.WriteFile(filepath.Join(folder, "notes.txt"), []byte("x"), 0o644)
	a.dropped(fyne.NewPos(1, 1), []fyne.URI{storage.NewFileURI(folder)})
	wait(t, added, "assets from a folder")
	if len(a.assets.entries) != 2 {
		t.Fatalf("%d assets from the folder, want 2", len(a.assets.entries))
	}
}

// waitFor polls cond (work done off the UI goroutine lands through fyne.Do).
func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	for i := 0; i < 500; i++ {
		ok := false
		fyne.DoAndWait(func() { ok = cond() })
		if ok {
			return
		}
		sleepTick()
	}
	t.Fatalf("timed out waiting for %s", what)
}

func sleepTick() { time.Sleep(20 * time.Millisecond) }
