package packaging

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/Eyevinn/mp4ff/mp4"

	"satchel/engine/manifest"
)

// packageDownload packages multilang.mp4 (video, two audio tracks, an English subtitle track)
// with a French SRT file as a single-file download only, and returns the download's path.
func packageDownload(t *testing.T, cfg Config) string {
	t.Helper()
	cfg.Inputs = []string{testMedia + "multilang.mp4"}
	cfg.OutDir = filepath.Join(t.TempDir(), "pkg")
	cfg.SegmentDuration = 2 * time.Second
	cfg.Formats = []Format{FormatMP4}
	cfg.Subtitles = []SubtitleInput{{Path: "../testdata/subtitles/multilang.fr.srt", Language: "fr"}}
	if _, err := Package(context.Background(), cfg, nil); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(cfg.OutDir, manifest.DirDownload, "240p.mp4")
}

// TestDownloadIndex checks what players index a download by: mvhd, mehd (first in mvex),
// tkhd and mdhd durations, and one sidx per track whose subsegments start on moof boxes,
// cover every fragment of every track up to the end of the file, start at the track's first
// presentation time and add up to the track's duration.
func TestDownloadIndex(t *testing.T) {
	path := packageDownload(t, Config{})
	f, err := mp4.ReadMP4File(path)
	if err != nil {
		t.Fatal(err)
	}
	moov := f.Init.Moov
	if moov.Mvhd.Timescale != 1000 || moov.Mvhd.Duration != 6000 {
		t.Errorf("mvhd: timescale %d duration %d, want 6000 ms", moov.Mvhd.Timescale, moov.Mvhd.Duration)
	}
	if moov.Mvex.Mehd == nil || moov.Mvex.Children[0] != moov.Mvex.Mehd || moov.Mvex.Mehd.FragmentDuration != 6000 {
		t.Errorf("mvex: want mehd first with fragment_duration 6000, got %+v", moov.Mvex.Mehd)
	}
	if len(moov.Traks) != 5 {
		t.Fatalf("%d tracks, want video, 2 audio, 2 subtitles", len(moov.Traks))
	}
	fragDur := map[uint32]uint64{}
	for _, seg := range f.Segments {
		for _, frag := range seg.Fragments {
			for _, traf := range frag.Moof.Trafs {
				for _, trun := range traf.Truns {
					trex, _ := moov.Mvex.GetTrex(traf.Tfhd.TrackID)
					fragDur[traf.Tfhd.TrackID] += trunDuration(trun, traf.Tfhd, trex)
				}
			}
		}
	}
	for _, trak := range moov.Traks {
		id, ts := trak.Tkhd.TrackID, trak.Mdia.Mdhd.Timescale
		if trak.Mdia.Mdhd.Duration != fragDur[id] {
			t.Errorf("track %d: mdhd duration %d, fragments hold %d", id, trak.Mdia.Mdhd.Duration, fragDur[id])
		}
		if d := trak.Tkhd.Duration; d < 5950 || d > 6050 {
			t.Errorf("track %d: tkhd duration %d ms (timescale %d)", id, d, ts)
		}
	}
	checkSidx(t, path, f, fragDur)
}

func trunDuration(trun *mp4.TrunBox, tfhd *mp4.TfhdBox, trex *mp4.TrexBox) uint64 {
	def := trex.DefaultSampleDuration
	if tfhd.HasDefaultSampleDuration() {
		def = tfhd.DefaultSampleDuration
	}
	return trun.Duration(def)
}

