package packaging

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"satchel/engine/drm"
	"satchel/engine/manifest"
	"satchel/engine/media"
	"satchel/engine/probe"
	"satchel/engine/subtitle"
)

// trackSamples returns the clear bytes of every sample of one track of a file.
func trackSamples(t *testing.T, path string, trackID uint32) [][]byte {
	t.Helper()
	f, err := probe.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ss, err := f.Samples(trackID)
	if err != nil {
		t.Fatal(err)
	}
	buf, _, err := sampleData(f.F, ss)
	if err != nil {
		t.Fatal(err)
	}
	out := make([][]byte, len(ss))
	pos := 0
	for i, s := range ss {
		out[i] = append([]byte(nil), buf[pos:pos+int(s.Size)]...)
		pos += int(s.Size)
	}
	return out
}

// concatTrack writes init + segments of a CMAF rendition into one file (a fragmented MP4).
func concatTrack(t *testing.T, pkg string, r manifest.Rendition, dst string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(pkg, r.InitPath))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range r.Segments {
		seg, err := os.ReadFile(filepath.Join(pkg, s.Path))
		if err != nil {
			t.Fatal(err)
		}
		b = append(b, seg...)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

// startTimes returns, per stream index, the earliest packet presentation time ffprobe reads
// (edit lists applied, as players do).
func startTimes(t *testing.T, path string) map[int]float64 {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "packet=stream_index,pts_time", "-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	min := map[int]float64{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, ",")
		if len(f) < 2 || f[1] == "N/A" {
			continue
		}
		idx, _ := strconv.Atoi(f[0])
		pts, _ := strconv.ParseFloat(f[1], 64)
		if v, ok := min[idx]; !ok || pts < v {
			min[idx] = pts
		}
	}
	return min
}

const testSubtitles = "../testdata/subtitles/"

func near(a, b float64) bool { return a-b < 0.001 && b-a < 0.001 }

