package verify

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// shakaLadder packages the given video sources and the 240p audio with Shaka Packager (which
// does not check a ladder) into an MPD and an HLS master playlist.
func shakaLadder(t *testing.T, dir string, videos ...string) (mpd, master string) {
	t.Helper()
	var args []string
	for i, v := range videos {
		d := filepath.Join(dir, "v"+string(rune('0'+i)))
		args = append(args, "in="+v+",stream=video,init_segment="+d+"/init.mp4,segment_template="+d+"/$Number$.m4s")
	}
	args = append(args, "in="+videos[0]+",stream=audio,init_segment="+dir+"/a/init.mp4,segment_template="+dir+"/a/$Number$.m4s",
		"--segment_duration", "2", "--generate_static_live_mpd", "--mpd_output", dir+"/m.mpd", "--hls_master_playlist_output", dir+"/master.m3u8")
	if out, err := exec.Command(shakaPackager(t), args...).CombinedOutput(); err != nil {
		t.Fatalf("shaka: %v\n%s", err, out)
	}
	return dir + "/m.mpd", dir + "/master.m3u8"
}

func failsWith(t *testing.T, path, want string) *Report {
	t.Helper()
	rep, err := Verify(context.Background(), Input{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(findings(rep, Fail), want) {
		t.Fatalf("%s: no failure %q:\n%s", path, want, findings(rep, Fail))
	}
	return rep
}

func TestLadderDurationMismatchFails(t *testing.T) {
	dir := t.TempDir()
	mpd, master := shakaLadder(t, dir, testMedia+"ladder_240p.mp4", longSource(t))
	for _, p := range []string{mpd, master} {
		failsWith(t, p, "renditions differ in duration by 12.0")
	}
}

func TestAudioVideoOffsetFails(t *testing.T) {
	dir := t.TempDir()
	off := filepath.Join(dir, "offset.mp4")
	if out, err := exec.Command("ffmpeg", "-v", "error", "-y", "-i", testMedia+"ladder_240p.mp4", "-itsoffset", "0.5", "-i",
		testMedia+"ladder_240p.mp4", "-map", "0:v", "-map", "1:a", "-c", "copy", off).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	mpd, _ := shakaLadder(t, dir, off)
	failsWith(t, mpd, "out of sync")
	_, good := shakaLadder(t, t.TempDir(), testMedia+"ladder_240p.mp4")
	rep, err := Verify(context.Background(), Input{Path: good})
	if err != nil || rep.Failed() {
		t.Fatalf("an aligned ladder fails: %v\n%s", err, findings(rep, Fail))
	}
}

func TestTimelineGapAndTargetDuration(t *testing.T) {
	dir, res := packaged(t)
	tmp := t.TempDir()
	copyTree(t, dir, tmp)
	mpd, _ := os.ReadFile(filepath.Join(tmp, "manifest.mpd"))
	// Move the first segment whose start is written (S@t other than 0) 1000 ticks later.
	m := regexp.MustCompile(`<S t="([1-9]\d*)"`).FindSubmatchIndex(mpd)
	if m == nil {
		t.Fatalf("no SegmentTimeline to rewrite:\n%s", mpd)
	}
	start, _ := strconv.Atoi(string(mpd[m[2]:m[3]]))
	gap := string(mpd[:m[2]]) + strconv.Itoa(start+1000) + string(mpd[m[3]:])
	os.WriteFile(filepath.Join(tmp, "manifest.mpd"), []byte(gap), 0o644)
	rep, err := Verify(context.Background(), Input{Path: filepath.Join(tmp, "manifest.mpd"), Keys: res.Keys})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(findings(rep, Fail), "a gap of 0.0") {
		t.Fatalf("no gap finding:\n%s", findings(rep, Fail))
	}
	pl := filepath.Join(tmp, "cbcs", "240p", "playlist.m3u8")
	b, _ := os.ReadFile(pl)
	os.WriteFile(pl, regexp.MustCompile(`#EXT-X-TARGETDURATION:\d+`).ReplaceAll(b, []byte("#EXT-X-TARGETDURATION:1")), 0o644)
	rep, err = Verify(context.Background(), Input{Path: filepath.Join(tmp, "master.m3u8"), Keys: res.Keys})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(findings(rep, Fail), "more than EXT-X-TARGETDURATION 1 s") {
		t.Fatalf("no target-duration finding:\n%s", findings(rep, Fail))
	}
}

func TestSessionKeyForUnusedKID(t *testing.T) {
	dir, res := packaged(t)
	tmp := t.TempDir()
	copyTree(t, dir, tmp)
	master, _ := os.ReadFile(filepath.Join(tmp, "master.m3u8"))
	re := regexp.MustCompile(`(#EXT-X-SESSION-KEY:[^\n]*skd://[^/"]+/)([0-9a-f]{32})`)
	if !re.Match(master) {
		t.Fatalf("no FairPlay session key:\n%s", master)
	}
	bad := re.ReplaceAll(master, []byte("${1}00000000000000000000000000000001"))
	os.WriteFile(filepath.Join(tmp, "master.m3u8"), bad, 0o644)
	rep, err := Verify(context.Background(), Input{Path: filepath.Join(tmp, "master.m3u8"), Keys: res.Keys})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(findings(rep, Fail), "EXT-X-SESSION-KEY names KID 00000000-0000-0000-0000-000000000001") {
		t.Fatalf("unused session key not reported:\n%s", findings(rep, Fail))
	}
	if !strings.Contains(findings(rep, Warn), "no FairPlay EXT-X-SESSION-KEY for KID") {
		t.Fatalf("rendition key without a session key not reported:\n%s", findings(rep, Warn))
	}
}
