package services

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"satchel/packaging"
)

// TestTrickPlayInChromium has Shaka Player (headless Chromium, EME ClearKey) find a
// trick-play track for every video rendition — in the DASH trick-mode AdaptationSet and in the
// HLS I-frame playlists (Shaka marks both "I-frames only") — and fast-forward at 4x on them:
// Shaka fetches the DASH trick track's segments, and for HLS byte ranges of the segments (the
// I-frames), and plays on without an error.
func TestTrickPlayInChromium(t *testing.T) {
	browser := chromiumBrowser(t)
	s := open(t)
	out := filepath.Join(t.TempDir(), "pkg")
	ins := []string{media + "ladder_240p.mp4", media + "ladder_360p.mp4"}
	res, err := packaging.Package(context.Background(), packaging.Config{Inputs: ins, OutDir: out,
		SegmentDuration: 2 * time.Second, Formats: []packaging.Format{packaging.FormatDASH, packaging.FormatHLS}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	url, err := s.StartLicenseServer(context.Background(), LicenseOptions{Addr: "127.0.0.1:0", ContentDir: out})
	if err != nil {
		t.Fatal(err)
	}
	defer s.StopLicenseServer()
	t.Run("dash", func(t *testing.T) {
		// The demo player's package mode: licenses from the embedded ClearKey server.
		page := openPage(t, browser, url+"/player/?mode=package&autoplay=1&trick=4&buffer=2")
		page.waitLog(t, 60*time.Second, "trick play at 4x", "video 426x240: trick-play track 426x240 (I-frames only)",
			"video 640x360: trick-play track 640x360 (I-frames only)")
		log := waitFor(t, page, regexp.MustCompile(`segments from cenc/\d+p_trick`))
		if strings.Contains(log, "Shaka error") || strings.Contains(log, "video error") {
			t.Fatalf("trick play failed:\n%s", log)
		}
	})
	t.Run("hls", func(t *testing.T) {
		// Shaka's HLS parser knows no ClearKey KEYFORMAT, so the keys are given to Shaka
		// (drm.clearKeys) as an app that fetched them would.
		page := openPage(t, browser, url+"/player/")
		page.waitLog(t, 30*time.Second, "found 0 download(s)")
		keys := map[string]string{}
		for _, k := range res.Keys {
			keys[k.KID.Hex()] = k.KeyHex()
		}
		got, err := page.evalAsync(hlsTrickPlay(keys))
		if err != nil {
			t.Fatal(err)
		}
		var r struct {
			Tricks []string `json:"tricks"`
			Ranges []string `json:"ranges"`
			Error  string   `json:"error"`
			Time   float64  `json:"time"`
		}
		if err := json.Unmarshal([]byte(got), &r); err != nil {
			t.Fatalf("%v: %s", err, got)
		}
		want := []string{"426x240 → 426x240 I-frames", "640x360 → 640x360 I-frames"}
		if r.Error != "" || strings.Join(r.Tricks, ";") != strings.Join(want, ";") {
			t.Fatalf("HLS trick tracks %q (want %q), error %q", r.Tricks, want, r.Error)
		}
		ranged := regexp.MustCompile(`/content/cbcs/\d+p/seg_\d+\.m4s bytes=24-\d+$`)
		if len(r.Ranges) == 0 || !ranged.MatchString(r.Ranges[0]) {
			t.Fatalf("no I-frame byte ranges fetched during trick play: %q", r.Ranges)
		}
		if r.Time < 1 {
			t.Errorf("playback did not advance in trick play (t=%.2f)", r.Time)
		}
	})
}

// waitFor polls the player log for up to 30 s until it matches re, and returns it.
func waitFor(t *testing.T, page *chromiumPage, re *regexp.Regexp) string {
	t.Helper()
	var log string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		var err error
		if log, err = page.text(`document.getElementById('log').textContent`); err != nil {
			t.Fatal(err)
		}
		if re.MatchString(log) {
			return log
		}
	}
	t.Fatalf("the player log never matched %s:\n%s", re, log)
	return ""
}

// hlsTrickPlay is a script that loads the HLS multivariant playlist into a Shaka Player with
// the given ClearKey keys, lists each video stream's trick-play track, starts playback, fast
// forwards at 4x and reports the ranged segment requests made.
func hlsTrickPlay(keys map[string]string) string {
	k, _ := json.Marshal(keys)
	return fmt.Sprintf(`(async () => {
  const video = document.getElementById('video');
  shaka.polyfill.installAll();
  const player = new shaka.Player();
  await player.attach(video);
  player.configure({ drm: { clearKeys: %s }, streaming: { bufferingGoal: 2, rebufferingGoal: 1 } });
  const ranges = [];
  let error = '';
  player.addEventListener('error', (e) => { error = 'Shaka error ' + e.detail.code; });
  player.getNetworkingEngine().registerRequestFilter((type, req) => {
    if (type === shaka.net.NetworkingEngine.RequestType.SEGMENT && req.headers.Range) {
      ranges.push(req.uris[0].replace(location.origin, '') + ' ' + req.headers.Range);
    }
  });
  try { await player.load('/content/master.m3u8'); } catch (e) { return JSON.stringify({ error: 'load: ' + e.code }); }
  const tricks = [], seen = new Set();
  for (const v of player.getManifest().variants) {
    const s = v.video;
    if (!s || seen.has(s.id)) continue;
    seen.add(s.id);
    await s.createSegmentIndex();
    const t = s.trickModeVideo;
    tricks.push(s.width + 'x' + s.height + ' → ' + (t ? t.width + 'x' + t.height + (t.isIframe ? ' I-frames' : '') : 'none'));
  }
  tricks.sort();
  video.muted = true;
  await video.play();
  for (let i = 0; i < 100 && video.currentTime < 0.3; i++) await new Promise((ok) => setTimeout(ok, 100));
  player.trickPlay(4);
  for (let i = 0; i < 50 && ranges.length === 0; i++) await new Promise((ok) => setTimeout(ok, 100));
  await new Promise((ok) => setTimeout(ok, 500));
  return JSON.stringify({ tricks, ranges, error, time: video.currentTime });
})()`, k)
}
