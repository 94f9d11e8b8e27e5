package encode

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Purpose says what a Command does.
type Purpose string

// The purposes.
const (
	PurposeEncode  Purpose = "encode"
	PurposeQuality Purpose = "quality"
)

// Command is one ffmpeg invocation of a job.
type Command struct {
	Purpose Purpose `json:"purpose"`
	Rungs   []int   `json:"rungs"` // 0-based ladder indexes it writes or measures
	// Args is the argv Satchel runs (Args[0] is the ffmpeg program): outputs go to temporary
	// names that are renamed when the rung is complete, progress goes to a pipe.
	Args []string `json:"args"`
	// Line is the same command as a user would type it in a POSIX shell: quoted, writing the
	// final file names, without the progress pipe. Running it produces the same files.
	Line string `json:"line"`
	// Elapsed is how long the process ran (in a Result; zero in a Plan).
	Elapsed time.Duration `json:"elapsed_ns,omitempty"`
}

func (c Command) String() string { return c.Line }

// settings are the encode parameters shared by every rung.
type settings struct {
	master    *Master
	fps       Rational
	gop       int // frames per GOP = frames per segment
	speed     Speed
	sceneCuts bool
	ffmpeg    string // program to run
	shown     string // program name in Command.Line
	threads   int    // CPUs, for filters that take a thread count (libvmaf)
}

// output is one rung to write: where, and the rung with every default resolved.
type output struct {
	index int
	rung  Rung
	path  string // final
	tmp   string // written by ffmpeg, renamed to path when complete
	key   string // cache key: hash of the master fingerprint and everything below
}

// head is the start of every encode command: quiet, never interactive, progress to stdout.
func (s *settings) head(progress bool) []string {
	args := []string{"-hide_banner", "-nostdin", "-y", "-v", "error"}
	if progress {
		args = append(args, "-progress", "pipe:1", "-nostats")
	}
	return append(args, "-i", fileArg(s.master.Path))
}

// preFilter conditions the master once for every rung: deinterlace if needed, then a constant
// frame rate, so every rung gets exactly the same frames at the same times.
func (s *settings) preFilter() string {
	f := fmt.Sprintf("fps=%s", s.fps)
	if s.master.Video.Interlaced {
		f = "bwdif=mode=send_frame," + f
	}
	return f
}

// rungFilter scales to the rung, with square pixels, in the pixel format of its profile.
func rungFilter(r Rung) string {
	return fmt.Sprintf("scale=%d:%d:flags=bicubic,format=%s,setsar=1", r.Width, r.Height, r.Profile.pixelFormat())
}

// videoInput is the master's video stream as a filter-graph pad.
func (s *settings) videoInput() string { return fmt.Sprintf("[0:%d]", s.master.Video.Index) }

// forceKeyFrames is the -force_key_frames expression: a keyframe every gop frames. Frame
// numbers, not times, so every codec and every rung agrees to the frame even when the segment
// is not a whole number of frames (4 s at 29.97 fps is 120 frames, 4.004 s).
func (s *settings) forceKeyFrames() string { return fmt.Sprintf("expr:eq(mod(n,%d),0)", s.gop) }

// videoArgs are the codec options of one rung: a closed GOP of exactly s.gop frames, IDR
// frames forced at every segment boundary, scene-cut keyframes off unless allowed, and the
// rate held near the target by a VBV capped at the target with a one-second buffer.
func (s *settings) videoArgs(r Rung) []string {
	rate := r.VideoBitrate.String()
	g := strconv.Itoa(s.gop)
	switch r.Codec {
	case HEVC:
		return []string{"-c:v", "libx265", "-tag:v", "hvc1", "-profile:v", string(r.Profile), "-preset", string(s.speed),
			"-b:v", rate, "-maxrate", rate, "-bufsize", rate, "-g", g, "-forced-idr", "1",
			"-force_key_frames", s.forceKeyFrames(),
			"-x265-params", fmt.Sprintf("keyint=%s:min-keyint=%s:scenecut=%d:open-gop=0:log-level=error", g, g, s.sceneCut(40))}
	case AV1:
		// libsvtav1 (ffmpeg 5.1, SVT-AV1 1.4) ignores forced keyframes: -g alone sets the
		// closed GOP (irefresh-type=2: key frames), so alignment comes from the frame count.
		scd := 0
		if s.sceneCuts {
			scd = 1
		}
		return []string{"-c:v", "libsvtav1", "-preset", strconv.Itoa(s.speed.svtPreset()), "-b:v", rate, "-g", g,
			"-svtav1-params", fmt.Sprintf("irefresh-type=2:scd=%d", scd)}
	}
	return []string{"-c:v", "libx264", "-profile:v", string(r.Profile), "-preset", string(s.speed),
		"-b:v", rate, "-maxrate", rate, "-bufsize", rate, "-g", g, "-forced-idr", "1",
		"-force_key_frames", s.forceKeyFrames(),
		"-x264-params", fmt.Sprintf("keyint=%s:min-keyint=%s:scenecut=%d:open-gop=0", g, g, s.sceneCut(40))}
}

