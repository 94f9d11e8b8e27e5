package devices

import (
	"slices"
	"strings"
	"testing"

	"satchel/engine/drm"
	"satchel/engine/media"
	"satchel/engine/policy"
)

var (
	kVideo = drm.KID{0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90, 0xa0, 0xb0, 0xc0, 0xd0, 0xe0, 0xf0, 0x01}
	kAudio = drm.KID{0x6f, 0x65, 0x1a, 0xe1, 0xdb, 0xe4, 0x44, 0x34, 0xbc, 0xb4, 0x69, 0x0d, 0x15, 0x64, 0xc4, 0x1c}
	both   = []drm.KID{kVideo, kAudio}
)

func sig(sys drm.System, place Place, loc string, kind media.Kind, kids ...drm.KID) Signal {
	return Signal{System: sys, Place: place, Location: loc, Kind: kind, KIDs: kids, InitData: []byte("init-" + loc), Size: 600}
}

// goodEvidence is a package every device except desktop Chrome can play offline: a cenc DASH
// MPD with every system's PSSH (listing both keys) in the MPD, a cbcs HLS presentation with
// FairPlay session keys and an audio group, and a cenc single-file download with a PlayReady
// 4.2 header naming both keys; policy "Offline rental 48 h".
func goodEvidence() Evidence {
	pr := func(place Place, loc, version string, kids ...drm.KID) Signal {
		s := sig(drm.PlayReady, place, loc, media.Video, kids...)
		s.PlayReadyVersion, s.PlayReadyAlgID = version, "AESCTR"
		return s
	}
	return Evidence{
		Source: "pkg",
		Presentations: []Presentation{
			{Delivery: DeliveryDASH, Location: "manifest.mpd", Schemes: []drm.Scheme{drm.SchemeCENC}, KIDs: both, AudioTracks: 1,
				Signals: []Signal{
					sig(drm.Widevine, PlaceMPD, "manifest.mpd, Representation 240p cenc:pssh", media.Video, both...),
					pr(PlaceMPD, "manifest.mpd, Representation 240p mspr:pro", "4.2.0.0", both...),
					sig(drm.ClearKey, PlaceMPD, "manifest.mpd, Representation 240p cenc:pssh", media.Video, both...),
					sig(drm.Widevine, PlaceInit, "cenc/240p/init.mp4", media.Video, both...),
				}},
			{Delivery: DeliveryHLS, Location: "master.m3u8", Schemes: []drm.Scheme{drm.SchemeCBCS}, KIDs: both, AudioTracks: 1,
				Signals: []Signal{
					sig(drm.FairPlay, PlaceHLSSessionKey, "master.m3u8, EXT-X-SESSION-KEY", "", kVideo),
					sig(drm.FairPlay, PlaceHLSSessionKey, "master.m3u8, EXT-X-SESSION-KEY", "", kAudio),
					sig(drm.FairPlay, PlaceHLSKey, "cbcs/240p/playlist.m3u8, EXT-X-KEY", "", kVideo),
				}},
			{Delivery: DeliveryDownload, Location: "download/240p.mp4", Schemes: []drm.Scheme{drm.SchemeCENC}, KIDs: both, AudioTracks: 1,
				Signals: []Signal{pr(PlaceInit, "download/240p.mp4", "4.2.0.0", both...)}},
		},
		Policy:       policy.Preset(policy.PresetRental48h),
		PolicySource: "policy.json",
	}
}

func TestGoodPackageEveryRulePasses(t *testing.T) {
	m := Evaluate(goodEvidence(), nil)
	if len(m.Rows) != len(profiles) {
		t.Fatalf("%d rows for %d profiles", len(m.Rows), len(profiles))
	}
	for _, r := range m.Rows {
		if r.Device == ChromeDesktop {
			if r.Verdict != NotReady || r.Findings[0].Rule != "chrome-desktop-no-persistent-license" {
				t.Errorf("desktop Chrome: %+v", r)
			}
			continue
		}
		if r.Verdict != Ready || len(r.Findings) > 0 || len(r.Caveats) > 0 {
			t.Errorf("%s: %s %+v %+v", r.Device, r.Verdict, r.Findings, r.Caveats)
		}
	}
}

type expect struct {
	device  ProfileID
	verdict Verdict
	rule    RuleID // must be among the findings (or the caveats for a ready device); "" = none
}

