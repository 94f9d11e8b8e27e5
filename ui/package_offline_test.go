package ui

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"satchel/app/jobs"
	"satchel/engine/drm"
	"satchel/engine/manifest"
)

// TestPackageOfflineOptions sets the Package screen's offline options — one key for all
// tracks, a content ID, a PIFF download, every key ID in each PSSH — and checks the package:
// one ALL key saved as a key set, the content ID in the Widevine PSSH and the CPIX, the PIFF
// boxes in the download. Unticking "list every key ID" asks for per-track init data, and a
// PIFF download without the mp4 output is refused inline, naming the control.
func TestPackageOfflineOptions(t *testing.T) {
	a := newTestApp(t)
	added := make(chan struct{}, 1)
	a.assets.onAdded = func() { added <- struct{}{} }
	abs, _ := filepath.Abs(media + "ladder_240p.mp4")
	a.assets.add([]string{abs})
	wait(t, added, "assets")
	a.Show(ScreenPackage)
	if !a.pkg.allKIDs.Checked || a.pkg.oneKey.Checked || a.pkg.piff.Checked {
		t.Fatalf("defaults: all KIDs %v, one key %v, PIFF %v", a.pkg.allKIDs.Checked, a.pkg.oneKey.Checked, a.pkg.piff.Checked)
	}
	test.Tap(a.pkg.allKIDs)
	if req, err := a.pkg.request(); err != nil || !req.PerTrackInitData {
		t.Fatalf("unticked list-all-KIDs: per-track %v, %v", req.PerTrackInitData, err)
	}
	test.Tap(a.pkg.allKIDs)

	a.pkg.formats.SetSelected([]string{"dash"})
	test.Tap(a.pkg.piff)
	test.Tap(a.pkg.runBtn)
	if !strings.HasPrefix(a.pkg.problem.Text, "PIFF download") {
		t.Fatalf("PIFF without mp4: %q", a.pkg.problem.Text)
	}
	a.pkg.formats.SetSelected([]string{"dash", "mp4"})
	test.Tap(a.pkg.oneKey)
	test.Type(a.pkg.contentID, "studio-title-42")
	out := filepath.Join(t.TempDir(), "pkg")
	a.pkg.outDir.SetText(out)
	a.pkg.segment.SetText("2s")
	done := make(chan jobs.Record, 1)
	a.pkg.onFinish = func(r jobs.Record) { done <- r }
	test.Tap(a.pkg.runBtn)
	if rec := wait(t, done, "packaging"); rec.State != jobs.Done {
		t.Fatalf("package job %s: %s", rec.State, rec.Error)
	}
	doc, err := drm.ReadCPIXFile(filepath.Join(out, manifest.FileKeys))
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Keys) != 1 || doc.Keys[0].TrackType != drm.TrackAll || doc.ContentID != "studio-title-42" {
		t.Fatalf("CPIX: content ID %q, keys %+v", doc.ContentID, doc.Keys)
	}
	mpd, _ := os.ReadFile(filepath.Join(out, manifest.FileMPD))
	info, err := manifest.ReadMPD(bytes.NewReader(mpd))
	if err != nil {
		t.Fatal(err)
	}
	wv := false
	for _, p := range info.Representations[0].Protection {
		if box, err := drm.DecodePSSHBytes(p.PSSH); err == nil && p.PSSH != nil {
			if d, err := drm.DecodePSSH(box); err == nil && d.Widevine != nil {
				wv = string(d.Widevine.ContentID) == "studio-title-42"
			}
		}
	}
	if !wv {
		t.Error("the MPD's Widevine PSSH lacks content_id studio-title-42")
	}
	dl, _ := os.ReadFile(filepath.Join(out, manifest.DirDownload, "240p.mp4"))
	piffTenc := []byte{0x89, 0x74, 0xdb, 0xce, 0x7b, 0xe7, 0x4c, 0x51, 0x84, 0xf9, 0x71, 0x48, 0xf9, 0x88, 0x25, 0x54}
	if !bytes.Contains(dl, piffTenc) {
		t.Error("the download has no PIFF track encryption box")
	}
	a.Show(ScreenKeys)
	if len(a.keys.sets) != 1 {
		t.Fatalf("key sets after packaging: %d", len(a.keys.sets))
	}
}
