package services

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strings"

	"satchel/app/jobs"
	"satchel/app/store"
	"satchel/engine/devices"
	"satchel/engine/drm"
	"satchel/engine/license"
	"satchel/engine/manifest"
	"satchel/engine/policy"
	"satchel/engine/simulate"
	"satchel/engine/verify"
	"satchel/internal/field"
)

// KindSimulate is the job kind of a simulated offline device run.
const KindSimulate jobs.Kind = "simulate"

// SimulateRequest is one run of the simulated offline device, as the Simulate screen and
// `satchel simulate` build it: a package (or a policy alone) played through a scenario of
// downloads, plays and clock changes over simulated days.
type SimulateRequest struct {
	// Package is a package (folder, manifest, single MP4 or http(s) URL): the device requests
	// its licenses with the init data the package signals. Empty simulates the policy alone,
	// with a throw-away key signalled for every system the policy configures.
	Package string `json:"package,omitempty"`
	// Scenario is a preset name (rental, purchase, …), a compact spec
	// ("download@0,play@day2+20h for 2h,play@+49h") or JSON (engine/simulate).
	Scenario string `json:"scenario"`
	// Policy (a workspace policy, a policy preset or a scenario preset's policy) or
	// PolicyFile is what the embedded license server issues licenses under (a LicenseURL server
	// applies its own). With neither, the policy.json beside
	// a local Package is used; for a policy-only run of a preset scenario, the preset's policy.
	Policy     string `json:"policy,omitempty"`
	PolicyFile string `json:"policy_file,omitempty"`
	// Device is a device profile or alias (engine/devices: android-l1, ios, windows…): only its
	// DRM system is simulated and its platform rules apply (Android 4.4 reads unset Widevine
	// durations as expired). Empty: every system, on a generic device.
	Device string `json:"device,omitempty"`
	// Keys, KeySet and CPIXFile load the embedded license server as for a verification; with
	// none, the keys.cpix.xml beside a local Package is used.
	Keys     []drm.ContentKey `json:"-"`
	KeySet   string           `json:"key_set,omitempty"`
	CPIXFile string           `json:"cpix_file,omitempty"`
	// LicenseURL is a Satchel license server to use instead of a private embedded one; Token
	// its bearer token (never recorded).
	LicenseURL string `json:"license_url,omitempty"`
	Token      string `json:"-"`
}

// Validate checks the request without the workspace; problems are *field.Error values.
func (r SimulateRequest) Validate() error {
	sc, err := simulate.ParseScenario(r.Scenario)
	if err != nil {
		return field.Errorf("scenario", r.Scenario, "%v", err)
	}
	if r.Device != "" {
		if _, err := devices.ParseProfile(r.Device); err != nil {
			return field.Errorf("device", r.Device, "%v", err)
		}
	}
	if r.Policy != "" && r.PolicyFile != "" {
		return field.Errorf("policy", r.Policy, "give a policy name or a policy file, not both")
	}
	if r.Package != "" && !isURL(r.Package) && !fileExists(r.Package) {
		return field.Errorf("package", r.Package, "does not exist")
	}
	if _, preset := simulate.PresetByName(sc.Name); r.Package == "" && r.Policy == "" && r.PolicyFile == "" && !preset {
		return field.Errorf("package", nil,
			"give a package or a policy to simulate (or a preset scenario, which brings its policy)")
	}
	if r.Package == "" && r.LicenseURL != "" {
		return field.Errorf("license_url", r.LicenseURL, "a policy alone is simulated with the embedded license server; "+
			"give a package to ask another server")
	}
	return checkLicenseURL(r.LicenseURL)
}

func checkLicenseURL(u string) error {
	if u == "" {
		return nil
	}
	if !isURL(u) || strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://") == "" {
		return field.Errorf("license_url", u, "not an http(s) URL")
	}
	return nil
}

// SimulateResult is the result of a simulate job.
type SimulateResult struct {
	Timeline *simulate.Timeline `json:"timeline"`
	// Policy names the policy the licenses were issued under and PolicySource where it came
	// from (a file, a name, "scenario preset"); empty when none (open licenses).
	Policy       string `json:"policy,omitempty"`
	PolicySource string `json:"policy_source,omitempty"`
	// KeysFile is the keys.cpix.xml found beside the target and used ("" otherwise).
	KeysFile string `json:"keys_file,omitempty"`
	// LicenseURL is the license server the device talked to ("" for the private one).
	LicenseURL string `json:"license_url,omitempty"`
}