// checkSidx walks every sidx of the file from its anchor (its own end plus first_offset).
func checkSidx(t *testing.T, path string, f *mp4.File, fragDur map[uint32]uint64) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Sidxs) != len(f.Init.Moov.Traks) {
		t.Fatalf("%d sidx boxes for %d tracks", len(f.Sidxs), len(f.Init.Moov.Traks))
	}
	moofs := map[uint64]*mp4.MoofBox{}
	for _, seg := range f.Segments {
		for _, frag := range seg.Fragments {
			moofs[frag.Moof.StartPos] = frag.Moof
		}
	}
	anchor := f.Init.Size()
	for i, sx := range f.Sidxs {
		trak := f.Init.Moov.Traks[i]
		anchor += sx.Size()
		if sx.ReferenceID != trak.Tkhd.TrackID || sx.Timescale != trak.Mdia.Mdhd.Timescale {
			t.Errorf("sidx %d: reference %d timescale %d for track %d timescale %d", i, sx.ReferenceID, sx.Timescale,
				trak.Tkhd.TrackID, trak.Mdia.Mdhd.Timescale)
		}
		if sx.EarliestPresentationTime != 0 {
			t.Errorf("sidx of track %d: earliest presentation time %d, want 0 (edit lists applied)", sx.ReferenceID,
				sx.EarliestPresentationTime)
		}
		pos, dur := anchor+sx.FirstOffset, uint64(0)
		for j, ref := range sx.SidxRefs {
			if string(raw[pos+4:pos+8]) != "moof" {
				t.Fatalf("sidx of track %d: subsegment %d at %d is a %q, not a moof", sx.ReferenceID, j, pos, raw[pos+4:pos+8])
			}
			seen := map[uint32]bool{}
			for p := pos; p < pos+uint64(ref.ReferencedSize); p += uint64(binary.BigEndian.Uint32(raw[p:])) {
				if m := moofs[p]; m != nil {
					seen[m.Traf.Tfhd.TrackID] = true
				}
			}
			if len(seen) != len(f.Init.Moov.Traks) {
				t.Errorf("sidx of track %d: subsegment %d holds fragments of %d tracks", sx.ReferenceID, j, len(seen))
			}
			pos += uint64(ref.ReferencedSize)
			dur += uint64(ref.SubSegmentDuration)
		}
		if pos != uint64(len(raw)) {
			t.Errorf("sidx of track %d covers bytes up to %d of %d", sx.ReferenceID, pos, len(raw))
		}
		if dur != fragDur[sx.ReferenceID] {
			t.Errorf("sidx of track %d: durations add up to %d, the fragments to %d", sx.ReferenceID, dur, fragDur[sx.ReferenceID])
		}
	}
}

// TestDownloadDurationFFprobe: ffprobe reports the download's streams ending where the
// source's do (6 s), exactly as it does for Shaka Packager's output of the same source (the
// audio's priming shows as a negative start time in both).
func TestDownloadDurationFFprobe(t *testing.T) {
	if _, err := exec.LookPath("ffprobe"); err != nil {
		t.Skip("ffprobe not installed")
	}
	path := packageDownload(t, Config{})
	out, err := exec.Command("ffprobe", "-v", "error", "-of", "json", "-show_entries",
		"format=duration:stream=codec_type,start_time,duration", path).Output()
	if err != nil {
		t.Fatalf("ffprobe: %v", err)
	}
	var doc struct {
		Streams []struct {
			CodecType string `json:"codec_type"`
			StartTime string `json:"start_time"`
			Duration  string `json:"duration"`
		} `json:"streams"`
	}
	_ = json.Unmarshal(out, &doc)
	num := func(s string) float64 { v, _ := strconv.ParseFloat(s, 64); return v }
	if len(doc.Streams) != 5 {
		t.Fatalf("ffprobe sees %d streams:\n%s", len(doc.Streams), out)
	}
	for _, s := range doc.Streams {
		if end := num(s.StartTime) + num(s.Duration); math.Abs(end-6) > 0.001 {
			t.Errorf("%s stream ends at %.4f s, want 6:\n%s", s.CodecType, end, out)
		}
	}
	if v := doc.Streams[0]; v.CodecType != "video" || math.Abs(num(v.Duration)-6) > 0.001 {
		t.Errorf("video duration %s, want 6", v.Duration)
	}
}
