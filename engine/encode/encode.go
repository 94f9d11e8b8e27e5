// Package encode turns one master file into a GOP-aligned bitrate ladder of MP4 renditions
// that Satchel's packager accepts as they are. It drives ffmpeg and ffprobe as external
// processes (it links no codec): ladders and presets modelled on Azure Media Services',
// closed GOPs with keyframes forced on the same frames in every rung, one decode of the master
// feeding every encoder, per-rung progress, cancellation that kills what it started, a cache
// of finished rungs, copyable command lines, and PSNR/SSIM/VMAF against the master.
//
// It is not a general transcoder: outputs are always MP4 with H.264, HEVC or AV1 video and
// AAC audio, at the master's frame rate, never larger than the master.
package encode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"satchel/engine/probe"
)

// Result describes a finished ladder.
type Result struct {
	OutDir          string        `json:"out_dir"`
	Master          *Master       `json:"master"`
	Ladder          Ladder        `json:"ladder"` // resolved
	Rungs           []RungResult  `json:"rungs"`  // in ladder order
	FrameRate       Rational      `json:"frame_rate"`
	GOPFrames       int           `json:"gop_frames"`
	SegmentDuration time.Duration `json:"segment_duration_ns"` // package with this segment duration
	Strategy        Strategy      `json:"strategy"`
	Commands        []Command     `json:"commands"` // what ran, encode then quality
	// QualityNote says what was not measured and why (VMAF without libvmaf).
	QualityNote string   `json:"quality_note,omitempty"`
	Warnings    []string `json:"warnings,omitempty"`
}

// RungResult is one finished rendition.
type RungResult struct {
	Index        int           `json:"index"`
	Rung         Rung          `json:"rung"`
	Path         string        `json:"path"`
	Cached       bool          `json:"cached"` // reused from an earlier run, not encoded now
	Bytes        int64         `json:"bytes"`
	Duration     time.Duration `json:"duration_ns"`   // of the video track
	VideoBitrate int64         `json:"video_bitrate"` // measured from the file, b/s
	AudioBitrate int64         `json:"audio_bitrate,omitempty"`
	Quality      *Quality      `json:"quality,omitempty"`
}

// Paths are the rung files in ladder order: the inputs to give the packager.
func (r *Result) Paths() []string {
	paths := make([]string, len(r.Rungs))
	for i, rr := range r.Rungs {
		paths[i] = rr.Path
	}
	return paths
}

