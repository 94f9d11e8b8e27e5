package encode

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"satchel/engine/probe"
)

var (
	masterOnce sync.Once
	masterPath string
	masterErr  error
	masterDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if masterDir != "" {
		os.RemoveAll(masterDir)
	}
	os.Exit(code)
}

// testMaster is a 4 s 1920x1080 24 fps master with stereo audio, made once per test run with
// ffmpeg's lavfi sources (testsrc2 moves in every frame, so rate control has work to do).
func testMaster(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Fatal("ffmpeg is required (make test installs it)")
	}
	masterOnce.Do(func() {
		if masterDir, masterErr = os.MkdirTemp("", "satchel-encode-test-"); masterErr != nil {
			return
		}
		masterPath = filepath.Join(masterDir, "master.mp4")
		masterErr = ffmpeg("-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=24:duration=4",
			"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=4", "-ac", "2",
			"-c:v", "libx264", "-preset", "ultrafast", "-b:v", "8M", "-pix_fmt", "yuv420p", "-c:a", "aac", masterPath)
	})
	if masterErr != nil {
		t.Fatal(masterErr)
	}
	return masterPath
}

func ffmpeg(args ...string) error {
	out, err := exec.Command("ffmpeg", append([]string{"-v", "error", "-y"}, args...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ffmpeg %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// threeRungs is the test ladder: small sizes and bit rates keep the test fast.
var threeRungs = Ladder{Name: "test", Rungs: []Rung{
	{Height: 480, VideoBitrate: 900_000, AudioBitrate: 96_000},
	{Height: 360, VideoBitrate: 500_000, AudioBitrate: 64_000},
	{Height: 240, VideoBitrate: 250_000, AudioBitrate: 64_000, AudioChannels: 1},
}}

// events collects progress events (Encode serialises the callback; the lock is for the test
// reading them afterwards).
type events struct {
	mu  sync.Mutex
	all []Progress
}

func (e *events) add(p Progress) { e.mu.Lock(); e.all = append(e.all, p); e.mu.Unlock() }

func (e *events) list() []Progress {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Progress(nil), e.all...)
}

// TestEncodeLadder encodes a 3-rung ladder from a 1080p master in one ffmpeg process and
// checks, with engine/probe, everything packaging relies on, then re-runs it from the cache.
func TestEncodeLadder(t *testing.T) {
	out := filepath.Join(t.TempDir(), "ladder")
	cfg := Config{Master: testMaster(t), Ladder: threeRungs, OutDir: out, SegmentDuration: time.Second,
		Speed: SpeedUltrafast, Quality: true}
	var ev events
	res, err := Encode(context.Background(), cfg, ev.add)
	if err != nil {
		t.Fatal(err)
	}
	checkLadderFiles(t, res, []string{"854x480", "640x360", "426x240"})
	checkProgress(t, ev.list(), 3)
	checkCommands(t, res)
	for _, r := range res.Rungs {
		if r.Quality == nil || r.Quality.PSNR < 30 || r.Quality.SSIM < 0.9 {
			t.Errorf("rung %s quality %+v: want PSNR > 30 dB, SSIM > 0.9", r.Rung.Name, r.Quality)
		}
	}
	caps, _ := Tools{}.Capabilities(context.Background())
	if !caps.VMAF && !strings.Contains(res.QualityNote, "VMAF") {
		t.Errorf("no VMAF here, but the note says %q", res.QualityNote)
	}

	start := time.Now()
	var again events
	res2, err := Encode(context.Background(), cfg, again.add)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res2.Rungs {
		if !r.Cached || r.Quality == nil || *r.Quality != *res.Rungs[i].Quality {
			t.Errorf("re-run: rung %s cached=%v quality %+v", r.Rung.Name, r.Cached, r.Quality)
		}
	}
	if len(res2.Commands) != 0 {
		t.Errorf("re-run ran %d commands, want none", len(res2.Commands))
	}
	for _, p := range again.list() {
		if p.Phase != PhaseCached {
			t.Errorf("re-run progress %+v, want only cached events", p)
		}
	}
	t.Logf("re-run from cache took %s", time.Since(start))
}

// checkLadderFiles probes each rung independently of Encode: size, codec, audio, alignment,
// equal durations, bit rate within 15 % of the target.
func checkLadderFiles(t *testing.T, res *Result, sizes []string) {
	t.Helper()
	var assets []*probe.Asset
	for i, r := range res.Rungs {
		a, err := probe.Probe(context.Background(), r.Path)
		if err != nil {
			t.Fatal(err)
		}
		assets = append(assets, a)
		v := a.Video()
		if got := fmt.Sprintf("%dx%d", v.Width, v.Height); got != sizes[i] {
			t.Errorf("rung %d is %s, want %s", i, got, sizes[i])
		}
		if target := float64(r.Rung.VideoBitrate); float64(v.Bitrate) < 0.85*target || float64(v.Bitrate) > 1.15*target {
			t.Errorf("rung %s: %d b/s, more than 15%% from the %d b/s target", r.Rung.Name, v.Bitrate, int64(target))
		}
		if d := v.Duration - assets[0].Video().Duration; d < -time.Millisecond || d > time.Millisecond {
			t.Errorf("rung %s lasts %s, rung 0 %s", r.Rung.Name, v.Duration, assets[0].Video().Duration)
		}
		// Channels as ffprobe reads them from the AAC config: an MP4 sample entry's channel
		// count is a template field (ffmpeg writes 2 even for mono).
		if ch := ffprobeChannels(t, r.Path); r.Rung.NoAudio != (a.Audio() == nil) || ch != r.Rung.AudioChannels {
			t.Errorf("rung %s: %d audio channels, want %d", r.Rung.Name, ch, r.Rung.AudioChannels)
		}
		want := []time.Duration{0, time.Second, 2 * time.Second, 3 * time.Second}
		if fmt.Sprint(v.SyncTimes) != fmt.Sprint(want) {
			t.Errorf("rung %s keyframes at %v, want %v", r.Rung.Name, v.SyncTimes, want)
		}
	}
	if err := probe.CheckLadder(assets); err != nil {
		t.Errorf("CheckLadder: %v", err)
	}
	if parts, _ := filepath.Glob(filepath.Join(res.OutDir, ".*"+partSuffix)); len(parts) > 0 {
		t.Errorf("partial files left: %v", parts)
	}
}

func ffprobeChannels(t *testing.T, path string) int {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries", "stream=channels",
		"-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	fmt.Sscan(string(out), &n)
	return n
}

// checkProgress: every rung reports encode progress from a process, monotonic, then done.
func checkProgress(t *testing.T, evs []Progress, rungs int) {
	t.Helper()
	last := make([]time.Duration, rungs)
	done := make([]bool, rungs)
	pids := map[int]bool{}
	for _, p := range evs {
		if p.Rung < 0 || p.Rung >= rungs || p.Fraction() < 0 || p.Fraction() > 1 {
			t.Fatalf("bad event %+v", p)
		}
		switch p.Phase {
		case PhaseEncode:
			if p.PID <= 0 || p.OutTime < last[p.Rung] || done[p.Rung] {
				t.Errorf("encode event %+v after %s (done %v)", p, last[p.Rung], done[p.Rung])
			}
			pids[p.PID] = true
			last[p.Rung] = p.OutTime
		case PhaseDone:
			done[p.Rung] = true
		}
	}
	for i, d := range done {
		if !d {
			t.Errorf("rung %d never reported done", i)
		}
	}
	if len(pids) != 1 {
		t.Errorf("one-process encode reported PIDs %v", pids)
	}
}

// checkCommands: the commands shown to users are copyable (final names, no progress pipe);
// the ones run write temporary names.
func checkCommands(t *testing.T, res *Result) {
	t.Helper()
	if len(res.Commands) != 2 || res.Commands[0].Purpose != PurposeEncode || res.Commands[1].Purpose != PurposeQuality {
		t.Fatalf("commands %+v", res.Commands)
	}
	enc := res.Commands[0]
	for _, r := range res.Rungs {
		if !strings.Contains(enc.Line, r.Path) || strings.Contains(enc.Line, partSuffix) ||
			strings.Contains(enc.Line, "-progress") {
			t.Errorf("copyable line does not write %s plainly: %s", r.Path, enc.Line)
		}
	}
	args := strings.Join(enc.Args, " ")
	if !strings.Contains(args, partSuffix) || !strings.Contains(args, "-progress pipe:1") {
		t.Errorf("run args: %s", args)
	}
}

// TestEncodeCancelAndResume: finished rungs survive a cancelled run; the killed encoder is
// gone (checked by PID), leaves no output that looks complete, and the next run reuses the
// finished rungs and encodes only the rest.
func TestEncodeCancelAndResume(t *testing.T) {
	out := filepath.Join(t.TempDir(), "ladder")
	small := Ladder{Rungs: threeRungs.Rungs[1:]}
	cfg := Config{Master: testMaster(t), Ladder: small, OutDir: out, SegmentDuration: time.Second, Speed: SpeedUltrafast}
	if _, err := Encode(context.Background(), cfg, nil); err != nil {
		t.Fatal(err)
	}
	big := Rung{Height: 1080, VideoBitrate: 2_000_000}
	cfg.Ladder = Ladder{Rungs: append([]Rung{big}, small.Rungs...)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var pids sync.Map
	cancelled := false
	_, err := Encode(ctx, cfg, func(p Progress) {
		if p.PID > 0 {
			pids.Store(p.PID, true)
		}
		if p.Rung == 0 && p.Phase == PhaseEncode && p.Frame > 0 && !cancelled {
			cancelled = true
			cancel() // mid-way: the 1080p rung has frames out
		}
	})
	if !cancelled {
		t.Fatalf("the encode ended (%v) before reporting progress to cancel at", err)
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	checkNoProcesses(t, &pids)
	checkOnlyFinished(t, out, "1920x1080", 3) // the two finished rungs and the manifest

	res, err := Encode(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rungs[0].Cached || !res.Rungs[1].Cached || !res.Rungs[2].Cached {
		t.Errorf("resume: cached = %v %v %v, want false true true",
			res.Rungs[0].Cached, res.Rungs[1].Cached, res.Rungs[2].Cached)
	}
	if len(res.Commands) != 1 || len(res.Commands[0].Rungs) != 1 || res.Commands[0].Rungs[0] != 0 {
		t.Errorf("resume ran %+v, want only rung 0 encoded", res.Commands)
	}
}

// checkNoProcesses: no PID reported during a job still exists.
func checkNoProcesses(t *testing.T, pids *sync.Map) {
	t.Helper()
	n := 0
	pids.Range(func(k, _ any) bool {
		n++
		if processAlive(k.(int)) {
			t.Errorf("encoder PID %d still exists after Encode returned", k)
		}
		return true
	})
	if n == 0 {
		t.Error("no encoder PID was reported")
	}
}

// checkOnlyFinished: the folder holds n entries and nothing of the cancelled rung.
func checkOnlyFinished(t *testing.T, dir, cancelled string, n int) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		if strings.Contains(e.Name(), cancelled) || strings.HasSuffix(e.Name(), partSuffix) {
			t.Errorf("cancelled rung left %s", e.Name())
		}
	}
	if len(names) != n {
		t.Errorf("output folder after cancel: %v, want %d entries", names, n)
	}
}

// TestEncodeStrategiesAndCodecs encodes HEVC and AV1 rungs with the parallel strategy; the
// ladder must come out aligned and tagged as Apple and packaging need (hvc1, av01).
func TestEncodeStrategiesAndCodecs(t *testing.T) {
	out := filepath.Join(t.TempDir(), "ladder")
	l := Ladder{Rungs: []Rung{
		{Height: 360, VideoBitrate: 400_000, Codec: HEVC},
		{Height: 240, VideoBitrate: 250_000, Codec: AV1},
		{Height: 180, VideoBitrate: 150_000, NoAudio: true},
	}}
	var ev events
	res, err := Encode(context.Background(), Config{Master: testMaster(t), Ladder: l, OutDir: out,
		SegmentDuration: 2 * time.Second, Speed: SpeedUltrafast, Strategy: Parallel, Concurrency: 2}, ev.add)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Commands) != 3 {
		t.Errorf("parallel ran %d commands, want 3", len(res.Commands))
	}
	pids := map[int]bool{}
	for _, p := range ev.list() {
		if p.PID > 0 {
			pids[p.PID] = true
		}
	}
	if len(pids) != 3 {
		t.Errorf("parallel reported PIDs %v, want 3", pids)
	}
	var assets []*probe.Asset
	for i, want := range []string{"hvc1", "av01", "avc1"} {
		a, err := probe.Probe(context.Background(), res.Rungs[i].Path)
		if err != nil {
			t.Fatal(err)
		}
		if se := a.Video().SampleEntry; se != want {
			t.Errorf("rung %d sample entry %s, want %s", i, se, want)
		}
		if got := fmt.Sprint(a.Video().SyncTimes); got != "[0s 2s]" {
			t.Errorf("rung %d keyframes %s, want [0s 2s]", i, got)
		}
		assets = append(assets, a)
	}
	if a := assets[2].Audio(); a != nil {
		t.Errorf("the no-audio rung has audio %+v", a)
	}
	if err := probe.CheckLadder(assets); err != nil {
		t.Error(err)
	}
}

// TestEncodeBadInput: each bad master or request is refused before any encoding, with an
// error of the kind callers can phrase a fix for.
func TestEncodeBadInput(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.mov")
	if err := os.WriteFile(text, []byte("this is not a video\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	still := filepath.Join(dir, "still.png")
	if err := ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=1", "-frames:v", "1", still); err != nil {
		t.Fatal(err)
	}
	master := testMaster(t)
	ok := Ladder{Rungs: []Rung{{Height: 240, VideoBitrate: 250_000}}}
	uhd := Ladder{Rungs: []Rung{{Width: 3840, Height: 2160, VideoBitrate: 8_000_000}}}
	upmix := Ladder{Rungs: []Rung{{Height: 240, VideoBitrate: 250_000, AudioChannels: 6}}}
	badSegment := func(err error) bool { return strings.Contains(err.Error(), "segment duration") }
	cases := []struct {
		name   string
		master string
		ladder Ladder
		seg    time.Duration
		check  func(error) bool
	}{
		{"missing", filepath.Join(dir, "nope.mov"), ok, 0, isErr(ErrMasterMissing)},
		{"not a video", text, ok, 0, isErr(ErrNotMedia)},
		{"audio only", "../../testdata/media/audio_only.m4a", ok, 0, isErr(ErrNoVideo)},
		{"still image", still, ok, 0, isErr(ErrStillImage)},
		{"folder", dir, ok, 0, isErr(ErrNotMedia)},
		{"upscale", master, uhd, 0, isType[*UpscaleError]},
		{"invalid ladder", master, Ladder{Rungs: []Rung{{Height: 241, VideoBitrate: 250_000}}}, 0, isType[*LadderError]},
		{"upmix", master, upmix, 0, isType[*LadderError]},
		{"segment", master, ok, 45 * time.Second, badSegment},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(dir, "out-"+strings.ReplaceAll(c.name, " ", "-"))
			_, err := Encode(context.Background(), Config{Master: c.master, Ladder: c.ladder, OutDir: out,
				SegmentDuration: c.seg, Speed: SpeedUltrafast}, nil)
			if err == nil || !c.check(err) {
				t.Fatalf("got %v", err)
			}
			if _, statErr := os.Stat(out); !errors.Is(statErr, os.ErrNotExist) {
				t.Errorf("a refused job created %s", out)
			}
		})
	}
	if _, err := Encode(context.Background(), Config{Master: master, Ladder: ok, OutDir: dir + "/x",
		Tools: Tools{FFmpeg: "/nonexistent/ffmpeg"}}, nil); !isErr(ErrToolMissing)(err) {
		t.Errorf("missing ffmpeg: got %v", err)
	}
}

func isErr(target error) func(error) bool {
	return func(err error) bool { return errors.Is(err, target) }
}

func isType[T error](err error) bool {
	var target T
	return errors.As(err, &target)
}

// TestEncodeRotatedMaster: a phone clip stored landscape and displayed portrait gives
// portrait rungs (ffmpeg rotates while decoding; the plan must agree).
func TestEncodeRotatedMaster(t *testing.T) {
	dir := t.TempDir()
	stored := filepath.Join(dir, "stored.mp4")
	rotated := filepath.Join(dir, "phone.mp4")
	if err := ffmpeg("-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30:duration=2", "-c:v", "libx264",
		"-preset", "ultrafast", stored); err != nil {
		t.Fatal(err)
	}
	if err := ffmpeg("-i", stored, "-c", "copy", "-metadata:s:v:0", "rotate=90", rotated); err != nil {
		t.Fatal(err)
	}
	m, err := ProbeMaster(context.Background(), Tools{}, rotated)
	if err != nil {
		t.Fatal(err)
	}
	l := AutoLadder(m)
	res, err := Encode(context.Background(), Config{Master: rotated, Ladder: l, OutDir: filepath.Join(dir, "out"),
		Speed: SpeedUltrafast, SegmentDuration: time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := probe.Probe(context.Background(), res.Rungs[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	if v := a.Video(); v.Width != 360 || v.Height != 640 {
		t.Errorf("top rung %dx%d, want 360x640 (portrait)", v.Width, v.Height)
	}
}
