package packaging

import (
	"bytes"
	"context"
	"math"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Eyevinn/hls-m3u8/m3u8"
	"github.com/Eyevinn/mp4ff/mp4"

	"satchel/engine/cenc"
	"satchel/engine/drm"
	"satchel/engine/manifest"
)

// TestHLSIFramePlaylists reads the HLS master and its I-frame playlists with a published
// reader (Eyevinn/hls-m3u8, strict mode) and checks the rules of RFC 8216 and the HLS
// Authoring Specification that can be checked on files: every video variant has an
// EXT-X-I-FRAME-STREAM-INF whose playlist has EXT-X-I-FRAMES-ONLY and EXT-X-MAP; every entry
// is a byte range inside its segment file that starts at the segment's moof and ends exactly
// after the fragment's first sample, which is a sync sample; each EXTINF runs to the next
// I-frame and together they span the rendition.
func TestHLSIFramePlaylists(t *testing.T) {
	out := filepath.Join(t.TempDir(), "pkg")
	ins := []string{testMedia + "ladder_240p.mp4", testMedia + "ladder_360p.mp4"}
	if _, err := Package(context.Background(), Config{Inputs: ins, OutDir: out, SegmentDuration: 2 * time.Second,
		Schemes: []drm.Scheme{drm.SchemeCBCS}}, nil); err != nil {
		t.Fatal(err)
	}
	master := decodePlaylist(t, filepath.Join(out, manifest.FileHLSMaster)).(*m3u8.MasterPlaylist)
	var iframes, variants int
	for _, v := range master.Variants {
		if !v.Iframe {
			variants++
			continue
		}
		iframes++
		if v.Bandwidth == 0 || v.Codecs == "" || v.Resolution == "" {
			t.Errorf("I-frame stream %s lacks BANDWIDTH, CODECS or RESOLUTION: %+v", v.URI, v.VariantParams)
		}
		checkIFramePlaylist(t, out, v.URI)
	}
	if iframes != variants || iframes != 2 {
		t.Fatalf("%d I-frame streams for %d variants", iframes, variants)
	}
}

func decodePlaylist(t *testing.T, p string) m3u8.Playlist {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	pl, _, err := m3u8.DecodeFrom(bytes.NewReader(b), true)
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	return pl
}

func checkIFramePlaylist(t *testing.T, root, uri string) {
	t.Helper()
	pl := decodePlaylist(t, filepath.Join(root, uri)).(*m3u8.MediaPlaylist)
	dir := path.Dir(uri)
	media := decodePlaylist(t, filepath.Join(root, dir, manifest.FileHLSMedia)).(*m3u8.MediaPlaylist)
	if !pl.Iframe || pl.Map == nil || pl.Map.URI != manifest.FileInit || !pl.Closed {
		t.Fatalf("%s: I-frames-only %v, map %+v, endlist %v", uri, pl.Iframe, pl.Map, pl.Closed)
	}
	segs, total := pl.GetAllSegments(), 0.0
	if len(segs) != len(media.GetAllSegments()) {
		t.Errorf("%s: %d I-frames for %d segments", uri, len(segs), len(media.GetAllSegments()))
	}
	for i, s := range segs {
		raw, err := os.ReadFile(filepath.Join(root, dir, s.URI))
		if err != nil {
			t.Fatal(err)
		}
		if s.Offset < 0 || s.Limit <= 0 || s.Offset+s.Limit > int64(len(raw)) {
			t.Fatalf("%s entry %d: byte range %d@%d outside %s (%d bytes)", uri, i, s.Limit, s.Offset, s.URI, len(raw))
		}
		r := raw[s.Offset : s.Offset+s.Limit]
		if string(r[4:8]) != "moof" {
			t.Fatalf("%s entry %d: the range starts with %q, not the moof", uri, i, r[4:8])
		}
		box, err := mp4.DecodeBox(0, bytes.NewReader(raw[s.Offset:]))
		if err != nil {
			t.Fatal(err)
		}
		moof := box.(*mp4.MoofBox)
		trun := moof.Traf.Trun
		first := trun.Samples[0]
		mdatHeader := int64(8)
		if want := int64(moof.Size()) + mdatHeader + int64(first.Size); s.Limit != want || string(raw[s.Offset+int64(moof.Size())+4:][:4]) != "mdat" {
			t.Errorf("%s entry %d: range of %d bytes, want moof+mdat header+first sample = %d", uri, i, s.Limit, want)
		}
		if !mp4.IsSyncSampleFlags(first.Flags) {
			t.Errorf("%s entry %d: the first sample is not a sync sample (flags %#x)", uri, i, first.Flags)
		}
		total += s.Duration
		if i+1 < len(segs) && math.Abs(s.Duration-media.GetAllSegments()[i].Duration) > 0.001 {
			t.Errorf("%s entry %d lasts %.3f s, the segment %.3f s", uri, i, s.Duration, media.GetAllSegments()[i].Duration)
		}
	}
	var want float64
	for _, s := range media.GetAllSegments() {
		want += s.Duration
	}
	if math.Abs(total-want) > 0.01 {
		t.Errorf("%s: I-frames span %.3f s, the rendition %.3f s", uri, total, want)
	}
	if strings.Join(keyURIs(pl), " ") != strings.Join(keyURIs(media), " ") {
		t.Errorf("%s: keys differ from the media playlist's", uri)
	}
}

