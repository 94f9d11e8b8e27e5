package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Eyevinn/mp4ff/mp4"

	"satchel/engine/drm"
	"satchel/packaging"
)

var (
	piffOnce sync.Once
	piffDir  string
	piffRes  *packaging.Result
	piffErr  error
)

// piffPackaged is a one-rung package with the PIFF 1.1 boxes in its downloads (--piff).
func piffPackaged(t *testing.T) (string, *packaging.Result) {
	t.Helper()
	piffOnce.Do(func() {
		dir, err := os.MkdirTemp("", "satchel-verify-piff-*")
		if err != nil {
			piffErr = err
			return
		}
		piffDir = filepath.Join(dir, "pkg")
		piffRes, piffErr = packaging.Package(context.Background(), packaging.Config{Inputs: []string{testMedia + "ladder_240p.mp4"},
			OutDir: piffDir, SegmentDuration: 2 * time.Second, PIFF: true}, nil)
	})
	if piffErr != nil {
		t.Fatal(piffErr)
	}
	return piffDir, piffRes
}

// copyPackage copies a package folder so a test can break one file of it.
func copyPackage(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "pkg")
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// editMP4 decodes a file with mp4ff, lets fn change it and writes it back.
func editMP4(t *testing.T, p string, fn func(*mp4.File)) {
	t.Helper()
	f, err := mp4.ReadMP4File(p)
	if err != nil {
		t.Fatal(err)
	}
	fn(f)
	var b bytes.Buffer
	if err := f.Encode(&b); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func hasFinding(rep *Report, status Severity, substr string) bool {
	for _, f := range rep.Findings {
		if f.Status == status && strings.Contains(f.Message, substr) {
			return true
		}
	}
	return false
}

// TestTrickPlayAndDownloadsOfOwnOutput verifies Satchel's own package: its HLS I-frame playlists
// are followed from the master (and no longer listed as not referenced), the DASH trick-mode
// tracks are recognised and kept out of the ladder, the downloads' mehd and sidx are checked,
// and the cenc media playlists no master refers to are listed with what they are.
func TestTrickPlayAndDownloadsOfOwnOutput(t *testing.T) {
	dir, res := packaged(t)
	rep, err := Verify(context.Background(), Input{Path: dir, Keys: res.Keys})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed() {
		t.Fatalf("%s\n%s", rep.Verdict(), findings(rep, Fail))
	}
	pass := findings(rep, Pass)
	for _, want := range []string{"HLS I-frame playlist: 3 I-frames", "trick-mode track: 3 sync samples only",
		"maxPlayoutRate 48 agrees with 24 frames/s", "is the trick mode of video AdaptationSet 1",
		"indexed for download and seeking: mehd 6.000 s", "2 sidx (tracks 1, 2) cover all 6 fragments"} {
		if !strings.Contains(pass, want) {
			t.Errorf("no pass %q:\n%s", want, pass)
		}
	}
	for _, n := range rep.Inventory.NotChecked {
		if strings.HasPrefix(n.File, "cbcs/") && strings.HasSuffix(n.File, "iframes.m3u8") {
			t.Errorf("%s listed as not checked: %s", n.File, n.Reason)
		}
		if strings.HasPrefix(n.File, "cenc/") && strings.HasSuffix(n.File, ".m3u8") &&
			!strings.Contains(n.Reason, "its media (cenc/") || strings.Contains(n.Reason, "not referenced") {
			t.Errorf("%s: unclear reason %q", n.File, n.Reason)
		}
	}
	mpd := rep.Inventory.Manifests[0]
	if mpd.VideoRenditions != 2 || mpd.TrickRenditions != 2 {
		t.Errorf("manifest.mpd: %d video, %d trick renditions; want 2 and 2", mpd.VideoRenditions, mpd.TrickRenditions)
	}
	for _, m := range rep.Inventory.Manifests {
		if m.Kind == KindHLSMaster && m.IFramePlaylists != 2 {
			t.Errorf("%s: %d I-frame playlists", m.File, m.IFramePlaylists)
		}
	}
	if strings.Contains(findings(rep, Pass), "240p_trick=") {
		t.Errorf("a trick track is in the ladder:\n%s", findings(rep, Pass))
	}
	var text, html, js bytes.Buffer
	if rep.WriteText(&text) != nil || rep.WriteHTML(&html) != nil || rep.WriteJSON(&js) != nil {
		t.Fatal("rendering failed")
	}
	for name, out := range map[string]string{"text": text.String(), "html": html.String(), "json": js.String()} {
		if !strings.Contains(out, "HLS I-frame playlist") || !strings.Contains(out, "trick-mode track") {
			t.Errorf("%s report lacks the trick-play findings", name)
		}
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back.Inventory.Manifests[0].TrickRenditions != 2 {
		t.Errorf("JSON inventory: %v", err)
	}
}

// TestTrickPlayDefects breaks one thing at a time in a copy of a real package and checks the
// finding that names it.
func TestTrickPlayDefects(t *testing.T) {
	dir, res := packaged(t)
	iframes := func(p string) string { return filepath.Join(p, "cbcs", "240p", "iframes.m3u8") }
	rangeRe := regexp.MustCompile(`#EXT-X-BYTERANGE:(\d+)@(\d+)`)
	cases := []struct {
		name   string
		status Severity
		want   string
		breakf func(t *testing.T, p string)
	}{
		{"range not at a box boundary", Fail, "does not start at a box boundary", func(t *testing.T, p string) {
			edit(t, iframes(p), func(s string) string { return rangeRe.ReplaceAllString(s, "#EXT-X-BYTERANGE:${1}@30") })
		}},
		{"range past the end of the segment", Fail, "runs past the end of", func(t *testing.T, p string) {
			edit(t, iframes(p), func(s string) string { return rangeRe.ReplaceAllString(s, "#EXT-X-BYTERANGE:9999999@${2}") })
		}},
		{"range too short for the I-frame", Fail, "before the end of the I-frame", func(t *testing.T, p string) {
			edit(t, iframes(p), func(s string) string { return rangeRe.ReplaceAllString(s, "#EXT-X-BYTERANGE:3000@${2}") })
		}},
		{"first sample not a sync sample", Fail, "not a sync sample", func(t *testing.T, p string) {
			editMP4(t, filepath.Join(p, "cbcs", "240p", "seg_00002.m4s"), func(f *mp4.File) {
				trun := f.Segments[0].Fragments[0].Moof.Traf.Trun
				if fl, ok := trun.FirstSampleFlags(); ok {
					trun.SetFirstSampleFlags(mp4.SetNonSyncSampleFlags(fl))
				} else {
					trun.Samples[0].Flags = mp4.SetNonSyncSampleFlags(trun.Samples[0].Flags)
				}
			})
		}},
		{"I-frame playlist without the media's keys", Fail, "lacks the EXT-X-KEY", func(t *testing.T, p string) {
			edit(t, iframes(p), func(s string) string {
				return regexp.MustCompile(`(?m)^#EXT-X-KEY:.*skd://.*\n`).ReplaceAllString(s, "")
			})
		}},
		{"BANDWIDTH below the I-frames' peak", Warn, "below the I-frames' peak bitrate", func(t *testing.T, p string) {
			edit(t, filepath.Join(p, "master.m3u8"), func(s string) string {
				return regexp.MustCompile(`I-FRAME-STREAM-INF:BANDWIDTH=\d+`).ReplaceAllString(s, "I-FRAME-STREAM-INF:BANDWIDTH=1000")
			})
		}},
		{"RESOLUTION of another variant", Warn, "differs from its variant's", func(t *testing.T, p string) {
			edit(t, filepath.Join(p, "master.m3u8"), func(s string) string {
				return strings.Replace(s, `RESOLUTION=426x240,URI="cbcs/240p/iframes.m3u8"`, `RESOLUTION=640x360,URI="cbcs/240p/iframes.m3u8"`, 1)
			})
		}},
		{"trick mode naming a missing AdaptationSet", Fail, `names AdaptationSet "9"`, func(t *testing.T, p string) {
			edit(t, filepath.Join(p, "manifest.mpd"), func(s string) string {
				return strings.Replace(s, `guidelines/trickmode" value="1"`, `guidelines/trickmode" value="9"`, 1)
			})
		}},
		{"maxPlayoutRate inconsistent", Warn, "maxPlayoutRate is 4,", func(t *testing.T, p string) {
			edit(t, filepath.Join(p, "manifest.mpd"), func(s string) string {
				return strings.Replace(s, `maxPlayoutRate="48"`, `maxPlayoutRate="4"`, 1)
			})
		}},
		{"trick segment with non-sync samples", Fail, "are not sync samples", func(t *testing.T, p string) {
			b, _ := os.ReadFile(filepath.Join(p, "cenc", "240p", "seg_00002.m4s"))
			os.WriteFile(filepath.Join(p, "cenc", "240p_trick", "seg_00002.m4s"), b, 0o644)
		}},
		{"download with a wrong mehd", Fail, "mehd says 60.000 s", func(t *testing.T, p string) {
			editMP4(t, filepath.Join(p, "download", "240p.mp4"), func(f *mp4.File) { f.Moov.Mvex.Mehd.FragmentDuration = 60000 })
		}},
		{"download without sidx", Warn, "cannot seek in the file before", func(t *testing.T, p string) {
			editMP4(t, filepath.Join(p, "download", "240p.mp4"), func(f *mp4.File) { f.Sidx, f.Sidxs = nil, nil })
		}},
		{"sidx with a wrong referenced size", Fail, "ends at byte", func(t *testing.T, p string) {
			editMP4(t, filepath.Join(p, "download", "240p.mp4"), func(f *mp4.File) { f.Sidxs[1].SidxRefs[0].ReferencedSize -= 100 })
		}},
		{"sidx with a wrong duration", Fail, "lasts 1000 ticks", func(t *testing.T, p string) {
			editMP4(t, filepath.Join(p, "download", "240p.mp4"), func(f *mp4.File) { f.Sidxs[0].SidxRefs[1].SubSegmentDuration = 1000 })
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := copyPackage(t, dir)
			c.breakf(t, p)
			// Only the entry point the defect is in, to keep the test fast.
			target := filepath.Join(p, "master.m3u8")
			switch {
			case strings.Contains(c.name, "trick"), strings.Contains(c.name, "maxPlayoutRate"):
				target = filepath.Join(p, "manifest.mpd")
			case strings.Contains(c.name, "download"), strings.Contains(c.name, "sidx"):
				target = filepath.Join(p, "download", "240p.mp4")
			}
			rep, err := Verify(context.Background(), Input{Path: target, Keys: res.Keys})
			if err != nil {
				t.Fatal(err)
			}
			if !hasFinding(rep, c.status, c.want) {
				t.Fatalf("no %s %q:\nfail:\n%s\nwarn:\n%s", c.status, c.want, findings(rep, Fail), findings(rep, Warn))
			}
			if c.status == Fail && !rep.Failed() {
				t.Fatal("the verdict is not FAIL")
			}
		})
	}
}

// TestPIFFBesideCENC verifies Satchel's --piff downloads: "PIFF 1.1 compatible" with the right
// key, and each disagreement between the PIFF and CENC boxes fails.
func TestPIFFBesideCENC(t *testing.T) {
	dir, res := piffPackaged(t)
	dl := filepath.Join(dir, "download", "240p.mp4")
	rep, err := Verify(context.Background(), Input{Path: dl, Keys: res.Keys, SourceFiles: []string{testMedia + "ladder_240p.mp4"}})
	if err != nil {
		t.Fatal(err)
	}
	requirePass(t, rep, 2, true)
	if n := strings.Count(findings(rep, Pass), "PIFF 1.1 compatible"); n != 2 || !rep.Inventory.Downloads[0].PIFF {
		t.Fatalf("%d PIFF passes (want 2), inventory PIFF %v:\n%s", n, rep.Inventory.Downloads[0].PIFF, findings(rep, Pass))
	}
	wrong := append([]drm.ContentKey(nil), res.Keys...)
	for i := range wrong {
		wrong[i].Key[0] ^= 0xff
	}
	rep, err = Verify(context.Background(), Input{Path: dl, Keys: wrong})
	if err != nil {
		t.Fatal(err)
	}
	requireWrongKeyFails(t, rep, drm.KID(res.Keys[0].KID).String()[:8])
	cases := []struct {
		name, want string
		breakf     func(f *mp4.File)
	}{
		{"PIFF tenc KID", "PIFF track encryption box disagrees with tenc: default KID", func(f *mp4.File) {
			for _, c := range f.Moov.Traks[0].Mdia.Minf.Stbl.Stsd.Children[0].(*mp4.VisualSampleEntryBox).Sinf.Schi.Children {
				if u, ok := c.(*mp4.UUIDBox); ok && u.PiffTenc != nil {
					u.PiffTenc.KID = make([]byte, 16)
				}
			}
		}},
		{"PIFF sample encryption IV", "PIFF sample encryption box disagrees with senc: sample 1:", nil},
		{"PIFF pssh data", "PIFF pssh of system", func(f *mp4.File) {
			for _, c := range f.Moov.Children {
				if u, ok := c.(*mp4.UUIDBox); ok && len(u.UnknownPayload) > 30 {
					u.UnknownPayload[len(u.UnknownPayload)-1] ^= 1
					return
				}
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "240p.mp4")
			b, _ := os.ReadFile(dl)
			os.WriteFile(p, b, 0o644)
			if c.breakf != nil {
				editMP4(t, p, c.breakf)
			} else { // flip the first IV of the first PIFF sample encryption box
				uuid := []byte{0xa2, 0x39, 0x4f, 0x52, 0x5a, 0x9b, 0x4f, 0x14, 0xa2, 0x44, 0x6c, 0x42, 0x7c, 0x64, 0x8d, 0xf4}
				i := bytes.Index(b, uuid)
				b[i+16+8] ^= 0xff
				os.WriteFile(p, b, 0o644)
			}
			rep, err := Verify(context.Background(), Input{Path: p, Keys: res.Keys})
			if err != nil {
				t.Fatal(err)
			}
			if !hasFinding(rep, Fail, c.want) {
				t.Fatalf("no failure %q:\n%s", c.want, findings(rep, Fail))
			}
		})
	}
}

// TestPSSHKeySets: a package made with per-track PSSH warns, per system and entry point, that
// its init data does not list every key ID (the offline one-key-set reason); the default
// package lists every KID and carries a Widevine content_id, so neither warning appears.
func TestPSSHKeySets(t *testing.T) {
	out := filepath.Join(t.TempDir(), "pkg")
	res, err := packaging.Package(context.Background(), packaging.Config{Inputs: []string{testMedia + "ladder_240p.mp4"},
		OutDir: out, SegmentDuration: 2 * time.Second, PerTrackInitData: true, Formats: []packaging.Format{packaging.FormatDASH}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Verify(context.Background(), Input{Path: out, Keys: res.Keys, SignallingOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, sys := range []string{"Widevine", "PlayReady"} {
		if !hasFinding(rep, Warn, "the "+sys+" init data lists 1 of the 2 key IDs") || !hasFinding(rep, Warn, "one offline key set") {
			t.Errorf("no %s key-set warning:\n%s", sys, findings(rep, Warn))
		}
	}
	dir, res2 := packaged(t)
	rep, err = Verify(context.Background(), Input{Path: dir, Keys: res2.Keys, SignallingOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if w := findings(rep, Warn); strings.Contains(w, "key IDs of the presentation") || strings.Contains(w, "content_id") {
		t.Errorf("default package warns:\n%s", w)
	}
}

// TestPeerShakaTrickPlay verifies Shaka Packager's trick play: an HLS I-frame playlist
// (iframe_playlist_name) and a DASH trick-mode AdaptationSet (trick_play_factor=1). Right key:
// PASS with the I-frame and trick-mode checks; random key: FAIL naming the KID.
func TestPeerShakaTrickPlay(t *testing.T) {
	src, dir := longSource(t), t.TempDir()
	stream := func(extra, name string) string {
		d := filepath.Join(dir, name)
		return "in=" + src + ",stream=video,init_segment=" + d + "/init.mp4,segment_template=" + d + "/$Number$.m4s" + extra
	}
	args := []string{stream(",playlist_name=video.m3u8,iframe_playlist_name=iframe.m3u8", "video"),
		stream(",trick_play_factor=1,playlist_name=trick.m3u8", "trick"),
		"in=" + src + ",stream=audio,init_segment=" + dir + "/audio/init.mp4,segment_template=" + dir + "/audio/$Number$.m4s,playlist_name=audio.m3u8,hls_group_id=audio",
		"--enable_raw_key_encryption", "--keys", "label=:key_id=" + peerKID + ":key=" + peerKey, "--protection_scheme", "cbcs",
		"--protection_systems", "Widevine,PlayReady,FairPlay", "--segment_duration", "2", "--generate_static_live_mpd",
		"--mpd_output", filepath.Join(dir, "manifest.mpd"), "--hls_master_playlist_output", filepath.Join(dir, "master.m3u8")}
	if out, err := exec.Command(shakaPackager(t), args...).CombinedOutput(); err != nil {
		t.Fatalf("shaka packager: %v\n%s", err, out)
	}
	kid := drm.KID(peerKeys(t)[0].KID).String()
	for _, target := range []string{"master.m3u8", "manifest.mpd"} {
		t.Run(target, func(t *testing.T) {
			p := filepath.Join(dir, target)
			rep, err := Verify(context.Background(), Input{Path: p, Keys: peerKeys(t)})
			if err != nil {
				t.Fatal(err)
			}
			requirePass(t, rep, 2, false)
			want := "HLS I-frame playlist: 9 I-frames"
			if target == "manifest.mpd" {
				want = "maxPlayoutRate 48 agrees with 24 frames/s"
			}
			if !strings.Contains(findings(rep, Pass), want) {
				t.Fatalf("no pass %q:\n%s", want, findings(rep, Pass))
			}
			rep, err = Verify(context.Background(), Input{Path: p, Keys: randomKeys(t)})
			if err != nil {
				t.Fatal(err)
			}
			requireWrongKeyFails(t, rep, kid)
		})
	}
}

// FuzzCheckIFrameRange feeds byte ranges (untrusted: the playlist and the segment come from the
// package) to the I-frame range check; it must never panic.
func FuzzCheckIFrameRange(f *testing.F) {
	frag, err := mp4.CreateFragment(1, 1)
	if err != nil {
		f.Fatal(err)
	}
	frag.AddFullSample(mp4.FullSample{Sample: mp4.Sample{Flags: mp4.SyncSampleFlags, Dur: 512, Size: 4}, Data: []byte{0, 0, 0, 1}})
	frag.AddFullSample(mp4.FullSample{Sample: mp4.Sample{Flags: mp4.NonSyncSampleFlags, Dur: 512, Size: 2}, Data: []byte{9, 9},
		DecodeTime: 512})
	var b bytes.Buffer
	if err := frag.Encode(&b); err != nil {
		f.Fatal(err)
	}
	f.Add(b.Bytes())
	f.Add(b.Bytes()[:b.Len()-3])
	f.Add([]byte("\x00\x00\x00\x18stypiso6\x00\x00\x00\x00iso6cmfc\x00\x00\x00\x10moof\x00\x00\x00\x08traf"))
	f.Add([]byte("\x00\x00\x00\x01moof\xff\xff\xff\xff\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = checkIFrameRange(data, 0, nil)
		_ = checkIFrameRange(data, 1<<40, &mp4.TrexBox{TrackID: 1, DefaultSampleDescriptionIndex: 1})
	})
}

func TestCheckIFrameRange(t *testing.T) {
	frag := func(first uint32) []byte {
		f, err := mp4.CreateFragment(1, 1)
		if err != nil {
			t.Fatal(err)
		}
		f.AddFullSample(mp4.FullSample{Sample: mp4.Sample{Flags: first, Dur: 512, Size: 4}, Data: []byte{0, 0, 0, 1}})
		f.AddFullSample(mp4.FullSample{Sample: mp4.Sample{Flags: mp4.NonSyncSampleFlags, Dur: 512, Size: 2}, Data: []byte{9, 9},
			DecodeTime: 512})
		var b bytes.Buffer
		if err := f.Encode(&b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	sync := frag(mp4.SyncSampleFlags)
	styp := []byte("\x00\x00\x00\x10stypiso6\x00\x00\x00\x00")
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"moof, mdat header and the I-frame", sync[:len(sync)-2], ""},
		{"whole fragment", sync, ""},
		{"styp before the moof", append(append([]byte(nil), styp...), sync...), ""},
		{"cut inside the I-frame", sync[:len(sync)-3], "before the end of the I-frame"},
		{"first sample not sync", frag(mp4.NonSyncSampleFlags), "not a sync sample"},
		{"starts inside a box", sync[3:], "does not start at a box boundary"},
		{"starts at the mdat", sync[bytes.Index(sync, []byte("mdat"))-4:], `starts at a "mdat" box`},
		{"cut inside the moof", sync[:40], "ends inside the moof"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := checkIFrameRange(c.data, 0, nil)
			if (c.want == "" && got != "") || !strings.Contains(got, c.want) {
				t.Fatalf("checkIFrameRange: %q, want %q", got, c.want)
			}
		})
	}
}
