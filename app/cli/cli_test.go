package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"satchel/app/services"
)

const testMedia = "../../testdata/media"

// TestMain points the default workspace at a temporary folder: commands that record
// something open it, and tests must never touch the user's real workspace.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "satchel-cli-ws-*")
	if err != nil {
		panic(err)
	}
	os.Setenv("SATCHEL_WORKSPACE", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// run executes the CLI in-process and returns exit code, stdout and stderr.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func mediaFile(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join(testMedia, name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("test media %s missing: run testdata/make.sh (make test does): %v", p, err)
	}
	return p
}

func TestHelpAndUsage(t *testing.T) {
	if code, out, _ := run(t, "help"); code != 0 || !strings.Contains(out, "package") || !strings.Contains(out, "verify") {
		t.Fatalf("help: code %d out %q", code, out)
	}
	if code, _, errOut := run(t, "frobnicate"); code != ExitUsage || !strings.Contains(errOut, "unknown command") {
		t.Fatalf("unknown command: code %d err %q", code, errOut)
	}
	if code, _, errOut := run(t, "package", "--in", "x.mp4"); code != ExitUsage || !strings.Contains(errOut, "--out") {
		t.Fatalf("package without --out: code %d err %q", code, errOut)
	}
	for _, c := range []struct {
		args []string
		gui  bool
	}{{nil, true}, {[]string{"--workspace", "/tmp/w"}, true}, {[]string{"--samples=testdata/media"}, true}, {[]string{"probe", "x"}, false}, {[]string{"--workspace", "w", "verify"}, false}} {
		if got := IsGUI(c.args); got != c.gui {
			t.Errorf("IsGUI(%v) = %v, want %v", c.args, got, c.gui)
		}
	}
}

func TestProbeCommand(t *testing.T) {
	code, out, errOut := run(t, "probe", "--json", mediaFile(t, "ladder_240p.mp4"), mediaFile(t, "ladder_360p.mp4"), mediaFile(t, "ladder_720p.mp4"))
	if code != 0 {
		t.Fatalf("probe ladder: code %d stderr %s", code, errOut)
	}
	var doc struct {
		Assets  []json.RawMessage `json:"assets"`
		Aligned bool              `json:"aligned"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("probe --json output is not one JSON document: %v\n%s", err, out)
	}
	if len(doc.Assets) != 3 || !doc.Aligned {
		t.Fatalf("probe ladder: %d assets aligned=%v", len(doc.Assets), doc.Aligned)
	}
	if !strings.Contains(out, "avc1.64") || !strings.Contains(out, "mp4a.40.2") {
		t.Errorf("codec strings missing from probe output:\n%s", out)
	}

	code, _, errOut = run(t, "probe", mediaFile(t, "ladder_240p.mp4"), mediaFile(t, "misaligned_360p.mp4"))
	if code != ExitUsage || !strings.Contains(errOut, "misaligned_360p.mp4") {
		t.Fatalf("misaligned ladder: code %d stderr %q", code, errOut)
	}

	notMP4 := filepath.Join(t.TempDir(), "notes.mp4")
	os.WriteFile(notMP4, []byte("this is not a video file at all, just some text\n"), 0o644)
	code, _, errOut = run(t, "probe", notMP4)
	if code != ExitUsage || !strings.Contains(errOut, "notes.mp4") {
		t.Fatalf("text file: code %d stderr %q", code, errOut)
	}
	if strings.Count(strings.TrimSpace(errOut), "\n") > 1 {
		t.Errorf("input errors should be one clear sentence, got:\n%s", errOut)
	}
}

func TestPackageVerifyInspect(t *testing.T) {
	out := filepath.Join(t.TempDir(), "pkg")
	code, stdout, errOut := run(t, "package", "--json", "--in", mediaFile(t, "ladder_240p.mp4"), "--in", mediaFile(t, "ladder_360p.mp4"),
		"--out", out, "--scheme", "both", "--segment", "2s", "--show-keys")
	if code != 0 {
		t.Fatalf("package: code %d\nstderr: %s", code, errOut)
	}
	var doc packageOutput
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("package --json: %v\n%s", err, stdout)
	}
	if len(doc.Keys) < 2 || doc.Keys[0].Key == "" {
		t.Fatalf("package keys: %+v", doc.Keys)
	}
	for _, f := range []string{"manifest.mpd", "manifest_cbcs.mpd", "master.m3u8", "keys.cpix.xml", "download/240p.mp4"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("package output lacks %s: %v", f, err)
		}
	}
	if !strings.Contains(errOut, `"state":"done"`) {
		t.Errorf("--json progress on stderr should be JSON lines with a done event:\n%s", errOut)
	}

	// Packaging into a non-empty folder without --overwrite is refused with exit 2.
	if code, _, errOut := run(t, "package", "--in", mediaFile(t, "ladder_240p.mp4"), "--out", out); code != ExitUsage || errOut == "" {
		t.Fatalf("package over existing output: code %d stderr %q", code, errOut)
	}

	// Own output verifies (keys from keys.cpix.xml beside the manifest).
	code, stdout, errOut = run(t, "verify", "--json", out)
	if code != 0 {
		t.Fatalf("verify own output: code %d\n%s\n%s", code, stdout, errOut)
	}
	// The whole package is checked: both MPDs, the HLS master (FairPlay license exchange), each
	// download; content keys are redacted unless --include-keys.
	var rep struct {
		Inventory struct {
			Manifests []struct{ File, Kind string }
		}
		LicenseExchanges []struct{ System string } `json:"license_exchanges"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("verify --json: %v", err)
	}
	var files, systems []string
	for _, m := range rep.Inventory.Manifests {
		files = append(files, m.File)
	}
	for _, x := range rep.LicenseExchanges {
		systems = append(systems, x.System)
	}
	for _, want := range []string{"manifest.mpd", "manifest_cbcs.mpd", "master.m3u8", "download/240p.mp4"} {
		if !strings.Contains(strings.Join(files, " "), want) {
			t.Errorf("verify checked %v, not %s", files, want)
		}
	}
	if !strings.Contains(strings.Join(systems, " "), "fairplay") || !strings.Contains(stdout, `[redacted]`) {
		t.Errorf("license exchanges %v; redacted keys: %v", systems, strings.Contains(stdout, "[redacted]"))
	}
	if code, stdout, _ = run(t, "verify", "--json", "--include-keys", "--full", "--keys", filepath.Join(out, "keys.cpix.xml"), filepath.Join(out, "cenc", "240p")); code != 0 ||
		strings.Contains(stdout, "[redacted]") || !strings.Contains(stdout, "decoded every sample") {
		t.Fatalf("verify --include-keys --full: code %d\n%s", code, stdout)
	}

	// A wrong key fails verification (exit 1) and names the KID.
	kid := doc.Keys[0].KID
	code, stdout, _ = run(t, "verify", "--key", kid+":00000000000000000000000000000000", filepath.Join(out, "download", "240p.mp4"))
	if code != ExitFailed || !strings.Contains(stdout, kid) {
		t.Fatalf("verify wrong key: code %d (want 1), output should name %s:\n%s", code, kid, stdout)
	}

	code, stdout, _ = run(t, "inspect", filepath.Join(out, "cenc", "240p", "init.mp4"))
	if code != 0 || !strings.Contains(stdout, "pssh") || !strings.Contains(stdout, "tenc") {
		t.Fatalf("inspect init: code %d\n%s", code, stdout)
	}
}

