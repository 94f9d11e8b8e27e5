// Package devices answers "will this download play offline on the viewer's device?": device
// profiles as data (one table, each rule with its source and a short why), the Evidence a
// package and its policy provide, and Evaluate, which gives a readiness Matrix — per device
// ready, not ready (with the rule, the evidence found and where, and the fix) or unknown
// (evidence missing).
//
// It reads no files: engine/verify reads the package (one reader for every analysis) and
// derives the Evidence from its inventory (verify.Report.Evidence). It does not decrypt or play
// anything: engine/verify proves decryption and engine/simulate plays license clocks.
package devices

import (
	"fmt"
	"slices"
	"strings"

	"satchel/engine/drm"
)

// ProfileID names a device profile; `--device NAME` uses it.
type ProfileID string

// The device profiles, in table order.
const (
	AndroidL1       ProfileID = "android-l1"
	AndroidL3       ProfileID = "android-l3"
	AndroidAPI21    ProfileID = "android-api21"
	AndroidAPI19    ProfileID = "android-api19"
	AndroidClearKey ProfileID = "android-clearkey"
	ChromeAndroid   ProfileID = "chrome-android"
	ChromeDesktop   ProfileID = "chrome-desktop"
	WindowsPR3      ProfileID = "windows-pr3"
	WindowsPR4      ProfileID = "windows-pr4"
	AppleFairPlay   ProfileID = "apple-fairplay"
	ShakaOffline    ProfileID = "shaka-offline"
)

// Profile is a device (platform, player and DRM client) and the rules a download must meet to
// play offline on it.
type Profile struct {
	ID ProfileID `json:"id"`
	// Name describes the device for people.
	Name string `json:"name"`
	// System is the DRM system the device uses.
	System drm.System `json:"system"`
	// Deliveries are the forms the device downloads, in order of preference.
	Deliveries []Delivery `json:"deliveries"`
	// AndroidAPI is the lowest Android API level the profile stands for (0: not Android).
	AndroidAPI int `json:"android_api,omitempty"`
	// Rules must all hold (device and policy rules) or hold for one presentation
	// (presentation rules).
	Rules []Rule `json:"rules"`
}

var (
	schemesExo   = []drm.Scheme{drm.SchemeCENC, drm.SchemeCBCS}
	cencOnly     = []drm.Scheme{drm.SchemeCENC}
	cbcsOnly     = []drm.Scheme{drm.SchemeCBCS}
	exoDelivery  = []Delivery{DeliveryDASH, DeliveryHLS}
	fixCENC      = "also package a cenc presentation (DASH)"
	saysExoWV    = "Widevine must be signalled in the DASH MPD or HLS playlists (or their init segments)."
	whyExoWV     = "ExoPlayer/Media3 requests Widevine licenses with the Widevine init data the presentation carries."
	fixSignalWV  = "package with Widevine signalling"
	saysManifest = "The Widevine PSSH must be in the manifest, not only in the init segments."
	whyExoMan    = "ExoPlayer's download flow (OfflineLicenseHelper with the manifest's format) needs the DRM " +
		"scheme data in the manifest to fetch the offline license before downloading."
	fixManifest = "write the PSSH into the MPD (ContentProtection cenc:pssh) or an EXT-X-SESSION-KEY"
)

// exoWidevine is the rule set of an ExoPlayer/Media3 Widevine download on Android.
func exoWidevine(scheme Rule, extra ...Rule) []Rule {
	rules := []Rule{
		staticRule(),
		signalledRule("widevine-signalled", drm.Widevine, saysExoWV, whyExoWV, srcDASHCP, fixSignalWV),
		scheme,
		initDataInManifestRule("exoplayer-pssh-in-manifest", drm.Widevine, saysManifest, whyExoMan, srcExoManifest,
			fixManifest),
		oneKeySetRule("exoplayer-one-key-set", drm.Widevine),
		persistentRule(drm.Widevine),
		canPlayRule(),
	}
	return append(rules, extra...)
}

func exoScheme() Rule {
	return schemeRule("widevine-scheme", schemesExo,
		"ExoPlayer/Media3 Widevine plays cenc and cbcs (cbcs from Android 7.1).",
		"Other schemes (cens, cbc1) are not supported by the Android platform DRM.", srcMedia3DRM, "package cenc or cbcs")
}

func oldAndroidScheme() Rule {
	return schemeRule("widevine-cbcs-needs-api25", cencOnly,
		"Widevine cbcs needs Android 7.1 (API 25) or later; older devices play cenc only.",
		"The platform DRM of Android 7.0 and older cannot decrypt AES-CBC pattern encryption.", srcMedia3DRM, fixCENC)
}

