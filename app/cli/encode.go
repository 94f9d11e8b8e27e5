package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"satchel/app/jobs"
	"satchel/app/services"
	"satchel/engine/encode"
	"satchel/internal/field"
)

func init() {
	register(&command{
		name:    "encode",
		summary: "Encode a GOP-aligned bitrate ladder from one master file (MOV/ProRes, MXF, MKV, MP4) with ffmpeg.",
		usage: "satchel encode MASTER --ladder PRESET|FILE --out DIR [--codec h264|hevc|av1] [--segment 4s]\n" +
			"        [--strategy one-process|parallel] [--speed medium] [--quality] [--scene-cuts] [--force]\n" +
			"        [--dry-run] [--json] [--workspace DIR]\n\n" +
			"PRESET is auto (derived from the master: never larger, never above its bit rate), 1080p, 720p or sd\n" +
			"(the Azure Media Services multi-bitrate ladders). A ladder FILE has one rung per line:\n" +
			"  ladder Studio HD                 # optional name\n" +
			"  1920x1080  6000k                 # WIDTHxHEIGHT (or HEIGHTp) and video bit rate\n" +
			"  720p       3400k  codec=hevc     # options: codec= profile= audio=BITRATE|none channels= name=\n" +
			"or the same as JSON. Every rung gets a keyframe on the same frames at every segment boundary, so the\n" +
			"result packages as it is (satchel package --in ... --segment the duration printed). Finished rungs in\n" +
			"DIR with the same master and settings are reused. --dry-run prints the exact ffmpeg command lines\n" +
			"as a shell script and runs nothing; --quality measures PSNR and SSIM (and VMAF when ffmpeg has it).\n" +
			"The rungs become the workspace's selected assets.",
		run: runEncode,
	})
}

// encodeFlags are the encode options, shared by `satchel encode` and `satchel package
// --master`.
type encodeFlags struct {
	master, ladder, codec    string
	strategy, speed, rungDir string
	quality, sceneCuts       bool
	force                    bool
	concurrency              int
}

// addFlags adds the encode options to fs. inPackage adds the package command's form:
// --master and --renditions, without --force and --concurrency (the package's own).
func (f *encodeFlags) addFlags(fs *flag.FlagSet, inPackage bool) {
	if inPackage {
		fs.StringVar(&f.master, "master", "",
			"encode the ladder from this master file first, then package the rungs (instead of --in)")
		fs.StringVar(&f.rungDir, "renditions", "",
			"with --master: folder for the encoded rungs (default OUT-renditions; finished rungs there are reused)")
	} else {
		fs.StringVar(&f.master, "master", "", "the master file (or give it as the argument)")
		fs.BoolVar(&f.force, "force", false, "encode every rung again, even those finished in --out")
		fs.IntVar(&f.concurrency, "concurrency", 0, "ffmpeg processes at once with --strategy parallel (0 = one per CPU)")
	}
	fs.StringVar(&f.ladder, "ladder", "", "ladder: a preset (auto, 1080p, 720p, sd) or a ladder file (default auto)")
	fs.StringVar(&f.codec, "codec", "", "encode every rung with this codec: h264, hevc or av1 (default: the ladder's, h264)")
	fs.StringVar(&f.strategy, "strategy", "", "one-process (decode the master once; default) or parallel (one ffmpeg per rung)")
	fs.StringVar(&f.speed, "speed", "", "encoder speed preset, ultrafast … veryslow (default medium)")
	fs.BoolVar(&f.quality, "quality", false, "measure PSNR and SSIM (VMAF when available) of every rung")
	fs.BoolVar(&f.sceneCuts, "scene-cuts", false, "allow extra keyframes at scene cuts (they must then line up in every rung)")
}

// set reports whether any encode option was given (package checks --ladder without --master).
func (f *encodeFlags) set() bool {
	return f.ladder != "" || f.codec != "" || f.strategy != "" || f.speed != "" || f.quality || f.sceneCuts ||
		f.rungDir != ""
}

