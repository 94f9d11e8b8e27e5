package encode_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"satchel/engine/encode"
)

// ExampleEncode encodes the automatic (AMS AdaptiveStreaming-like) ladder from a master and
// prints the finished ladder with its quality. res.Paths() are the packager's inputs, to be
// packaged with res.SegmentDuration.
func ExampleEncode() {
	ctx := context.Background()
	m, err := encode.ProbeMaster(ctx, encode.Tools{}, "master.mov")
	if err != nil {
		log.Fatal(err)
	}
	ladder, err := encode.PresetLadder(encode.PresetAuto, m)
	if err != nil {
		log.Fatal(err)
	}
	cfg := encode.Config{Master: m.Path, Ladder: ladder, OutDir: "ladder", Quality: true}
	res, err := encode.Encode(ctx, cfg, func(p encode.Progress) {
		fmt.Fprintf(os.Stderr, "%s %s %3.0f%% %.1fx ETA %s\n", p.Name, p.Phase, 100*p.Fraction(), p.Speed, p.ETA)
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range res.Commands {
		fmt.Println(c.Line) // copyable: what ran, with the final file names
	}
	_ = res.WriteText(os.Stdout)
}
