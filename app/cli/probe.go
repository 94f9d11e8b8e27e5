package cli

import (
	"fmt"

	"satchel/app/services"
)

func init() {
	register(&command{
		name:    "probe",
		summary: "Show tracks, codec strings, bitrate, duration and GOPs of MP4 files; check ladder GOP alignment.",
		usage:   "satchel probe FILE... [--json]",
		run:     runProbe,
	})
}

func runProbe(e *env, args []string) error {
	fs := newFlags(e, commands["probe"])
	asJSON := fs.Bool("json", false, "print one JSON document")
	_ = workspaceFlag(fs) // accepted on every command; probing and inspecting need no workspace
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("give at least one MP4 file")
	}
	out, err := services.Probe(e.ctx, pos)
	if err != nil {
		return &InputError{Err: err}
	}
	if *asJSON {
		if err := writeJSON(e.stdout, out); err != nil {
			return err
		}
	} else {
		printProbe(e, out)
	}
	if out.Misaligned != nil {
		return &InputError{Err: out.Misaligned}
	}
	return nil
}

func printProbe(e *env, out *services.ProbeResult) {
	for i, a := range out.Assets {
		if i > 0 {
			fmt.Fprintln(e.stdout)
		}
		a.WriteText(e.stdout)
	}
	if len(out.Assets) < 2 {
		return
	}
	if out.Aligned {
		fmt.Fprintf(e.stdout, "\nLadder: %d renditions, GOPs aligned.\n", len(out.Assets))
	} else {
		fmt.Fprintf(e.stdout, "\nLadder: NOT aligned: %s\n", out.Alignment)
	}
}