// request parses the options into an encode request; the rules are checked by its Validate.
func (f *encodeFlags) request() (services.EncodeRequest, error) {
	req := services.EncodeRequest{Master: f.master, OutDir: f.rungDir, Quality: f.quality, AllowSceneCuts: f.sceneCuts,
		Force: f.force, Concurrency: f.concurrency}
	ladder := strings.TrimSpace(f.ladder)
	if ladder == "" {
		ladder = string(encode.PresetAuto)
	}
	if st, err := os.Stat(ladder); err == nil && !st.IsDir() {
		req.LadderFile = ladder
	} else if p, err := encode.ParsePreset(ladder); err == nil {
		req.Preset = p
	} else if strings.ContainsAny(ladder, `/\.`) {
		req.LadderFile = ladder // Validate says it does not exist
	} else {
		return req, usagef("--ladder %q: not a preset (auto, 1080p, 720p, sd) nor a ladder file", f.ladder)
	}
	var err error
	if f.codec != "" {
		if req.Codec, err = encode.ParseCodec(f.codec); err != nil {
			return req, usagef("--codec: %v", err)
		}
	}
	if f.strategy != "" {
		if req.Strategy, err = encode.ParseStrategy(f.strategy); err != nil {
			return req, usagef("--strategy: %v", err)
		}
	}
	if f.speed != "" {
		if req.Speed, err = encode.ParseSpeed(f.speed); err != nil {
			return req, usagef("--speed: %v", err)
		}
	}
	return req, nil
}

// packageRequest is the encode part of `satchel package`: nil without --master.
func (f *encodeFlags) packageRequest() (*services.EncodeRequest, error) {
	if f.master == "" {
		if f.set() {
			return nil, usagef("--ladder, --codec, --strategy, --speed, --quality, --scene-cuts and --renditions " +
				"need --master")
		}
		return nil, nil
	}
	req, err := f.request()
	return &req, err
}

// encodeOutput is the --json document of `satchel encode`.
type encodeOutput struct {
	*services.EncodeResult
	Seconds float64 `json:"seconds"` // the whole command, workspace included
}

func runEncode(e *env, args []string) error {
	fs := newFlags(e, commands["encode"])
	var f encodeFlags
	f.addFlags(fs, false)
	out := fs.String("out", "", "output folder for the rungs (created; finished rungs in it are reused)")
	segment := fs.Duration("segment", encode.DefaultSegmentDuration, "segment (GOP) duration, rounded to whole frames")
	dryRun := fs.Bool("dry-run", false, "print the plan and the exact ffmpeg command lines; run nothing")
	asJSON := fs.Bool("json", false, "print one JSON document; progress as JSON lines on stderr")
	wsDir := workspaceFlag(fs)
	start := time.Now()
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 1 || (len(pos) == 1 && f.master != ""):
		return usagef("give one master file")
	case len(pos) == 1:
		f.master = pos[0]
	}
	f.rungDir = *out
	req, err := f.request()
	if err != nil {
		return err
	}
	req.SegmentDuration = *segment
	if err := req.Validate(); err != nil {
		return masterArg(err)
	}
	if *dryRun {
		return dryRunEncode(e, req, *asJSON)
	}
	v, err := runOperation(e, *wsDir, *asJSON, func(svc *services.Service) (*jobs.Job, error) {
		return svc.StartEncode(e.ctx, req)
	})
	if err != nil {
		return err
	}
	res := v.(*services.EncodeResult)
	if *asJSON {
		return writeJSON(e.stdout, encodeOutput{EncodeResult: res, Seconds: time.Since(start).Seconds()})
	}
	return printEncode(e.stdout, res, time.Since(start))
}

// masterArg words a problem with the master as the command's argument (MASTER), which the
// flag table names --master for `satchel package`.
func masterArg(err error) error {
	var fe *field.Error
	if errors.As(err, &fe) && fe.Field == "master" {
		if fe.Value == "" {
			return usagef("give the master file: %s", fe.Reason)
		}
		return &InputError{Err: fmt.Errorf("master %s %s", fe.Value, fe.Reason)}
	}
	return err
}