// profiles is the table of device profiles. Each rule carries its source; see rules.go.
var profiles = []Profile{
	{ID: AndroidL1, Name: "Android 7.1+ (API 25+), ExoPlayer/Media3, Widevine L1", System: drm.Widevine,
		Deliveries: exoDelivery, AndroidAPI: 25, Rules: exoWidevine(exoScheme(), cbcsGreenCaveat())},
	{ID: AndroidL3, Name: "Android 7.1+ (API 25+), ExoPlayer/Media3, Widevine L3 (software)", System: drm.Widevine,
		Deliveries: exoDelivery, AndroidAPI: 25, Rules: exoWidevine(exoScheme(), cbcsGreenCaveat(), l3SecurityLevelRule())},
	{ID: AndroidAPI21, Name: "Android 5.0–7.0 (API 21–24), ExoPlayer/Media3, Widevine", System: drm.Widevine,
		Deliveries: exoDelivery, AndroidAPI: 21, Rules: exoWidevine(oldAndroidScheme())},
	{ID: AndroidAPI19, Name: "Android 4.4 (API 19), ExoPlayer 2.x, Widevine", System: drm.Widevine,
		Deliveries: exoDelivery, AndroidAPI: 19, Rules: exoWidevine(oldAndroidScheme(), durationsSetRule())},
	{ID: AndroidClearKey, Name: "Android, ExoPlayer/Media3, ClearKey", System: drm.ClearKey,
		Deliveries: []Delivery{DeliveryDASH}, AndroidAPI: 21, Rules: []Rule{
			staticRule(),
			signalledRule("clearkey-signalled", drm.ClearKey, "ClearKey must be signalled in the MPD.",
				"ExoPlayer finds ClearKey by its ContentProtection (DASH-IF ClearKey or W3C common PSSH); ClearKey is DASH only.",
				srcMedia3DRM, "package with ClearKey signalling", PlaceMPD, PlaceMPDDescriptor, PlaceInit),
			schemeRule("clearkey-cenc-only", cencOnly, "ExoPlayer ClearKey plays cenc only.",
				"ClearKey with cbcs fails on Android.", srcClearKeyCBCS, fixCENC),
			initDataInManifestRule("exoplayer-pssh-in-manifest", drm.ClearKey,
				"The ClearKey (W3C common) PSSH must be in the MPD, not only in the init segments.", whyExoMan, srcExoManifest,
				"write the common PSSH into the MPD (ContentProtection urn:uuid:1077efec-… with cenc:pssh)"),
			oneKeySetRule("exoplayer-one-key-set", drm.ClearKey),
			persistentRule(drm.ClearKey),
		}},
	{ID: ChromeAndroid, Name: "Chrome on Android, Widevine (EME persistent-license)", System: drm.Widevine,
		Deliveries: []Delivery{DeliveryDASH, DeliveryHLS}, AndroidAPI: 25, Rules: []Rule{
			staticRule(),
			signalledRule("widevine-signalled", drm.Widevine, "Widevine must be signalled.",
				"The web player passes the Widevine init data to EME.", srcDASHCP, fixSignalWV),
			schemeRule("widevine-scheme", schemesExo, "Chrome on Android plays Widevine cenc, and cbcs on Android 7.1+.",
				"Chrome decrypts with the platform's Widevine (MediaDrm), which reads cbcs from API 25.", srcMedia3DRM,
				"package cenc or cbcs"),
			persistentRule(drm.Widevine),
			canPlayRule(),
		}},
	{ID: ChromeDesktop, Name: "Chrome / Edge on desktop, Widevine (EME)", System: drm.Widevine,
		Deliveries: []Delivery{DeliveryDASH, DeliveryHLS}, Rules: []Rule{chromeDesktopRule()}},
	{ID: WindowsPR3, Name: "Windows, PlayReady 3 client, progressive download of one MP4", System: drm.PlayReady,
		Deliveries: []Delivery{DeliveryDownload}, Rules: windowsRules(3)},
	{ID: WindowsPR4, Name: "Windows, PlayReady 4 client, progressive download of one MP4", System: drm.PlayReady,
		Deliveries: []Delivery{DeliveryDownload}, Rules: windowsRules(4)},
	{ID: AppleFairPlay, Name: "Safari / iOS / iPadOS, FairPlay (AVFoundation download)", System: drm.FairPlay,
		Deliveries: []Delivery{DeliveryHLS}, Rules: []Rule{
			staticRule(),
			signalledRule("fairplay-signalled", drm.FairPlay, "FairPlay must be signalled in the HLS playlists.",
				"AVFoundation requests keys for EXT-X-KEY KEYFORMAT=\"com.apple.streamingkeydelivery\".", srcFPHLS,
				"package HLS with FairPlay", PlaceHLSKey, PlaceHLSSessionKey),
			schemeRule("fairplay-cbcs-only", cbcsOnly, "FairPlay plays cbcs (SAMPLE-AES) only.",
				"FairPlay Streaming needs METHOD=SAMPLE-AES, which in CENC terms is cbcs.", srcFPHLS,
				"package a cbcs HLS presentation"),
			fairPlaySessionKeyRule(),
			fairPlayAudioRule(),
			persistentRule(drm.FairPlay),
		}},
	{ID: ShakaOffline, Name: "Shaka Player offline storage (PWA), Widevine, e.g. in Chrome on Android",
		System:     drm.Widevine,
		Deliveries: []Delivery{DeliveryDASH, DeliveryHLS}, Rules: []Rule{
			staticRule(),
			signalledRule("widevine-signalled", drm.Widevine, "Widevine must be signalled.",
				"Shaka Player requests the persistent license with the Widevine init data.", srcDASHCP, fixSignalWV),
			initDataInManifestRule("shaka-pssh-in-manifest", drm.Widevine,
				"The Widevine PSSH must be in the manifest, not only in the init segments.",
				"Shaka's storage creates the persistent session before it downloads any segment; without init data in the "+
					"manifest it stops with NO_INIT_DATA_FOR_OFFLINE (9007). PR #2164 added a fallback that reads init "+
					"segments, but #1755 stays open: do not rely on it.",
				srcShakaInitData, fixManifest),
			persistentRule(drm.Widevine),
			canPlayRule(),
			shakaAudioCaveat(),
		}},
}

