package encode

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
)

// Strategy is how the rungs are spread over ffmpeg processes.
type Strategy string

// The strategies. Both run the same filters and encoder options for a rung, so they share the
// cache; the files are not bit-identical run to run (x264's threaded rate control is not).
const (
	// OneProcess runs one ffmpeg that decodes the master once and feeds every rung's encoder
	// from it (split + scale filters).
	OneProcess Strategy = "one-process"
	// Parallel runs one ffmpeg per rung, Config.Concurrency at a time; each decodes the master.
	Parallel Strategy = "parallel"
)

// DefaultStrategy is the faster of the two on the reference 2-core machine for a 4-rung
// 1080p ladder (scripts/bench_encode.sh measures both against separate ffmpeg runs): decoding
// a high-bit-rate master once instead of once per rung saves about 40 % of the CPU time.
const DefaultStrategy = OneProcess

// ParseStrategy parses a strategy name (case-insensitive).
func ParseStrategy(s string) (Strategy, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "one-process", "oneprocess", "single", "one":
		return OneProcess, nil
	case "parallel":
		return Parallel, nil
	}
	return "", fmt.Errorf("unknown encode strategy %q: use one-process or parallel", s)
}

// DefaultSegmentDuration is the GOP and segment length when Config gives none; it matches
// packaging's default segment duration.
const DefaultSegmentDuration = 4 * time.Second

// Config describes one encode job.
type Config struct {
	Master string // the source file; anything ffmpeg reads
	Ladder Ladder // validated by the plan (Ladder.Validate)
	// OutDir receives one MP4 per rung, named MASTERNAME_RUNGNAME.mp4, and ManifestName. It is
	// created if missing. One encode at a time may use a folder.
	OutDir string
	// SegmentDuration is the GOP length and so the segment length packaging can cut at
	// (default DefaultSegmentDuration, 0.5 s to 30 s). It is rounded to whole frames: the
	// plan's SegmentDuration is the exact value to package with.
	SegmentDuration time.Duration
	// AllowSceneCuts lets the encoders add keyframes at scene cuts. Off by default: such
	// keyframes differ between rungs, and the finished ladder is only accepted if they happen
	// to line up (packaging needs identical keyframes in every rung).
	AllowSceneCuts bool
	// Speed is the encoder preset (default SpeedMedium).
	Speed Speed
	// Strategy defaults to DefaultStrategy; Concurrency is the number of processes Parallel
	// runs at once (default: the number of CPUs).
	Strategy    Strategy
	Concurrency int
	// Quality measures PSNR and SSIM (and VMAF when ffmpeg has libvmaf) of every rung against
	// the master, in one extra ffmpeg pass; cached with the rung.
	Quality bool
	// Force re-encodes every rung even when a finished one with the same settings exists.
	Force bool
	Tools Tools
	// Probed, when it is ProbeMaster's result for Master and the file has not changed since
	// (same size and modification time), saves probing the master again: a caller that probed
	// it to derive the auto ladder passes it here.
	Probed *Master
}

// UpscaleError is a rung larger than the master: encoding it would invent detail.
type UpscaleError struct {
	Rung                      int // 1-based
	Name                      string
	Width, Height             int
	MasterWidth, MasterHeight int
}

func (e *UpscaleError) Error() string {
	return fmt.Sprintf("ladder rung %d (%s, %dx%d) is larger than the master (%dx%d); Satchel does not upscale",
		e.Rung, e.Name, e.Width, e.Height, e.MasterWidth, e.MasterHeight)
}

// PlannedOutput is one rung of a plan and where it goes.
type PlannedOutput struct {
	Rung   Rung   `json:"rung"` // every default resolved
	Path   string `json:"path"`
	Cached bool   `json:"cached"` // a finished file with the same settings is already there
}

