package verify

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"satchel/engine/policy"
	"satchel/packaging"
)

const testSubtitles = "../../testdata/subtitles/"

var (
	subOnce sync.Once
	subDir  string
	subRes  *packaging.Result
	subErr  error
)

// subtitled returns a shared package of testdata/media/multilang.mp4 (two audio languages)
// with the three test subtitle files: WebVTT segments for HLS, wvtt for DASH, tx3g in the
// download.
func subtitled(t testing.TB) (string, *packaging.Result) {
	t.Helper()
	subOnce.Do(func() {
		dir, err := os.MkdirTemp("", "satchel-verify-subs-*")
		if err != nil {
			subErr = err
			return
		}
		subDir = filepath.Join(dir, "pkg")
		subRes, subErr = packaging.Package(context.Background(), packaging.Config{
			Inputs: []string{testMedia + "multilang.mp4"}, OutDir: subDir, SegmentDuration: 2 * time.Second,
			Subtitles: []packaging.SubtitleInput{
				{Path: testSubtitles + "multilang.en.srt", Language: "en"},
				{Path: testSubtitles + "multilang.fr.srt", Language: "fr"},
				{Path: testSubtitles + "multilang.es.vtt", Language: "es"},
			}}, nil)
	})
	if subErr != nil {
		t.Fatal(subErr)
	}
	return subDir, subRes
}

// TestSubtitledPackagePasses: a package with subtitles verifies PASS; every subtitle rendition
// (HLS WebVTT, DASH wvtt in both MPDs, tx3g in the download) is checked and its cues counted,
// and no text file is left "not checked".
func TestSubtitledPackagePasses(t *testing.T) {
	dir, res := subtitled(t)
	rep, err := Verify(context.Background(), Input{Path: dir, Keys: res.Keys, Policy: policy.Preset(policy.PresetRental48h)})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed() {
		t.Fatalf("%s\nfailures:\n%s", rep.Verdict(), findings(rep, Fail))
	}
	for _, nc := range rep.Inventory.NotChecked {
		if strings.HasPrefix(nc.File, "text/") {
			t.Errorf("not checked: %s: %s", nc.File, nc.Reason)
		}
	}
	formats := map[string]int{}
	for _, s := range rep.Inventory.Subtitles {
		formats[s.Format]++
		if s.Cues == 0 || s.Encrypted || s.Language == "" {
			t.Errorf("subtitle fact %+v", s)
		}
	}
	// 3 WebVTT playlists, 3 wvtt tracks in each of the two MPDs, 3 tx3g tracks in the download.
	if formats["webvtt"] != 3 || formats["wvtt"] != 6 || formats["tx3g"] != 3 {
		t.Fatalf("subtitle renditions by format: %v", formats)
	}
	pass := findings(rep, Pass)
	for _, want := range []string{"WebVTT segments parse: 3 cues", "wvtt samples parse", "tx3g samples parse",
		"the same subtitles in both"} {
		if !strings.Contains(pass, want) {
			t.Errorf("no %q finding:\n%s", want, pass)
		}
	}
}

