// Command encodebench runs engine/encode the way `satchel encode` will, for scripts/bench.sh:
// it encodes a ladder from a master and prints the commands it ran (or, with -print, the
// commands it would run, one per line, for the bench to time as bare ffmpeg).
//
//	go run ./scripts/encodebench -master M.mp4 -ladder 1080p -out DIR [-strategy parallel] [-speed veryfast]
//
// It exists only until the CLI adapter for engine/encode lands; then the bench calls satchel.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"

	"satchel/engine/encode"
)

func main() {
	master := flag.String("master", "", "master file")
	ladder := flag.String("ladder", "auto", "preset (auto, 1080p, 720p, sd) or ladder file")
	out := flag.String("out", "", "output folder")
	strategy := flag.String("strategy", string(encode.DefaultStrategy), "one-process or parallel")
	speed := flag.String("speed", "medium", "encoder speed preset")
	segment := flag.Duration("segment", encode.DefaultSegmentDuration, "segment (GOP) duration")
	quality := flag.Bool("quality", false, "measure PSNR/SSIM")
	force := flag.Bool("force", false, "ignore finished rungs")
	printOnly := flag.Bool("print", false, "print the encode command lines and exit")
	jsonOut := flag.Bool("json", false, "print the result as JSON")
	timing := flag.String("timing", "", "append \"TOTAL FFMPEG\" seconds to this file: the whole job's wall time and "+
		"the wall time of the ffmpeg encode processes (one-process: their difference is Satchel's overhead)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()
	res, err := run(ctx, *master, *ladder, *out, *strategy, *speed, *segment, *quality, *force, *printOnly, *jsonOut)
	if err == nil && res != nil && *timing != "" {
		err = appendTiming(*timing, time.Since(start), res)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "encodebench:", err)
		os.Exit(1)
	}
}

// appendTiming records the job's wall time and the encode processes' summed wall time.
func appendTiming(path string, total time.Duration, res *encode.Result) error {
	var ff time.Duration
	for _, c := range res.Commands {
		if c.Purpose == encode.PurposeEncode {
			ff += c.Elapsed
		}
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(f, "%.3f %.3f\n", total.Seconds(), ff.Seconds())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func run(ctx context.Context, master, ladderSpec, out, strategy, speed string, seg time.Duration,
	quality, force, printOnly, jsonOut bool) (*encode.Result, error) {
	st, err := encode.ParseStrategy(strategy)
	if err != nil {
		return nil, err
	}
	sp, err := encode.ParseSpeed(speed)
	if err != nil {
		return nil, err
	}
	var l encode.Ladder
	var probed *encode.Master
	if p, perr := encode.ParsePreset(ladderSpec); perr == nil {
		if probed, err = encode.ProbeMaster(ctx, encode.Tools{}, master); err != nil {
			return nil, err
		}
		if l, err = encode.PresetLadder(p, probed); err != nil {
			return nil, err
		}
	} else if l, err = encode.LoadLadder(ladderSpec); err != nil {
		return nil, err
	}
	cfg := encode.Config{Master: master, Ladder: l, OutDir: out, SegmentDuration: seg, Speed: sp, Strategy: st,
		Quality: quality, Force: force, Probed: probed}
	if printOnly {
		plan, err := encode.NewPlan(ctx, cfg)
		if err != nil {
			return nil, err
		}
		for _, c := range plan.Commands {
			fmt.Println(c.Line)
		}
		return nil, nil
	}
	res, err := encode.Encode(ctx, cfg, nil)
	if err != nil {
		return nil, err
	}
	if jsonOut {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return res, enc.Encode(res)
	}
	var b strings.Builder
	for _, c := range res.Commands {
		b.WriteString(c.Line + "\n")
	}
	_, err = fmt.Print(b.String())
	return res, err
}
