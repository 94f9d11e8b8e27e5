package ui

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"satchel/app/store"
	"satchel/engine/license"
)

// TestAssetPictures adds an aligned rendition and a misaligned one: the segment chart marks
// the misaligned cuts, segments far longer than asked are named, the track table sorts by a
// clicked column (and back), and the first frame of a selected asset is decoded.
func TestAssetPictures(t *testing.T) {
	a := newTestApp(t)
	added := make(chan struct{}, 1)
	a.assets.onAdded = func() { added <- struct{}{} }
	var paths []string
	for _, n := range []string{"ladder_240p.mp4", "misaligned_360p.mp4"} {
		p, _ := filepath.Abs(media + n)
		paths = append(paths, p)
	}
	a.assets.add(paths)
	wait(t, added, "assets")
	p := a.assets.pics
	rows := p.segments.rows
	if len(rows) != 2 {
		t.Fatalf("%d rows in the segment chart (%q)", len(rows), p.segMsg.Text)
	}
	misaligned := 0
	for _, r := range rows {
		misaligned += len(r.Misaligned)
		if len(r.GOPs) == 0 || len(r.Segments) == 0 {
			t.Errorf("%s: %d GOPs, %d segments", r.Name, len(r.GOPs), len(r.Segments))
		}
	}
	if misaligned == 0 {
		t.Error("the misaligned rendition has no marked cut")
	}
	p.segDur.SetText("100ms") // far below the GOP length: every segment is a whole GOP
	if len(p.segments.long) == 0 || !strings.HasPrefix(p.segMsg.Text, "⚠") {
		t.Errorf("long segments not named: %q", p.segMsg.Text)
	}

	tt := p.tracks
	if len(tt.rows) < 3 {
		t.Fatalf("%d track rows", len(tt.rows))
	}
	bitrate := 5
	header := tt.table.CreateHeader().(*widget.Button)
	tt.table.UpdateHeader(widget.TableCellID{Row: -1, Col: bitrate}, header)
	test.Tap(header)
	for i := 1; i < len(tt.rows); i++ {
		if tt.rows[i-1].t.Bitrate > tt.rows[i].t.Bitrate {
			t.Fatalf("not sorted by bit rate: %d before %d", tt.rows[i-1].t.Bitrate, tt.rows[i].t.Bitrate)
		}
	}
	tt.table.UpdateHeader(widget.TableCellID{Row: -1, Col: bitrate}, header)
	if header.Text != "Bit rate ▲" {
		t.Errorf("header %q", header.Text)
	}
	test.Tap(header)
	if tt.rows[0].t.Bitrate < tt.rows[len(tt.rows)-1].t.Bitrate {
		t.Error("a second click did not reverse the order")
	}

	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed: no first frame")
	}
	thumbs := make(chan string, 1)
	a.assets.onThumb = func(path string) { thumbs <- path }
	a.assets.list.Select(0)
	wait(t, thumbs, "first frame")
	if p.thumb.Resource == nil || !strings.HasPrefix(p.thumbMsg.Text, "First frame of ") {
		t.Fatalf("no first frame: %q", p.thumbMsg.Text)
	}
}

// TestLedgerOverTime draws the ledger as stacked bars per interval.
func TestLedgerOverTime(t *testing.T) {
	a := newTestApp(t)
	a.Show(ScreenLicense)
	if a.license.chart.bars != 0 {
		t.Fatal("bars for an empty ledger")
	}
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	for i, d := range []license.Decision{license.DecisionIssued, license.DecisionPlays, license.DecisionRefused,
		license.DecisionPlays} {
		e := license.Entry{Time: t0.Add(time.Duration(i) * time.Hour), System: "clearkey", Type: "license", Decision: d}
		if _, err := a.svc.WS.Append(store.BucketLedger, e); err != nil {
			t.Fatal(err)
		}
	}
	a.license.loadLedger()
	if a.license.chart.bars != 4 || len(a.license.chart.buckets) == 0 {
		t.Fatalf("%d bars in %d intervals, want 4", a.license.chart.bars, len(a.license.chart.buckets))
	}
}