// Plan is a checked, resolved encode job: what will be run, before it runs (for a dry run, or
// to show the commands first). Make one with NewPlan; Run executes it.
type Plan struct {
	Master          *Master         `json:"master"`
	Ladder          Ladder          `json:"ladder"` // resolved: sizes, names, codecs, audio
	Outputs         []PlannedOutput `json:"outputs"`
	FrameRate       Rational        `json:"frame_rate"`
	GOPFrames       int             `json:"gop_frames"`
	SegmentDuration time.Duration   `json:"segment_duration_ns"` // GOPFrames at FrameRate
	Strategy        Strategy        `json:"strategy"`
	Commands        []Command       `json:"commands"` // encode commands for the rungs not cached
	VMAF            bool            `json:"vmaf"`     // VMAF will be measured (with Config.Quality)
	Warnings        []string        `json:"warnings,omitempty"`

	cfg      Config
	set      settings
	outs     []output
	cache    *cache
	capVer   string
	fingerpr string
}

// NewPlan validates the config, probes the master, resolves the ladder against it, looks the
// rungs up in the output folder's cache and builds the commands; it encodes nothing. Errors
// are typed: *LadderError, *MasterError, *UpscaleError, *ToolError; a bad config value (no
// master, segment duration out of range) is a plain error.
func NewPlan(ctx context.Context, cfg Config) (*Plan, error) {
	if err := cfg.normalize(); err != nil {
		return nil, err
	}
	if err := cfg.Ladder.Validate(); err != nil {
		return nil, err
	}
	// ffmpeg and ffprobe each take a few hundred milliseconds to start: ask both at once.
	var caps *Capabilities
	var m *Master
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { caps, err = cfg.Tools.Capabilities(gctx); return err })
	g.Go(func() (err error) { m, err = cfg.probeMaster(gctx); return err })
	if err := g.Wait(); err != nil {
		return nil, err
	}
	fp, err := Fingerprint(m.Path)
	if err != nil {
		return nil, err
	}
	rt, err := cfg.Tools.resolve()
	if err != nil {
		return nil, err
	}
	return buildPlan(cfg, m, caps, fp, rt.FFmpeg)
}

// buildPlan is NewPlan after the I/O: the normalised config, the probed master, ffmpeg's
// capabilities, the master's fingerprint and the ffmpeg program to run.
func buildPlan(cfg Config, m *Master, caps *Capabilities, fingerprint, ffmpeg string) (*Plan, error) {
	p := &Plan{Master: m, cfg: cfg, Strategy: cfg.Strategy, VMAF: caps.VMAF, capVer: caps.Version, fingerpr: fingerprint}
	var err error
	if p.Ladder, err = resolveLadder(cfg.Ladder, m, caps); err != nil {
		return nil, err
	}
	p.FrameRate = m.Video.FrameRate
	p.GOPFrames = max(1, int(math.Round(cfg.SegmentDuration.Seconds()*p.FrameRate.Float())))
	gopNanos := int64(p.GOPFrames) * int64(p.FrameRate.Den) * int64(time.Second)
	p.SegmentDuration = time.Duration(gopNanos / int64(p.FrameRate.Num))
	shown := "ffmpeg"
	if cfg.Tools.FFmpeg != "" {
		shown = cfg.Tools.FFmpeg
	}
	p.set = settings{master: m, fps: p.FrameRate, gop: p.GOPFrames, speed: cfg.Speed, sceneCuts: cfg.AllowSceneCuts,
		ffmpeg: ffmpeg, shown: shown, threads: runtime.NumCPU()}
	if err := p.planOutputs(); err != nil {
		return nil, err
	}
	p.Commands = p.encodeCommands()
	p.Warnings = ladderWarnings(p.Ladder, m)
	return p, nil
}

// probeMaster returns c.Probed when it still describes c.Master, else probes it.
func (c *Config) probeMaster(ctx context.Context) (*Master, error) {
	if p := c.Probed; p != nil && p.Path == c.Master {
		if st, err := os.Stat(c.Master); err == nil && st.Size() == p.Size && st.ModTime().Equal(p.ModTime) {
			m := *p
			return &m, nil
		}
	}
	return ProbeMaster(ctx, c.Tools, c.Master)
}

