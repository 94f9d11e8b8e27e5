package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"satchel/engine/drm"
	"satchel/engine/policy"
	"satchel/engine/verify"
)

func init() {
	register(&command{
		name:    "verify",
		summary: "Check a packaged file, folder, manifest or URL: structure, signalling, license round trip, decryption, integrity.",
		usage: "satchel verify PATH|URL [--keys CPIX] [--key KID:KEY ...] [--keyset NAME] [--license-url URL] [--token JWT]\n" +
			"        [--policy FILE] [--source FILE ...] [--full] [--allow-host HOST[:PORT] ...] [--include-keys]\n" +
			"        [--max-segments N] [--max-fetches N] [--max-response BYTES] [--max-time DURATION]\n" +
			"        [--json] [--html FILE] [--workspace DIR]",
		run: runVerify,
	})
}

func runVerify(e *env, args []string) error {
	fs := newFlags(e, commands["verify"])
	var keySpecs, sources stringList
	cpixFile := fs.String("keys", "", "content keys from a CPIX document (default: keys.cpix.xml beside the manifest, if present)")
	fs.Var(&keySpecs, "key", "content key KID:KEY (repeatable)")
	keyset := fs.String("keyset", "", "content keys from a key set in the workspace")
	licenseURL := fs.String("license-url", "", "license server base URL (default: an embedded server on 127.0.0.1)")
	token := fs.String("token", "", "bearer token (JWT) for a token-restricted license server")
	policyFile := fs.String("policy", "", "offline policy to lint and enforce (default: policy.json beside the manifest, if present)")
	fs.Var(&sources, "source", "source MP4 for bit-exact comparison (repeatable)")
	full := fs.Bool("full", false, "decode every sample (default: every sync sample and the first fragment of each track)")
	var allowHosts stringList
	fs.Var(&allowHosts, "allow-host", "another host (HOST for any port, or HOST:PORT) a remote manifest may send the checker to (repeatable)")
	includeKeys := fs.Bool("include-keys", false, "keep the content keys of license responses in the report (redacted by default)")
	maxSegments := fs.Int("max-segments", 0, "stop after this many segments listed by the manifests (default 200000)")
	maxFetches := fs.Int("max-fetches", 0, "stop after this many HTTP requests (default 250000)")
	maxResponse := fs.Int64("max-response", 0, "largest init or media segment read, in bytes (default 64 MiB)")
	maxTime := fs.Duration("max-time", 0, "stop after this long (default 2h)")
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
	target := pos[0]
	in := verify.Input{Path: target, LicenseURL: *licenseURL, Token: *token, SourceFiles: sources, Full: *full,
		AllowHosts: allowHosts, IncludeKeys: *includeKeys,
		Limits: verify.Limits{MaxSegments: *maxSegments, MaxFetches: *maxFetches, MaxResponseBytes: *maxResponse, MaxTime: *maxTime}}
	local := !strings.HasPrefix(target, "http://") && !strings.HasPrefix(target, "https://")
	if local {
		if _, err := os.Stat(target); err != nil {
			return &InputError{Err: fmt.Errorf("verify %s: %w", target, err)}
		}
	}
	for _, s := range keySpecs {
		k, err := drm.ParseKeySpec(s)
		if err != nil {
			return &InputError{Err: err}
		}
		in.Keys = append(in.Keys, k)
	}
	beside := func(name string) string {
		if !local {
			return ""
		}
		dir := target
		if st, err := os.Stat(target); err == nil && !st.IsDir() {
			dir = filepath.Dir(target)
		}
		p := filepath.Join(dir, name)
		if fileExists(p) {
			return p
		}
		return ""
	}
	if *cpixFile == "" && len(in.Keys) == 0 && *keyset == "" {
		if p := beside("keys.cpix.xml"); p != "" {
			*cpixFile = p
			fmt.Fprintf(e.stderr, "using keys from %s\n", p)
		}
	}
	if *cpixFile != "" {
		keys, err := keysFromCPIX(*cpixFile)
		if err != nil {
			return &InputError{Err: err}
		}
		in.Keys = append(in.Keys, keys...)
	}
	if *keyset != "" {
		svc, err := openWorkspace(e, *wsDir)
		if err != nil {
			return err
		}
		keys, err := svc.KeySetKeys(*keyset)
		svc.Close()
		if err != nil {
			return &InputError{Err: err}
		}
		in.Keys = append(in.Keys, keys...)
	}
	if *policyFile == "" {
		*policyFile = beside("policy.json")
	}
	if *policyFile != "" {
		p, err := readPolicyFile(*policyFile)
		if err != nil {
			return &InputError{Err: err}
		}
		in.Policy = p
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		// Verification streams one fragment per track; a soft heap limit makes the GC return
		// segment buffers promptly so memory stays flat whatever the package size.
		debug.SetMemoryLimit(64 << 20)
	}
	rep, err := verify.Verify(e.ctx, in)
	if err != nil {
		return &InputError{Err: err}
	}
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

// readPolicyFile reads a Satchel policy JSON or an AMS content key policy JSON.
func readPolicyFile(path string) (*policy.Policy, error) {
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

// policyForPackage validates a policy for offline use and returns the JSON written beside the
// package (secrets redacted) and the warnings; validation errors stop packaging.
func policyForPackage(p *policy.Policy) ([]byte, []string, error) {
	var warnings, errs []string
	for _, is := range policy.Validate(p, true) {
		msg := fmt.Sprintf("%s: %s", is.Field, is.Message)
		if is.Fix != "" {
			msg += " (" + is.Fix + ")"
		}
		if is.Severity == "error" {
			errs = append(errs, msg)
		} else {
			warnings = append(warnings, msg)
		}
	}
	if len(errs) > 0 {
		return nil, warnings, fmt.Errorf("policy %q is not valid for offline use: %s", p.Name, strings.Join(errs, "; "))
	}
	b, err := policy.MarshalPublic(p)
	if err != nil {
		return nil, warnings, err
	}
	return b, warnings, nil
}

// writeFileAtomic writes path through a temp file renamed at the end.
func writeFileAtomic(path string, write func(w io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
