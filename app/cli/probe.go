package cli

import (
	"errors"
	"fmt"

	"satchel/engine/probe"
)

func init() {
	register(&command{
		name:    "probe",
		summary: "Show tracks, codec strings, bitrate, duration and GOPs of MP4 files; check ladder GOP alignment.",
		usage:   "satchel probe FILE... [--json]",
		run:     runProbe,
	})
}

// probeOutput is the --json document of `satchel probe`.
type probeOutput struct {
	Assets    []*probe.Asset `json:"assets"`
	Aligned   bool           `json:"aligned"`
	Alignment string         `json:"alignment,omitempty"`
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
	out := probeOutput{Aligned: true}
	for _, p := range pos {
		a, err := probe.Probe(e.ctx, p)
		if err != nil {
			return &InputError{Err: err}
		}
		out.Assets = append(out.Assets, a)
	}
	var ladderErr error
	if len(out.Assets) > 1 {
		ladderErr = probe.CheckLadder(out.Assets)
		if ladderErr != nil {
			out.Aligned = false
			out.Alignment = ladderErr.Error()
		}
	}
	if *asJSON {
		if err := writeJSON(e.stdout, out); err != nil {
			return err
		}
	} else {
		for i, a := range out.Assets {
			if i > 0 {
				fmt.Fprintln(e.stdout)
			}
			a.WriteText(e.stdout)
		}
		if len(out.Assets) > 1 {
			if out.Aligned {
				fmt.Fprintf(e.stdout, "\nLadder: %d renditions, GOPs aligned.\n", len(out.Assets))
			} else {
				fmt.Fprintf(e.stdout, "\nLadder: NOT aligned: %s\n", out.Alignment)
			}
		}
	}
	if ladderErr != nil {
		var mis *probe.MisalignedError
		var dur *probe.DurationMismatchError
		if errors.As(ladderErr, &mis) || errors.As(ladderErr, &dur) {
			return &InputError{Err: ladderErr}
		}
		return ladderErr
	}
	return nil
}