func (c *Config) normalize() error {
	if c.Master == "" {
		return fmt.Errorf("no master file given")
	}
	if c.OutDir == "" {
		return fmt.Errorf("no output folder given")
	}
	if c.SegmentDuration == 0 {
		c.SegmentDuration = DefaultSegmentDuration
	}
	if c.SegmentDuration < 500*time.Millisecond || c.SegmentDuration > 30*time.Second {
		return fmt.Errorf("segment duration %s: use 0.5s to 30s (4s or 6s is usual)", c.SegmentDuration)
	}
	if c.Speed == "" {
		c.Speed = SpeedMedium
	}
	if _, err := ParseSpeed(string(c.Speed)); err != nil {
		return err
	}
	if c.Strategy == "" {
		c.Strategy = DefaultStrategy
	}
	if c.Strategy != OneProcess && c.Strategy != Parallel {
		return fmt.Errorf("unknown encode strategy %q: use one-process or parallel", c.Strategy)
	}
	if c.Concurrency <= 0 {
		c.Concurrency = runtime.NumCPU()
	}
	return nil
}

// resolveLadder fills every default that depends on the master and refuses what the master
// cannot give: upscaling, upmixing, encoders ffmpeg lacks.
func resolveLadder(l Ladder, m *Master, caps *Capabilities) (Ladder, error) {
	out := Ladder{Name: l.Name}
	files := map[string]int{}
	for i, r := range l.Rungs {
		r, err := m.resolveRung(i+1, r)
		if err != nil {
			return Ladder{}, err
		}
		if j, dup := files[strings.ToLower(r.Name)]; dup {
			return Ladder{}, &LadderError{Rung: i + 1, Field: "name",
				Reason: fmt.Sprintf("%q is also the name of rung %d", r.Name, j)}
		}
		files[strings.ToLower(r.Name)] = i + 1
		if !caps.Encoders[r.Codec.Encoder()] {
			return Ladder{}, &ToolError{Tool: r.Codec.Encoder(), Err: ErrEncoderMissing,
				Detail: fmt.Sprintf("needed for %s rung %d", r.Codec, i+1)}
		}
		out.Rungs = append(out.Rungs, r)
	}
	return out, nil
}

// resolveRung fills the defaults of rung n (1-based) that depend on the master and refuses
// upscaling and upmixing.
func (m *Master) resolveRung(n int, r Rung) (Rung, error) {
	r = r.withDefaults()
	if r.Width == 0 {
		r.Width = m.widthFor(r.Height)
	}
	if r.Name == "" {
		r.Name = r.defaultName()
	}
	if r.Width > m.Video.Width || r.Height > m.Video.Height {
		return r, &UpscaleError{Rung: n, Name: r.Name, Width: r.Width, Height: r.Height,
			MasterWidth: m.Video.Width, MasterHeight: m.Video.Height}
	}
	return r, resolveAudio(&r, n, m)
}

// CheckRung checks rung n (1-based) of a ladder against the master the way planning the
// encode does, so that a ladder editor can explain each row as it is typed: the error is the
// rung's own problem (a *LadderError from Rung.Validate) or what the master cannot give (an
// *UpscaleError, a *LadderError for upmixed audio); the warnings are legal choices worth
// hearing about (a bit rate above the master's, a shape that stretches the picture).
// Problems between rungs (duplicate names) are Ladder.Validate's.
func (m *Master) CheckRung(n int, r Rung) (warnings []string, err error) {
	if err := r.validate(n); err != nil {
		return nil, err
	}
	res, err := m.resolveRung(n, r)
	if err != nil {
		return nil, err
	}
	return rungWarnings(n, res, m), nil
}

