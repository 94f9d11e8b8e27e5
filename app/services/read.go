package services

import (
	"context"
	"fmt"
	"os"

	"satchel/engine/inspect"
	"satchel/engine/policy"
	"satchel/engine/probe"
	"satchel/internal/field"
)

// The stateless reads below need no workspace: a command that only looks at files works
// while the desktop app holds the workspace.

// ProbeResult describes source renditions and whether their GOPs line up as one ladder.
type ProbeResult struct {
	Assets  []*probe.Asset `json:"assets"`
	Aligned bool           `json:"aligned"`
	// Alignment says why the ladder is not aligned (empty when it is).
	Alignment string `json:"alignment,omitempty"`
	// Misaligned is the ladder check's error (a *probe.MisalignedError or
	// *probe.DurationMismatchError) when Aligned is false.
	Misaligned error `json:"-"`
}

// Probe probes each file and, when more than one is given, checks that they form one ladder
// (GOPs aligned). A file that cannot be probed is an error (a *probe.InputError for bad input).
func Probe(ctx context.Context, paths []string) (*ProbeResult, error) {
	if len(paths) == 0 {
		return nil, field.Errorf("inputs", nil, "no MP4 file given")
	}
	res := &ProbeResult{Aligned: true}
	for _, p := range paths {
		a, err := probe.Probe(ctx, p)
		if err != nil {
			return nil, err
		}
		res.Assets = append(res.Assets, a)
	}
	if len(res.Assets) > 1 {
		res.setLadder(probe.CheckLadder(res.Assets))
	}
	return res, nil
}

func (r *ProbeResult) setLadder(err error) {
	r.Aligned, r.Misaligned = err == nil, err
	if err != nil {
		r.Alignment = err.Error()
	}
}

// Inspect returns the box tree of the MP4 at path, with DRM boxes decoded.
func Inspect(ctx context.Context, path string) ([]*inspect.Node, error) {
	return inspect.File(ctx, path)
}

// ReadPolicyFile reads a Satchel policy JSON or an AMS content key policy JSON.
func ReadPolicyFile(path string) (*policy.Policy, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read policy %s: %w", path, err)
	}
	defer f.Close()
	p, err := policy.Read(f)
	if err != nil {
		return nil, fmt.Errorf("read policy %s: %w", path, err)
	}
	return p, nil
}