// windowsRules is the rule set of a PlayReady client playing a downloaded MP4.
func windowsRules(version int) []Rule {
	allowed, schemeID := cencOnly, RuleID("playready-cbcs-needs-pr4")
	says := "A PlayReady 3 client plays cenc (AES-CTR; PIFF 1.1 too) only: cbcs needs PlayReady 4."
	maxHeader := 42
	if version >= 4 {
		allowed, schemeID, maxHeader = schemesExo, "playready-scheme", 43
		says = "A PlayReady 4 client plays cenc (PIFF 1.1 too) and cbcs."
	}
	return []Rule{
		signalledRule("playready-in-file", drm.PlayReady, "The MP4 must carry a PlayReady pssh (CENC, or PIFF's uuid box).",
			"A downloaded file is opened without a manifest: the license request comes from the file's own header.",
			srcPROffline, "package the single-file MP4 download with PlayReady signalling", PlaceInit, PlacePIFF),
		schemeRule(schemeID, allowed, says, "cbcs is supported from PlayReady 4.0 clients.", srcPRModes,
			"offer a cenc download"),
		prHeaderRule(maxHeader, fmt.Sprintf("PlayReady %d", version)),
		prKIDRule(),
		prAllKIDsRule(),
		prAlgIDRule(),
		prSizeRule(),
		persistentRule(drm.PlayReady),
		sl3000Caveat(),
	}
}

// Profiles returns every device profile, in table order. The result is a copy.
func Profiles() []Profile { return slices.Clone(profiles) }

// Lookup returns the profile with id.
func Lookup(id ProfileID) (Profile, bool) {
	for _, p := range profiles {
		if p.ID == id {
			return p, true
		}
	}
	return Profile{}, false
}

// aliases are other names people use for a profile.
var aliases = map[string]ProfileID{
	"android": AndroidL1, "exoplayer": AndroidL1, "media3": AndroidL1, "clearkey": AndroidClearKey,
	"chrome": ChromeDesktop, "edge": ChromeDesktop, "windows": WindowsPR4, "playready": WindowsPR4,
	"ios": AppleFairPlay, "ipados": AppleFairPlay, "safari": AppleFairPlay, "fairplay": AppleFairPlay,
	"shaka": ShakaOffline, "pwa": ShakaOffline,
}

// ParseProfile parses a device name: a profile ID or an alias ("ios", "android", "windows",
// "shaka"…), case-insensitive. The error lists every name.
func ParseProfile(name string) (ProfileID, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if _, ok := Lookup(ProfileID(n)); ok {
		return ProfileID(n), nil
	}
	if id, ok := aliases[n]; ok {
		return id, nil
	}
	return "", fmt.Errorf("unknown device %q: use one of %s (or all)", name, strings.Join(Names(), ", "))
}

// ParseProfiles parses a comma-separated list of device names; "all" (or an empty list)
// selects every profile (nil). Duplicates are dropped.
func ParseProfiles(csv string) ([]ProfileID, error) {
	var out []ProfileID
	for _, f := range strings.Split(csv, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if strings.EqualFold(f, "all") {
			return nil, nil
		}
		id, err := ParseProfile(f)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// Names returns every profile ID, in table order.
func Names() []string {
	out := make([]string, len(profiles))
	for i, p := range profiles {
		out[i] = string(p.ID)
	}
	return out
}
