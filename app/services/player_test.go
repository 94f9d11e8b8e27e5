package services

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"satchel/packaging"
)

// TestDemoPlayerInChromium opens the embedded demo player in headless Chromium: the page plays
// the packaged single-file MP4 through MSE + EME ClearKey, so the browser's CDM sends a real
// license request to the embedded server, the keys become usable, and the ledger records it.
func TestDemoPlayerInChromium(t *testing.T) {
	browser := chromiumBrowser(t)
	s := open(t)
	out := filepath.Join(t.TempDir(), "pkg")
	if _, err := packaging.Package(context.Background(), packaging.Config{Inputs: []string{media + "ladder_240p.mp4"}, OutDir: out,
		SegmentDuration: 2 * time.Second, Formats: []packaging.Format{packaging.FormatDASH, packaging.FormatMP4}}, nil); err != nil {
		t.Fatal(err)
	}
	url, err := s.StartLicenseServer(context.Background(), LicenseOptions{Addr: "127.0.0.1:0", ContentDir: out})
	if err != nil {
		t.Fatal(err)
	}
	defer s.StopLicenseServer()
	// Real time over the DevTools pipe: a --virtual-time-budget run could end before the fetch
	// of the download finished on a loaded machine.
	page := openPage(t, browser, url+"/player/?autoplay=1")
	page.waitLog(t, 60*time.Second, "encrypted event: initDataType cenc", "license request → /clearkey",
		"session updated; keys usable", ": usable")
	ledger, _ := s.Ledger()
	if len(ledger) != 1 || ledger[0].System != "clearkey" || len(ledger[0].KIDs) != 2 {
		t.Fatalf("ledger after browser playback: %+v", ledger)
	}
}
