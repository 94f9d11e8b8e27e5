package services

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"satchel/app/jobs"
	"satchel/app/store"
	"satchel/engine/devices"
	"satchel/engine/drm"
	"satchel/engine/manifest"
	"satchel/engine/simulate"
	"satchel/engine/verify"
	"satchel/internal/field"
)

// VerifyRequest is one verification, as the Verify screen and `satchel verify` build it.
type VerifyRequest struct {
	// Path is a file, a folder, an .mpd/.m3u8, or an http(s) URL of one of these.
	Path string `json:"path"`
	// Keys are explicit content keys (never recorded). Keys from KeySet and CPIXFile are
	// added. With none of the three, the keys.cpix.xml found beside a local Path is used (see
	// FindBeside).
	Keys     []drm.ContentKey `json:"-"`
	KeySet   string           `json:"key_set,omitempty"`
	CPIXFile string           `json:"cpix_file,omitempty"`
	// Policy (a workspace policy or preset) or PolicyFile is linted for offline use and
	// enforced by the private license server; with neither, the policy.json found beside a
	// local Path is used.
	Policy     string `json:"policy,omitempty"`
	PolicyFile string `json:"policy_file,omitempty"`
	// LicenseURL is a Satchel license server to use instead of a private embedded one.
	LicenseURL string `json:"license_url,omitempty"`
	// Token is the bearer token (JWT) for a token-restricted license server (never recorded).
	Token string `json:"-"`
	// Sources are the clear source files, for a bit-exact comparison of decrypted samples.
	Sources []string `json:"sources,omitempty"`
	// Full decodes every sample (default: every sync sample and each track's first fragment).
	Full bool `json:"full,omitempty"`
	// AllowHosts are the hosts (host or host:port) besides the target's own that a remote
	// manifest may point at; they are named in the report.
	AllowHosts []string `json:"allow_hosts,omitempty"`
	// IncludeKeys keeps content keys in the report's license exchanges (redacted by default).
	IncludeKeys bool `json:"include_keys,omitempty"`
	// Limits bound a remote verification (zero fields take the verifier's defaults).
	Limits verify.Limits `json:"limits,omitempty"`
	// Devices limits the offline readiness matrix: device profiles or aliases, comma-separated
	// (engine/devices: android-l1, ios, windows…); empty or "all": every profile.
	Devices string `json:"devices,omitempty"`
	// Scenario, when set, also plays the package on a simulated device (a preset name or a
	// spec, as SimulateRequest.Scenario) with the verification's keys, policy and license
	// server; the timeline goes into the report. With one device in Devices the simulated
	// device is that one; several limit it to their DRM systems.
	Scenario string `json:"scenario,omitempty"`
}

// Validate checks the request without the workspace; problems are *field.Error values.
func (r VerifyRequest) Validate() error {
	if strings.TrimSpace(r.Path) == "" {
		return field.Errorf("path", nil, "no file, folder, manifest or URL given")
	}
	if !isURL(r.Path) {
		if _, err := os.Stat(r.Path); err != nil {
			return field.Errorf("path", r.Path, "does not exist")
		}
	}
	if r.Policy != "" && r.PolicyFile != "" {
		return field.Errorf("policy", r.Policy, "give a policy name or a policy file, not both")
	}
	if r.LicenseURL != "" {
		if u, err := url.Parse(r.LicenseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return field.Errorf("license_url", r.LicenseURL, "not an http(s) URL")
		}
	}
	for _, src := range r.Sources {
		if _, err := os.Stat(src); err != nil {
			return field.Errorf("sources", src, "does not exist")
		}
	}
	if _, err := devices.ParseProfiles(r.Devices); err != nil {
		return field.Errorf("devices", r.Devices, "%v", err)
	}
	if r.Scenario != "" {
		if _, err := simulate.ParseScenario(r.Scenario); err != nil {
			return field.Errorf("scenario", r.Scenario, "%v", err)
		}
	}
	return nil
}

// VerifyResult is the result of a verify job.
type VerifyResult struct {
	Report *verify.Report `json:"report"`
	// KeysFile and PolicyFile name the files found beside the target and used ("" when the
	// request named its keys or policy, or nothing was found).
	KeysFile   string `json:"keys_file,omitempty"`
	PolicyFile string `json:"policy_file,omitempty"`
}

// StartVerify runs the checker (result *VerifyResult; the report is also saved in the
// workspace's reports). The files found beside the target are reported as job messages.
func (s *Service) StartVerify(ctx context.Context, req VerifyRequest) (*jobs.Job, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	in, found, err := s.verifyInput(req, req.Path)
	if err != nil {
		return nil, err
	}
	title := "Verify " + filepath.Base(req.Path)
	return s.Jobs.Start(ctx, KindVerify, title, req, func(ctx context.Context, report func(jobs.Event)) (any, error) {
		found.report(report)
		report(jobs.Event{Message: "checking " + req.Path})
		release := limitMemory() // verify streams one fragment per track, like packaging
		defer release()
		rep, err := verify.Verify(ctx, in)
		if err != nil {
			return nil, err
		}
		if req.Scenario != "" {
			report(jobs.Event{Message: "simulating " + req.Scenario + " on a device"})
			if rep.Simulation, err = s.simulateReport(ctx, req, in, rep); err != nil {
				return nil, err
			}
		}
		s.saveReport(rep)
		return &VerifyResult{Report: rep, KeysFile: found.keys, PolicyFile: found.policy}, nil
	})
}