func TestPackageBadInput(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"bad key syntax", []string{"--in", mediaFile(t, "ladder_240p.mp4"), "--out", filepath.Join(dir, "a"), "--key", "SD=nothex:1234"}, "key"},
		{"duplicate KIDs", []string{"--in", mediaFile(t, "ladder_240p.mp4"), "--out", filepath.Join(dir, "b"),
			"--key", "SD=10203040506070809000a0b0c0d0e0f0:00112233445566778899aabbccddeeff",
			"--key", "AUDIO=10203040506070809000a0b0c0d0e0f0:00112233445566778899aabbccddee00"}, "10203040-5060-7080-9000-a0b0c0d0e0f0"},
		{"misaligned", []string{"--in", mediaFile(t, "ladder_240p.mp4"), "--in", mediaFile(t, "misaligned_360p.mp4"), "--out", filepath.Join(dir, "c")}, "misaligned_360p.mp4"},
		{"missing file", []string{"--in", filepath.Join(dir, "nope.mp4"), "--out", filepath.Join(dir, "d")}, "nope.mp4"},
		{"bad scheme", []string{"--in", mediaFile(t, "ladder_240p.mp4"), "--out", filepath.Join(dir, "e"), "--scheme", "aes"}, "cenc, cbcs or both"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, errOut := run(t, append([]string{"package"}, c.args...)...)
			if code != ExitUsage || !strings.Contains(errOut, c.want) {
				t.Fatalf("code %d (want 2), stderr should mention %q:\n%s", code, c.want, errOut)
			}
		})
	}
	for _, n := range []string{"c", "d"} {
		if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
			t.Errorf("failed package left output folder %s", n)
		}
	}
}

