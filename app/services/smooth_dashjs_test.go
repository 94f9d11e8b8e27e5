package services

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"satchel/engine/drm"
	"satchel/engine/manifest"
	"satchel/packaging"
)

// dashjsDir returns the dash.js build scripts/deps.sh installs into .tools (pinned), failing in
// CI and skipping elsewhere when it is missing.
func dashjsDir(t *testing.T) string {
	t.Helper()
	dir, _ := filepath.Abs(filepath.Join("..", "..", ".tools", "node_modules", "dashjs", "dist", "modern", "umd"))
	if _, err := os.Stat(filepath.Join(dir, "dash.mss.min.js")); err != nil {
		if os.Getenv("CI") != "" || os.Getenv("SATCHEL_REQUIRE_AZURITE") != "" {
			t.Fatal("dash.js is not installed; scripts/deps.sh installs it (make test)")
		}
		t.Skip("dash.js not installed; run scripts/deps.sh")
	}
	return dir
}

// TestSmoothInDashJS has a real Smooth Streaming reader open Satchel's client manifest:
// dash.js with its MSS plugin (dash.mss.min.js) in headless Chromium parses cenc/manifest.ismc
// into the expected streams and bitrates, builds its init segments from the manifest alone
// (CodecPrivateData, the ProtectionHeader's KID), fetches the fragments by their Smooth names
// and plays: Chromium's ClearKey CDM decrypts the PIFF fragments with the key, and playback
// advances. Chromium has no PlayReady CDM, so the test gives dash.js a ClearKey
// ContentProtection for the ProtectionHeader's KID beside the PlayReady one the MSS parser
// derives (what a ClearKey-capable Smooth client would be configured with).
func TestSmoothInDashJS(t *testing.T) {
	browser := chromiumBrowser(t)
	lib := dashjsDir(t)
	key, err := drm.ParseKeySpec("ALL=2f1ecb2d-5b0e-4c4a-9a4e-0f3c1d2e3f40:00112233445566778899aabbccddeeff")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "pkg")
	res, err := packaging.Package(context.Background(), packaging.Config{
		Inputs: []string{media + "ladder_240p.mp4", media + "ladder_360p.mp4"}, Audio: []packaging.AudioInput{{Path: media + "multilang.mp4"}},
		OutDir: out, SegmentDuration: 2 * time.Second, Schemes: []drm.Scheme{drm.SchemeCENC},
		Formats: []packaging.Format{packaging.FormatDASH}, Keys: []drm.ContentKey{key}, Smooth: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var fetched []string
	mux := http.NewServeMux()
	content := http.StripPrefix("/content/", http.FileServer(http.Dir(out)))
	mux.Handle("/content/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		fetched = append(fetched, r.URL.Path)
		mu.Unlock()
		content.ServeHTTP(w, r)
	}))
	mux.Handle("/dashjs/", http.StripPrefix("/dashjs/", http.FileServer(http.Dir(lib))))
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><video id="video" muted></video>`+
			`<script src="/dashjs/dash.all.min.js"></script><script src="/dashjs/dash.mss.min.js"></script>`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	page := openPage(t, browser, srv.URL+"/")
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		// The page is attached before it has loaded: wait for both scripts.
		if v, err := page.text(`String(!!(window.dashjs && dashjs.MssHandler))`); err == nil && v == "true" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("dash.js and its MSS plugin did not load")
		}
	}
	got, err := page.evalAsync(dashjsSmooth("/content/"+manifest.FileSmooth, key))
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Protocol string   `json:"protocol"`
		Sets     []string `json:"sets"`
		Video    []string `json:"video"`
		Audio    []string `json:"audio"`
		Errors   []string `json:"errors"`
		Time     float64  `json:"time"`
		KeySys   string   `json:"keySystem"`
		Keys     bool     `json:"mediaKeys"`
	}
	if err := json.Unmarshal([]byte(got), &r); err != nil {
		t.Fatalf("%v: %s", err, got)
	}
	t.Logf("dash.js: %s", got)
	var wantVideo, wantSets []string
	for _, rd := range res.Renditions {
		switch rd.Kind {
		case "video":
			wantVideo = append(wantVideo, fmt.Sprintf("%d %dx%d %s", rd.Smooth.Bitrate, rd.Width, rd.Height, rd.Codecs))
		case "audio":
			wantSets = append(wantSets, fmt.Sprintf("audio %s %d", rd.Smooth.Stream, rd.Smooth.Bitrate))
		}
	}
	wantSets = append([]string{"video video " + fmt.Sprint(len(wantVideo))}, wantSets...)
	// dash.js derives the codecs string from the CodecPrivateData hex (upper case).
	if r.Protocol != "MSS" || !strings.EqualFold(strings.Join(r.Video, ";"), strings.Join(wantVideo, ";")) ||
		strings.Join(r.Sets, ";") != strings.Join(wantSets, ";") {
		t.Fatalf("dash.js read protocol %q, sets %q (want %q), video %q (want %q)", r.Protocol, r.Sets, wantSets, r.Video,
			wantVideo)
	}
	if len(r.Errors) > 0 || r.Time < 1 || r.KeySys != "org.w3.clearkey" || !r.Keys {
		t.Fatalf("playback: t=%.2f, key system %q (media keys %v), errors %q", r.Time, r.KeySys, r.Keys, r.Errors)
	}
	mu.Lock()
	defer mu.Unlock()
	var video, audio bool
	for _, p := range fetched {
		video = video || strings.Contains(p, "/Fragments(video=")
		audio = audio || strings.Contains(p, "/Fragments(audio")
		if strings.HasSuffix(p, "/init.mp4") {
			t.Errorf("dash.js fetched %s: a Smooth client builds its init from the manifest", p)
		}
	}
	if !video || !audio {
		t.Fatalf("no Smooth fragment requests: %q", fetched)
	}
}

// dashjsSmooth is a script that opens a Smooth manifest in dash.js with the MSS plugin, lists
// the streams it parsed, and plays with a ClearKey key for the ProtectionHeader's KID.
func dashjsSmooth(url string, key drm.ContentKey) string {
	kid := base64.RawURLEncoding.EncodeToString(key.KID[:])
	k := base64.RawURLEncoding.EncodeToString(key.Key[:])
	return fmt.Sprintf(`(async () => {
  const video = document.getElementById('video');
  const player = dashjs.MediaPlayer().create();
  const E = dashjs.MediaPlayer.events, errors = [];
  player.updateSettings({ debug: { logLevel: dashjs.Debug.LOG_LEVEL_WARNING } });
  player.on(E.ERROR, (e) => errors.push(String(e.error && (e.error.code + ' ' + e.error.message))));
  let manifest = null, keySystem = '';
  player.on('public_keySystemSelected', (e) => { keySystem = e.data && e.data.keySystem ? e.data.keySystem.systemString : '?'; });
  player.on(E.MANIFEST_LOADED, (e) => {
    manifest = e.data;
    for (const as of manifest.Period[0].AdaptationSet) {
      (as.ContentProtection = as.ContentProtection || []).push({ schemeIdUri: 'urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e',
        value: 'ClearKey1.0', 'cenc:default_KID': %[3]q });
    }
  });
  const ready = new Promise((ok) => player.on(E.STREAM_INITIALIZED, ok));
  player.setProtectionData({ 'org.w3.clearkey': { clearkeys: { %[1]q: %[2]q } } });
  player.initialize(video, %[4]q, true);
  await Promise.race([ready, new Promise((ok) => setTimeout(ok, 20000))]);
  if (!manifest) return JSON.stringify({ errors: errors.concat(['no manifest']) });
  const sets = manifest.Period[0].AdaptationSet.map((as) => as.contentType + ' ' + as.id + ' ' +
    (as.contentType === 'video' ? as.Representation.length : as.Representation[0].bandwidth));
  const videoReps = player.getRepresentationsByType('video').map((r) => r.bandwidth + ' ' + r.width + 'x' + r.height + ' ' + r.codecs);
  for (let i = 0; i < 200 && video.currentTime < 1.5 && errors.length === 0; i++) await new Promise((ok) => setTimeout(ok, 100));
  return JSON.stringify({ protocol: manifest.protocol, sets, video: videoReps, errors, time: video.currentTime,
    keySystem, mediaKeys: !!video.mediaKeys });
})()`, kid, k, key.KID.String(), url)
}
