package services

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"satchel/app/jobs"
	"satchel/engine/encode"
	"satchel/internal/field"
	"satchel/packaging"
)

// KindEncode is the job kind of an encode (a ladder encoded from a master).
const KindEncode jobs.Kind = "encode"

// EncodeRequest is one ladder encoded from a master file, as the Assets screen and `satchel
// encode` build it. The ladder is exactly one of Preset, LadderFile and Ladder.
type EncodeRequest struct {
	// Master is the source: any file ffmpeg reads (MOV/ProRes, MXF, MKV, MP4, …).
	Master string `json:"master"`
	// Preset is a built-in ladder (encode.PresetAuto is derived from the master).
	Preset encode.Preset `json:"preset,omitempty"`
	// LadderFile is a ladder file, text or JSON (see encode.ParseLadder).
	LadderFile string `json:"ladder_file,omitempty"`
	// Ladder is a ladder given row by row (the Assets screen's editor).
	Ladder *encode.Ladder `json:"ladder,omitempty"`
	// Codec, when set, re-targets every rung to this codec with its default profile.
	Codec encode.Codec `json:"codec,omitempty"`
	// OutDir receives one MP4 per rung and the rung cache (encode.ManifestName): finished rungs
	// there with the same master and settings are reused, not encoded again.
	OutDir string `json:"out_dir"`
	// SegmentDuration is the GOP length, and so the segment length packaging can cut at
	// (0: encode.DefaultSegmentDuration). It is rounded to whole frames: the result's
	// SegmentDuration is the exact value to package with.
	SegmentDuration time.Duration `json:"segment_duration,omitempty"`
	// AllowSceneCuts lets the encoders add keyframes at scene cuts (off: only the forced,
	// aligned ones).
	AllowSceneCuts bool `json:"allow_scene_cuts,omitempty"`
	// Speed is the encoder preset (0: encode.SpeedMedium); Strategy how rungs are spread over
	// ffmpeg processes (0: encode.DefaultStrategy); Concurrency the processes the parallel
	// strategy runs at once (0: one per CPU).
	Speed       encode.Speed    `json:"speed,omitempty"`
	Strategy    encode.Strategy `json:"strategy,omitempty"`
	Concurrency int             `json:"concurrency,omitempty"`
	// Quality measures PSNR and SSIM (and VMAF when ffmpeg has libvmaf) of every rung.
	Quality bool `json:"quality,omitempty"`
	// Force re-encodes rungs even when finished ones with the same settings are in OutDir.
	Force bool `json:"force,omitempty"`
	// Probed is ProbeMaster's description of Master when the caller has it (never recorded):
	// it saves probing the master again, and is ignored when the file has changed since.
	Probed *encode.Master `json:"-"`
}

// Validate checks the request without running anything; problems are *field.Error values
// naming the request's JSON field, except a ladder given row by row, whose problems are
// *encode.LadderError values naming the row.
func (r EncodeRequest) Validate() error {
	if err := existingFile("master", r.Master, "no master file given"); err != nil {
		return err
	}
	given := 0
	for _, set := range []bool{r.Preset != "", r.LadderFile != "", r.Ladder != nil} {
		if set {
			given++
		}
	}
	switch {
	case given == 0:
		return field.Errorf("ladder", nil, "choose a preset (auto, 1080p, 720p, sd), a ladder file or rungs")
	case given > 1:
		return field.Errorf("ladder", nil, "give one ladder: a preset, a ladder file or rungs")
	case r.Preset != "" && !slices.Contains(encode.Presets, r.Preset):
		return field.Errorf("ladder", r.Preset, "not a preset: use auto, 1080p, 720p or sd, or a ladder file")
	case r.Codec != "" && !r.Codec.Known():
		return field.Errorf("codec", r.Codec, "use h264, hevc or av1")
	case strings.TrimSpace(r.OutDir) == "":
		return field.Errorf("out_dir", nil, "no output folder given")
	case r.SegmentDuration != 0 && (r.SegmentDuration < packaging.MinSegment || r.SegmentDuration > packaging.MaxSegment):
		return field.Errorf("segment_duration", r.SegmentDuration, "must be %s to %s (4s or 6s is usual)",
			packaging.MinSegment, packaging.MaxSegment)
	case r.Concurrency < 0 || r.Concurrency > MaxConcurrency:
		return field.Errorf("concurrency", r.Concurrency, "must be 0 (one per CPU) to %d", MaxConcurrency)
	}
	if r.LadderFile != "" {
		if err := existingFile("ladder_file", r.LadderFile, ""); err != nil {
			return err
		}
	}
	if r.Speed != "" {
		if _, err := encode.ParseSpeed(string(r.Speed)); err != nil {
			return field.Errorf("speed", r.Speed, "use one of %s", joinSpeeds())
		}
	}
	if r.Strategy != "" && r.Strategy != encode.OneProcess && r.Strategy != encode.Parallel {
		return field.Errorf("strategy", r.Strategy, "use %s or %s", encode.OneProcess, encode.Parallel)
	}
	if r.Ladder != nil {
		return r.Ladder.Validate()
	}
	return nil
}

