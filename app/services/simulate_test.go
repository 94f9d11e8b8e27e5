package services

import (
	"context"
	"errors"
	"strings"
	"testing"

	"satchel/app/jobs"
	"satchel/engine/devices"
	"satchel/engine/drm"
	"satchel/engine/license"
	"satchel/engine/policy"
	"satchel/engine/simulate"
	"satchel/internal/field"
)

func laneDecisions(l simulate.Lane) []string {
	var out []string
	for _, m := range l.Marks {
		out = append(out, strings.TrimSpace(string(m.Outcome)+" "+string(m.Clock)))
	}
	return out
}

// TestSimulatePolicyPreset: a preset scenario alone brings its policy; the device acquires
// its licenses from the real endpoints, keeps them in the workspace, and the ledger holds the
// session: the server's issued licenses and the device's decisions, each with the device and
// the scenario time.
func TestSimulatePolicyPreset(t *testing.T) {
	s := open(t)
	res := runJob(t, func() (*jobs.Job, error) {
		return s.StartSimulate(context.Background(), SimulateRequest{Scenario: simulate.PresetRental})
	}).(*SimulateResult)
	tl := res.Timeline
	if res.Policy != simulate.RentalPolicyName || !strings.HasPrefix(res.PolicySource, "scenario preset") || len(tl.Lanes) != 4 {
		t.Fatalf("policy %q (%s), %d lanes", res.Policy, res.PolicySource, len(tl.Lanes))
	}
	want := map[drm.System]string{
		drm.Widevine:  "plays|plays|refused widevine-playback-duration",
		drm.PlayReady: "plays|plays|refused playready-first-play-expiration",
		drm.FairPlay:  "plays|plays|refused fairplay-playback-duration",
		drm.ClearKey:  "plays|plays|plays",
	}
	for _, l := range tl.Lanes {
		if got := strings.Join(laneDecisions(l), "|"); got != want[l.System] {
			t.Errorf("%s: %s, want %s", l.System, got, want[l.System])
		}
	}
	stored, err := s.DeviceLicenses()
	if err != nil || len(stored) != 4 || stored[0].Device != "simulated-device" || stored[0].License.FirstPlay == nil {
		t.Fatalf("device licenses %v %+v", err, stored)
	}
	ledger, err := s.Ledger()
	if err != nil {
		t.Fatal(err)
	}
	var issued, plays, refused int
	for _, e := range ledger {
		if e.Device != "simulated-device" || e.ScenarioTime == "" {
			t.Errorf("ledger entry without device or scenario time: %+v", e)
		}
		switch {
		case e.Decision == license.DecisionIssued && e.ScenarioTime == "day 1, 00:00":
			issued++
		case e.Type == "play" && e.Decision == license.DecisionPlays:
			plays++
		case e.Type == "play" && e.Decision == license.DecisionRefused && e.Clock != "" && e.Reason != "":
			refused++
		}
	}
	if issued != 4 || plays != 9 || refused != 3 {
		t.Fatalf("ledger: %d issued, %d plays, %d refused:\n%+v", issued, plays, refused, ledger)
	}
}

// TestSimulatePackage plays a package's own signalling for one device: only its DRM system is
// simulated, under the package's policy.json.
func TestSimulatePackage(t *testing.T) {
	s := open(t)
	req := DefaultPackageRequest()
	req.Inputs, req.OutDir, req.Policy = []string{media + "ladder_240p.mp4"}, t.TempDir()+"/pkg", policy.PresetRental48h
	runJob(t, func() (*jobs.Job, error) { return s.StartPackage(context.Background(), req) })
	res := runJob(t, func() (*jobs.Job, error) {
		return s.StartSimulate(context.Background(), SimulateRequest{Package: req.OutDir, Scenario: simulate.PresetExpired,
			Device: "ios"})
	}).(*SimulateResult)
	tl := res.Timeline
	if res.Policy != policy.PresetRental48h || res.KeysFile == "" || tl.Device != string(devices.AppleFairPlay) ||
		len(tl.Lanes) != 1 || tl.Lanes[0].System != drm.FairPlay || tl.Content != "pkg" {
		t.Fatalf("result %+v, timeline %s %s %+v", res, tl.Device, tl.Content, tl.Lanes)
	}
	if got := laneDecisions(tl.Lanes[0]); len(got) != 1 || got[0] != "refused fairplay-storage-duration" {
		t.Fatalf("decisions %v", got)
	}

	// A verification with a scenario carries the timeline and a readiness matrix limited to
	// the one device.
	vr := runJob(t, func() (*jobs.Job, error) {
		return s.StartVerify(context.Background(), VerifyRequest{Path: req.OutDir, Devices: "android-l1",
			Scenario: simulate.PresetPurchase})
	}).(*VerifyResult)
	rep := vr.Report
	if rep.Readiness == nil || len(rep.Readiness.Rows) != 1 || rep.Readiness.Rows[0].Device != devices.AndroidL1 ||
		!strings.Contains(rep.Readiness.Policy, "48 h") {
		t.Fatalf("readiness %+v", rep.Readiness)
	}
	if rep.Simulation == nil || len(rep.Simulation.Lanes) != 1 || rep.Simulation.Lanes[0].System != drm.Widevine {
		t.Fatalf("simulation %+v", rep.Simulation)
	}
	// Rental 48 h under the purchase scenario: day 30 and day 365 are past every window; the
	// license duration (48 h from the download) ended first.
	if got := strings.Join(laneDecisions(rep.Simulation.Lanes[0]), "|"); got !=
		"plays|refused widevine-license-duration|refused widevine-license-duration" {
		t.Fatalf("decisions %s", got)
	}
	saved, err := s.Reports()
	if err != nil || len(saved) == 0 || saved[0].Simulation == nil || saved[0].Readiness == nil {
		t.Fatalf("saved report without readiness or simulation: %v", err)
	}
}

func TestSimulateRequestValidate(t *testing.T) {
	s := open(t)
	cases := []struct {
		req   SimulateRequest
		field string
	}{
		{SimulateRequest{Scenario: "play@tomorrow"}, "scenario"},
		{SimulateRequest{Scenario: "rental", Device: "toaster"}, "device"},
		{SimulateRequest{Scenario: "download@0,play@1h"}, "package"},
		{SimulateRequest{Scenario: "rental", Package: "/no/such/package"}, "package"},
		{SimulateRequest{Scenario: "rental", Policy: "a", PolicyFile: "b"}, "policy"},
		{SimulateRequest{Scenario: "rental", LicenseURL: "ftp://x"}, "license_url"},
	}
	for _, c := range cases {
		t.Run(c.field+" "+c.req.Scenario, func(t *testing.T) {
			_, err := s.StartSimulate(context.Background(), c.req)
			var fe *field.Error
			if !errors.As(err, &fe) || fe.Field != c.field {
				t.Fatalf("error %v, want a %s field error", err, c.field)
			}
		})
	}
	if _, err := s.StartSimulate(context.Background(), SimulateRequest{Scenario: "rental", Policy: "nope"}); err == nil {
		t.Fatal("an unknown policy was accepted")
	}
	if err := (VerifyRequest{Path: ".", Devices: "toaster"}).Validate(); err == nil {
		t.Fatal("an unknown device was accepted")
	}
}