func TestRulesFire(t *testing.T) {
	dashOnly := func(ev *Evidence) { ev.Presentations = ev.Presentations[:1] }
	cases := []struct {
		name   string
		mutate func(ev *Evidence)
		want   []expect
	}{
		{"cbcs-only package", func(ev *Evidence) {
			ev.Presentations[0].Schemes = []drm.Scheme{drm.SchemeCBCS}
			ev.Presentations[2].Schemes = []drm.Scheme{drm.SchemeCBCS}
			ev.Presentations[2].Signals[0].PlayReadyVersion = "4.3.0.0"
			ev.Presentations[2].Signals[0].PlayReadyAlgID = "AESCBC"
		}, []expect{
			{AndroidAPI21, NotReady, "widevine-cbcs-needs-api25"}, {AndroidAPI19, NotReady, "widevine-cbcs-needs-api25"},
			{AndroidL1, Ready, "android-cbcs-green-picture"}, {AndroidClearKey, NotReady, "clearkey-cenc-only"},
			{WindowsPR3, NotReady, "playready-cbcs-needs-pr4"}, {WindowsPR4, Ready, ""},
		}},
		{"PSSH only in the init segments", func(ev *Evidence) {
			dashOnly(ev)
			p := &ev.Presentations[0]
			p.Signals = slices.DeleteFunc(p.Signals, func(s Signal) bool { return s.Place == PlaceMPD })
			for _, sys := range []drm.System{drm.PlayReady, drm.ClearKey} {
				p.Signals = append(p.Signals, sig(sys, PlaceInit, "cenc/240p/init.mp4", media.Video, both...))
			}
		}, []expect{
			{ShakaOffline, NotReady, "shaka-pssh-in-manifest"}, {AndroidL1, NotReady, "exoplayer-pssh-in-manifest"},
			{AndroidClearKey, NotReady, "exoplayer-pssh-in-manifest"}, {ChromeAndroid, Ready, ""},
		}},
		{"non-persistent policy", func(ev *Evidence) { ev.Policy = policy.Preset(policy.PresetStreaming) }, []expect{
			{AndroidL1, NotReady, "widevine-persistent-license"}, {AndroidL3, NotReady, "widevine-persistent-license"},
			{AndroidAPI21, NotReady, "widevine-persistent-license"}, {AndroidAPI19, NotReady, "widevine-persistent-license"},
			{AndroidClearKey, NotReady, "clearkey-persistent-license"}, {ChromeAndroid, NotReady, "widevine-persistent-license"},
			{ChromeDesktop, NotReady, "chrome-desktop-no-persistent-license"}, {WindowsPR3, NotReady, "playready-persistent-license"},
			{WindowsPR4, NotReady, "playready-persistent-license"}, {AppleFairPlay, NotReady, "fairplay-persistent-license"},
			{ShakaOffline, NotReady, "widevine-persistent-license"},
		}},
		{"no policy given", func(ev *Evidence) { ev.Policy = nil }, []expect{
			{AndroidL1, Unknown, "widevine-persistent-license"}, {WindowsPR4, Unknown, "playready-persistent-license"},
			{AppleFairPlay, Unknown, "fairplay-persistent-license"}, {ChromeDesktop, NotReady, "chrome-desktop-no-persistent-license"},
		}},
		{"policy without PlayReady", func(ev *Evidence) { ev.Policy = policy.Preset(policy.PresetTrainer) }, []expect{
			{WindowsPR4, NotReady, "playready-persistent-license"}, {AndroidClearKey, Ready, ""},
		}},
		{"FairPlay without EXT-X-SESSION-KEY", func(ev *Evidence) {
			p := &ev.Presentations[1]
			p.Signals = slices.DeleteFunc(p.Signals, func(s Signal) bool { return s.Place == PlaceHLSSessionKey })
		}, []expect{{AppleFairPlay, NotReady, "fairplay-session-key"}, {AndroidL1, Ready, ""}}},
		{"FairPlay not persistable", func(ev *Evidence) { ev.Policy.FairPlay.RentalAndLeaseKeyType = "Undefined" }, []expect{
			{AppleFairPlay, NotReady, "fairplay-persistent-license"}, {WindowsPR4, Ready, ""},
		}},
		{"HLS cenc only", func(ev *Evidence) { ev.Presentations[1].Schemes = []drm.Scheme{drm.SchemeCENC} }, []expect{
			{AppleFairPlay, NotReady, "fairplay-cbcs-only"},
		}},
		{"HLS without audio", func(ev *Evidence) { ev.Presentations[1].AudioTracks = 0 }, []expect{
			{AppleFairPlay, NotReady, "fairplay-offline-audio"},
		}},
		{"HLS video variant without audio", func(ev *Evidence) { ev.Presentations[1].VideoWithoutAudio = 1 }, []expect{
			{AppleFairPlay, NotReady, "fairplay-offline-audio"},
		}},
		{"HLS audio-only variant", func(ev *Evidence) { ev.Presentations[1].AudioOnlyVariants = 1 }, []expect{
			{AppleFairPlay, Ready, "fairplay-offline-audio"},
		}},
		{"live presentations", func(ev *Evidence) {
			for i := range ev.Presentations {
				ev.Presentations[i].Dynamic = true
			}
		}, []expect{{AndroidL1, NotReady, "static-presentation"}, {AppleFairPlay, NotReady, "static-presentation"}}},
		{"no Widevine signalled", func(ev *Evidence) {
			dashOnly(ev)
			p := &ev.Presentations[0]
			p.Signals = slices.DeleteFunc(p.Signals, func(s Signal) bool { return s.System == drm.Widevine })
		}, []expect{{AndroidL1, NotReady, "widevine-signalled"}, {ShakaOffline, NotReady, "widevine-signalled"}}},
		{"first video PSSH lists one of two keys", func(ev *Evidence) {
			dashOnly(ev)
			ev.Presentations[0].Signals[0].KIDs = []drm.KID{kVideo}
		}, []expect{{AndroidL1, NotReady, "exoplayer-one-key-set"}, {ChromeAndroid, Ready, ""}}},
		{"first video PSSH with a content_id only", func(ev *Evidence) {
			dashOnly(ev)
			ev.Presentations[0].Signals[0].KIDs, ev.Presentations[0].Signals[0].ContentID = nil, true
		}, []expect{{AndroidL1, Unknown, "exoplayer-one-key-set"}}},
		{"Widevine durations unset", func(ev *Evidence) { ev.Policy.Widevine.PolicyOverrides.RentalDurationSeconds = nil },
			[]expect{{AndroidAPI19, NotReady, "widevine-durations-set"}, {AndroidAPI21, Ready, ""}, {AndroidL1, Ready, ""}}},
		{"Widevine can_play false", func(ev *Evidence) { ev.Policy.Widevine.PolicyOverrides.CanPlay = false },
			[]expect{{AndroidL1, NotReady, "widevine-can-play"}, {ShakaOffline, NotReady, "widevine-can-play"}}},
		{"SD needs hardware", func(ev *Evidence) {
			ev.Policy.Widevine.ContentKeySpecs = []policy.ContentKeySpec{{TrackType: "SD", SecurityLevel: 5}}
		}, []expect{{AndroidL3, NotReady, "widevine-l3-security-level"}, {AndroidL1, Ready, ""}}},
		{"HD needs hardware", func(ev *Evidence) {
			ev.Policy.Widevine.ContentKeySpecs = []policy.ContentKeySpec{{TrackType: "SD", SecurityLevel: 1}, {TrackType: "HD", SecurityLevel: 4}}
		}, []expect{{AndroidL3, Ready, "widevine-l3-security-level"}}},
		{"ClearKey temporary", func(ev *Evidence) { ev.Policy.ClearKey.LicenseType = "temporary" }, []expect{
			{AndroidClearKey, NotReady, "clearkey-persistent-license"},
		}},
		{"PlayReady 4.3 header in a cbcs download", func(ev *Evidence) {
			p := &ev.Presentations[2]
			p.Schemes, p.Signals[0].PlayReadyVersion = []drm.Scheme{drm.SchemeCBCS}, "4.3.0.0"
			p.Signals[0].PlayReadyAlgID = "AESCBC"
		}, []expect{{WindowsPR3, NotReady, "playready-header-playready3"}, {WindowsPR4, Ready, ""}}},
		{"cbcs download behind an AESCTR header", func(ev *Evidence) {
			p := &ev.Presentations[2]
			p.Schemes, p.Signals[0].PlayReadyAlgID = []drm.Scheme{drm.SchemeCBCS}, "AESCTR"
		}, []expect{{WindowsPR4, NotReady, "playready-algid-matches-scheme"}}},
		{"PlayReady header without KID", func(ev *Evidence) { ev.Presentations[2].Signals[0].KIDs = nil }, []expect{
			{WindowsPR3, NotReady, "playready-header-kid"}, {WindowsPR4, NotReady, "playready-header-kid"},
		}},
		{"PlayReady header misses the audio key", func(ev *Evidence) {
			ev.Presentations[2].Signals[0].KIDs, ev.Presentations[2].Signals[0].PlayReadyVersion = []drm.KID{kVideo}, "4.0.0.0"
		}, []expect{{WindowsPR4, NotReady, "playready-header-all-kids"}}},
		{"PlayReady Object over 15 KB", func(ev *Evidence) { ev.Presentations[2].Signals[0].Size = 20000 }, []expect{
			{WindowsPR4, NotReady, "playready-object-size"},
		}},
		{"PlayReady only in the manifest", func(ev *Evidence) { ev.Presentations = ev.Presentations[:2] }, []expect{
			{WindowsPR4, NotReady, "delivery"}, {AndroidL1, Ready, ""},
		}},
		{"PIFF download", func(ev *Evidence) {
			p := &ev.Presentations[2]
			p.PIFF, p.Signals[0].Place = true, PlacePIFF
		}, []expect{{WindowsPR3, Ready, ""}}},
		{"SL3000", func(ev *Evidence) { ev.Policy.PlayReady.SecurityLevel = "SL3000" }, []expect{
			{WindowsPR4, Ready, "playready-sl3000"},
		}},
		{"two audio tracks", func(ev *Evidence) { ev.Presentations[0].AudioTracks = 2 }, []expect{
			{ShakaOffline, Ready, "shaka-first-audio-only"},
		}},
		{"scheme unreadable", func(ev *Evidence) {
			dashOnly(ev)
			ev.Presentations[0].Schemes = nil
		}, []expect{{AndroidL1, Unknown, "widevine-scheme"}}},
		{"policy only", func(ev *Evidence) { ev.Presentations = nil }, []expect{
			{AndroidL1, NotReady, "delivery"}, {AppleFairPlay, NotReady, "delivery"},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev := goodEvidence()
			c.mutate(&ev)
			m := Evaluate(ev, nil)
			for _, w := range c.want {
				r, ok := m.Row(w.device)
				if !ok {
					t.Fatalf("no row for %s", w.device)
				}
				if r.Verdict != w.verdict {
					t.Errorf("%s: %s, want %s; findings %+v", w.device, r.Verdict, w.verdict, r.Findings)
					continue
				}
				list := r.Findings
				if r.Verdict == Ready {
					list = r.Caveats
				}
				if w.rule == "" {
					if len(r.Findings) > 0 {
						t.Errorf("%s: unexpected findings %+v", w.device, r.Findings)
					}
					continue
				}
				if !hasRule(list, w.rule) {
					t.Errorf("%s: rule %s did not fire; got %+v", w.device, w.rule, list)
				}
			}
		})
	}
}