func rendition(t *testing.T, res *Result, id string) manifest.Rendition {
	t.Helper()
	for _, r := range res.Renditions {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("no rendition %s in %v", id, res.Renditions)
	return manifest.Rendition{}
}

// TestMultiLanguageTitle packages the multi-language title (video, AAC 5.1 English, AAC stereo
// French, mov_text English subtitles) and checks what issue 12 asks: two audio languages and
// one subtitle language in the MPD and the HLS master, as BCP 47, with the channel counts of
// the AAC configuration; the subtitles in every output and in the download; audio and video
// starting where the source's do (ffprobe); nothing left out without a message.
func TestMultiLanguageTitle(t *testing.T) {
	src := testMedia + "multilang.mp4"
	out := filepath.Join(t.TempDir(), "pkg")
	res, err := Package(context.Background(), Config{Inputs: []string{src}, OutDir: out, SegmentDuration: 2 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Renditions) != 4 || len(res.Warnings) != 0 || len(res.Notes) != 0 {
		t.Fatalf("renditions %d, warnings %v, notes %v", len(res.Renditions), res.Warnings, res.Notes)
	}
	checkMPDTracks(t, filepath.Join(out, manifest.FileMPD))
	checkMPDTracks(t, filepath.Join(out, manifest.FileMPDFor("cbcs")))
	checkHLSTracks(t, out)
	want, _, err := subtitle.ReadFile(testSubtitles + "multilang.en.srt")
	if err != nil {
		t.Fatal(err)
	}
	checkTextOutputs(t, out, rendition(t, res, "text_en"), want)
	checkDownloadText(t, filepath.Join(out, manifest.DirDownload, "240p.mp4"), want)
	checkStartOffsets(t, src, out, res)
}

func checkMPDTracks(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info, err := manifest.ReadMPD(f)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i, set := range info.AdaptationSets {
		desc := set.ContentType + ":" + set.Lang + ":" + strings.Join(set.Roles, ",")
		for _, r := range info.Representations {
			if r.ContentType == set.ContentType && r.Lang == set.Lang && set.ContentType != "video" {
				desc += ":" + r.Codecs + ":" + r.AudioChannels
			}
		}
		if i > 0 && set.Label == "" && set.ContentType != "video" {
			t.Errorf("%s: set %s has no Label", path, desc)
		}
		got = append(got, desc)
	}
	want := []string{"video::", "audio:en:main:mp4a.40.2:6", "audio:fr:alternate:mp4a.40.2:2", "text:en:subtitle:wvtt:",
		"video::"} // the last is the trick-mode set
	if !slices.Equal(got, want) {
		t.Fatalf("%s adaptation sets\n got %v\nwant %v", filepath.Base(path), got, want)
	}
}

func checkHLSTracks(t *testing.T, pkg string) {
	t.Helper()
	f, err := os.Open(filepath.Join(pkg, manifest.FileHLSMaster))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pl, err := manifest.ReadHLS(f)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range pl.Media {
		got = append(got, strings.Join([]string{m.Type, m.GroupID, m.Language, m.Name, m.Channels, strconv.FormatBool(m.Default)}, "|"))
	}
	want := []string{"AUDIO|audio|en|English|6|true", "AUDIO|audio|fr|Français|2|false", "SUBTITLES|subs|en|English||false"}
	if !slices.Equal(got, want) {
		t.Fatalf("EXT-X-MEDIA\n got %v\nwant %v", got, want)
	}
	if len(pl.Variants) != 1 || pl.Variants[0].Audio != "audio" || pl.Variants[0].Subtitles != "subs" {
		t.Fatalf("variants %+v", pl.Variants)
	}
}

// checkTextOutputs reads the subtitles back from the DASH wvtt segments and the HLS WebVTT
// segments: every source cue is there, with its times.
func checkTextOutputs(t *testing.T, pkg string, r manifest.Rendition, want []subtitle.Cue) {
	t.Helper()
	if r.Encrypted() || r.Kind != media.Text || len(r.Segments) != 3 || len(r.WebVTT) != 3 {
		t.Fatalf("text rendition %+v", r)
	}
	var fromMP4, fromVTT []subtitle.Cue
	for i, s := range r.Segments {
		mf := decodeFile(t, filepath.Join(pkg, s.Path))
		at := time.Duration(s.Start) * time.Millisecond
		for _, frag := range mf.Segments[0].Fragments {
			fs, err := frag.GetFullSamples(nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, smp := range fs {
				end := at + time.Duration(smp.Dur)*time.Millisecond
				cues, err := subtitle.WvttCues(smp.Data, at, end)
				if err != nil {
					t.Fatal(err)
				}
				fromMP4 = append(fromMP4, cues...)
				at = end
			}
		}
		b, err := os.ReadFile(filepath.Join(pkg, r.WebVTT[i].Path))
		if err != nil {
			t.Fatal(err)
		}
		cues, err := subtitle.ParseWebVTT(b)
		if err != nil {
			t.Fatalf("%s: %v", r.WebVTT[i].Path, err)
		}
		for _, c := range cues {
			if !slices.Contains(fromVTT, c) {
				fromVTT = append(fromVTT, c)
			}
		}
	}
	if got := subtitle.Merge(fromMP4); !slices.Equal(got, want) {
		t.Errorf("wvtt cues\n got %+v\nwant %+v", got, want)
	}
	if !slices.Equal(fromVTT, want) {
		t.Errorf("WebVTT cues\n got %+v\nwant %+v", fromVTT, want)
	}
}

// checkDownloadText reads the download's subtitle track with ffprobe (a peer's demuxer): a
// mov_text stream in English whose packets carry the cues at their times.
func checkDownloadText(t *testing.T, path string, want []subtitle.Cue) {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "s", "-show_entries",
		"stream=codec_name:stream_tags=language", "-of", "json", path).Output()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Streams []struct {
			Codec string            `json:"codec_name"`
			Tags  map[string]string `json:"tags"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(out, &doc); err != nil || len(doc.Streams) != 1 || doc.Streams[0].Codec != "mov_text" || doc.Streams[0].Tags["language"] != "eng" {
		t.Fatalf("download subtitle streams: %s (%v)", out, err)
	}
	pk, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "s", "-show_entries", "packet=pts_time,data", "-show_data",
		"-of", "json", path).Output()
	if err != nil {
		t.Fatal(err)
	}
	var packets struct {
		Packets []struct {
			PTS  string `json:"pts_time"`
			Data string `json:"data"`
		} `json:"packets"`
	}
	if err := json.Unmarshal(pk, &packets); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range packets.Packets {
		text, err := subtitle.Tx3gText(hexDump(p.Data))
		if err != nil {
			t.Fatal(err)
		}
		pts, _ := strconv.ParseFloat(p.PTS, 64)
		if text != "" && (len(got) == 0 || !strings.HasSuffix(got[len(got)-1], text)) {
			got = append(got, strconv.FormatFloat(pts, 'f', 3, 64)+" "+text)
		}
	}
	var exp []string
	for _, c := range want {
		exp = append(exp, strconv.FormatFloat(c.Start.Seconds(), 'f', 3, 64)+" "+c.Text)
	}
	if !slices.Equal(got, exp) {
		t.Fatalf("download cues (ffprobe)\n got %q\nwant %q", got, exp)
	}
}

// hexDump decodes ffprobe's -show_data hex dump ("00000000: 001d 4865 ...  ..He"): groups of
// hex digits, then two spaces and the ASCII column.
func hexDump(s string) []byte {
	var b []byte
	for _, line := range strings.Split(s, "\n") {
		_, rest, ok := strings.Cut(line, ": ")
		if !ok {
			continue
		}
		if i := strings.Index(rest, "  "); i >= 0 {
			rest = rest[:i]
		}
		for _, w := range strings.Fields(rest) {
			for i := 0; i+1 < len(w); i += 2 {
				v, _ := strconv.ParseUint(w[i:i+2], 16, 8)
				b = append(b, byte(v))
			}
		}
	}
	return b
}

// checkStartOffsets compares where each stream starts (ffprobe, edit lists applied) in the
// source, the download and the CMAF tracks.
func checkStartOffsets(t *testing.T, src, pkg string, res *Result) {
	t.Helper()
	source := startTimes(t, src) // 0 video, 1 English, 2 French
	if source[1] >= 0 {
		t.Fatalf("the source audio should start before 0 (AAC priming): %v", source)
	}
	dl := startTimes(t, filepath.Join(pkg, manifest.DirDownload, "240p.mp4"))
	for i := 0; i < 3; i++ {
		if !near(dl[i], source[i]) {
			t.Errorf("download stream %d starts at %.6fs, the source's at %.6fs", i, dl[i], source[i])
		}
	}
	for id, idx := range map[string]int{"240p": 0, "audio_en": 1, "audio_fr": 2} {
		for _, scheme := range []string{"cenc", "cbcs"} {
			if scheme == "cbcs" && id == "audio_fr" {
				continue // the init segments and timing do not depend on the scheme; one audio track shows it
			}
			r := rendition(t, res, id)
			r.InitPath = strings.Replace(r.InitPath, "cenc/", scheme+"/", 1)
			for i := range r.Segments {
				r.Segments[i].Path = strings.Replace(r.Segments[i].Path, "cenc/", scheme+"/", 1)
			}
			got := startTimes(t, concatTrack(t, pkg, r, filepath.Join(t.TempDir(), id+".mp4")))
			if !near(got[0], source[idx]) {
				t.Errorf("%s/%s starts at %.6fs, the source's stream %d at %.6fs", scheme, id, got[0], idx, source[idx])
			}
		}
	}
}

// TestSeparateTracks adds audio files (AAC mono commentary, AC-3 5.1, E-AC-3 5.1 as a French
// dub) and subtitle files (SRT, forced WebVTT, SDH) to the title and checks names, roles,
// channels, flags, the Dolby channel signalling and the HLS groups.
func TestSeparateTracks(t *testing.T) {
	out := filepath.Join(t.TempDir(), "pkg")
	res, err := Package(context.Background(), Config{Inputs: []string{testMedia + "multilang.mp4"}, OutDir: out,
		SegmentDuration: 2 * time.Second, Formats: []Format{FormatDASH, FormatHLS, FormatMP4}, Schemes: []drm.Scheme{drm.SchemeCBCS},
		Audio: []AudioInput{{Path: testMedia + "commentary_mono.m4a", Name: "Director's commentary", Role: media.RoleCommentary},
			{Path: testMedia + "surround_ac3.m4a"}, {Path: testMedia + "surround_eac3.m4a", Language: "fre", Role: media.RoleDub}},
		Subtitles: []SubtitleInput{{Path: testSubtitles + "multilang.fr.srt", Language: "fra"},
			{Path: testSubtitles + "multilang.es.vtt", Language: "es", Forced: true},
			{Path: testSubtitles + "multilang.en.srt", Language: "en", SDH: true}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range res.Renditions {
		if r.Kind != media.Video {
			got = append(got, strings.Join([]string{r.ID, r.Language, r.Name, string(r.Role), strconv.Itoa(r.Channels),
				strconv.FormatBool(r.Default), strconv.FormatBool(r.Forced), strconv.FormatBool(r.SDH)}, "|"))
		}
	}
	want := []string{
		"audio_en|en|English|main|6|true|false|false",
		"audio_fr|fr|Français|alternate|2|false|false|false",
		"audio_en_2|en|Director's commentary|commentary|1|false|false|false",
		"audio_de|de|Deutsch|alternate|6|false|false|false",
		"audio_fr_2|fr|Français 5.1|dub|6|false|false|false",
		"text_en|en|English|subtitle|0|false|false|false",
		"text_fr|fr|Français|subtitle|0|false|false|false",
		"text_es_forced|es|Español (forced)|forced-subtitle|0|false|true|false",
		"text_en_sdh|en|English (SDH)|caption|0|false|false|true",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("renditions\n got %q\nwant %q", got, want)
	}
	if len(res.Warnings) != 0 || len(res.Notes) != 0 {
		t.Errorf("warnings %v notes %v", res.Warnings, res.Notes)
	}
	mpd, _ := os.ReadFile(filepath.Join(out, manifest.FileMPD))
	for _, s := range []string{`value="F801"`, `<Label>Director&#39;s commentary</Label>`, `value="forced-subtitle"`,
		`urn:tva:metadata:cs:AudioPurposeCS:2007" value="2"`, `lang="de"`} {
		if !bytes.Contains(mpd, []byte(s)) {
			t.Errorf("MPD lacks %s", s)
		}
	}
	m3u8, _ := os.ReadFile(filepath.Join(out, manifest.FileHLSMaster))
	for _, s := range []string{`GROUP-ID="audio-ac-3"`, `GROUP-ID="audio-ec-3"`, `NAME="Director's commentary",LANGUAGE="en",DEFAULT=NO,AUTOSELECT=NO`,
		`LANGUAGE="es",DEFAULT=NO,AUTOSELECT=YES,FORCED=YES`, `CHARACTERISTICS="public.accessibility.transcribes-spoken-dialog`} {
		if !bytes.Contains(m3u8, []byte(s)) {
			t.Errorf("master playlist lacks %s", s)
		}
	}
	if n := bytes.Count(m3u8, []byte("#EXT-X-STREAM-INF")); n != 3 {
		t.Errorf("%d variants, want 3 (one per audio codec group)", n)
	}
	// The download carries the video, five audio tracks and four subtitle tracks (tx3g).
	mf := decodeFile(t, filepath.Join(out, manifest.DirDownload, "240p.mp4"))
	var kinds []string
	for _, trak := range mf.Init.Moov.Traks {
		kinds = append(kinds, trak.Mdia.Hdlr.HandlerType+":"+trak.Mdia.Minf.Stbl.Stsd.Children[0].Type())
	}
	if strings.Join(kinds, " ") != "vide:encv soun:enca soun:enca soun:enca soun:enca soun:enca sbtl:tx3g sbtl:tx3g sbtl:tx3g sbtl:tx3g" {
		t.Errorf("download tracks %v", kinds)
	}
}

// TestTracksThatCannotBeCarried checks that an unsupported track fails the job with an error
// naming it, or is skipped with a warning when asked; that bad subtitle files and languages
// are clear errors; and that a ladder's identical audio is packaged once, with a note.
func TestTracksThatCannotBeCarried(t *testing.T) {
	dir := t.TempDir()
	opus := filepath.Join(dir, "opus.mp4")
	if out, err := exec.Command("ffmpeg", "-v", "error", "-i", testMedia+"ladder_240p.mp4", "-f", "lavfi", "-i",
		"sine=frequency=500:sample_rate=48000:duration=6", "-map", "0:v", "-map", "0:a", "-map", "1:a", "-c:v", "copy",
		"-c:a:0", "copy", "-c:a:1", "libopus", "-strict", "-2", opus).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	_, err := Package(context.Background(), Config{Inputs: []string{opus}, OutDir: filepath.Join(dir, "a")}, nil)
	var ute *UnsupportedTrackError
	if !errors.As(err, &ute) || ute.TrackID != 3 || ute.Kind != media.Audio || !strings.Contains(err.Error(), "Opus") {
		t.Fatalf("unsupported audio: %v", err)
	}
	res, err := Package(context.Background(), Config{Inputs: []string{opus}, OutDir: filepath.Join(dir, "b"), SkipUnsupported: true,
		Formats: []Format{FormatDASH}}, nil)
	if err != nil || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "opus.mp4 track 3 (audio) skipped") || len(res.Renditions) != 2 {
		t.Fatalf("skip unsupported: %v %v %d renditions", err, res, len(res.Renditions))
	}
	noAudio := filepath.Join(dir, "noaudio.mp4")
	if out, err := exec.Command("ffmpeg", "-v", "error", "-i", testMedia+"ladder_240p.mp4", "-an", "-c", "copy", noAudio).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	bad := filepath.Join(dir, "bad.srt")
	os.WriteFile(bad, []byte("1\n00:00:01,000 -> 00:00:02,000\nx\n"), 0o644)
	for name, cfg := range map[string]Config{
		"bad srt":        {Subtitles: []SubtitleInput{{Path: bad}}},
		"missing srt":    {Subtitles: []SubtitleInput{{Path: filepath.Join(dir, "nope.srt")}}},
		"bad language":   {Audio: []AudioInput{{Path: testMedia + "commentary_mono.m4a", Language: "klingon"}}},
		"video as audio": {Audio: []AudioInput{{Path: testMedia + "multilang.mp4"}}, Inputs: []string{testMedia + "multilang.mp4"}},
		"no audio":       {Audio: []AudioInput{{Path: noAudio}}},
	} {
		t.Run(name, func(t *testing.T) {
			if len(cfg.Inputs) == 0 {
				cfg.Inputs = []string{testMedia + "multilang.mp4"}
			}
			cfg.OutDir = filepath.Join(dir, strings.ReplaceAll(name, " ", "_"))
			_, err := Package(context.Background(), cfg, nil)
			want := map[string]string{"bad srt": "bad.srt line 1", "missing srt": "nope.srt does not exist",
				"bad language": "klingon", "video as audio": "given twice", "no audio": "noaudio.mp4 has no audio track"}[name]
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("got %v, want an error containing %q", err, want)
			}
		})
	}
	// A ladder whose rungs carry the same audio: one audio rendition, and a note per copy.
	res, err = Package(context.Background(), Config{Inputs: []string{testMedia + "ladder_240p.mp4", testMedia + "ladder_360p.mp4"},
		OutDir: filepath.Join(dir, "ladder"), Formats: []Format{FormatDASH}}, nil)
	if err != nil || len(res.Renditions) != 3 || len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "identical to ladder_240p.mp4 track 2") {
		t.Fatalf("ladder audio: %v %d renditions, notes %v", err, len(res.Renditions), res.Notes)
	}
}
