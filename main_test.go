package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	appversion "satchel/internal/version"
	"satchel/ui"
)

// binary is the satchel binary built once for these tests (empty when the build failed).
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "satchel-bin-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "satchel")
	if runtime.GOOS == "windows" {
		binary += ".exe"
	}
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build satchel: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// runBinary runs bin with args and the environment extra (on top of a cleaned one) and
// returns stdout and stderr together.
func runBinary(t *testing.T, bin string, extra []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	env := []string{"SATCHEL_WORKSPACE=" + t.TempDir(), "HOME=" + t.TempDir()}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "LANG", "LC_ALL", "LC_MESSAGES", "LANGUAGE", "SATCHEL_WORKSPACE", "HOME", "DISPLAY", "WAYLAND_DISPLAY":
			continue
		}
		env = append(env, kv)
	}
	cmd.Env = append(env, extra...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// fyneAppVersion reads Version from FyneApp.toml's [Details], independently of main.
func fyneAppVersion(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("FyneApp.toml")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^Version\s*=\s*"([^"]+)"`).FindSubmatch(b)
	if m == nil {
		t.Fatal("FyneApp.toml has no Version")
	}
	return string(m[1])
}

// TestVersionFromOnePlace checks that --version, the help text and the GUI's About text all
// show FyneApp.toml's version, and that main.version (set with -ldflags -X) overrides it.
func TestVersionFromOnePlace(t *testing.T) {
	want := fyneAppVersion(t)
	if got := appVersion(); got != want {
		t.Fatalf("appVersion() = %q, FyneApp.toml says %q", got, want)
	}
	for _, args := range [][]string{{"--version"}, {"version"}, {"help"}} {
		out, err := runBinary(t, binary, nil, args...)
		if err != nil || !strings.Contains(out, want) {
			t.Errorf("satchel %v: %v\n%s\nwant version %s", args, err, out, want)
		}
	}
	appversion.Set(appVersion())
	if about := ui.AboutText(); !strings.Contains(about, "Satchel "+want) {
		t.Errorf("About text %q lacks version %s", about, want)
	}
	dist, err := os.ReadFile("scripts/dist.sh")
	if err != nil || regexp.MustCompile(`(?i)version\s*=|-X main\.version`).Match(dist) {
		t.Errorf("scripts/dist.sh must take the version from FyneApp.toml, not set its own (%v)", err)
	}

	// A release build's -ldflags "-X main.version=…" (see the Makefile) overrides the file.
	version = "9.8.7-test"
	defer func() { version = "" }()
	if got := appVersion(); got != "9.8.7-test" {
		t.Errorf("-X main.version override: appVersion() = %q", got)
	}
	if mk, err := os.ReadFile("Makefile"); err != nil || !strings.Contains(string(mk), "-X main.version=") {
		t.Errorf("the Makefile should pass VERSION as -X main.version= (%v)", err)
	}
}

// TestSubcommandsPrintNothingFromTheToolkit runs subcommands with the locales that make Fyne
// log "Error parsing user locale" during package initialisation: nothing of it may show.
func TestSubcommandsPrintNothingFromTheToolkit(t *testing.T) {
	media := filepath.Join("testdata", "media", "ladder_360p.mp4")
	commands := [][]string{
		{"probe", media},
		{"inspect", media},
		{"help"},
		{"--version"},
		{"policy", "presets"},
		{"probe", "no-such-file.mp4"}, // errors still print, from Satchel
	}
	for _, lang := range []string{"C", "C.UTF-8", "POSIX", "en_US.UTF-8"} {
		for _, args := range commands {
			t.Run(lang+"/"+strings.Join(args, "_"), func(t *testing.T) {
				out, _ := runBinary(t, binary, []string{"LANG=" + lang}, args...)
				if strings.Contains(out, "Fyne") || strings.Contains(out, "locale") {
					t.Fatalf("LANG=%s satchel %v printed toolkit output:\n%s", lang, args, out)
				}
				if out == "" {
					t.Fatalf("LANG=%s satchel %v printed nothing", lang, args)
				}
			})
		}
	}
}

// TestGUIStillShowsToolkitOutput checks the other side of bootlog: the desktop app replays
// what the toolkit logged while starting (here without a display, so it stops right after),
// except the complaint about the POSIX locale, which only means "no locale" (English).
func TestGUIStillShowsToolkitOutput(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the locale comes from LANG only on Linux; elsewhere the app would open a window")
	}
	for _, tc := range []struct {
		lang       string
		showsParse bool
	}{
		{"C.UTF-8", false},
		{"C", false},
		{"POSIX", false},
		{"zz-!!", true}, // a malformed locale is still reported
	} {
		t.Run(tc.lang, func(t *testing.T) {
			out, err := runBinary(t, binary, []string{"LANG=" + tc.lang, "LC_ALL=", "LC_MESSAGES="}, "--workspace", t.TempDir())
			if err == nil || !strings.Contains(out, "no display") {
				t.Fatalf("GUI without a display: %v\n%s", err, out)
			}
			if got := strings.Contains(out, "Error parsing user locale"); got != tc.showsParse {
				t.Fatalf("LANG=%s: locale error shown = %v, want %v:\n%s", tc.lang, got, tc.showsParse, out)
			}
			if !tc.showsParse && (strings.Contains(out, "Cause:") || strings.Contains(out, "locale.go")) {
				t.Fatalf("LANG=%s: part of the locale error is still shown:\n%s", tc.lang, out)
			}
		})
	}
}