func edit(t *testing.T, path string, fn func(string) string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := fn(string(b))
	if out == string(b) {
		t.Fatalf("edit of %s changed nothing", path)
	}
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestSubtitleChecksFire breaks one thing per case and expects the finding that names it.
func TestSubtitleChecksFire(t *testing.T) {
	src, res := subtitled(t)
	cases := []struct {
		name   string
		target string // "" = the folder
		breakf func(t *testing.T, dir string)
		status Severity
		want   string
	}{
		{"timestamp map off", "master.m3u8", func(t *testing.T, dir string) {
			edit(t, filepath.Join(dir, "text/text_en/seg_00001.vtt"), func(s string) string {
				return strings.Replace(s, "MPEGTS:0,", "MPEGTS:900000,", 1)
			})
		}, Fail, "maps cue time 0 to media time 10.000 s"},
		{"malformed timestamp map", "master.m3u8", func(t *testing.T, dir string) {
			edit(t, filepath.Join(dir, "text/text_fr/seg_00001.vtt"), func(s string) string {
				return strings.Replace(s, "LOCAL:00:00:00.000", "LOCAL:zero", 1)
			})
		}, Fail, "malformed X-TIMESTAMP-MAP"},
		{"cue outside its segment", "master.m3u8", func(t *testing.T, dir string) {
			edit(t, filepath.Join(dir, "text/text_en/seg_00002.vtt"), func(s string) string {
				return s + "\n00:00:30.000 --> 00:00:31.000\nlate\n"
			})
		}, Fail, "lies outside its segment"},
		{"segment does not parse", "master.m3u8", func(t *testing.T, dir string) {
			edit(t, filepath.Join(dir, "text/text_es/seg_00002.vtt"), func(s string) string {
				return strings.Replace(s, " --> ", " -> ", 1)
			})
		}, Fail, "WebVTT segment does not parse"},
		{"encrypted subtitle playlist", "master.m3u8", func(t *testing.T, dir string) {
			edit(t, filepath.Join(dir, "text/text_en/playlist.m3u8"), func(s string) string {
				return strings.Replace(s, "#EXTINF", "#EXT-X-KEY:METHOD=AES-128,URI=\"key.bin\"\n#EXTINF", 1)
			})
		}, Fail, "the subtitle playlist is encrypted"},
		{"segment longer than the target", "master.m3u8", func(t *testing.T, dir string) {
			edit(t, filepath.Join(dir, "text/text_en/playlist.m3u8"), func(s string) string {
				return regexp.MustCompile(`#EXTINF:[0-9.]+,`).ReplaceAllString(s, "#EXTINF:9.000,")
			})
		}, Fail, "more than EXT-X-TARGETDURATION"},
		{"names differ", "", func(t *testing.T, dir string) {
			edit(t, filepath.Join(dir, "master.m3u8"), func(s string) string {
				return strings.Replace(s, `NAME="Français",LANGUAGE="fr",DEFAULT=NO,AUTOSELECT=YES,URI="text`,
					`NAME="French",LANGUAGE="fr",DEFAULT=NO,AUTOSELECT=YES,URI="text`, 1)
			})
		}, Warn, `the fr subtitles are named "French" in master.m3u8 but "Français" in manifest.mpd`},
		{"language missing from HLS", "", func(t *testing.T, dir string) {
			edit(t, filepath.Join(dir, "master.m3u8"), func(s string) string {
				i := strings.Index(s, "#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"Español\"")
				j := strings.Index(s[i:], "\n")
				return s[:i] + s[i+j+1:]
			})
		}, Warn, "are in manifest.mpd but not in master.m3u8"},
		{"lang differs from the track", "manifest.mpd", func(t *testing.T, dir string) {
			edit(t, filepath.Join(dir, "manifest.mpd"), func(s string) string {
				return strings.Replace(s, `contentType="text" mimeType="application/mp4" segmentAlignment="true" lang="fr"`,
					`contentType="text" mimeType="application/mp4" segmentAlignment="true" lang="de"`, 1)
			})
		}, Fail, `the MPD says lang="de" but the wvtt track's mdhd says "fra"`},
		{"encrypted text track", "manifest.mpd", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "text/text_en/init.mp4")
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, bytes.Replace(b, []byte("wvtt"), []byte("enct"), 1), 0o644); err != nil {
				t.Fatal(err)
			}
		}, Fail, "the subtitle track (enct) is encrypted"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "pkg")
			copyTree(t, src, dir)
			c.breakf(t, dir)
			rep, err := Verify(context.Background(), Input{Path: filepath.Join(dir, c.target), Keys: res.Keys})
			if err != nil {
				t.Fatal(err)
			}
			if got := findings(rep, c.status); !strings.Contains(got, c.want) {
				t.Fatalf("no %s finding %q; got:\n%s\nfailures:\n%s", c.status, c.want, got, findings(rep, Fail))
			}
		})
	}
}

func TestParseTimestampMap(t *testing.T) {
	cases := []struct {
		in     string
		has    bool
		offset float64
		err    bool
	}{
		{"WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:900000,LOCAL:00:00:00.000\n\n", true, 10, false},
		{"WEBVTT\nX-TIMESTAMP-MAP=LOCAL:00:00:01.000,MPEGTS:180000\n", true, 1, false},
		{"WEBVTT\n\nX-TIMESTAMP-MAP=MPEGTS:900000,LOCAL:00:00:00.000\n", false, 0, false}, // in the body: ignored
		{"WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:abc,LOCAL:00:00:00.000\n", true, 0, true},
		{"WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0\n", true, 0, true},
		{"WEBVTT", false, 0, false},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			tm, has, err := parseTimestampMap([]byte(c.in))
			if has != c.has || (err != nil) != c.err || (err == nil && tm.offset() != c.offset) {
				t.Fatalf("has %v err %v offset %v", has, err, tm.offset())
			}
		})
	}
}

func FuzzParseTimestampMap(f *testing.F) {
	f.Add([]byte("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:900000,LOCAL:00:00:00.000\n\n00:01.000 --> 00:02.000\nhi\n"))
	f.Add([]byte("WEBVTT\r\nX-TIMESTAMP-MAP=LOCAL:10:00:00.000,MPEGTS:1\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		tm, has, err := parseTimestampMap(b)
		if !has && (err != nil || tm != (timestampMap{})) {
			t.Fatalf("no map but %v %+v", err, tm)
		}
	})
}
