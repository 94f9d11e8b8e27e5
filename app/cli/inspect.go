package cli

import (
	"satchel/app/services"
	"satchel/engine/inspect"
)

func init() {
	register(&command{
		name:    "inspect",
		summary: "Show the box tree of an MP4 with decoded pssh/PRO/tenc/senc details.",
		usage:   "satchel inspect FILE [--json]",
		run:     runInspect,
	})
}

func runInspect(e *env, args []string) error {
	fs := newFlags(e, commands["inspect"])
	asJSON := fs.Bool("json", false, "print the tree as one JSON document")
	_ = workspaceFlag(fs) // accepted on every command; probing and inspecting need no workspace
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("give exactly one MP4 file to inspect")
	}
	nodes, err := services.Inspect(e.ctx, pos[0])
	if err != nil {
		return &InputError{Err: err}
	}
	if *asJSON {
		return inspect.WriteJSON(e.stdout, nodes)
	}
	return inspect.WriteText(e.stdout, nodes)
}
