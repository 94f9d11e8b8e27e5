package verify

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"satchel/engine/drm"
	"satchel/engine/policy"
	"satchel/packaging"
)

const testMedia = "../../testdata/media/"

var (
	pkgOnce sync.Once
	pkgDir  string
	pkgRes  *packaging.Result
	pkgErr  error
)

// packaged returns a shared package of two rungs (both schemes, all formats).
func packaged(t testing.TB) (string, *packaging.Result) {
	t.Helper()
	pkgOnce.Do(func() {
		dir, err := os.MkdirTemp("", "satchel-verify-*")
		if err != nil {
			pkgErr = err
			return
		}
		pkgDir = filepath.Join(dir, "pkg")
		pkgRes, pkgErr = packaging.Package(context.Background(), packaging.Config{
			Inputs: []string{testMedia + "ladder_240p.mp4", testMedia + "ladder_360p.mp4"}, OutDir: pkgDir, SegmentDuration: 2 * time.Second,
			ClearKeyLAURL: "http://127.0.0.1:8787/clearkey"}, nil)
	})
	if pkgErr != nil {
		t.Fatal(pkgErr)
	}
	return pkgDir, pkgRes
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range []string{pkgDir, subDir, piffDir} {
		if d != "" {
			os.RemoveAll(filepath.Dir(d))
		}
	}
	os.Exit(code)
}

func findings(r *Report, status Severity) string {
	var b strings.Builder
	for _, f := range r.Findings {
		if f.Status == status {
			b.WriteString(f.Category + " " + f.Subject + ": " + f.Message + "\n")
		}
	}
	return b.String()
}

func TestOwnOutputPasses(t *testing.T) {
	dir, res := packaged(t)
	for _, target := range []string{dir, filepath.Join(dir, "manifest_cbcs.mpd"), filepath.Join(dir, "master.m3u8"), filepath.Join(dir, "download", "360p.mp4"), filepath.Join(dir, "cenc", "240p")} {
		rep, err := Verify(context.Background(), Input{Path: target, Keys: res.Keys, Policy: policy.Preset(policy.PresetRental48h),
			SourceFiles: []string{testMedia + "ladder_240p.mp4", testMedia + "ladder_360p.mp4"}})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Failed() || rep.Samples == 0 {
			t.Fatalf("%s: %s\nfailures:\n%s", target, rep.Verdict(), findings(rep, Fail))
		}
		if !strings.Contains(findings(rep, Pass), "bit-exact") {
			t.Errorf("%s: no bit-exact comparison:\n%s", target, findings(rep, Pass))
		}
		if strings.HasSuffix(target, ".mpd") || target == dir {
			if len(rep.LicenseExchanges) < 3 {
				t.Errorf("%s: %d license exchanges, want ClearKey, Widevine, PlayReady", target, len(rep.LicenseExchanges))
			}
		}
		if strings.HasSuffix(target, ".m3u8") && !strings.Contains(findings(rep, Pass), "FairPlay license") {
			t.Errorf("HLS: no FairPlay license round trip:\n%s", findings(rep, Pass))
		}
	}
	var html, js bytes.Buffer
	rep, _ := Verify(context.Background(), Input{Path: dir, Keys: res.Keys})
	if rep.WriteHTML(&html) != nil || rep.WriteJSON(&js) != nil || !strings.Contains(html.String(), "<table>") {
		t.Fatal("report rendering failed")
	}
}

func TestFlippedByteFailsIntegrity(t *testing.T) {
	dir, res := packaged(t)
	src := filepath.Join(dir, "download", "240p.mp4")
	b, _ := os.ReadFile(src)
	// Flip a byte well inside the last mdat's payload.
	i := bytes.LastIndex(b, []byte("mdat"))
	b[i+200] ^= 0x01
	bad := filepath.Join(t.TempDir(), "240p.mp4")
	os.WriteFile(bad, b, 0o644)
	rep, err := Verify(context.Background(), Input{Path: bad, Keys: res.Keys, SourceFiles: []string{testMedia + "ladder_240p.mp4"}})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Failed() || !strings.Contains(findings(rep, Fail), "differs from the source") && !strings.Contains(findings(rep, Fail), "does not parse") {
		t.Fatalf("flipped byte not detected:\n%s", findings(rep, Fail))
	}
}

func TestWrongKeyNamesKID(t *testing.T) {
	dir, res := packaged(t)
	wrong := append([]drm.ContentKey(nil), res.Keys...)
	for i := range wrong {
		wrong[i].Key[3] ^= 0x5a
	}
	rep, err := Verify(context.Background(), Input{Path: filepath.Join(dir, "cenc", "360p"), Keys: wrong})
	if err != nil {
		t.Fatal(err)
	}
	sd, _ := drm.KeyFor(res.Keys, "SD")
	if !rep.Failed() || !strings.Contains(findings(rep, Fail), sd.KID.String()) {
		t.Fatalf("wrong key: failures do not name %s:\n%s", sd.KID, findings(rep, Fail))
	}
	// Missing key.
	rep, _ = Verify(context.Background(), Input{Path: filepath.Join(dir, "download", "360p.mp4"), Keys: res.Keys[:1], LicenseURL: ""})
	if !rep.Failed() {
		t.Fatalf("missing key not reported:\n%s", findings(rep, Warn))
	}
}

