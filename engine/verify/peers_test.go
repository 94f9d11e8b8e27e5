package verify

import (
	"context"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"satchel/engine/drm"
)

// Peer files are made at test time by other people's tools: Shaka Packager (npm
// shaka-packager, installed into .tools/ by scripts/deps.sh) and ffmpeg.

const (
	peerKID = "10203040506070809000a0b0c0d0e0f0"
	peerKey = "00112233445566778899aabbccddeeff"
)

func peerKeys(t *testing.T) []drm.ContentKey {
	t.Helper()
	k, err := drm.ParseKeySpec(peerKID + ":" + peerKey)
	if err != nil {
		t.Fatal(err)
	}
	return []drm.ContentKey{k}
}

func randomKeys(t *testing.T) []drm.ContentKey {
	keys := peerKeys(t)
	if _, err := rand.Read(keys[0].Key[:]); err != nil {
		t.Fatal(err)
	}
	return keys
}

// shakaPackager returns the path of the Shaka Packager binary the npm package ships.
func shakaPackager(t *testing.T) string {
	t.Helper()
	names := map[string]string{"linux/amd64": "packager-linux-x64", "linux/arm64": "packager-linux-arm64",
		"darwin/amd64": "packager-osx-x64", "darwin/arm64": "packager-osx-arm64", "windows/amd64": "packager-win-x64.exe"}
	p := filepath.Join("..", "..", ".tools", "node_modules", "shaka-packager", "bin", names[runtime.GOOS+"/"+runtime.GOARCH])
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("Shaka Packager is required (scripts/deps.sh installs it into .tools/): %v", err)
	}
	return p
}

var (
	loopOnce sync.Once
	loopPath string
	loopErr  error
)

// longSource is ladder_240p.mp4 looped three times (18 s), long enough for Shaka Packager's
// default 5 s clear lead to leave encrypted segments behind it.
func longSource(t *testing.T) string {
	t.Helper()
	loopOnce.Do(func() {
		dir, err := os.MkdirTemp("", "satchel-peer-src-*")
		if err != nil {
			loopErr = err
			return
		}
		loopPath = filepath.Join(dir, "long_240p.mp4")
		out, err := exec.Command("ffmpeg", "-v", "error", "-y", "-stream_loop", "2", "-i", testMedia+"ladder_240p.mp4",
			"-c", "copy", "-fflags", "+bitexact", loopPath).CombinedOutput()
		if err != nil {
			loopErr = &exec.Error{Name: "ffmpeg " + string(out), Err: err}
		}
	})
	if loopErr != nil {
		t.Fatal(loopErr)
	}
	return loopPath
}

// shaka packages src with Shaka Packager into dir: video and audio as CMAF segments (or as
// single files with single=true) and a static MPD.
func shaka(t *testing.T, dir, src, scheme string, single bool, extra ...string) string {
	t.Helper()
	stream := func(kind string) string {
		if single {
			return "in=" + src + ",stream=" + kind + ",output=" + filepath.Join(dir, kind+".mp4")
		}
		d := filepath.Join(dir, kind)
		return "in=" + src + ",stream=" + kind + ",init_segment=" + d + "/init.mp4,segment_template=" + d + "/$Number$.m4s"
	}
	args := []string{stream("video"), stream("audio"), "--enable_raw_key_encryption",
		"--keys", "label=:key_id=" + peerKID + ":key=" + peerKey, "--protection_scheme", scheme,
		"--protection_systems", "Widevine,PlayReady", "--segment_duration", "2", "--generate_static_live_mpd",
		"--mpd_output", filepath.Join(dir, "manifest.mpd")}
	args = append(args, extra...)
	if out, err := exec.Command(shakaPackager(t), args...).CombinedOutput(); err != nil {
		t.Fatalf("shaka packager %s: %v\n%s", scheme, err, out)
	}
	return filepath.Join(dir, "manifest.mpd")
}

