package encode

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// allEncoders stands in for ffmpeg's capabilities in tests that run no ffmpeg.
var allEncoders = &Capabilities{Version: "ffmpeg version test", Encoders: map[string]bool{"libx264": true,
	"libx265": true, "libsvtav1": true}}

func planFor(t *testing.T, m *Master, l Ladder, cfg Config) *Plan {
	t.Helper()
	cfg.Master, cfg.Ladder = m.Path, l
	if cfg.OutDir == "" {
		cfg.OutDir = "out"
	}
	if err := cfg.normalize(); err != nil {
		t.Fatal(err)
	}
	p, err := buildPlan(cfg, m, allEncoders, "fingerprint", "/usr/bin/ffmpeg")
	if err != nil {
		t.Fatal(err)
	}
	p.set.threads = 4 // the machine's CPU count would make the golden file vary
	return p
}

// sampleLadder is the README's sample: three H.264 rungs, one HEVC, one AV1.
var sampleLadder = Ladder{Name: "sample", Rungs: []Rung{
	{Height: 1080, VideoBitrate: 6_000_000},
	{Height: 720, VideoBitrate: 3_400_000},
	{Height: 360, VideoBitrate: 650_000, AudioBitrate: 96_000},
	{Height: 720, VideoBitrate: 2_000_000, Codec: HEVC},
	{Height: 540, VideoBitrate: 1_000_000, Codec: AV1, NoAudio: true},
}}

// TestCommandLines pins the exact ffmpeg command lines for a sample ladder (golden file
// testdata/commands.golden; go test -run TestCommandLines -update rewrites it).
func TestCommandLines(t *testing.T) {
	m := fakeMaster(1920, 1080, Rational{24000, 1001}, 40_000_000)
	m.Path = "masters/Final Cut's export.mov"
	var b strings.Builder
	one := planFor(t, m, sampleLadder, Config{OutDir: "ladder"})
	b.WriteString("# one-process (the default), 4 s segments at 23.976 fps\n" + one.Commands[0].Line + "\n\n")
	par := planFor(t, m, sampleLadder, Config{OutDir: "ladder", Strategy: Parallel, Speed: SpeedVeryfast})
	b.WriteString("# parallel, one process per rung, veryfast\n")
	for _, c := range par.Commands {
		b.WriteString(c.Line + "\n")
	}
	b.WriteString("\n# quality (PSNR, SSIM)\n" + one.set.qualityCommand(one.outs[:2], false).Line + "\n")
	b.WriteString("\n# quality with VMAF\n" + one.set.qualityCommand(one.outs[:1], true).Line + "\n")
	im := fakeMaster(1920, 1080, Rational{25, 1}, 50_000_000)
	im.Video.Interlaced, im.Path = true, "-dash.mxf"
	il := planFor(t, im, Ladder{Rungs: sampleLadder.Rungs[:1]},
		Config{SegmentDuration: 2 * time.Second, AllowSceneCuts: true})
	b.WriteString("\n# interlaced master, 2 s segments, scene cuts allowed\n" + il.Commands[0].Line + "\n")
	golden(t, "commands.golden", b.String())

	if one.SegmentDuration != 4004*time.Millisecond || one.GOPFrames != 96 {
		t.Errorf("segment %s of %d frames, want 4.004s of 96", one.SegmentDuration, one.GOPFrames)
	}
	for i, c := range one.Commands[0].Args {
		if strings.Contains(c, ".part") && !strings.HasPrefix(filepath.Base(c), ".") {
			t.Errorf("arg %d %q: partial outputs must be dot files", i, c)
		}
	}
	// Both strategies build the same rungs, so they share cache keys.
	for i := range one.outs {
		if one.outs[i].key != planFor(t, m, sampleLadder, Config{OutDir: "ladder", Strategy: Parallel}).outs[i].key {
			t.Errorf("rung %d: one-process and parallel cache keys differ", i)
		}
	}
}

// TestCacheKeys: every setting that changes a rung changes its key; where it is written does not.
func TestCacheKeys(t *testing.T) {
	m := fakeMaster(1920, 1080, Rational{25, 1}, 50_000_000)
	base := planFor(t, m, sampleLadder, Config{}).outs[1].key
	variants := map[string]*Plan{
		"speed":      planFor(t, m, sampleLadder, Config{Speed: SpeedSlow}),
		"segment":    planFor(t, m, sampleLadder, Config{SegmentDuration: 6 * time.Second}),
		"scene cuts": planFor(t, m, sampleLadder, Config{AllowSceneCuts: true}),
	}
	for name, p := range variants {
		if p.outs[1].key == base {
			t.Errorf("%s does not change the cache key", name)
		}
	}
	l := Ladder{Rungs: append([]Rung(nil), sampleLadder.Rungs...)}
	l.Rungs[1].VideoBitrate = 3_000_000
	if planFor(t, m, l, Config{}).outs[1].key == base {
		t.Error("the bit rate does not change the cache key")
	}
	if planFor(t, m, sampleLadder, Config{OutDir: "elsewhere"}).outs[1].key != base {
		t.Error("the output folder changes the cache key")
	}
}