func TestKeysAndPolicyCommands(t *testing.T) {
	ws := t.TempDir()
	code, out, errOut := run(t, "keys", "gen", "show", "--types", "AUDIO,SD", "--workspace", ws, "--json")
	if code != 0 || !strings.Contains(out, `"track_type": "SD"`) {
		t.Fatalf("keys gen: %d %s %s", code, out, errOut)
	}
	if code, out, _ = run(t, "keys", "list", "--workspace", ws); code != 0 || !strings.Contains(out, "show") {
		t.Fatalf("keys list: %d %s", code, out)
	}
	cpix := filepath.Join(t.TempDir(), "show.cpix.xml")
	if code, _, errOut = run(t, "keys", "export", "show", "--out", cpix, "--workspace", ws); code != 0 {
		t.Fatalf("keys export: %s", errOut)
	}
	if code, _, _ = run(t, "keys", "delete", "show", "--workspace", ws); code != 0 {
		t.Fatal("keys delete")
	}
	if code, out, _ = run(t, "keys", "import", cpix, "--name", "again", "--workspace", ws, "--show-keys"); code != 0 || !strings.Contains(out, "key ") {
		t.Fatalf("keys import: %d %s", code, out)
	}
	if code, _, errOut = run(t, "keys", "show", "nope", "--workspace", ws); code != ExitUsage || !strings.Contains(errOut, "no key set") {
		t.Fatalf("missing key set: %d %s", code, errOut)
	}
	// Another process holding the workspace is reported, not waited on.
	svc, err := openWorkspace(&env{ctx: context.Background()}, ws)
	if err != nil {
		t.Fatal(err)
	}
	code, _, errOut = run(t, "keys", "list", "--workspace", ws)
	svc.Close()
	if code != ExitUsage || !strings.Contains(errOut, "in use") {
		t.Fatalf("workspace in use: %d %q", code, errOut)
	}

	if code, out, _ = run(t, "policy", "presets"); code != 0 || !strings.Contains(out, "Offline rental 48 h") {
		t.Fatalf("policy presets: %s", out)
	}
	good := filepath.Join(t.TempDir(), "p.json")
	os.WriteFile(good, []byte(`{"name":"demo","clearkey":{"licenseType":"persistent-license"},"token":{"type":"open"}}`), 0o644)
	if code, out, _ = run(t, "policy", "validate", good); code != 0 || !strings.Contains(out, "valid for offline") {
		t.Fatalf("valid policy: %d %s", code, out)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"name":"bad","playready":{"licenseType":"NonPersistent","securityLevel":"SL2000","playRight":{"allowPassingVideoContentToUnknownOutput":"Allowed","compressedDigitalVideoOpl":450}},"token":{"type":"open"}}`), 0o644)
	code, out, _ = run(t, "policy", "validate", bad)
	if code != ExitFailed || !strings.Contains(out, "compressedDigitalVideoOpl") || !strings.Contains(out, "NonPersistent") {
		t.Fatalf("invalid policy: %d %s", code, out)
	}
	if code, _, errOut = run(t, "policy", "import", good, "--workspace", ws); code != 0 {
		t.Fatalf("policy import: %s", errOut)
	}
	if code, out, _ = run(t, "policy", "export", "demo", "--ams", "--workspace", ws); code != 0 || !strings.Contains(out, "ContentKeyPolicyClearKeyConfiguration") {
		t.Fatalf("policy export --ams: %d %s", code, out)
	}
	// package --policy with a bad policy stops before writing anything.
	out2 := filepath.Join(t.TempDir(), "pkg")
	if code, _, errOut = run(t, "package", "--in", mediaFile(t, "ladder_240p.mp4"), "--out", out2, "--policy", bad); code != ExitUsage || !strings.Contains(errOut, "not valid for offline") {
		t.Fatalf("package with invalid policy: %d %s", code, errOut)
	}
}

// TestEveryRemedyWorded checks that the CLI words every remedy the services name.
func TestEveryRemedyWorded(t *testing.T) {
	for _, r := range services.Remedies {
		if remedy[r] == "" {
			t.Errorf("remedy %d has no CLI wording", r)
		}
	}
}

// TestPanicIsABug: a panic in a command exits 3 with a request to report it and the stack on
// stderr, never 2 (an input error).
func TestPanicIsABug(t *testing.T) {
	register(&command{name: "test-panic", usage: "satchel test-panic", run: func(e *env, args []string) error {
		var m map[string]int
		m["boom"]++
		return nil
	}})
	defer delete(commands, "test-panic")
	code, _, errOut := run(t, "test-panic")
	if code != ExitBug || !strings.Contains(errOut, "this is a bug in Satchel, please report it") ||
		!strings.Contains(errOut, "goroutine") {
		t.Fatalf("code %d, stderr %q", code, errOut)
	}
}

// TestUnusedPassphraseWarns: SATCHEL_PASSPHRASE on an unprotected workspace is not silently
// ignored: the command works and warns.
func TestUnusedPassphraseWarns(t *testing.T) {
	ws := t.TempDir()
	if code, _, errOut := run(t, "keys", "gen", "show", "--workspace", ws); code != 0 {
		t.Fatalf("keys gen: %d %s", code, errOut)
	}
	t.Setenv("SATCHEL_PASSPHRASE", "secret")
	code, _, errOut := run(t, "keys", "list", "--workspace", ws)
	if code != 0 || !strings.Contains(errOut, "warning: SATCHEL_PASSPHRASE is set but workspace") {
		t.Fatalf("code %d, stderr %q", code, errOut)
	}
	// The CPIX export holds keys in the clear: owner-only.
	out := filepath.Join(t.TempDir(), "keys.xml")
	if code, _, errOut := run(t, "keys", "export", "show", "--out", out, "--workspace", ws); code != 0 {
		t.Fatalf("export: %d %s", code, errOut)
	}
	if st, err := os.Stat(out); err != nil || runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
		t.Fatalf("CPIX export mode %v (%v), want 0600", st.Mode().Perm(), err)
	}
}
