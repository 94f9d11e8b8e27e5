package devices_test

import (
	"fmt"

	"satchel/engine/devices"
	"satchel/engine/drm"
	"satchel/engine/policy"
)

// ExampleEvaluate judges a package for two devices: the evidence would normally come from a
// verification (verify.Report.Evidence); here it is written out, a cbcs-only HLS package with
// FairPlay session keys.
func ExampleEvaluate() {
	kid := drm.KID{0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90, 0xa0, 0xb0, 0xc0, 0xd0, 0xe0, 0xf0, 0x01}
	ev := devices.Evidence{
		Source: "pkg",
		Presentations: []devices.Presentation{{
			Delivery: devices.DeliveryHLS, Location: "master.m3u8", Schemes: []drm.Scheme{drm.SchemeCBCS},
			KIDs: []drm.KID{kid}, AudioTracks: 1,
			Signals: []devices.Signal{{System: drm.FairPlay, Place: devices.PlaceHLSSessionKey,
				Location: "master.m3u8, EXT-X-SESSION-KEY", KIDs: []drm.KID{kid}, InitData: []byte("skd://k/" + kid.Hex())}},
		}},
		Policy: policy.Preset(policy.PresetRental48h),
	}
	m := devices.Evaluate(ev, []devices.ProfileID{devices.AppleFairPlay, devices.WindowsPR4})
	for _, r := range m.Rows {
		fmt.Println(r.Device, r.Verdict)
		for _, f := range r.Findings {
			fmt.Println("  ", f.Rule, "-", f.Evidence)
		}
	}
	// Output:
	// windows-pr4 not-ready
	//    delivery - the package offers master.m3u8 (an HLS playlist)
	// apple-fairplay ready
}
