package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"satchel/app/jobs"
	"satchel/app/services"
	"satchel/engine/devices"
)

func init() {
	register(&command{
		name: "simulate",
		summary: "Play a package or a policy on a simulated offline device over days: every play attempt " +
			"plays or is refused by a license clock.",
		usage: "satchel simulate [PKG|POLICY] --scenario PRESET|SPEC [--device NAME] [--policy FILE|NAME]\n" +
			"        [--keys CPIX] [--key KID:KEY ...] [--keyset NAME] [--license-url URL] [--token JWT]\n" +
			"        [--json] [--svg FILE] [--workspace DIR]\n" +
			"  PKG is a package folder, manifest, MP4 or URL (the device requests licenses with its signalling; its\n" +
			"  keys.cpix.xml and policy.json are used unless given); POLICY a policy file or name simulated alone.\n" +
			"  Presets: " + presetNames() + " (a preset alone brings its policy).\n" +
			"  SPEC: download@0,play@day2+20h for 2h,play@+47h,clock@day3=-2d,play@+49h (see docs/offline-simulation.md).\n" +
			"  Licenses come from the real license endpoints (a private embedded server, or --license-url), are kept\n" +
			"  in the workspace, and every license and play decision is recorded in the ledger.",
		run: runSimulate,
	})
}

func presetNames() string {
	var names []string
	for _, p := range services.ScenarioPresets() {
		names = append(names, p.Name)
	}
	return strings.Join(names, ", ")
}

func runSimulate(e *env, args []string) error {
	fs := newFlags(e, commands["simulate"])
	scenario := fs.String("scenario", "", "a preset ("+presetNames()+") or a scenario spec")
	device := fs.String("device", "", "the device to simulate: "+strings.Join(devices.Names(), ", ")+
		" (or ios, android, windows…); default: every DRM system the content signals")
	policyArg := fs.String("policy", "", "the policy licenses are issued under: a file or a policy name")
	cpixFile := fs.String("keys", "", "content keys from a CPIX document (default: keys.cpix.xml of the package)")
	var keySpecs stringList
	fs.Var(&keySpecs, "key", "content key KID:KEY (repeatable)")
	keyset := fs.String("keyset", "", "content keys from a key set in the workspace")
	licenseURL := fs.String("license-url", "", "license server base URL (default: a private embedded server)")
	token := fs.String("token", "", "bearer token (JWT) for a token-restricted license server")
	asJSON := fs.Bool("json", false, "print the result (timeline with every decision) as one JSON document")
	svgFile := fs.String("svg", "", "also write the timeline as an SVG picture")
	wsDir := workspaceFlag(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usagef("give at most one package or policy")
	}
	if *scenario == "" {
		return usagef("give a scenario with --scenario (a preset: %s, or a spec)", presetNames())
	}
	req := services.SimulateRequest{Scenario: *scenario, Device: *device, KeySet: *keyset, CPIXFile: *cpixFile,
		LicenseURL: *licenseURL, Token: *token}
	req.Policy, req.PolicyFile = policyRef(*policyArg)
	if len(pos) == 1 {
		if err := simulateTarget(&req, pos[0]); err != nil {
			return err
		}
	}
	keys, err := parseKeyFlags(keySpecs)
	if err != nil {
		return err
	}
	req.Keys = keys
	if err := req.Validate(); err != nil {
		return err
	}
	v, err := runOperation(e, *wsDir, *asJSON, func(svc *services.Service) (*jobs.Job, error) {
		return svc.StartSimulate(e.ctx, req)
	})
	if err != nil {
		return err
	}
	res := v.(*services.SimulateResult)
	if *svgFile != "" {
		if err := writeFileAtomic(*svgFile, res.Timeline.WriteSVG); err != nil {
			return &InputError{Err: fmt.Errorf("write SVG timeline: %w", err)}
		}
	}
	if *asJSON {
		return writeJSON(e.stdout, res)
	}
	return writeSimulation(e.stdout, res)
}

// simulateTarget sorts the positional argument: a package (an existing folder or file that is
// not a policy, or a URL), a policy file (.json) or a policy name.
func simulateTarget(req *services.SimulateRequest, arg string) error {
	st, err := os.Stat(arg)
	switch {
	case strings.HasPrefix(arg, "http://") || strings.HasPrefix(arg, "https://"):
		req.Package = arg
	case err == nil && !st.IsDir() && strings.EqualFold(filepath.Ext(arg), ".json"):
		if req.Policy != "" || req.PolicyFile != "" {
			return usagef("give the policy once: as POLICY or with --policy")
		}
		req.PolicyFile = arg
	case err == nil:
		req.Package = arg
	default:
		if req.Policy != "" || req.PolicyFile != "" {
			return &InputError{Err: fmt.Errorf("%s: no such package", arg)}
		}
		req.Policy = arg // a policy name; the services say when there is none
	}
	return nil
}

// writeSimulation prints what the device did: the timeline with every decision (plays or
// refused, and the clock that refused it). The policy's source went to stderr as a job message.
func writeSimulation(w io.Writer, res *services.SimulateResult) error {
	if res.Policy == "" {
		fmt.Fprintln(w, "No policy: the license server issues open test licenses, which are not persistent.")
	}
	return res.Timeline.WriteText(w)
}