func keyURIs(pl *m3u8.MediaPlaylist) []string {
	var out []string
	for _, k := range pl.Keys {
		out = append(out, k.URI)
	}
	return out
}

// TestDASHTrickMode checks the DASH trick-mode AdaptationSet: it names the video set in its
// EssentialProperty, and each trick Representation's segments hold one sample, a sync sample
// lasting the whole segment, which decrypts to the source's I-frame bit for bit.
func TestDASHTrickMode(t *testing.T) {
	out := filepath.Join(t.TempDir(), "pkg")
	res, err := Package(context.Background(), Config{Inputs: []string{testMedia + "ladder_240p.mp4"}, OutDir: out,
		SegmentDuration: 2 * time.Second, Formats: []Format{FormatDASH}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	mpd, _ := os.ReadFile(filepath.Join(out, manifest.FileMPD))
	if !strings.Contains(string(mpd), `<EssentialProperty schemeIdUri="http://dashif.org/guidelines/trickmode" value="1"/>`) ||
		!strings.Contains(string(mpd), `codingDependency="false"`) {
		t.Fatalf("no trick-mode set naming AdaptationSet 1:\n%s", mpd)
	}
	f, _ := os.Open(filepath.Join(out, manifest.FileMPD))
	defer f.Close()
	info, err := manifest.ReadMPD(f)
	if err != nil {
		t.Fatal(err)
	}
	src := trackSamples(t, testMedia+"ladder_240p.mp4", 1)
	main, trick := representation(t, info, "240p"), representation(t, info, "240p_trick")
	initSeg := readInit(t, filepath.Join(out, trick.InitURL))
	di, err := mp4.DecryptInit(initSeg)
	if err != nil {
		t.Fatal(err)
	}
	done := 0
	for i, u := range trick.SegmentURLs {
		seg := readSegment(t, filepath.Join(out, u))
		if err := cenc.DecryptSegment(seg, di, res.Keys); err != nil {
			t.Fatal(err)
		}
		frag := seg.Fragments[0]
		fs, err := frag.GetFullSamples(nil)
		if err != nil || len(fs) != 1 {
			t.Fatalf("trick segment %d: %d samples (%v)", i+1, len(fs), err)
		}
		mainSeg := readSegment(t, filepath.Join(out, main.SegmentURLs[i]))
		var mainDur uint64
		for _, s := range mainSeg.Fragments[0].Moof.Traf.Trun.Samples {
			mainDur += uint64(s.Dur)
		}
		if !fs[0].IsSync() || uint64(fs[0].Dur) != mainDur || fs[0].DecodeTime != mainSeg.Fragments[0].Moof.Traf.Tfdt.BaseMediaDecodeTime() {
			t.Errorf("trick segment %d: sync %v, %d ticks from %d; the segment lasts %d", i+1, fs[0].IsSync(), fs[0].Dur,
				fs[0].DecodeTime, mainDur)
		}
		if !bytes.Equal(fs[0].Data, src[done]) {
			t.Errorf("trick segment %d does not decrypt to the source's I-frame (sample %d)", i+1, done+1)
		}
		done += len(mainSeg.Fragments[0].Moof.Traf.Trun.Samples)
	}
}

func representation(t *testing.T, info *manifest.MPDInfo, id string) manifest.RepresentationInfo {
	t.Helper()
	for _, r := range info.Representations {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("no Representation %s", id)
	return manifest.RepresentationInfo{}
}

func readInit(t *testing.T, p string) *mp4.InitSegment {
	t.Helper()
	f, err := mp4.ReadMP4File(p)
	if err != nil {
		t.Fatal(err)
	}
	return f.Init
}

func readSegment(t *testing.T, p string) *mp4.MediaSegment {
	t.Helper()
	f, err := mp4.ReadMP4File(p)
	if err != nil {
		t.Fatal(err)
	}
	return f.Segments[0]
}
