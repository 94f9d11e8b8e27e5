package cli

import (
	"fmt"
	"io"
	"strings"

	"satchel/app/jobs"
	"satchel/app/services"
	"satchel/engine/devices"
	"satchel/engine/verify"
	"satchel/internal/atomicfile"
)

func init() {
	register(&command{
		name:    "verify",
		summary: "Check a packaged file, folder, manifest or URL: structure, signalling, license round trip, decryption, integrity.",
		usage: "satchel verify PATH|URL [--keys CPIX] [--key KID:KEY ...] [--keyset NAME] [--license-url URL] [--token JWT]\n" +
			"        [--policy FILE|NAME] [--source FILE ...] [--full] [--allow-host HOST[:PORT] ...] [--include-keys]\n" +
			"        [--max-segments N] [--max-fetches N] [--max-response BYTES] [--max-time DURATION]\n" +
			"        [--device NAME[,NAME…]] [--scenario PRESET|SPEC] [--json] [--html FILE] [--workspace DIR]\n" +
			"  Without keys or a policy, keys.cpix.xml and policy.json are taken from the package holding PATH\n" +
			"  (its folder and up to two folders above). The report ends with the offline readiness matrix (per\n" +
			"  device: ready, or the rule, what was found and the fix); --device limits it. --scenario also plays the\n" +
			"  package on a simulated device (see satchel simulate); its timeline goes into the report (SVG in HTML).\n" +
			"  The report is saved in the workspace.",
		run: runVerify,
	})
}

func runVerify(e *env, args []string) error {
	fs := newFlags(e, commands["verify"])
	var keySpecs, sources stringList
	cpixFile := fs.String("keys", "",
		"content keys from a CPIX document (default: keys.cpix.xml of the package, if found)")
	fs.Var(&keySpecs, "key", "content key KID:KEY (repeatable)")
	keyset := fs.String("keyset", "", "content keys from a key set in the workspace")
	licenseURL := fs.String("license-url", "", "license server base URL (default: an embedded server on 127.0.0.1)")
	token := fs.String("token", "", "bearer token (JWT) for a token-restricted license server")
	policyArg := fs.String("policy", "",
		"offline policy to lint and enforce: a file or a policy name (default: policy.json of the package)")
	fs.Var(&sources, "source", "source MP4 for bit-exact comparison (repeatable)")
	full := fs.Bool("full", false, "decode every sample (default: every sync sample and the first fragment of each track)")
	var allowHosts stringList
	fs.Var(&allowHosts, "allow-host", "another host (HOST for any port, or HOST:PORT) a remote manifest may send the checker to (repeatable)")
	includeKeys := fs.Bool("include-keys", false, "keep the content keys of license responses in the report (redacted by default)")
	maxSegments := fs.Int("max-segments", 0, "stop after this many segments listed by the manifests (default 200000)")
	maxFetches := fs.Int("max-fetches", 0, "stop after this many HTTP requests (default 250000)")
	maxResponse := fs.Int64("max-response", 0, "largest init or media segment read, in bytes (default 64 MiB)")
	maxTime := fs.Duration("max-time", 0, "stop after this long (default 2h)")
	deviceList := fs.String("device", "", "limit the offline readiness matrix to these devices: "+
		strings.Join(devices.Names(), ", ")+" (or ios, android, windows…), comma-separated")
	scenario := fs.String("scenario", "", "also simulate the package on a device: a preset ("+presetNames()+") or a spec")
	asJSON := fs.Bool("json", false, "print the report as one JSON document")
	htmlFile := fs.String("html", "", "also write the report as a self-contained HTML file")
	wsDir := workspaceFlag(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("give exactly one file, folder, manifest or URL to verify")
	}
	req := services.VerifyRequest{Path: pos[0], KeySet: *keyset, CPIXFile: *cpixFile, LicenseURL: *licenseURL,
		Token: *token, Sources: sources, Full: *full, AllowHosts: allowHosts,
		IncludeKeys: *includeKeys, Limits: verify.Limits{MaxSegments: *maxSegments, MaxFetches: *maxFetches,
			MaxResponseBytes: *maxResponse, MaxTime: *maxTime}, Devices: *deviceList, Scenario: *scenario}
	req.Policy, req.PolicyFile = policyRef(*policyArg)
	keys, err := parseKeyFlags(keySpecs)
	if err != nil {
		return err
	}
	req.Keys = keys
	if err := req.Validate(); err != nil {
		return err
	}
	v, err := runOperation(e, *wsDir, *asJSON, func(svc *services.Service) (*jobs.Job, error) {
		return svc.StartVerify(e.ctx, req)
	})
	if err != nil {
		return err
	}
	rep := v.(*services.VerifyResult).Report
	if *htmlFile != "" {
		if err := writeFileAtomic(*htmlFile, rep.WriteHTML); err != nil {
			return &InputError{Err: fmt.Errorf("write HTML report: %w", err)}
		}
	}
	if *asJSON {
		err = rep.WriteJSON(e.stdout)
	} else {
		err = rep.WriteText(e.stdout)
	}
	if err != nil {
		return err
	}
	if rep.Failed() {
		return CheckFailed
	}
	return nil
}

// writeFileAtomic writes an export, report or timeline through a temp file renamed at the end,
// readable by its owner only (a CPIX export holds content keys).
func writeFileAtomic(path string, write func(w io.Writer) error) error {
	return atomicfile.Write(path, 0o600, write)
}