// Encode plans and runs an encode job (NewPlan, then Plan.Run).
func Encode(ctx context.Context, cfg Config, progress func(Progress)) (*Result, error) {
	p, err := NewPlan(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return p.Run(ctx, progress)
}

// Run encodes the rungs that are not cached, checks the whole ladder (every rung probed with
// engine/probe, GOP-aligned per probe.CheckLadder, keyframes on every segment boundary, equal
// durations) and measures quality when asked. progress (may be nil) is called from one
// goroutine at a time. Cancelling ctx kills every ffmpeg the job started and removes their
// partial files; rungs finished before that stay, and a later run reuses them. Run a plan
// once.
func (p *Plan) Run(ctx context.Context, progress func(Progress)) (*Result, error) {
	if err := os.MkdirAll(p.cfg.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("create output folder: %w", err)
	}
	removeStaleParts(p.cfg.OutDir)
	rep := &reporter{fn: progress}
	for i, o := range p.Outputs {
		if o.Cached {
			rep.send(Progress{Rung: i, Name: o.Rung.Name, Phase: PhaseCached, Done: true})
		}
	}
	res := &Result{OutDir: p.cfg.OutDir, Master: p.Master, Ladder: p.Ladder, FrameRate: p.FrameRate,
		GOPFrames: p.GOPFrames, SegmentDuration: p.SegmentDuration, Strategy: p.Strategy, Warnings: p.Warnings}
	ran := append([]Command(nil), p.Commands...)
	if err := p.encodeAll(ctx, ran, rep); err != nil {
		return nil, err
	}
	res.Commands = ran
	if err := p.check(ctx, res); err != nil {
		return nil, err
	}
	if p.cfg.Quality {
		if !p.VMAF {
			res.QualityNote = NoVMAFReason
		}
		if err := p.measure(ctx, res, rep); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// reporter serialises progress callbacks.
type reporter struct {
	mu sync.Mutex
	fn func(Progress)
}

func (r *reporter) send(p Progress) {
	if r.fn == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fn(p)
}

// encodeAll runs the plan's encode commands: the one command, or one per rung with at most
// Concurrency at once, largest rung first (the longest job starts first). The first failure
// cancels the others.
func (p *Plan) encodeAll(ctx context.Context, cmds []Command, rep *reporter) error {
	if len(cmds) == 0 {
		return nil
	}
	defer func() { // whatever happened, no partial file is left behind
		for _, o := range p.pending() {
			if err := os.Remove(o.tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
				slog.Warn("remove partial rung", "path", o.tmp, "err", err)
			}
		}
	}()
	if len(cmds) == 1 {
		return p.runEncode(ctx, &cmds[0], rep)
	}
	order := make([]int, len(cmds))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return p.pixels(cmds[order[i]]) > p.pixels(cmds[order[j]]) })
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(p.cfg.Concurrency)
	for _, i := range order {
		g.Go(func() error { return p.runEncode(gctx, &cmds[i], rep) })
	}
	err := g.Wait()
	if ctx.Err() != nil {
		return fmt.Errorf("encode %s: %w", filepath.Base(p.Master.Path), ctx.Err())
	}
	return err
}

func (p *Plan) pixels(c Command) int {
	n := 0
	for _, i := range c.Rungs {
		n += p.outs[i].rung.Width * p.outs[i].rung.Height
	}
	return n
}

// runEncode runs one encode command and finishes its outputs.
func (p *Plan) runEncode(ctx context.Context, c *Command, rep *reporter) error {
	pid := 0
	started := func(id int) {
		pid = id
		for _, i := range c.Rungs {
			rep.send(p.progressFor(i, PhaseEncode, pid, ffProgress{}))
		}
	}
	onProgress := func(fp ffProgress) {
		for _, i := range c.Rungs {
			rep.send(p.progressFor(i, PhaseEncode, pid, fp))
		}
	}
	if _, err := runFFmpeg(ctx, c, started, onProgress); err != nil {
		for _, i := range c.Rungs {
			_ = os.Remove(p.outs[i].tmp)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("encode %s: %w", filepath.Base(p.Master.Path), ctx.Err())
		}
		return fmt.Errorf("encode %s: %w", filepath.Base(p.Master.Path), err)
	}
	done := map[string]manifestEntry{}
	for _, i := range c.Rungs {
		e, err := p.finish(ctx, p.outs[i])
		if err != nil {
			return err
		}
		done[filepath.Base(p.outs[i].path)] = e
	}
	if err := p.cache.record(p.Master.Path, done); err != nil {
		return fmt.Errorf("record finished rungs in %s: %w", ManifestName, err)
	}
	for _, i := range c.Rungs {
		rep.send(Progress{Rung: i, Name: p.outs[i].rung.Name, Phase: PhaseDone, Frame: p.Master.Frames(),
			TotalFrames: p.Master.Frames(), OutTime: p.Master.Duration, Duration: p.Master.Duration, Done: true})
	}
	return nil
}

func (p *Plan) progressFor(i int, phase Phase, pid int, fp ffProgress) Progress {
	return Progress{Rung: i, Name: p.outs[i].rung.Name, Phase: phase, PID: pid, Frame: fp.Frame,
		TotalFrames: p.Master.Frames(), OutTime: fp.OutTime, Duration: p.Master.Duration, FPS: fp.FPS,
		Speed: fp.Speed, ETA: eta(fp.OutTime, p.Master.Duration, fp.Speed)}
}

// finish checks a freshly encoded file and moves it into place; it returns its cache entry.
func (p *Plan) finish(ctx context.Context, o output) (manifestEntry, error) {
	a, err := probe.Probe(ctx, o.tmp)
	if err != nil {
		_ = os.Remove(o.tmp)
		return manifestEntry{}, fmt.Errorf("check encoded rung %s: %w", o.rung.Name, err)
	}
	v := a.Video()
	if v == nil || v.Width != o.rung.Width || v.Height != o.rung.Height {
		_ = os.Remove(o.tmp)
		return manifestEntry{}, fmt.Errorf("check encoded rung %s: ffmpeg wrote %s, not %dx%d video", o.rung.Name, describe(v),
			o.rung.Width, o.rung.Height)
	}
	if err := os.Rename(o.tmp, o.path); err != nil {
		return manifestEntry{}, fmt.Errorf("finish rung %s: %w", o.rung.Name, err)
	}
	st, err := os.Stat(o.path)
	if err != nil {
		return manifestEntry{}, fmt.Errorf("finish rung %s: %w", o.rung.Name, err)
	}
	return manifestEntry{Key: o.key, Size: st.Size(), ModTime: st.ModTime()}, nil
}

func describe(v *probe.Track) string {
	if v == nil {
		return "no video"
	}
	return fmt.Sprintf("%dx%d video", v.Width, v.Height)
}

// check probes every rung (cached ones too) and proves the ladder is what packaging needs.
func (p *Plan) check(ctx context.Context, res *Result) error {
	assets := make([]*probe.Asset, len(p.outs))
	for i, o := range p.outs {
		a, err := probe.Probe(ctx, o.path)
		if err != nil {
			return fmt.Errorf("check rung %s: %w", o.rung.Name, err)
		}
		assets[i] = a
		v := a.Video()
		rr := RungResult{Index: i, Rung: o.rung, Path: o.path, Cached: p.Outputs[i].Cached, Bytes: a.Size,
			Duration: v.Duration, VideoBitrate: v.Bitrate}
		if au := a.Audio(); au != nil {
			rr.AudioBitrate = au.Bitrate
		}
		res.Rungs = append(res.Rungs, rr)
		if err := p.checkBoundaries(o, v); err != nil {
			return err
		}
	}
	if err := probe.CheckLadder(assets); err != nil {
		if p.cfg.AllowSceneCuts {
			return fmt.Errorf("the rungs' scene-cut keyframes differ, so packaging cannot cut them alike; "+
				"encode without scene-cut keyframes: %w", err)
		}
		return err
	}
	frame := time.Duration(float64(time.Second) / p.FrameRate.Float())
	for _, rr := range res.Rungs[1:] {
		if d := rr.Duration - res.Rungs[0].Duration; d > frame || d < -frame {
			return fmt.Errorf("rung %s lasts %s but rung %s lasts %s; the rungs must be equally long",
				rr.Rung.Name, rr.Duration, res.Rungs[0].Rung.Name, res.Rungs[0].Duration)
		}
	}
	return nil
}

// checkBoundaries verifies the construction: a keyframe on every segment boundary, and no
// other keyframe unless scene cuts were allowed.
func (p *Plan) checkBoundaries(o output, v *probe.Track) error {
	seg := float64(p.GOPFrames) / p.FrameRate.Float()
	at := func(k int) time.Duration { return time.Duration(float64(k) * seg * float64(time.Second)) }
	const tol = 5 * time.Millisecond
	want := 0 // the next boundary expected
	for _, t := range v.SyncTimes {
		k := int(math.Round(t.Seconds() / seg))
		on := (t-at(k)) < tol && (at(k)-t) < tol
		switch {
		case on && k == want:
			want++
		case !on && p.cfg.AllowSceneCuts: // a scene-cut keyframe
		case on && k > want:
			return fmt.Errorf("rung %s has no keyframe at %s; the encoder did not keep the GOP structure", o.rung.Name, at(want))
		default:
			return fmt.Errorf("rung %s has a keyframe at %s where none was forced; the encoder did not keep the GOP structure",
				o.rung.Name, t)
		}
	}
	if need := int(math.Ceil(v.Duration.Seconds()/seg - 1e-6)); want < need {
		return fmt.Errorf("rung %s has no keyframe at %s; the encoder did not keep the GOP structure", o.rung.Name, at(want))
	}
	return nil
}

// measure runs the quality command for the rungs whose quality is not cached.
func (p *Plan) measure(ctx context.Context, res *Result, rep *reporter) error {
	var todo []output
	for i, o := range p.outs {
		e, ok := p.cache.lookup(p.cfg.OutDir, filepath.Base(o.path), o.key)
		if ok && e.Quality != nil && (e.QualityVMAF || !p.VMAF) {
			res.Rungs[i].Quality = e.Quality
			continue
		}
		todo = append(todo, o)
	}
	if len(todo) == 0 {
		return nil
	}
	c := p.set.qualityCommand(todo, p.VMAF)
	pid := 0
	send := func(fp ffProgress) {
		for _, i := range c.Rungs {
			rep.send(p.progressFor(i, PhaseQuality, pid, fp))
		}
	}
	stderr, err := runFFmpeg(ctx, &c, func(id int) { pid = id; send(ffProgress{}) }, send)
	res.Commands = append(res.Commands, c)
	if err != nil {
		return fmt.Errorf("measure quality: %w", err)
	}
	qs, err := parseQualityLog(stderr, len(todo))
	if err != nil {
		return fmt.Errorf("measure quality: %w", err)
	}
	measured := map[string]manifestEntry{}
	for j, o := range todo {
		q := qs[j]
		res.Rungs[o.index].Quality = &q
		e, _ := p.cache.lookup(p.cfg.OutDir, filepath.Base(o.path), o.key)
		e.Quality, e.QualityVMAF = &q, p.VMAF
		measured[filepath.Base(o.path)] = e
	}
	if err := p.cache.record(p.Master.Path, measured); err != nil {
		return fmt.Errorf("record quality in %s: %w", ManifestName, err)
	}
	return nil
}