// dryRunEncode prints the plan: as JSON, or as a shell script (comments, then the command
// lines) that encodes the same rungs when run.
func dryRunEncode(e *env, req services.EncodeRequest, asJSON bool) error {
	plan, err := services.PlanEncode(e.ctx, req)
	if err != nil {
		return &InputError{Err: err}
	}
	if asJSON {
		return writeJSON(e.stdout, plan)
	}
	m := plan.Master
	var b strings.Builder
	fmt.Fprintf(&b, "# satchel encode plan: %s (%s) → %s\n", m.Path, describeMaster(m), req.OutDir)
	fmt.Fprintf(&b, "# %d rungs, %s; segments of %s (%d frames at %s fps): package with --segment %s\n",
		len(plan.Ladder.Rungs), plan.Strategy, plan.SegmentDuration, plan.GOPFrames, plan.FrameRate, plan.SegmentDuration)
	for _, o := range plan.Outputs {
		r := o.Rung
		line := fmt.Sprintf("#   %-22s %4dx%-4d %s %s %s", r.Name, r.Width, r.Height, r.Codec, r.Profile, r.VideoBitrate)
		if !r.NoAudio {
			line += fmt.Sprintf(", audio %s %dch", r.AudioBitrate, r.AudioChannels)
		}
		line += " → " + filepath.Base(o.Path)
		if o.Cached {
			line += " (finished earlier: reused)"
		}
		b.WriteString(line + "\n")
	}
	for _, w := range plan.Warnings {
		b.WriteString("# warning: " + w + "\n")
	}
	if len(plan.Commands) > 0 {
		fmt.Fprintf(&b, "mkdir -p %s\n", encode.ShellQuote([]string{req.OutDir}))
	}
	for _, c := range plan.Commands {
		b.WriteString(c.Line + "\n")
	}
	_, err = io.WriteString(e.stdout, b.String())
	return err
}

// describeMaster is a one-line summary of a master.
func describeMaster(m *encode.Master) string {
	v := m.Video
	s := fmt.Sprintf("%dx%d %s fps %s, %d kb/s video", v.Width, v.Height, v.FrameRate, v.Codec, v.Bitrate/1000)
	if a := m.Audio; a != nil {
		s += fmt.Sprintf(", %s %dch", a.Codec, a.Channels)
	} else {
		s += ", no audio"
	}
	return s + fmt.Sprintf(", %.1fs", m.Duration.Seconds())
}

// printEncode prints the finished ladder: the table with quality, the command lines that ran
// and how to package the rungs.
func printEncode(w io.Writer, res *services.EncodeResult, took time.Duration) error {
	reused := 0
	for _, r := range res.Rungs {
		if r.Cached {
			reused++
		}
	}
	fmt.Fprintf(w, "Encoded %d rungs from %s into %s in %.1fs (%s", len(res.Rungs), filepath.Base(res.Master.Path),
		res.OutDir, took.Seconds(), res.Strategy)
	if reused > 0 {
		fmt.Fprintf(w, "; %d reused from an earlier run", reused)
	}
	fmt.Fprintln(w, ")")
	if err := res.WriteText(w); err != nil {
		return err
	}
	printCommands(w, res.Commands)
	var in strings.Builder
	for _, p := range res.Paths() {
		in.WriteString(" --in " + encode.ShellQuote([]string{p}))
	}
	_, err := fmt.Fprintf(w, "Package them: satchel package%s --segment %s --out DIR\n", in.String(), res.SegmentDuration)
	return err
}

// printCommands prints the ffmpeg command lines that ran, ready to copy.
func printCommands(w io.Writer, cmds []encode.Command) {
	if len(cmds) == 0 {
		fmt.Fprintln(w, "No ffmpeg ran: every rung was reused.")
		return
	}
	fmt.Fprintln(w, "ffmpeg command lines (copy them to do the same by hand):")
	for _, c := range cmds {
		fmt.Fprintf(w, "  # %s, %.1fs\n  %s\n", c.Purpose, c.Elapsed.Seconds(), c.Line)
	}
}

// printEncoded prints the encode part of `satchel package --master`.
func printEncoded(w io.Writer, res *services.EncodeResult) {
	fmt.Fprintf(w, "Encoded %d rungs from %s into %s:\n", len(res.Rungs), filepath.Base(res.Master.Path), res.OutDir)
	if err := res.WriteText(w); err != nil {
		return // the writer failed: the package summary below fails the same way
	}
	printCommands(w, res.Commands)
}
