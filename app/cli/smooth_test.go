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

// TestPackageSmooth: --smooth writes cenc/manifest.ismc over the cenc fragments with one
// generated key (saved as a key set), `satchel verify` passes the package and reports the
// Smooth manifest's checks; --smooth with only cbcs, or with per-type keys, is a usage error
// naming the flag or the keys.
func TestPackageSmooth(t *testing.T) {
	out := filepath.Join(t.TempDir(), "pkg")
	code, stdout, errOut := run(t, "package", "--json", "--in", mediaFile(t, "ladder_240p.mp4"), "--out", out,
		"--smooth", "--segment", "2s", "--formats", "dash,hls")
	if code != 0 {
		t.Fatalf("package: code %d\n%s", code, errOut)
	}
	var doc packageOutput
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Keys) != 1 || doc.Keys[0].TrackType != drm.TrackAll || doc.KeySet == "" {
		t.Fatalf("keys %+v, key set %q", doc.Keys, doc.KeySet)
	}
	if _, err := os.Stat(filepath.Join(out, filepath.FromSlash(manifest.FileSmooth))); err != nil {
		t.Fatal(err)
	}
	code, stdout, errOut = run(t, "verify", "--json", out)
	if code != 0 {
		t.Fatalf("verify: code %d\n%s\n%s", code, stdout, errOut)
	}
	for _, want := range []string{`"smooth"`, "Smooth manifest parses", "CodecPrivateData matches",
		"the ProtectionHeader names the track's key"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("verify --json lacks %q", want)
		}
	}
	for args, want := range map[string]string{
		"--scheme cbcs":  "--smooth",
		"--drm widevine": "--smooth",
		"--key SD=00112233-4455-6677-8899-aabbccddeeff:0123456789abcdef0123456789abcdef": "one key",
	} {
		a := append([]string{"package", "--in", mediaFile(t, "ladder_240p.mp4"), "--out", filepath.Join(t.TempDir(), "x"),
			"--smooth"}, strings.Fields(args)...)
		if code, _, errOut := run(t, a...); code != ExitUsage || !strings.Contains(errOut, want) {
			t.Errorf("--smooth %s: code %d, %q (want usage error naming %s)", args, code, errOut, want)
		}
	}
}
