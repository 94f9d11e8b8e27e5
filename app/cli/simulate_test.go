package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSimulateCommand: a preset alone prints the timeline and every decision with the clock
// that refused it; a package played for one device gives one lane, as JSON and as an SVG.
func TestSimulateCommand(t *testing.T) {
	code, out, errOut := run(t, "simulate", "--scenario", "rental")
	if code != 0 {
		t.Fatalf("simulate rental: code %d\n%s", code, errOut)
	}
	for _, want := range []string{"Scenario rental:", "Widevine", "PlayReady", "FairPlay", "ClearKey",
		"day 4, 21:00    play       Widevine   ✗ refused: Widevine playback_duration_seconds 172800 (48 h)",
		"PlayReady  ✗ refused: PlayReady FirstPlayExpiration PT48H started at the first play on day 2, 20:00"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}

	pkg := filepath.Join(t.TempDir(), "pkg")
	if code, _, errOut := run(t, "package", "--in", mediaFile(t, "ladder_240p.mp4"), "--out", pkg, "--segment", "2s",
		"--policy", "Offline rental 48 h"); code != 0 {
		t.Fatalf("package: %s", errOut)
	}
	svg := filepath.Join(t.TempDir(), "timeline.svg")
	code, out, errOut = run(t, "simulate", pkg, "--scenario", "expired-before-first-play", "--device", "ios", "--json", "--svg", svg)
	if code != 0 {
		t.Fatalf("simulate package: code %d\n%s", code, errOut)
	}
	var res struct {
		Policy   string `json:"policy"`
		Timeline struct {
			Device string `json:"device"`
			Lanes  []struct {
				System string `json:"system"`
				Marks  []struct{ Outcome, Clock string }
			} `json:"lanes"`
		} `json:"timeline"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("simulate --json: %v\n%s", err, out)
	}
	if res.Policy != "Offline rental 48 h" || res.Timeline.Device != "apple-fairplay" || len(res.Timeline.Lanes) != 1 ||
		res.Timeline.Lanes[0].Marks[0].Clock != "fairplay-storage-duration" {
		t.Fatalf("result %+v", res)
	}
	if b, err := os.ReadFile(svg); err != nil || !strings.HasPrefix(string(b), "<svg") {
		t.Fatalf("--svg: %v", err)
	}

	// The readiness matrix ends the verify report; --device limits it.
	code, out, errOut = run(t, "verify", pkg, "--device", "ios,chrome")
	if code != 0 {
		t.Fatalf("verify: code %d\n%s", code, errOut)
	}
	if !strings.Contains(out, "Offline readiness (policy \"Offline rental 48 h\")") || !strings.Contains(out, "✓ apple-fairplay") ||
		!strings.Contains(out, "✕ chrome-desktop") || strings.Contains(out, "android-l1") {
		t.Fatalf("verify --device: no matrix of two rows:\n%s", out)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"simulate"}, "give a scenario with --scenario"},
		{[]string{"simulate", "--scenario", "play@someday"}, "--scenario play@someday:"},
		{[]string{"simulate", "--scenario", "download@0,play@1h"}, "PKG: give a package or a policy"},
		{[]string{"simulate", "--scenario", "rental", "--device", "toaster"}, "--device toaster: unknown device"},
		{[]string{"simulate", "--scenario", "rental", "no such policy"}, "no policy named \"no such policy\""},
		{[]string{"verify", pkg, "--device", "toaster"}, "--device toaster: unknown device"},
	} {
		if code, _, errOut := run(t, c.args...); code != ExitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: code %d, stderr %q, want %q", c.args, code, errOut, c.want)
		}
	}
}