// simulation is an assembled run: what the device downloads, the server it asks, the device.
type simulation struct {
	scenario simulate.Scenario
	content  simulate.Content
	keys     []drm.ContentKey // served by the embedded license server
	policy   *policy.Policy
	profile  *devices.Profile // the one device simulated (nil: a generic device)
	only     []drm.System     // the systems to simulate (nil: every one the content has)
	url      string           // a given license server ("" starts one)
	token    string
}

// StartSimulate runs the simulated device (result *SimulateResult). Licenses come from the
// real license endpoints — a private embedded server loaded with the keys and the policy, or
// LicenseURL — and are kept in the workspace; the server records every license it issues and
// the device every play decision in the workspace ledger.
func (s *Service) StartSimulate(ctx context.Context, req SimulateRequest) (*jobs.Job, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	sc, _ := simulate.ParseScenario(req.Scenario)
	pol, from, err := s.simulatePolicy(req, sc)
	if err != nil {
		return nil, err
	}
	keys, keysFile, err := s.simulateKeys(req)
	if err != nil {
		return nil, err
	}
	title := "Simulate " + sc.Name
	if req.Package != "" {
		title += " on " + filepath.Base(req.Package)
	}
	return s.Jobs.Start(ctx, KindSimulate, title, req, func(ctx context.Context, report func(jobs.Event)) (any, error) {
		if from != "" {
			report(jobs.Event{Message: "licenses under policy " + policyLabel(pol) + " (" + from + ")"})
		}
		sim := &simulation{scenario: sc, keys: keys, policy: pol, url: req.LicenseURL, token: req.Token}
		if req.Device != "" {
			id, _ := devices.ParseProfile(req.Device) // validated
			sim.forDevices([]devices.ProfileID{id})
		}
		if err := s.simulationContent(ctx, sim, req.Package, report); err != nil {
			return nil, err
		}
		tl, err := s.runSimulation(ctx, sim)
		if err != nil {
			return nil, err
		}
		res := &SimulateResult{Timeline: tl, Policy: tl.Policy, PolicySource: from, KeysFile: keysFile,
			LicenseURL: req.LicenseURL}
		if pol != nil {
			res.Policy = pol.Name
		} else if req.LicenseURL != "" && tl.Policy != "" {
			res.PolicySource = "the license server's"
		}
		return res, nil
	})
}

func policyLabel(p *policy.Policy) string {
	if p == nil {
		return "(none)"
	}
	return fmt.Sprintf("%q", p.Name)
}

// simulatePolicy resolves the request's policy: a name (workspace, policy preset or scenario
// preset policy), a file, the package's policy.json, or the preset scenario's own policy.
func (s *Service) simulatePolicy(req SimulateRequest, sc simulate.Scenario) (*policy.Policy, string, error) {
	if req.LicenseURL != "" {
		return nil, "", nil // the server applies its own policy; the licenses name it
	}
	if req.Policy != "" {
		for _, pr := range simulate.Presets() {
			if p := pr.Policy(); p.Name == req.Policy {
				return p, req.Policy, nil
			}
		}
	}
	file := req.PolicyFile
	if req.Policy == "" && file == "" && req.Package != "" {
		file = FindBeside(req.Package, manifest.FilePolicy)
	}
	p, from, err := s.loadPolicy(req.Policy, file)
	if err != nil || p != nil {
		return p, from, err
	}
	if pr, ok := simulate.PresetByName(sc.Name); ok && req.Package == "" {
		return pr.Policy(), "scenario preset " + pr.Name, nil
	}
	return nil, "", nil
}