// requirePass checks a report for no failure, a decode proof per track and, when wantExact,
// a bit-exact comparison per track.
func requirePass(t *testing.T, rep *Report, tracks int, wantExact bool) {
	t.Helper()
	pass := findings(rep, Pass)
	if rep.Failed() {
		t.Fatalf("%s: %s\nfailures:\n%s", rep.Target, rep.Verdict(), findings(rep, Fail))
	}
	if n := strings.Count(pass, "no decoder errors"); n < tracks {
		t.Fatalf("%s: %d decode proofs, want %d:\n%s", rep.Target, n, tracks, pass)
	}
	if n := strings.Count(pass, "bit-exact"); wantExact && n < tracks {
		t.Fatalf("%s: %d bit-exact comparisons, want %d:\n%s", rep.Target, n, tracks, pass)
	}
}

// requireWrongKeyFails checks that a report fails with a decode failure naming the KID.
func requireWrongKeyFails(t *testing.T, rep *Report, kid string) {
	t.Helper()
	if !rep.Failed() {
		t.Fatalf("%s: a wrong key passed:\n%s", rep.Target, findings(rep, Pass))
	}
	for _, f := range rep.Findings {
		if f.Status == Fail && f.Category == CatIntegrity && strings.Contains(f.Message, kid) {
			return
		}
	}
	t.Fatalf("%s: no integrity failure naming KID %s:\n%s", rep.Target, kid, findings(rep, Fail))
}

func TestPeerShakaPackager(t *testing.T) {
	src := longSource(t)
	kid := drm.KID(peerKeys(t)[0].KID).String()
	cases := []struct {
		scheme string
		single bool
		extra  []string
		lead   bool
	}{
		{"cenc", false, nil, true}, // Shaka's default 5 s clear lead: a second, clear sample description
		{"cbcs", false, nil, true},
		{"cens", false, []string{"--clear_lead", "0"}, false},
		{"cbc1", true, []string{"--clear_lead", "0"}, false}, // single files (SegmentBase)
	}
	for _, c := range cases {
		t.Run(c.scheme, func(t *testing.T) {
			mpd := shaka(t, t.TempDir(), src, c.scheme, c.single, c.extra...)
			rep, err := Verify(context.Background(), Input{Path: mpd, Keys: peerKeys(t), SourceFiles: []string{src}})
			if err != nil {
				t.Fatal(err)
			}
			requirePass(t, rep, 2, true)
			if c.lead && !strings.Contains(findings(rep, Pass), "clear lead (sample-description)") {
				t.Errorf("clear lead not recognised:\n%s", findings(rep, Pass))
			}
			if got := rep.Inventory.Tracks[0].Scheme; got != drm.Scheme(c.scheme) {
				t.Errorf("inventory scheme %q, want %s", got, c.scheme)
			}
			rep, err = Verify(context.Background(), Input{Path: mpd, Keys: randomKeys(t)})
			if err != nil {
				t.Fatal(err)
			}
			requireWrongKeyFails(t, rep, kid)
		})
	}
}

func TestPeerShakaDynamicMPD(t *testing.T) {
	dir := t.TempDir()
	args := []string{"in=" + testMedia + "ladder_240p.mp4,stream=video,init_segment=" + dir + "/v/init.mp4,segment_template=" + dir + "/v/$Number$.m4s",
		"--enable_raw_key_encryption", "--keys", "label=:key_id=" + peerKID + ":key=" + peerKey, "--clear_lead", "0",
		"--segment_duration", "2", "--mpd_output", dir + "/live.mpd"}
	if out, err := exec.Command(shakaPackager(t), args...).CombinedOutput(); err != nil {
		t.Fatalf("shaka: %v\n%s", err, out)
	}
	rep, err := Verify(context.Background(), Input{Path: dir + "/live.mpd", Keys: peerKeys(t)})
	if err != nil {
		t.Fatalf("a dynamic MPD is refused: %v", err)
	}
	if !strings.Contains(findings(rep, Warn), "dynamic (live) MPD") || !rep.Inventory.Manifests[0].Dynamic {
		t.Fatalf("no dynamic-MPD warning:\n%s", findings(rep, Warn))
	}
	requirePass(t, rep, 1, false)
}