func resolveAudio(r *Rung, n int, m *Master) error {
	if r.NoAudio || m.Audio == nil {
		r.NoAudio, r.AudioBitrate, r.AudioChannels = true, 0, 0
		return nil
	}
	if r.AudioChannels == 0 {
		r.AudioChannels = min(DefaultAudioChannels, m.Audio.Channels)
	}
	if r.AudioChannels > m.Audio.Channels {
		return &LadderError{Rung: n, Field: "audio channels", Reason: fmt.Sprintf(
			"%d, but the master's audio has %d; Satchel does not upmix", r.AudioChannels, m.Audio.Channels)}
	}
	return nil
}

// planOutputs names every output and looks each up in the cache.
func (p *Plan) planOutputs() error {
	base := strings.TrimSuffix(filepath.Base(p.Master.Path), filepath.Ext(p.Master.Path))
	base = sanitizeName(base)
	p.cache = openCache(p.cfg.OutDir)
	for i, r := range p.Ladder.Rungs {
		path := filepath.Join(p.cfg.OutDir, base+"_"+r.Name+".mp4")
		o := output{index: i, rung: r, path: path, tmp: partName(path), key: rungKey(p.fingerpr, p.capVer, &p.set, r)}
		_, hit := p.cache.lookup(p.cfg.OutDir, filepath.Base(path), o.key)
		hit = hit && !p.cfg.Force
		p.outs = append(p.outs, o)
		p.Outputs = append(p.Outputs, PlannedOutput{Rung: r, Path: path, Cached: hit})
	}
	if st, err := os.Stat(p.cfg.OutDir); err == nil && !st.IsDir() {
		return fmt.Errorf("output folder %s is a file", p.cfg.OutDir)
	}
	return nil
}

// sanitizeName keeps a master's base name usable in output file names.
func sanitizeName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			b[i] = '_'
		}
	}
	if len(b) == 0 || b[0] == '.' {
		return "master" + string(b)
	}
	return string(b)
}

// pending are the outputs that need encoding.
func (p *Plan) pending() []output {
	var outs []output
	for i, o := range p.outs {
		if !p.Outputs[i].Cached {
			outs = append(outs, o)
		}
	}
	return outs
}

func (p *Plan) encodeCommands() []Command {
	outs := p.pending()
	if len(outs) == 0 {
		return nil
	}
	if p.Strategy == OneProcess {
		return []Command{p.set.oneProcess(outs)}
	}
	var cmds []Command
	for _, o := range outs {
		cmds = append(cmds, p.set.perRung(o))
	}
	return cmds
}

// ladderWarnings are legal choices a user probably wants to hear about.
func ladderWarnings(l Ladder, m *Master) []string {
	var w []string
	codecs := map[Codec]bool{}
	for i, r := range l.Rungs {
		codecs[r.Codec] = true
		w = append(w, rungWarnings(i+1, r, m)...)
	}
	if len(codecs) > 1 {
		w = append(w, "the ladder mixes codecs: players switch seamlessly only between rungs of one codec")
	}
	return w
}

// rungWarnings are the warnings about resolved rung n (1-based) alone.
func rungWarnings(n int, r Rung, m *Master) []string {
	var w []string
	if m.Video.Bitrate > 0 && int64(r.VideoBitrate) > m.Video.Bitrate {
		w = append(w, fmt.Sprintf("rung %d (%s) asks for %d kb/s, more than the master's video (%d kb/s): "+
			"it cannot look better than the master and only costs bytes",
			n, r.Name, r.VideoBitrate.Kbps(), m.Video.Bitrate/1000))
	}
	ar, mar := float64(r.Width)/float64(r.Height), float64(m.Video.Width)/float64(m.Video.Height)
	if math.Abs(ar-mar) > 0.02*mar {
		w = append(w, fmt.Sprintf("rung %d (%s) is %dx%d, a different shape from the master's %dx%d: the picture "+
			"will be stretched", n, r.Name, r.Width, r.Height, m.Video.Width, m.Video.Height))
	}
	return w
}