func TestFFmpegEncryptedFile(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Fatal("ffmpeg is required (make test installs it)")
	}
	out := filepath.Join(t.TempDir(), "ff.mp4")
	cmd := exec.Command("ffmpeg", "-v", "error", "-y", "-i", testMedia+"ladder_240p.mp4", "-c", "copy", "-encryption_scheme", "cenc-aes-ctr",
		"-encryption_key", "00112233445566778899aabbccddeeff", "-encryption_kid", "10203040506070809000a0b0c0d0e0f0", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, b)
	}
	k, _ := drm.ParseKeySpec("10203040506070809000a0b0c0d0e0f0:00112233445566778899aabbccddeeff")
	rep, err := Verify(context.Background(), Input{Path: out, Keys: []drm.ContentKey{k}, SourceFiles: []string{testMedia + "ladder_240p.mp4"}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed() || !strings.Contains(findings(rep, Pass), "bit-exact") {
		t.Fatalf("ffmpeg file: %s\n%s\n%s", rep.Verdict(), findings(rep, Fail), findings(rep, Pass))
	}
	k.Key[0] ^= 1
	rep, _ = Verify(context.Background(), Input{Path: out, Keys: []drm.ContentKey{k}})
	if !rep.Failed() || !strings.Contains(findings(rep, Fail), "10203040-5060-7080-9000-a0b0c0d0e0f0") {
		t.Fatalf("ffmpeg file with a wrong key:\n%s", findings(rep, Fail))
	}
}

func TestPSSHMismatchAndPolicyWarning(t *testing.T) {
	dir, res := packaged(t)
	// Rewrite the MPD's default_KID of the audio set to another KID.
	mpd, _ := os.ReadFile(filepath.Join(dir, "manifest.mpd"))
	au, _ := drm.KeyFor(res.Keys, "AUDIO")
	other, _ := drm.RandomKID()
	bad := strings.Replace(string(mpd), au.KID.String(), other.String(), 1)
	tmp := t.TempDir()
	copyTree(t, dir, tmp)
	os.WriteFile(filepath.Join(tmp, "manifest.mpd"), []byte(bad), 0o644)
	rep, err := Verify(context.Background(), Input{Path: filepath.Join(tmp, "manifest.mpd"), Keys: res.Keys, Policy: policy.Preset(policy.PresetStreaming)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(findings(rep, Fail), other.String()) {
		t.Fatalf("KID mismatch not reported:\n%s", findings(rep, Fail))
	}
	if !strings.Contains(findings(rep, Warn), "offline") {
		t.Fatalf("non-persistent policy: no offline warning:\n%s", findings(rep, Warn))
	}
}

func TestURLInput(t *testing.T) {
	dir, res := packaged(t)
	fs := http.FileServer(http.Dir(dir))
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, ".mpd") {
			w.Header().Set("Content-Type", "application/dash+xml")
		}
		w.Header().Set("Access-Control-Allow-Origin", "*")
		fs.ServeHTTP(w, r)
	}))
	defer ts.Close()
	rep, err := Verify(context.Background(), Input{Path: ts.URL + "/manifest.mpd", Keys: res.Keys})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed() {
		t.Fatalf("URL input failed:\n%s", findings(rep, Fail))
	}
	pass := findings(rep, Pass)
	if !strings.Contains(pass, "CORS") || !strings.Contains(pass, "range requests") || !strings.Contains(pass, "application/dash+xml") {
		t.Fatalf("publish checks missing:\n%s", pass)
	}
	if _, err := Verify(context.Background(), Input{Path: ts.URL + "/nope.mpd"}); err == nil {
		t.Fatal("missing URL did not error")
	}
}

func copyTree(t *testing.T, src, dst string) {
	filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		rel, _ := filepath.Rel(src, p)
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, _ := os.ReadFile(p)
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
}

func FuzzCheckNALUs(f *testing.F) {
	f.Add([]byte{0, 0, 0, 2, 0x65, 0x88})
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = checkNALUs(b, 4, true)
		_ = checkNALUs(b, 4, false)
	})
}

func TestResolveKeepsSASToken(t *testing.T) {
	f := &fetcher{root: "/tmp/p"}
	base := "https://acct.blob.core.windows.net/c/show/manifest.mpd?sv=2024&sig=abc"
	if got, _ := f.resolve(base, "cenc/240p/init.mp4"); got != "https://acct.blob.core.windows.net/c/show/cenc/240p/init.mp4?sv=2024&sig=abc" {
		t.Fatalf("resolve = %s", got)
	}
	if got, _ := f.resolve(base, "https://cdn.example.com/x.mp4"); got != "https://cdn.example.com/x.mp4" {
		t.Fatalf("absolute ref changed: %s", got)
	}
	if got, _ := f.resolve("/tmp/p/manifest.mpd", "cenc/a/init.mp4"); got != "/tmp/p/cenc/a/init.mp4" {
		t.Fatalf("local resolve = %s", got)
	}
}

func TestClearLeadVerifies(t *testing.T) {
	out := filepath.Join(t.TempDir(), "pkg")
	res, err := packaging.Package(context.Background(), packaging.Config{Inputs: []string{testMedia + "ladder_240p.mp4"}, OutDir: out,
		SegmentDuration: 2 * time.Second, ClearLead: 2 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{out, filepath.Join(out, "download", "240p.mp4")} {
		rep, err := Verify(context.Background(), Input{Path: target, Keys: res.Keys, SourceFiles: []string{testMedia + "ladder_240p.mp4"}})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Failed() || !strings.Contains(findings(rep, Pass), "clear lead") {
			t.Fatalf("%s: %s\n%s", target, findings(rep, Fail), findings(rep, Pass))
		}
	}
}