func (s *settings) sceneCut(allowed int) int {
	if s.sceneCuts {
		return allowed
	}
	return 0
}

// audioArgs map the master's audio into the rung as AAC-LC (none when the rung has no audio).
func (s *settings) audioArgs(r Rung) []string {
	a := s.master.Audio
	if r.NoAudio || a == nil {
		return []string{"-an"}
	}
	rate := 48000
	if a.SampleRate == 44100 {
		rate = 44100
	}
	return []string{"-map", fmt.Sprintf("0:%d", a.Index), "-c:a", "aac", "-b:a", r.AudioBitrate.String(),
		"-ac", strconv.Itoa(r.AudioChannels), "-ar", strconv.Itoa(rate)}
}

// outputArgs are everything after the inputs for one rung fed from the filter pad label.
func (s *settings) outputArgs(o output, label, path string) []string {
	args := []string{"-map", label}
	args = append(args, s.videoArgs(o.rung)...)
	args = append(args, s.audioArgs(o.rung)...)
	return append(args, "-map_chapters", "-1", "-f", "mp4", fileArg(path))
}

// oneProcess is one ffmpeg that decodes the master once and encodes every output from it
// (split + scale).
func (s *settings) oneProcess(outs []output) Command {
	build := func(progress bool, final bool) []string {
		args := s.head(progress)
		args = append(args, "-filter_complex", s.splitGraph(outs))
		for i, o := range outs {
			args = append(args, s.outputArgs(o, fmt.Sprintf("[v%d]", i), pick(final, o.path, o.tmp))...)
		}
		return args
	}
	return s.command(PurposeEncode, outs, build)
}

// perRung is one ffmpeg for one output (it decodes the master itself).
func (s *settings) perRung(o output) Command {
	build := func(progress bool, final bool) []string {
		args := s.head(progress)
		args = append(args, "-filter_complex", s.videoInput()+s.preFilter()+","+rungFilter(o.rung)+"[v0]")
		return append(args, s.outputArgs(o, "[v0]", pick(final, o.path, o.tmp))...)
	}
	return s.command(PurposeEncode, []output{o}, build)
}

func (s *settings) splitGraph(outs []output) string {
	var b strings.Builder
	b.WriteString(s.videoInput() + s.preFilter())
	if len(outs) == 1 {
		b.WriteString("," + rungFilter(outs[0].rung) + "[v0]")
		return b.String()
	}
	fmt.Fprintf(&b, ",split=%d", len(outs))
	for i := range outs {
		fmt.Fprintf(&b, "[s%d]", i)
	}
	for i, o := range outs {
		fmt.Fprintf(&b, ";[s%d]%s[v%d]", i, rungFilter(o.rung), i)
	}
	return b.String()
}

func (s *settings) command(p Purpose, outs []output, build func(progress, final bool) []string) Command {
	c := Command{Purpose: p}
	for _, o := range outs {
		c.Rungs = append(c.Rungs, o.index)
	}
	c.Args = append([]string{s.ffmpeg}, build(true, false)...)
	c.Line = ShellQuote(append([]string{s.shown}, build(false, true)...))
	return c
}

func pick(final bool, a, b string) string {
	if final {
		return a
	}
	return b
}

// ShellQuote joins argv into one POSIX shell command line: arguments made only of safe
// characters stay as they are, others are single-quoted (a ' inside becomes '\”).
func ShellQuote(argv []string) string {
	parts := make([]string, len(argv))
	for i, a := range argv {
		parts[i] = quoteArg(a)
	}
	return strings.Join(parts, " ")
}

func quoteArg(a string) string {
	if a == "" {
		return "''"
	}
	safe := true
	for _, c := range a {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("_-+=.,/:@%", c)) {
			safe = false
			break
		}
	}
	if safe {
		return a
	}
	return "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
}