func hasRule(fs []Finding, id RuleID) bool {
	for _, f := range fs {
		if f.Rule == id && f.Evidence != "" && f.Why != "" && f.Source != "" && (f.Result == ResultUnknown || f.Fix != "") {
			return true
		}
	}
	return false
}

// TestProfileTable checks the table itself: every rule has an ID, the rule text, a why, a
// source and a fix; IDs are unique within a profile; every profile downloads something.
func TestProfileTable(t *testing.T) {
	for _, p := range Profiles() {
		t.Run(string(p.ID), func(t *testing.T) {
			if p.Name == "" || p.System.SystemID() == nil || len(p.Deliveries) == 0 || len(p.Rules) == 0 {
				t.Fatalf("incomplete profile %+v", p)
			}
			seen := map[RuleID]bool{}
			for _, r := range p.Rules {
				if r.ID == "" || r.Says == "" || r.Why == "" || r.Source == "" || r.Fix == "" || r.check == nil || r.Scope == "" {
					t.Errorf("incomplete rule %+v", r)
				}
				if seen[r.ID] {
					t.Errorf("rule %s twice", r.ID)
				}
				seen[r.ID] = true
			}
		})
	}
}

func TestParseProfile(t *testing.T) {
	cases := []struct{ in, want, err string }{
		{"android-l1", "android-l1", ""},
		{" IOS ", "apple-fairplay", ""},
		{"windows", "windows-pr4", ""},
		{"shaka", "shaka-offline", ""},
		{"roku", "", "unknown device \"roku\": use one of android-l1, android-l3"},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, err := ParseProfile(c.in)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), "shaka-offline") {
					t.Fatalf("error %v", err)
				}
				return
			}
			if err != nil || string(got) != c.want {
				t.Fatalf("%q: %s %v", c.in, got, err)
			}
		})
	}
	ids, err := ParseProfiles("ios, android-l1,ios")
	if err != nil || len(ids) != 2 || ids[0] != AppleFairPlay {
		t.Fatalf("ParseProfiles: %v %v", ids, err)
	}
	if ids, err := ParseProfiles("all"); err != nil || ids != nil {
		t.Fatalf("all: %v %v", ids, err)
	}
	m := Evaluate(goodEvidence(), []ProfileID{AppleFairPlay, AndroidL1})
	if len(m.Rows) != 2 || m.Rows[0].Device != AndroidL1 {
		t.Fatalf("only: %+v", m.Rows)
	}
}
