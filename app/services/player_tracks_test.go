package services

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"satchel/packaging"
)

const subtitles = "../../testdata/subtitles/"

// TestDemoPlayerMultiLanguage plays the multi-language title in headless Chromium with the
// demo player's package mode (Shaka Player over the DASH manifest, EME ClearKey licenses from
// the embedded server): it starts on the main English audio, switches to French, keeps
// playing with French segments, and shows an English subtitle cue. The single-file download
// (several audio tracks and subtitle tracks in one MP4) plays through MSE too.
func TestDemoPlayerMultiLanguage(t *testing.T) {
	browser := chromiumBrowser(t)
	s := open(t)
	out := filepath.Join(t.TempDir(), "pkg")
	if _, err := packaging.Package(context.Background(), packaging.Config{Inputs: []string{media + "multilang.mp4"}, OutDir: out,
		SegmentDuration: 2 * time.Second, Formats: []packaging.Format{packaging.FormatDASH, packaging.FormatMP4},
		Subtitles: []packaging.SubtitleInput{{Path: subtitles + "multilang.fr.srt", Language: "fr"}}}, nil); err != nil {
		t.Fatal(err)
	}
	url, err := s.StartLicenseServer(context.Background(), LicenseOptions{Addr: "127.0.0.1:0", ContentDir: out})
	if err != nil {
		t.Fatal(err)
	}
	defer s.StopLicenseServer()
	page := openPage(t, browser, url+"/player/?mode=package&autoplay=1&audio=fr&text=en")
	log := page.waitLog(t, 60*time.Second, "after the switch playback continues", "subtitle cue shown [en]")
	for _, want := range []string{
		"2 audio track(s) [English [en] 6ch main; Français [fr] 2ch alternate]",
		"2 subtitle track(s) [English [en] subtitle; Français [fr] subtitle]",
		"playing audio English [en] 6ch main",
		"segments from cenc/audio_en", "segments from text/text_en",
		"audio switched to Français [fr] 2ch alternate",
		"subtitle cue shown [en]", "Hello from the English track.",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("player log lacks %q", want)
		}
	}
	// French audio segments arrive after the switch, and playback goes on with them.
	if i, j := strings.Index(log, "audio switched to Français"), strings.Index(log, "segments from cenc/audio_fr"); j < i {
		t.Errorf("no French audio segments fetched after the switch:\n%s", log)
	}
	if m := regexp.MustCompile(`continues \(t=([0-9.]+)s\) with audio Français`).FindStringSubmatch(log); m == nil {
		t.Errorf("playback did not continue in French:\n%s", log)
	}
	ledger, _ := s.Ledger()
	if len(ledger) < 2 {
		t.Errorf("ledger after package playback: %+v", ledger)
	}
	// The single-file download with every track plays through MSE + EME as well.
	file := openPage(t, browser, url+"/player/?autoplay=1")
	file.waitLog(t, 60*time.Second, "decrypted frames are playing", "key ")
}
