package services

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"satchel/app/jobs"
	"satchel/engine/drm"
	"satchel/engine/encode"
	"satchel/internal/field"
	"satchel/internal/testmedia"
)

// testLadder is the three-rung ladder the encode tests make from the 1080p test master:
// small sizes and bit rates keep them fast.
var testLadder = encode.Ladder{Name: "test", Rungs: []encode.Rung{
	{Height: 480, VideoBitrate: 900_000, AudioBitrate: 96_000},
	{Height: 360, VideoBitrate: 500_000, AudioBitrate: 64_000},
	{Height: 240, VideoBitrate: 250_000, AudioBitrate: 64_000},
}}

func TestEncodeRequestValidate(t *testing.T) {
	master := testmedia.Master(t)
	ladderFile := filepath.Join(t.TempDir(), "ladder.txt")
	if err := os.WriteFile(ladderFile, []byte("720p 2500k\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ok := EncodeRequest{Master: master, Preset: encode.PresetAuto, OutDir: "out"}
	with := func(f func(*EncodeRequest)) EncodeRequest { r := ok; f(&r); return r }
	bad := encode.Ladder{Rungs: []encode.Rung{{Height: 721, VideoBitrate: 1e6}}}
	cases := []struct {
		name  string
		req   EncodeRequest
		field string // the *field.Error's field; "" for none
		rung  bool   // an *encode.LadderError
	}{
		{"valid preset", ok, "", false},
		{"valid file", with(func(r *EncodeRequest) { r.Preset, r.LadderFile = "", ladderFile }), "", false},
		{"valid rows", with(func(r *EncodeRequest) { r.Preset, r.Ladder = "", &testLadder }), "", false},
		{"no master", with(func(r *EncodeRequest) { r.Master = "" }), "master", false},
		{"missing master", with(func(r *EncodeRequest) { r.Master = "nope.mov" }), "master", false},
		{"master is a folder", with(func(r *EncodeRequest) { r.Master = t.TempDir() }), "master", false},
		{"no ladder", with(func(r *EncodeRequest) { r.Preset = "" }), "ladder", false},
		{"two ladders", with(func(r *EncodeRequest) { r.LadderFile = ladderFile }), "ladder", false},
		{"unknown preset", with(func(r *EncodeRequest) { r.Preset = "4k" }), "ladder", false},
		{"missing ladder file", with(func(r *EncodeRequest) { r.Preset, r.LadderFile = "", "no.txt" }), "ladder_file", false},
		{"bad rows", with(func(r *EncodeRequest) { r.Preset, r.Ladder = "", &bad }), "", true},
		{"codec", with(func(r *EncodeRequest) { r.Codec = "vp9" }), "codec", false},
		{"no output", with(func(r *EncodeRequest) { r.OutDir = " " }), "out_dir", false},
		{"segment", with(func(r *EncodeRequest) { r.SegmentDuration = 45 * time.Second }), "segment_duration", false},
		{"speed", with(func(r *EncodeRequest) { r.Speed = "warp" }), "speed", false},
		{"strategy", with(func(r *EncodeRequest) { r.Strategy = "cloud" }), "strategy", false},
		{"concurrency", with(func(r *EncodeRequest) { r.Concurrency = -1 }), "concurrency", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.req.Validate()
			var fe *field.Error
			var le *encode.LadderError
			switch {
			case c.field == "" && !c.rung && err != nil:
				t.Fatalf("unexpected error %v", err)
			case c.field != "" && (!errors.As(err, &fe) || fe.Field != c.field):
				t.Fatalf("got %v, want a problem with %s", err, c.field)
			case c.rung && (!errors.As(err, &le) || le.Rung != 1):
				t.Fatalf("got %v, want a *encode.LadderError for rung 1", err)
			}
		})
	}
	// A package request with a master: its encode problems are named as such.
	pr := DefaultPackageRequest()
	pr.OutDir, pr.Encode = "pkg", &EncodeRequest{Master: master, Preset: "4k"}
	var fe *field.Error
	if err := pr.Validate(); !errors.As(err, &fe) || fe.Field != "encode.ladder" {
		t.Fatalf("package from a master with a bad preset: %v", err)
	}
	pr.Encode.Preset, pr.Inputs = encode.PresetAuto, []string{media + "ladder_240p.mp4"}
	if err := pr.Validate(); !errors.As(err, &fe) || fe.Field != "inputs" {
		t.Fatalf("inputs and a master: %v", err)
	}
}

// TestEncodeProbePackageVerifyPlay is issue 14's end-to-end test through the services: a 1080p
// master with audio encoded to a three-rung ladder (with quality), probed independently
// (aligned, equal durations, sizes, bit rates within 15 %), then encoded-and-packaged in one
// job that reuses the rungs, verified (PASS) and played by Shaka Player in headless Chromium.
func TestEncodeProbePackageVerifyPlay(t *testing.T) {
	s := open(t)
	master := testmedia.Master(t)
	rungs := filepath.Join(t.TempDir(), "rungs")
	req := EncodeRequest{Master: master, Ladder: &testLadder, OutDir: rungs, SegmentDuration: 2 * time.Second,
		Speed: encode.SpeedUltrafast, Quality: true}
	evs := collect(s)
	j, err := s.StartEncode(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	v, err := j.Wait()
	if err != nil {
		t.Fatal(err)
	}
	res := v.(*EncodeResult)
	checkEncodeEvents(t, evs.of(j.ID()), []string{"854x480_900k", "640x360_500k", "426x240_250k", "quality"})
	checkRungs(t, res, []string{"854x480", "640x360", "426x240"})
	if len(res.Quality) != 3 || len(res.Commands) != 2 || !strings.HasPrefix(res.Commands[0].Line, "ffmpeg ") {
		t.Fatalf("quality table %+v, commands %+v", res.Quality, res.Commands)
	}
	if rec := j.Snapshot(); rec.Kind != KindEncode || !slices.ContainsFunc(rec.Log, func(l string) bool {
		return strings.Contains(l, "command: ffmpeg ")
	}) {
		t.Errorf("job record %s, log %q: want the command lines logged", rec.Kind, rec.Log)
	}
	if last, ok := s.LastEncode(); !ok || len(last.Quality) != 3 || last.SegmentDuration != 2*time.Second {
		t.Errorf("LastEncode from the history: %+v", last)
	}
	// The rungs are the selected assets, aligned: the ladder Package uses.
	if paths, err := s.SelectedLadder(); err != nil || !slices.Equal(sorted(paths), sorted(res.Paths())) {
		t.Fatalf("selected ladder %v (%v), want %v", paths, err, res.Paths())
	}

	out := filepath.Join(t.TempDir(), "pkg")
	pkg := DefaultPackageRequest()
	pkg.OutDir, pkg.SegmentDuration = out, 2*time.Second
	pkg.Schemes = []drm.Scheme{drm.SchemeCENC} // what the player plays; cbcs is the packager's own tests' business
	pkg.Encode = &EncodeRequest{Master: master, Ladder: &testLadder, OutDir: rungs, Speed: encode.SpeedUltrafast}
	j, err = s.StartPackage(context.Background(), pkg)
	if err != nil {
		t.Fatal(err)
	}
	v, err = j.Wait()
	if err != nil {
		t.Fatal(err)
	}
	pres := v.(*PackageResult)
	if pres.Encode == nil || len(pres.Encode.Commands) != 0 || len(pres.Renditions) < 4 {
		t.Fatalf("package from the master: encode %+v, %d renditions", pres.Encode, len(pres.Renditions))
	}
	t0 := time.Now()
	verifyPass(t, s, out)
	t.Logf("verified in %s", time.Since(t0))
	t0 = time.Now()
	playPackage(t, s, out)
	t.Logf("played in %s", time.Since(t0))
}

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }

// checkRungs probes the rungs independently of the encoder: sizes, alignment, equal
// durations, bit rates within 15 % of the targets, audio, keyframes every 2 s.
func checkRungs(t *testing.T, res *EncodeResult, sizes []string) {
	t.Helper()
	pr, err := Probe(context.Background(), res.Paths())
	if err != nil {
		t.Fatal(err)
	}
	if !pr.Aligned {
		t.Fatalf("the encoded ladder is not aligned: %s", pr.Alignment)
	}
	for i, a := range pr.Assets {
		v := a.Video()
		if got := fmt.Sprintf("%dx%d", v.Width, v.Height); got != sizes[i] {
			t.Errorf("rung %d is %s, want %s", i, got, sizes[i])
		}
		target := float64(res.Rungs[i].Rung.VideoBitrate)
		if b := float64(v.Bitrate); b < 0.85*target || b > 1.15*target {
			t.Errorf("rung %d: %.0f b/s, more than 15%% from the %.0f b/s target", i, b, target)
		}
		if d := v.Duration - pr.Assets[0].Video().Duration; d < -time.Millisecond || d > time.Millisecond {
			t.Errorf("rung %d lasts %s, rung 0 %s", i, v.Duration, pr.Assets[0].Video().Duration)
		}
		if a.Audio() == nil || !slices.Equal(v.SyncTimes, []time.Duration{0, 2 * time.Second}) {
			t.Errorf("rung %d: audio %v, keyframes at %v", i, a.Audio() != nil, v.SyncTimes)
		}
	}
}

// events collects a service's job events.
type events struct {
	mu  sync.Mutex
	all []jobs.Event
}

func collect(s *Service) *events {
	e := &events{}
	ch, _ := s.Jobs.Subscribe(4096) // unsubscribed when the service closes
	go func() {
		for ev := range ch {
			e.mu.Lock()
			e.all = append(e.all, ev)
			e.mu.Unlock()
		}
	}()
	return e
}

func (e *events) of(id string) []jobs.Event {
	time.Sleep(100 * time.Millisecond) // the last events are delivered asynchronously
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []jobs.Event
	for _, ev := range e.all {
		if ev.JobID == id {
			out = append(out, ev)
		}
	}
	return out
}

// checkEncodeEvents: per-rung progress in frames with fps and speed, every item finished.
func checkEncodeEvents(t *testing.T, evs []jobs.Event, items []string) {
	t.Helper()
	last := map[string]jobs.Event{}
	fps := false
	for _, ev := range evs {
		if ev.Item == "" {
			continue
		}
		if ev.Unit != "frames" || ev.Total <= 0 || ev.Done > ev.Total || ev.Done < last[ev.Item].Done {
			t.Errorf("progress event %+v after %+v", ev, last[ev.Item])
		}
		fps = fps || (ev.Rate > 0 && ev.Speed > 0)
		last[ev.Item] = ev
	}
	for _, item := range items {
		if ev, ok := last[item]; !ok || ev.Done != ev.Total {
			t.Errorf("item %s: last event %+v, want it finished", item, ev)
		}
	}
	if !fps {
		t.Error("no progress event carried fps and speed")
	}
}

func verifyPass(t *testing.T, s *Service, out string) {
	t.Helper()
	j, err := s.StartVerify(context.Background(), VerifyRequest{Path: out})
	if err != nil {
		t.Fatal(err)
	}
	v, err := j.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if rep := v.(*VerifyResult).Report; rep.Failed() {
		for _, f := range rep.Findings {
			t.Logf("%s %s %s: %s", f.Status, f.Category, f.Subject, f.Message)
		}
		t.Fatal("verify failed on the package made from the encoded ladder")
	}
}

// playPackage plays the package's DASH manifest with the demo player (Shaka Player, EME
// ClearKey licenses from the embedded server) in headless Chromium.
func playPackage(t *testing.T, s *Service, out string) {
	t.Helper()
	browser := chromiumBrowser(t)
	url, err := s.StartLicenseServer(context.Background(), LicenseOptions{Addr: "127.0.0.1:0", ContentDir: out})
	if err != nil {
		t.Fatal(err)
	}
	defer s.StopLicenseServer()
	page := openPage(t, browser, url+"/player/?mode=package&autoplay=1")
	log := page.waitLog(t, 60*time.Second, "package playing", "segments from cenc/")
	if strings.Contains(log, "Shaka error") {
		t.Errorf("the player reported an error:\n%s", log)
	}
}

// TestEncodeThenPackageCancel cancels an encode-then-package job while it encodes: no encoder
// is left running, the package folder is never created, only rungs finished before the run
// are in the renditions folder; the same request then reuses them and encodes only the rest.
func TestEncodeThenPackageCancel(t *testing.T) {
	s := open(t)
	master := testmedia.Master(t)
	rungs := filepath.Join(t.TempDir(), "rungs")
	small := encode.Ladder{Rungs: testLadder.Rungs[1:]}
	enc := EncodeRequest{Master: master, Ladder: &small, OutDir: rungs, Speed: encode.SpeedUltrafast}
	j, err := s.StartEncode(context.Background(), enc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.Wait(); err != nil {
		t.Fatal(err)
	}
	big := encode.Ladder{Rungs: append([]encode.Rung{{Height: 1080, VideoBitrate: 2_000_000}}, small.Rungs...)}
	out := filepath.Join(t.TempDir(), "pkg")
	pkg := DefaultPackageRequest()
	pkg.OutDir = out
	pkg.Encode = &EncodeRequest{Master: master, Ladder: &big, OutDir: rungs, Speed: encode.SpeedUltrafast}

	ch, unsub := s.Jobs.Subscribe(1024)
	defer unsub()
	j, err = s.StartPackage(context.Background(), pkg)
	if err != nil {
		t.Fatal(err)
	}
	cancelAt(t, j, ch, "1920x1080_2000k")
	if rec := j.Snapshot(); rec.State != jobs.Cancelled {
		t.Fatalf("job %s (%s), want cancelled", rec.State, rec.Error)
	}
	checkNoEncoders(t, j.Snapshot().Log)
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the cancelled job left the package folder: %v", err)
	}
	checkFolder(t, filepath.Dir(out), []string{"pkg"}, nil) // no temporary package folder either
	base := strings.TrimSuffix(filepath.Base(master), filepath.Ext(master))
	checkFolder(t, rungs, []string{base}, []string{encode.ManifestName})

	j, err = s.StartPackage(context.Background(), pkg)
	if err != nil {
		t.Fatal(err)
	}
	v, err := j.Wait()
	if err != nil {
		t.Fatal(err)
	}
	res := v.(*PackageResult)
	if c := res.Encode.Commands; len(c) != 1 || !slices.Equal(c[0].Rungs, []int{0}) ||
		res.Encode.Rungs[0].Cached || !res.Encode.Rungs[1].Cached || !res.Encode.Rungs[2].Cached {
		t.Fatalf("re-run ran %+v; want only the 1080p rung encoded, the others reused", c)
	}
	if _, err := os.Stat(filepath.Join(out, "manifest.mpd")); err != nil {
		t.Fatal(err)
	}
}

// cancelAt cancels job j once item has encoded frames, and waits for it to end.
func cancelAt(t *testing.T, j *jobs.Job, ch <-chan jobs.Event, item string) {
	t.Helper()
	timeout := time.After(2 * time.Minute)
	for {
		select {
		case ev := <-ch:
			if ev.JobID == j.ID() && ev.Item == item && ev.Done > 0 {
				j.Cancel()
				<-j.Done()
				return
			}
		case <-j.Done():
			t.Fatalf("the job ended (%s) before %s reported progress", j.Snapshot().State, item)
		case <-timeout:
			t.Fatalf("no progress from %s", item)
		}
	}
}

var pidRE = regexp.MustCompile(`ffmpeg PID (\d+):`)

// checkNoEncoders: every ffmpeg PID the job logged is gone.
func checkNoEncoders(t *testing.T, log []string) {
	t.Helper()
	n := 0
	for _, l := range log {
		m := pidRE.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		n++
		pid, _ := strconv.Atoi(m[1])
		if p, err := os.FindProcess(pid); err == nil && p.Signal(syscall.Signal(0)) == nil {
			t.Errorf("encoder PID %d still runs after the job was cancelled", pid)
		}
	}
	if n == 0 {
		t.Errorf("the job logged no encoder PID: %q", log)
	}
}

// checkFolder: every entry of dir is named in exact or starts with a prefix in prefixes.
func checkFolder(t *testing.T, dir string, prefixes, exact []string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		ok := slices.Contains(exact, e.Name())
		for _, p := range prefixes {
			ok = ok || (strings.HasPrefix(e.Name(), p) && !strings.Contains(e.Name(), "1920x1080"))
		}
		if !ok || strings.HasPrefix(e.Name(), ".") {
			t.Errorf("%s holds %s after the cancelled job", dir, e.Name())
		}
	}
	t.Logf("%s: %v", dir, names)
}
