package packaging

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"satchel/engine/devices"
	"satchel/engine/policy"
	"satchel/engine/verify"
)

// TestOfflineReadinessOfDefaultPackage reads the device evidence of a fresh default
// package of a multi-key ladder (AUDIO, SD and HD keys) with an offline purchase policy: the
// ExoPlayer profiles are ready, because every track's init data in the MPD and the HLS
// playlists lists every key ID (one offline key set holds every key). With per-track init data
// the same package fails ExoPlayer's one-key-set rule, which is what the option trades.
func TestOfflineReadinessOfDefaultPackage(t *testing.T) {
	ins := []string{testMedia + "ladder_240p.mp4", testMedia + "ladder_720p.mp4"}
	exo := []devices.ProfileID{devices.AndroidL1, devices.AndroidL3, devices.AndroidAPI21, devices.AndroidClearKey}
	for _, perTrack := range []bool{false, true} {
		t.Run(map[bool]string{false: "all-keys", true: "per-track"}[perTrack], func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "pkg")
			res, err := Package(context.Background(), Config{Inputs: ins, OutDir: out, SegmentDuration: 2 * time.Second,
				PerTrackInitData: perTrack}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Keys) != 3 {
				t.Fatalf("want AUDIO, SD and HD keys, got %+v", res.Keys)
			}
			// The verifier is the one package reader: it reads the manifests and init segments
			// and judges the device profiles on what it found.
			rep, err := verify.Verify(context.Background(), verify.Input{Path: out, SignallingOnly: true,
				Policy: policy.Preset(policy.PresetPurchase), Devices: exo})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Readiness == nil || len(rep.Readiness.Rows) != len(exo) {
				t.Fatalf("readiness %+v", rep.Readiness)
			}
			for _, r := range rep.Readiness.Rows {
				failed := slices.ContainsFunc(r.Findings, func(f devices.Finding) bool {
					return f.Rule == "exoplayer-one-key-set" && f.Result == devices.ResultFail
				})
				switch {
				case !perTrack && r.Verdict != devices.Ready:
					t.Errorf("%s: %s, findings %+v", r.Device, r.Verdict, r.Findings)
				case perTrack && (r.Verdict != devices.NotReady || !failed):
					t.Errorf("per-track init data: %s should fail exoplayer-one-key-set: %s %+v", r.Device, r.Verdict, r.Findings)
				}
			}
		})
	}
}