// simulateKeys gathers the keys the embedded license server issues: explicit keys, a key set,
// a CPIX document, or the keys.cpix.xml beside a local target.
func (s *Service) simulateKeys(req SimulateRequest) ([]drm.ContentKey, string, error) {
	if req.LicenseURL != "" {
		return nil, "", nil
	}
	keys := append([]drm.ContentKey(nil), req.Keys...)
	if req.KeySet != "" {
		ks, err := s.KeySetKeys(req.KeySet)
		if err != nil {
			return nil, "", err
		}
		keys = append(keys, ks...)
	}
	cpix, found := req.CPIXFile, ""
	if cpix == "" && len(keys) == 0 && req.Package != "" {
		cpix = FindBeside(req.Package, manifest.FileKeys)
		found = cpix
	}
	if cpix != "" {
		doc, err := drm.ReadCPIXFile(cpix)
		if err != nil {
			return nil, "", err
		}
		keys = append(keys, doc.Keys...)
	}
	return keys, found, nil
}

// NoDRMError says a package signals no DRM system a simulated device could request a license
// for (or not the one the chosen device uses).
type NoDRMError struct {
	Target string
	System drm.System // the system the device needs; "" when the package signals none
}

func (e *NoDRMError) Error() string {
	if e.System != "" {
		return fmt.Sprintf("%s has no %s, the DRM system of the chosen device", e.Target, e.System.Title())
	}
	return fmt.Sprintf("%s signals no DRM system: there is no license to request", e.Target)
}

// simulationContent sets what the device downloads: the package's signalling, read by the
// verifier (manifests and init segments only), or for a policy alone a throw-away key
// signalled for every system the policy configures.
func (s *Service) simulationContent(ctx context.Context, sim *simulation, target string,
	report func(jobs.Event)) error {
	if target == "" {
		key, err := drm.RandomContentKey(drm.TrackSD)
		if err != nil {
			return err
		}
		var systems []drm.System
		for _, sys := range drm.AllSystems {
			if sim.policy == nil || sim.policy.For(sys) != nil {
				systems = append(systems, sys)
			}
		}
		sim.keys = append(sim.keys, key)
		if len(systems) == 0 {
			return field.Errorf("policy", sim.policy.Name, "configures no DRM system")
		}
		if sim.content, err = simulate.NewContent([]drm.ContentKey{key}, sim.deviceSystems(systems)); err != nil {
			return err
		}
		return sim.checkSystems("policy " + policyLabel(sim.policy))
	}
	report(jobs.Event{Message: "reading the signalling of " + target})
	rep, err := verify.Verify(ctx, verify.Input{Path: target, SignallingOnly: true})
	if err != nil {
		return err
	}
	systems, kids, initData := rep.LicenseContent()
	sim.content = simulate.Content{ID: contentID(target, kids), Systems: sim.deviceSystems(systems), KIDs: kids,
		InitData: initData}
	return sim.checkSystems(target)
}

// contentID names the content on the simulated device: the package's folder or file name.
func contentID(target string, kids []drm.KID) string {
	name := strings.TrimSuffix(target, "/")
	if i := strings.IndexAny(name, "?#"); i >= 0 && isURL(name) {
		name = name[:i]
	}
	if b := filepath.Base(name); b != "." && b != "/" {
		return b
	}
	if len(kids) > 0 {
		return kids[0].String()
	}
	return "content"
}

// forDevices simulates the chosen devices: one device is simulated as itself (its name, its
// platform rules); several limit the lanes to their DRM systems.
func (sim *simulation) forDevices(ids []devices.ProfileID) {
	for _, id := range ids {
		p, ok := devices.Lookup(id)
		if !ok {
			continue
		}
		if len(ids) == 1 {
			sim.profile = &p
		}
		if !slices.Contains(sim.only, p.System) {
			sim.only = append(sim.only, p.System)
		}
	}
}

// deviceSystems keeps the chosen devices' DRM systems (every system without a device).
func (sim *simulation) deviceSystems(systems []drm.System) []drm.System {
	if len(sim.only) == 0 {
		return systems
	}
	var out []drm.System
	for _, sys := range systems {
		if slices.Contains(sim.only, sys) {
			out = append(out, sys)
		}
	}
	return out
}

func (sim *simulation) checkSystems(what string) error {
	if len(sim.content.Systems) > 0 {
		return nil
	}
	e := &NoDRMError{Target: what}
	if len(sim.only) == 1 {
		e.System = sim.only[0]
	}
	return e
}

