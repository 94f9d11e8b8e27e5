package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"satchel/internal/testmedia"
)

// ladderFile writes the tests' three-rung ladder file.
func ladderFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "studio.txt")
	text := "ladder studio\n480p 900k audio=96k\n360p 500k audio=64k  # middle\n240p 250k audio=64k\n"
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestEncodeCommand encodes the 1080p test master to a three-rung ladder with `satchel
// encode --json`, checks the document (rungs, measured bit rates within 15 %, quality table,
// copyable commands) and the ladder with `satchel probe`, then re-runs it as text: every rung
// reused, and the package command to run next. `satchel package --master` then encodes (from
// the cache) and packages in one job.
func TestEncodeCommand(t *testing.T) {
	master, ladder := testmedia.Master(t), ladderFile(t)
	rungs := filepath.Join(t.TempDir(), "rungs")
	args := []string{"encode", master, "--ladder", ladder, "--out", rungs, "--segment", "2s", "--speed", "ultrafast"}
	code, out, errOut := run(t, append(args, "--quality", "--json")...)
	if code != 0 {
		t.Fatalf("encode: code %d\n%s", code, errOut)
	}
	var doc struct {
		Rungs []struct {
			Path         string `json:"path"`
			VideoBitrate int64  `json:"video_bitrate"`
			Rung         struct {
				Width, Height int
				VideoBitrate  int64 `json:"video_bitrate"`
			} `json:"rung"`
		} `json:"rungs"`
		Quality  []struct{ PSNR, SSIM float64 }   `json:"quality"`
		Commands []struct{ Purpose, Line string } `json:"commands"`
		Segment  int64                            `json:"segment_duration_ns"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("encode --json is not one JSON document: %v\n%s", err, out)
	}
	if len(doc.Rungs) != 3 || len(doc.Quality) != 3 || len(doc.Commands) != 2 || doc.Segment != 2e9 {
		t.Fatalf("encode --json: %+v", doc)
	}
	var paths []string
	for i, r := range doc.Rungs {
		paths = append(paths, r.Path)
		if d := float64(r.VideoBitrate)/float64(r.Rung.VideoBitrate) - 1; d < -0.15 || d > 0.15 {
			t.Errorf("rung %d: %d b/s for a %d b/s target", i, r.VideoBitrate, r.Rung.VideoBitrate)
		}
	}
	if doc.Rungs[0].Rung.Height != 480 || doc.Quality[0].PSNR < 25 || !strings.HasPrefix(doc.Commands[0].Line, "ffmpeg ") {
		t.Errorf("encode --json: %+v", doc)
	}
	if !strings.Contains(errOut, `"unit":"frames"`) || !strings.Contains(errOut, `"speed":`) {
		t.Errorf("no per-rung progress (frames, speed) as JSON lines on stderr:\n%s", errOut)
	}
	if code, pout, perr := run(t, append([]string{"probe"}, paths...)...); code != 0 || !strings.Contains(pout, "GOPs aligned") {
		t.Fatalf("probe the encoded ladder: code %d\n%s%s", code, pout, perr)
	}

	code, out, errOut = run(t, args...)
	for _, want := range []string{"3 reused", "(reused)", "No ffmpeg ran", "PSNR", "Package them: satchel package --in ",
		"--segment 2s"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("re-run: code %d, output lacks %q:\n%s%s", code, want, out, errOut)
		}
	}

	pkg := filepath.Join(t.TempDir(), "pkg")
	code, out, errOut = run(t, "package", "--master", master, "--ladder", ladder, "--renditions", rungs, "--out", pkg,
		"--segment", "2s", "--speed", "ultrafast", "--scheme", "cenc", "--formats", "dash", "--json")
	if code != 0 {
		t.Fatalf("package --master: code %d\n%s", code, errOut)
	}
	var pdoc struct {
		Renditions []struct{ ID string } `json:"renditions"`
		Encode     struct {
			Rungs []struct{ Cached bool } `json:"rungs"`
		} `json:"encode"`
	}
	if err := json.Unmarshal([]byte(out), &pdoc); err != nil || len(pdoc.Renditions) < 4 || len(pdoc.Encode.Rungs) != 3 ||
		!pdoc.Encode.Rungs[0].Cached {
		t.Fatalf("package --master --json (%v): %s", err, out)
	}
	if _, err := os.Stat(filepath.Join(pkg, "manifest.mpd")); err != nil {
		t.Fatal(err)
	}
}

// TestEncodeDryRun prints the plan as a shell script and as JSON, and writes nothing.
func TestEncodeDryRun(t *testing.T) {
	master := testmedia.Master(t)
	out := filepath.Join(t.TempDir(), "rungs")
	code, script, errOut := run(t, "encode", master, "--ladder", "720p", "--codec", "hevc", "--out", out, "--dry-run")
	if code != 0 {
		t.Fatalf("dry run: code %d\n%s", code, errOut)
	}
	for _, want := range []string{"# satchel encode plan: ", "1280x720_3400k_hevc", "ffmpeg -hide_banner", "libx265",
		"package with --segment 4s", "mkdir -p "} {
		if !strings.Contains(script, want) {
			t.Errorf("dry-run script lacks %q:\n%s", want, script)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a dry run created the output folder: %v", err)
	}
	code, js, _ := run(t, "encode", master, "--ladder", "sd", "--out", out, "--dry-run", "--json")
	var plan struct {
		Commands []struct{ Line string } `json:"commands"`
		Outputs  []struct{ Path string } `json:"outputs"`
	}
	if code != 0 || json.Unmarshal([]byte(js), &plan) != nil || len(plan.Outputs) != 5 || len(plan.Commands) != 1 {
		t.Fatalf("dry run --json: code %d\n%s", code, js)
	}
}

// TestEncodeBadInput: mistakes are exit 2 with one sentence naming the flag and the fix.
func TestEncodeBadInput(t *testing.T) {
	master := testmedia.Master(t)
	out := filepath.Join(t.TempDir(), "rungs")
	big := filepath.Join(t.TempDir(), "uhd.txt")
	if err := os.WriteFile(big, []byte("2160p 16000k\n720p 3000k\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	odd := filepath.Join(t.TempDir(), "odd.txt")
	if err := os.WriteFile(odd, []byte("721p 3000k\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	notVideo := filepath.Join(t.TempDir(), "notes.mov")
	if err := os.WriteFile(notVideo, []byte("not a movie"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"no master", []string{"encode", "--out", out}, []string{"give the master file"}},
		{"missing master", []string{"encode", "nope.mov", "--out", out}, []string{"master nope.mov does not exist"}},
		{"not a video", []string{"encode", notVideo, "--out", out}, []string{"ffmpeg can read", "MOV/ProRes"}},
		{"no output", []string{"encode", master}, []string{"--out: no output folder given"}},
		{"preset", []string{"encode", master, "--out", out, "--ladder", "4k"}, []string{"--ladder \"4k\""}},
		{"ladder file", []string{"encode", master, "--out", out, "--ladder", "nope.txt"}, []string{"--ladder nope.txt: does not exist"}},
		{"upscale", []string{"encode", master, "--out", out, "--ladder", big}, []string{"larger than the master", "--ladder auto"}},
		{"odd height", []string{"encode", master, "--out", out, "--ladder", odd}, []string{"must be even", "satchel help encode"}},
		{"codec", []string{"encode", master, "--out", out, "--codec", "vp9"}, []string{"--codec: unknown video codec"}},
		{"segment", []string{"encode", master, "--out", out, "--segment", "45s"}, []string{"--segment 45s"}},
		{"ladder without master", []string{"package", "--ladder", "auto", "--out", out}, []string{"need --master"}},
		{"master and inputs", []string{"package", "--master", master, "--in", mediaFile(t, "ladder_240p.mp4"), "--out", out},
			[]string{"--in: give source renditions or a master"}},
		{"package master missing", []string{"package", "--master", "nope.mov", "--out", out}, []string{"--master nope.mov: does not exist"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, errOut := run(t, c.args...)
			if code != ExitUsage {
				t.Fatalf("code %d, want %d\n%s", code, ExitUsage, errOut)
			}
			for _, w := range c.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
		})
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a refused encode created the output folder: %v", err)
	}
}