func TestResolveRefusals(t *testing.T) {
	m := fakeMaster(1280, 720, Rational{25, 1}, 5_000_000)
	cfg := Config{Master: m.Path, OutDir: "out"}
	_ = cfg.normalize()
	cases := []struct {
		name string
		l    Ladder
		caps *Capabilities
		want any
	}{
		{"upscale", Ladder{Rungs: []Rung{{Height: 1080, VideoBitrate: 5e6}}}, allEncoders, new(*UpscaleError)},
		{"wider", Ladder{Rungs: []Rung{{Width: 1920, Height: 720, VideoBitrate: 5e6}}}, allEncoders, new(*UpscaleError)},
		{"upmix", Ladder{Rungs: []Rung{{Height: 720, VideoBitrate: 5e6, AudioChannels: 6}}}, allEncoders, new(*LadderError)},
		{"name clash", Ladder{Rungs: []Rung{{Height: 720, VideoBitrate: 5e6},
			{Height: 360, VideoBitrate: 5e5, Name: "1280x720_5000k"}}}, allEncoders, new(*LadderError)},
		{"no x265", Ladder{Rungs: []Rung{{Height: 720, VideoBitrate: 5e6, Codec: HEVC}}},
			&Capabilities{Encoders: map[string]bool{"libx264": true}}, new(*ToolError)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg.Ladder = c.l
			_, err := buildPlan(cfg, m, c.caps, "fp", "ffmpeg")
			if err == nil || !errors.As(err, c.want) {
				t.Fatalf("got %v, want %T", err, c.want)
			}
		})
	}
}

func TestShellQuote(t *testing.T) {
	got := ShellQuote([]string{"ffmpeg", "-i", "my file.mov", "[0:0]fps=24", "it's", "", "a/b_c-d.mp4", "$HOME"})
	want := `ffmpeg -i 'my file.mov' '[0:0]fps=24' 'it'\''s' '' a/b_c-d.mp4 '$HOME'`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	for in, want := range map[string]string{"-x.mov": "file:-x.mov", "a:b.mov": "file:a:b.mov",
		"dir:x/a.mov": "file:dir:x/a.mov", "x/a:b.mov": "x/a:b.mov", "plain.mov": "plain.mov"} {
		if got := fileArg(in); got != want {
			t.Errorf("fileArg(%q) = %q, want %q", in, got, want)
		}
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (run with -update if the change is intended):\n%s", name, got)
	}
}

// TestCheckRung: a ladder editor's per-row check agrees with planning (the same refusals)
// and explains legal but doubtful rows with warnings.
func TestCheckRung(t *testing.T) {
	m := fakeMaster(1280, 720, Rational{25, 1}, 3_000_000)
	cases := []struct {
		name string
		r    Rung
		err  any    // nil: no error
		warn string // a substring of a warning; "" for none
	}{
		{"fits", Rung{Height: 540, VideoBitrate: 1_500_000}, nil, ""},
		{"upscale", Rung{Height: 1080, VideoBitrate: 2_000_000}, new(*UpscaleError), ""},
		{"odd height", Rung{Height: 541, VideoBitrate: 1_500_000}, new(*LadderError), ""},
		{"upmix", Rung{Height: 360, VideoBitrate: 600_000, AudioChannels: 6}, new(*LadderError), ""},
		{"above the master's bit rate", Rung{Height: 720, VideoBitrate: 4_000_000}, nil, "more than the master's video"},
		{"stretched", Rung{Width: 640, Height: 480, VideoBitrate: 800_000}, nil, "stretched"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			warns, err := m.CheckRung(2, c.r)
			switch {
			case c.err == nil && err != nil:
				t.Fatalf("unexpected error %v", err)
			case c.err != nil && (err == nil || !errors.As(err, c.err)):
				t.Fatalf("got %v, want %T", err, c.err)
			}
			got := strings.Join(warns, "\n")
			if (c.warn == "") != (got == "") || !strings.Contains(got, c.warn) {
				t.Fatalf("warnings %q, want one containing %q", got, c.warn)
			}
			if err != nil && !strings.Contains(err.Error(), "rung 2") {
				t.Errorf("the error does not name the row: %v", err)
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	cases := []struct {
		in   string
		w, h int
		ok   bool
	}{{"1280x720", 1280, 720, true}, {" 720p ", 0, 720, true}, {"480", 0, 480, true}, {"720i", 0, 0, false},
		{"x720", 0, 0, false}, {"", 0, 0, false}}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			w, h, err := ParseSize(c.in)
			if (err == nil) != c.ok || w != c.w || h != c.h {
				t.Fatalf("ParseSize(%q) = %d, %d, %v", c.in, w, h, err)
			}
		})
	}
}
