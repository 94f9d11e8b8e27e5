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
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err := run(ctx, *master, *ladder, *out, *strategy, *speed, *segment, *quality, *force, *printOnly, *jsonOut)
	if err != nil {
		fmt.Fprintln(os.Stderr, "encodebench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, master, ladderSpec, out, strategy, speed string, seg time.Duration,
	quality, force, printOnly, jsonOut bool) error {
	st, err := encode.ParseStrategy(strategy)
	if err != nil {
		return err
	}
	sp, err := encode.ParseSpeed(speed)
	if err != nil {
		return err
	}
	var l encode.Ladder
	if p, perr := encode.ParsePreset(ladderSpec); perr == nil {
		m, err := encode.ProbeMaster(ctx, encode.Tools{}, master)
		if err != nil {
			return err
		}
		if l, err = encode.PresetLadder(p, m); err != nil {
			return err
		}
	} else if l, err = encode.LoadLadder(ladderSpec); err != nil {
		return err
	}
	cfg := encode.Config{Master: master, Ladder: l, OutDir: out, SegmentDuration: seg, Speed: sp, Strategy: st,
		Quality: quality, Force: force}
	if printOnly {
		plan, err := encode.NewPlan(ctx, cfg)
		if err != nil {
			return err
		}
		for _, c := range plan.Commands {
			fmt.Println(c.Line)
		}
		return nil
	}
	res, err := encode.Encode(ctx, cfg, nil)
	if err != nil {
		return err
	}
	if jsonOut {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	var b strings.Builder
	for _, c := range res.Commands {
		b.WriteString(c.Line + "\n")
	}
	_, err = fmt.Print(b.String())
	return err
}