// runSimulation plays the scenario on a device that asks the given license server, or a
// private embedded one loaded with the keys and the policy; licenses are kept in the
// workspace and every decision goes to the ledger.
func (s *Service) runSimulation(ctx context.Context, sim *simulation) (*simulate.Timeline, error) {
	st, err := s.Settings()
	if err != nil {
		return nil, err
	}
	ledger := workspaceLedger{s: s, keep: st.LedgerKeepOrDefault()}
	base := sim.url
	if base == "" {
		srv := &license.Server{Keys: license.StaticKeys(sim.keys), Policy: func() *policy.Policy { return sim.policy },
			Ledger: ledger, Logger: s.Log}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("start the simulator's license server: %w", err)
		}
		sctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = license.Serve(sctx, ln, srv.Handler(), "", "")
		}()
		defer func() { cancel(); <-done }()
		base = "http://" + ln.Addr().String()
	}
	dev := &simulate.Device{ID: "simulated-device", Client: license.NewClient(base, sim.token),
		Store: workspaceLicenses{s}, Ledger: ledger}
	if sim.profile != nil {
		dev.ID, dev.AndroidAPI = string(sim.profile.ID), sim.profile.AndroidAPI
	}
	tl, err := dev.Run(ctx, sim.scenario, sim.content)
	if err != nil {
		var se *license.StatusError
		if errors.As(err, &se) {
			return nil, err
		}
		return nil, fmt.Errorf("simulate %s: %w", sim.scenario.Name, err)
	}
	return tl, nil
}

// deviceLicenseSchema is the layout version of a device license record; a record with a
// higher version was written by a newer Satchel and is not read.
const deviceLicenseSchema = 1

// deviceLicenseRecord is one license a simulated device keeps, as the workspace stores it.
type deviceLicenseRecord struct {
	Schema  int                    `json:"schema"`
	Device  string                 `json:"device"`
	Content string                 `json:"content"`
	System  drm.System             `json:"system"`
	License simulate.StoredLicense `json:"license"`
}

// workspaceLicenses keeps simulated devices' licenses in the workspace (simulate.Store), so a
// device keeps its licenses between runs and a trainer can look at them.
type workspaceLicenses struct{ s *Service }

// Load implements simulate.Store.
func (w workspaceLicenses) Load(_ context.Context, k simulate.Key) (*simulate.StoredLicense, error) {
	var rec deviceLicenseRecord
	if err := w.s.WS.Get(store.BucketDeviceLicenses, k.String(), &rec); err != nil {
		if isNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	if rec.Schema > deviceLicenseSchema {
		return nil, fmt.Errorf("the simulated device's %s license was stored by a newer Satchel (schema %d)",
			k.System, rec.Schema)
	}
	return &rec.License, nil
}

// Save implements simulate.Store.
func (w workspaceLicenses) Save(_ context.Context, k simulate.Key, lic *simulate.StoredLicense) error {
	rec := deviceLicenseRecord{Schema: deviceLicenseSchema, Device: k.Device, Content: k.Content, System: k.System,
		License: *lic}
	return w.s.WS.Put(store.BucketDeviceLicenses, k.String(), rec)
}

// Delete implements simulate.Store.
func (w workspaceLicenses) Delete(_ context.Context, k simulate.Key) error {
	return w.s.WS.Delete(store.BucketDeviceLicenses, k.String())
}

// DeviceLicense is a license a simulated device keeps in the workspace.
type DeviceLicense struct {
	Device  string                 `json:"device"`
	Content string                 `json:"content"`
	System  drm.System             `json:"system"`
	License simulate.StoredLicense `json:"license"`
}

// DeviceLicenses lists the licenses simulated devices keep, by device, content and system.
func (s *Service) DeviceLicenses() ([]DeviceLicense, error) {
	entries, err := list[deviceLicenseRecord](s, store.BucketDeviceLicenses)
	if err != nil {
		return nil, err
	}
	out := make([]DeviceLicense, 0, len(entries))
	for _, e := range entries {
		r := e.Value
		out = append(out, DeviceLicense{Device: r.Device, Content: r.Content, System: r.System, License: r.License})
	}
	return out, nil
}

// ScenarioPresets returns the classic offline scenarios (engine/simulate), for the screens'
// and the CLI's choices.
func ScenarioPresets() []simulate.Preset { return simulate.Presets() }
