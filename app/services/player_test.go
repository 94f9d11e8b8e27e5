package services

import (
	"context"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"satchel/packaging"
)

// TestDemoPlayerInChromium opens the embedded demo player in headless Chromium: the page plays
// the packaged single-file MP4 through MSE + EME ClearKey, so the browser's CDM sends a real
// license request to the embedded server, the keys become usable, and the ledger records it.
func TestDemoPlayerInChromium(t *testing.T) {
	browser, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" || os.Getenv("SATCHEL_REQUIRE_AZURITE") != "" {
			t.Fatal("chromium is not installed; scripts/deps.sh installs it (make test)")
		}
		t.Skip("chromium not installed")
	}
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
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--user-data-dir="+t.TempDir(),
		"--autoplay-policy=no-user-gesture-required", "--virtual-time-budget=15000", "--dump-dom", url+"/player/?autoplay=1")
	dom, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	m := regexp.MustCompile(`(?s)<div id="log">(.*?)</div>`).FindSubmatch(dom)
	if m == nil {
		t.Fatalf("no player log in the page:\n%s", dom)
	}
	log := html.UnescapeString(string(m[1]))
	for _, want := range []string{"encrypted event: initDataType cenc", "license request → /clearkey", "session updated; keys usable"} {
		if !strings.Contains(log, want) {
			t.Fatalf("player log lacks %q:\n%s", want, log)
		}
	}
	if !strings.Contains(log, ": usable") {
		t.Fatalf("no key reported usable:\n%s", log)
	}
	ledger, _ := s.Ledger()
	if len(ledger) != 1 || ledger[0].System != "clearkey" || len(ledger[0].KIDs) != 2 {
		t.Fatalf("ledger after browser playback: %+v", ledger)
	}
}