// existingFile checks that path names a file (not a folder); empty is missing (with
// missingReason) or, when missingReason is "", fine.
func existingFile(name, path, missingReason string) error {
	if strings.TrimSpace(path) == "" {
		if missingReason == "" {
			return nil
		}
		return field.Errorf(name, nil, "%s", missingReason)
	}
	st, err := os.Stat(path)
	switch {
	case err != nil:
		return field.Errorf(name, path, "does not exist")
	case st.IsDir():
		return field.Errorf(name, path, "is a folder, not a file")
	}
	return nil
}

func joinSpeeds() string {
	s := make([]string, len(encode.Speeds))
	for i, v := range encode.Speeds {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}

// ProbeMaster describes a master file (streams, size, frame rate, bit rates) with ffprobe;
// it needs no workspace. The error is an *encode.MasterError for a file that is missing,
// not media, or has no moving video.
func ProbeMaster(ctx context.Context, path string) (*encode.Master, error) {
	return encode.ProbeMaster(ctx, encode.Tools{}, path)
}

// config resolves the request's ladder (reading the ladder file, deriving the auto ladder
// from the master) into the engine's configuration. The request is valid.
func (r EncodeRequest) config(ctx context.Context) (encode.Config, error) {
	cfg := encode.Config{Master: r.Master, OutDir: r.OutDir, SegmentDuration: r.SegmentDuration,
		AllowSceneCuts: r.AllowSceneCuts, Speed: r.Speed, Strategy: r.Strategy, Concurrency: r.Concurrency,
		Quality: r.Quality, Force: r.Force, Probed: r.Probed}
	var err error
	switch {
	case r.Ladder != nil:
		cfg.Ladder = *r.Ladder
	case r.LadderFile != "":
		if cfg.Ladder, err = encode.LoadLadder(r.LadderFile); err != nil {
			return cfg, err
		}
	default:
		if r.Preset == encode.PresetAuto && cfg.Probed == nil {
			if cfg.Probed, err = ProbeMaster(ctx, r.Master); err != nil {
				return cfg, err
			}
		}
		if cfg.Ladder, err = PresetLadder(r.Preset, r.Codec, cfg.Probed); err != nil {
			return cfg, err
		}
		return cfg, nil
	}
	if r.Codec != "" {
		cfg.Ladder = cfg.Ladder.WithCodec(r.Codec)
	}
	return cfg, nil
}

// PresetLadder is the ladder an encode request with Preset p and Codec c encodes from master
// m: the preset's rungs (auto derives them from m, so it needs m; the others take m, when
// given, only to check against), every rung in codec c ("" keeps the preset's H.264). The
// ladder editor loads presets through it.
func PresetLadder(p encode.Preset, c encode.Codec, m *encode.Master) (encode.Ladder, error) {
	l, err := encode.PresetLadder(p, m)
	if err != nil {
		return l, err
	}
	if c != "" {
		l = l.WithCodec(c)
	}
	return l, nil
}

// CheckRung checks rung n (1-based) of a ladder being edited against master m (nil: on its
// own) with the rules planning applies: the error is typed (*encode.LadderError,
// *encode.UpscaleError); the warnings are what planning would warn about (a bit rate above
// the master's).
func CheckRung(m *encode.Master, n int, r encode.Rung) ([]string, error) {
	if m == nil {
		return nil, r.Validate()
	}
	return m.CheckRung(n, r)
}

// PlanEncode checks and resolves an encode without running it (a dry run; it needs no
// workspace): the ladder resolved against the master, which rungs are already finished in
// the output folder, and the exact ffmpeg command lines that will run. Errors are typed as
// NewPlan's (*encode.LadderError, *encode.MasterError, *encode.UpscaleError,
// *encode.ToolError) or *field.Error for the request.
func PlanEncode(ctx context.Context, req EncodeRequest) (*encode.Plan, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	cfg, err := req.config(ctx)
	if err != nil {
		return nil, err
	}
	return encode.NewPlan(ctx, cfg)
}

// EncodeResult is the result of an encode job: the finished ladder, the commands that ran
// and, when measured, the quality table (one point per rung, by measured bit rate).
type EncodeResult struct {
	*encode.Result
	Quality []encode.QualityPoint `json:"quality,omitempty"`
}

// StartEncode encodes a ladder from a master (result *EncodeResult). The plan is made before
// the job starts, so a bad master or ladder, an upscaling rung or a missing encoder is an
// error of this call. Progress events carry one item per rung (frames done of the master's,
// Rate in frames per second, Speed, ETA) and one "quality" item for the quality pass; each
// ffmpeg command line and process ID is a job log message. Cancelling the job kills the
// encoders; rungs finished before stay, and the next run reuses them. The finished rungs
// become the workspace's selected assets (the ladder Package uses); other assets are
// unselected, not removed.
func (s *Service) StartEncode(ctx context.Context, req EncodeRequest) (*jobs.Job, error) {
	plan, err := PlanEncode(ctx, req)
	if err != nil {
		return nil, err
	}
	title := fmt.Sprintf("Encode %s → %d rungs in %s", filepath.Base(req.Master), len(plan.Ladder.Rungs),
		filepath.Base(req.OutDir))
	return s.Jobs.Start(ctx, KindEncode, title, req, func(ctx context.Context, report func(jobs.Event)) (any, error) {
		return s.runEncode(ctx, plan, report)
	})
}

// runEncode runs a plan inside a job and makes its rungs the selected assets.
func (s *Service) runEncode(ctx context.Context, plan *encode.Plan, report func(jobs.Event)) (*EncodeResult, error) {
	reportPlan(plan, report)
	res, err := plan.Run(ctx, encodeProgress(plan, report))
	if err != nil {
		return nil, err
	}
	if err := s.selectRungs(ctx, res.Paths()); err != nil {
		return nil, err
	}
	report(jobs.Event{Message: fmt.Sprintf("the %d rungs are now the selected assets (the ladder to package)",
		len(res.Rungs))})
	return &EncodeResult{Result: res, Quality: res.QualityTable()}, nil
}

// reportPlan logs what the job is about to do: cached rungs and the exact command lines.
func reportPlan(plan *encode.Plan, report func(jobs.Event)) {
	report(jobs.Event{Message: fmt.Sprintf("encoding %s: %d rungs, %s, segments of %s (%d frames)",
		filepath.Base(plan.Master.Path), len(plan.Ladder.Rungs), plan.Strategy, plan.SegmentDuration, plan.GOPFrames)})
	for _, o := range plan.Outputs {
		if o.Cached {
			report(jobs.Event{Message: o.Rung.Name + ": reused, finished earlier with the same master and settings"})
		}
	}
	for _, c := range plan.Commands {
		report(jobs.Event{Message: "command: " + c.Line})
	}
	for _, w := range plan.Warnings {
		report(jobs.Event{Message: "warning: " + w})
	}
}

// encodeProgress turns the engine's per-rung progress into job events, and logs each ffmpeg
// process it hears of with the rungs it works on. The engine calls it from one goroutine at
// a time, so its state needs no lock.
func encodeProgress(plan *encode.Plan, report func(jobs.Event)) func(encode.Progress) {
	pids := map[int]bool{}
	qualityRung := -1
	return func(p encode.Progress) {
		if p.PID > 0 && !pids[p.PID] {
			pids[p.PID] = true
			report(jobs.Event{Message: fmt.Sprintf("ffmpeg PID %d: %s", p.PID, processRungs(plan, p))})
		}
		ev := jobs.Event{Item: p.Name, Done: p.Frame, Total: p.TotalFrames, Unit: "frames", Rate: p.FPS,
			Speed: p.Speed, ETA: p.ETA}
		switch p.Phase {
		case encode.PhaseQuality:
			if qualityRung < 0 {
				qualityRung = p.Rung
			}
			if p.Rung != qualityRung { // one process measures every rung: one bar
				return
			}
			ev.Item = "quality"
		case encode.PhaseCached, encode.PhaseDone:
			ev.Done, ev.Total, ev.Rate, ev.Speed, ev.ETA = max(1, p.TotalFrames), max(1, p.TotalFrames), 0, 0, 0
		}
		if ev.Total <= 0 {
			return // the master's length is unknown: nothing to measure progress against
		}
		report(ev)
	}
}

// processRungs says what the process behind p does: the rungs of its encode command, or the
// quality pass.
func processRungs(plan *encode.Plan, p encode.Progress) string {
	if p.Phase == encode.PhaseQuality {
		return "measuring PSNR/SSIM against the master"
	}
	for _, c := range plan.Commands {
		if slices.Contains(c.Rungs, p.Rung) {
			names := make([]string, len(c.Rungs))
			for k, i := range c.Rungs {
				names[k] = plan.Ladder.Rungs[i].Name
			}
			return "encoding " + strings.Join(names, ", ")
		}
	}
	return string(p.Phase) + " " + p.Name
}

// selectRungs adds the rung files as assets and makes them the selected ladder.
func (s *Service) selectRungs(ctx context.Context, paths []string) error {
	keep := map[string]bool{}
	for _, p := range paths {
		e, err := s.AddAsset(ctx, p)
		if err != nil {
			return fmt.Errorf("add the encoded rung %s as an asset: %w", filepath.Base(p), err)
		}
		keep[e.ID] = true
	}
	all, err := s.Assets()
	if err != nil {
		return err
	}
	for _, e := range all {
		if e.Selected && !keep[e.ID] {
			if err := s.SetSelected(e.ID, false); err != nil {
				return err
			}
		}
	}
	return nil
}

// LastEncode returns the result of the newest successful encode job (of this or an earlier
// session), so a screen can show its ladder and quality chart again.
func (s *Service) LastEncode() (*EncodeResult, bool) {
	recs, err := s.JobHistory(KindEncode)
	if err != nil {
		s.Log.Warn("read encode history", "err", err)
		return nil, false
	}
	for _, r := range recs {
		if r.State != jobs.Done || len(r.Result) == 0 {
			continue
		}
		var res EncodeResult
		if err := json.Unmarshal(r.Result, &res); err != nil || res.Result == nil {
			s.Log.Warn("skip unreadable encode result", "job", r.ID, "err", err)
			continue
		}
		return &res, true
	}
	return nil, false
}

// RenditionsDir is where an encode-then-package job puts the encoded rungs when the request
// names no folder: beside the package, "OUT-renditions". It is outside the package folder,
// which is written atomically, and stays after packaging, so a later run reuses its rungs.
func RenditionsDir(outDir string) string {
	clean := filepath.Clean(outDir)
	return filepath.Join(filepath.Dir(clean), filepath.Base(clean)+"-renditions")
}

// encodeField renames a field problem of the encode part of a package request
// ("out_dir" → "encode.out_dir"), so the edges can tell it from the package's own field.
func encodeField(err error) error {
	var fe *field.Error
	if errors.As(err, &fe) {
		c := *fe
		c.Field = "encode." + fe.Field
		return &c
	}
	return err
}