// found names the files FindBeside supplied to a verification.
type found struct{ keys, policy string }

func (f found) report(report func(jobs.Event)) {
	if f.keys != "" {
		report(jobs.Event{Message: "using keys from " + f.keys})
	}
	if f.policy != "" {
		report(jobs.Event{Message: "using policy from " + f.policy})
	}
}

// verifyInput assembles the checker's input for req. Keys and policy not named in req are
// looked up beside local (a file or folder of the package; "" or a URL: no lookup).
func (s *Service) verifyInput(req VerifyRequest, local string) (verify.Input, found, error) {
	in := verify.Input{Path: req.Path, LicenseURL: req.LicenseURL, Token: req.Token, SourceFiles: req.Sources,
		Full: req.Full, AllowHosts: req.AllowHosts, IncludeKeys: req.IncludeKeys, Limits: req.Limits}
	var f found
	st, err := s.Settings()
	if err != nil {
		return in, f, err
	}
	in.Origin = st.PlayerOrigin
	in.Keys = append(in.Keys, req.Keys...)
	if req.KeySet != "" {
		keys, err := s.KeySetKeys(req.KeySet)
		if err != nil {
			return in, f, err
		}
		in.Keys = append(in.Keys, keys...)
	}
	cpix := req.CPIXFile
	if cpix == "" && len(req.Keys) == 0 && req.KeySet == "" {
		cpix = FindBeside(local, manifest.FileKeys)
		f.keys = cpix
	}
	if cpix != "" {
		doc, err := drm.ReadCPIXFile(cpix)
		if err != nil {
			return in, f, err
		}
		in.Keys = append(in.Keys, doc.Keys...)
	}
	policyFile := req.PolicyFile
	if req.Policy == "" && policyFile == "" {
		policyFile = FindBeside(local, manifest.FilePolicy)
		f.policy = policyFile
	}
	if in.Policy, in.PolicySource, err = s.loadPolicy(req.Policy, policyFile); err != nil {
		return in, f, err
	}
	switch {
	case req.Policy != "":
		in.PolicySource = "" // the policy's name says it
	case req.PolicyFile != "":
		in.PolicySource = filepath.Base(req.PolicyFile)
	case f.policy != "":
		in.PolicySource = filepath.Base(f.policy) + " of the package"
	}
	in.Devices, _ = devices.ParseProfiles(req.Devices) // validated
	return in, f, nil
}

// simulateReport plays req.Scenario on a simulated device for the verified package: the
// content is what the verifier read, the licenses come from the verification's license
// server (or a private one with its keys and policy).
func (s *Service) simulateReport(ctx context.Context, req VerifyRequest, in verify.Input,
	rep *verify.Report) (*simulate.Timeline, error) {
	sc, _ := simulate.ParseScenario(req.Scenario)
	sim := &simulation{scenario: sc, keys: in.Keys, policy: in.Policy, url: in.LicenseURL, token: in.Token}
	sim.forDevices(in.Devices)
	systems, kids, initData := rep.LicenseContent()
	sim.content = simulate.Content{ID: contentID(req.Path, kids), Systems: sim.deviceSystems(systems), KIDs: kids,
		InitData: initData}
	if err := sim.checkSystems(req.Path); err != nil {
		return nil, err
	}
	return s.runSimulation(ctx, sim)
}

// saveReport records a verify report in the workspace (logged, not fatal, when it fails:
// the user has the report in hand).
func (s *Service) saveReport(rep *verify.Report) {
	if _, err := s.WS.Append(store.BucketReports, rep); err != nil {
		s.Log.Warn("save verify report", "err", err)
	}
}

// Reports returns saved verify reports, newest first.
func (s *Service) Reports() ([]verify.Report, error) {
	entries, err := list[verify.Report](s, store.BucketReports)
	if err != nil {
		return nil, err
	}
	out := make([]verify.Report, 0, len(entries))
	for i := len(entries) - 1; i >= 0; i-- {
		out = append(out, entries[i].Value)
	}
	return out, nil
}

// besideLevels is how many folders above the target FindBeside looks: a file inside a
// package sits at most two levels down (cenc/360p/init.mp4, download/360p.mp4).
const besideLevels = 2

// FindBeside returns the path of the file called name that belongs to the package holding
// target: it looks in target's folder (target itself when it is a folder) and up to two
// parent folders, nearest first. It returns "" for URLs and when nothing is found. The CLI
// and the GUI find keys.cpix.xml and policy.json with this one rule.
func FindBeside(target, name string) string {
	if target == "" || isURL(target) {
		return ""
	}
	dir := target
	if st, err := os.Stat(target); err != nil {
		return ""
	} else if !st.IsDir() {
		dir = filepath.Dir(target)
	}
	for i := 0; i <= besideLevels; i++ {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return ""
}

func isURL(s string) bool { return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") }
