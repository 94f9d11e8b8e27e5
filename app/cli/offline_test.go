package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"satchel/engine/drm"
	"satchel/engine/manifest"
)

// TestPackageOfflineFlags: --key ALL=KID:KEY protects every track with one key, --content-id
// names the title in the CPIX, --piff makes the download PIFF 1.1 compatible, --no-trick-play
// leaves out the I-frame playlists; --piff without the mp4 output is a usage error naming the
// flag.
func TestPackageOfflineFlags(t *testing.T) {
	out := filepath.Join(t.TempDir(), "pkg")
	kid := "00112233-4455-6677-8899-aabbccddeeff"
	code, stdout, errOut := run(t, "package", "--json", "--in", mediaFile(t, "ladder_240p.mp4"), "--out", out,
		"--key", "ALL="+kid+":0123456789abcdef0123456789abcdef", "--content-id", "title-7", "--piff", "--no-trick-play",
		"--segment", "2s")
	if code != 0 {
		t.Fatalf("package: code %d\n%s", code, errOut)
	}
	var doc packageOutput
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Keys) != 1 || doc.Keys[0].TrackType != drm.TrackAll || doc.Keys[0].KID != kid || doc.KeySet != "" {
		t.Fatalf("keys %+v, key set %q", doc.Keys, doc.KeySet)
	}
	cpix, err := drm.ReadCPIXFile(filepath.Join(out, manifest.FileKeys))
	if err != nil || cpix.ContentID != "title-7" {
		t.Fatalf("CPIX content ID %q (%v)", cpix.ContentID, err)
	}
	if _, err := os.Stat(filepath.Join(out, "cbcs", "240p", manifest.FileHLSIFrames)); !os.IsNotExist(err) {
		t.Errorf("--no-trick-play: I-frame playlist written (%v)", err)
	}
	dl, _ := os.ReadFile(filepath.Join(out, manifest.DirDownload, "240p.mp4"))
	if !strings.Contains(string(dl), "piff") {
		t.Error("--piff: no piff brand in the download")
	}
	code, _, errOut = run(t, "package", "--in", mediaFile(t, "ladder_240p.mp4"), "--out", filepath.Join(t.TempDir(), "x"),
		"--formats", "dash", "--piff")
	if code != ExitUsage || !strings.Contains(errOut, "--piff") {
		t.Fatalf("--piff without mp4: code %d, %q", code, errOut)
	}
}
