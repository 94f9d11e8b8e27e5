package devices

import (
	"fmt"
	"slices"
	"strings"

	"satchel/engine/drm"
	"satchel/engine/media"
	"satchel/engine/policy"
)

// RuleID names a device rule. IDs are stable: reports and tests refer to them.
type RuleID string

// Result is what one rule found.
type Result string

// The results of a rule.
const (
	// ResultPass: the rule holds.
	ResultPass Result = "pass"
	// ResultFail: the rule is broken; the device cannot play the download offline.
	ResultFail Result = "fail"
	// ResultUnknown: the evidence needed is missing (no policy given, a file that could not be read).
	ResultUnknown Result = "unknown"
	// ResultCaveat: the rule holds with something the user should know.
	ResultCaveat Result = "caveat"
)

// Scope says what a rule looks at.
type Scope string

// The scopes of a rule.
const (
	// ScopeDevice rules hold or fail for the device whatever the package is.
	ScopeDevice Scope = "device"
	// ScopePolicy rules look at the offline policy.
	ScopePolicy Scope = "policy"
	// ScopePresentation rules look at one presentation (MPD, HLS playlist or MP4) the device
	// could download; the device is ready when one presentation passes them all.
	ScopePresentation Scope = "presentation"
)

// Rule is one fact about a device, as data: what must hold, why, where the fact comes from,
// and how to fix a package or policy that breaks it.
type Rule struct {
	ID    RuleID `json:"id"`
	Scope Scope  `json:"scope"`
	// Says is the rule in one sentence.
	Says string `json:"rule"`
	// Why explains it in a short sentence.
	Why string `json:"why"`
	// Source cites the issue, document or specification the fact comes from.
	Source string `json:"source"`
	// Fix says what to change in the package or policy.
	Fix string `json:"fix"`
	// check evaluates the rule and describes the evidence it found, saying where.
	check func(c *ruleCtx) (Result, string)
}

// ruleCtx is what a check sees: the profile, the evidence, and the presentation being
// considered (nil for device and policy rules).
type ruleCtx struct {
	prof *Profile
	ev   *Evidence
	p    *Presentation
}

// Sources, cited by the rules (offline-field-notes.md and the DRM reference).
const (
	srcAMS          = "learn.microsoft.com/azure/media-services/latest/"
	srcMedia3DRM    = "developer.android.com/media/media3/exoplayer/drm"
	srcCBCSGreen    = "google/ExoPlayer #10141"
	srcClearKeyCBCS = "developer.android.com/media/media3/exoplayer/drm; androidx/media #2061"
	srcOneKeySet    = "google/ExoPlayer #8350, #8924; androidx/media #3872"
	srcExoManifest  = "androidx/media demos/main DownloadTracker.java " +
		"(b/163107948: DRM scheme data must be in the manifest)"
	srcOldAndroid    = "google/ExoPlayer #3150, #3112; " + srcAMS + "drm-offline-streaming-how-to"
	srcChromeM140    = "castlabs/electron-releases #207; shaka-project/shaka-player #9524"
	srcShakaInitData = "shaka-project/shaka-player #1531, #1755 (NO_INIT_DATA_FOR_OFFLINE, 9007); PR #2164"
	srcShakaAudio    = "shaka-project/shaka-player #3173"
	srcLive          = "shaka-player CANNOT_STORE_LIVE_OFFLINE (9005); " +
		"androidx/media DownloadHelper (LiveContentUnsupportedException)"
	srcPRModes      = "learn.microsoft.com/playready/packaging/content-encryption-modes"
	srcPRHeader     = "learn.microsoft.com/playready/specifications/playready-header-specification"
	srcPRNoKID      = "shaka-project/shaka-player #1786 (0x8004B804)"
	srcPRMultiKey   = "axiomatic-systems/Bento4 #961; " + srcPRHeader
	srcPROffline    = srcAMS + "drm-offline-playready-streaming-for-windows-10"
	srcSL3000       = srcAMS + "drm-playready-license-template-concept"
	srcFPHLS        = "developer.apple.com/documentation/http-live-streaming/using-content-protection-systems-with-hls"
	srcFPSessionKey = "shaka-project/shaka-packager #363; AWS MediaConvert HlsOfflineEncrypted"
	srcFPKeyType    = "ContentKeyPolicyFairPlayRentalAndLeaseKeyType (AMS REST 2022-08-01); " +
		"forums.developer.apple.com/thread/80792"
	srcFPAudio    = srcAMS + "offline-fairplay-for-ios (alternate audio); SRGSSR/pillarbox-apple #1434"
	srcWVTemplate = srcAMS + "drm-widevine-license-template-concept"
	srcWVPersist  = srcWVTemplate + " (can_persist)"
	srcWVLevel    = srcWVTemplate + " (content_key_specs.security_level); Android MediaDrm SECURITY_LEVEL_* constants"
	srcPRPersist  = srcAMS + "drm-playready-license-template-concept (licenseType)"
	srcEMEPersist = "w3c/encrypted-media §9.1 Clear Key; MediaKeySessionType persistent-license"
	srcDASHCP     = "DASH-IF IOP content protection; ISO/IEC 23001-7 pssh"
)

// ---- presentation rules ----

// staticRule: a download needs a finished (VOD) presentation.
func staticRule() Rule {
	return Rule{ID: "static-presentation", Scope: ScopePresentation,
		Says:   "A download needs a static (VOD) presentation.",
		Why:    "Players refuse to download live presentations: their segments are still being published.",
		Source: srcLive,
		Fix:    "publish a static MPD (type=\"static\") or an HLS playlist that ends with EXT-X-ENDLIST",
		check: func(c *ruleCtx) (Result, string) {
			if c.p.Dynamic {
				return ResultFail, c.p.Location + " is live (dynamic MPD or no EXT-X-ENDLIST)"
			}
			return ResultPass, c.p.Location + " is static"
		}}
}

// signalledRule: the presentation signals sys at one of places (any place when none given).
func signalledRule(id RuleID, sys drm.System, says, why, source, fix string, places ...Place) Rule {
	return Rule{ID: id, Scope: ScopePresentation, Says: says, Why: why, Source: source, Fix: fix,
		check: func(c *ruleCtx) (Result, string) {
			if s := c.p.signals(sys, places...); len(s) > 0 {
				return ResultPass, fmt.Sprintf("%s signalled in %s", sys.Title(), s[0].Location)
			}
			return ResultFail, fmt.Sprintf("%s does not signal %s%s (it signals %s)", c.p.Location, sys.Title(),
				placesText(places), orNone(systemsOf(c.p)))
		}}
}

func placesText(places []Place) string {
	if len(places) == 0 {
		return ""
	}
	var s []string
	for _, p := range places {
		s = append(s, string(p))
	}
	return " in " + strings.Join(s, " or ")
}

func systemsOf(p *Presentation) []string {
	var out []string
	for _, sys := range drm.AllSystems {
		if len(p.signals(sys)) > 0 {
			out = append(out, sys.Title())
		}
	}
	return out
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// schemeRule: every track uses one of allowed schemes.
func schemeRule(id RuleID, allowed []drm.Scheme, says, why, source, fix string) Rule {
	return Rule{ID: id, Scope: ScopePresentation, Says: says, Why: why, Source: source, Fix: fix,
		check: func(c *ruleCtx) (Result, string) {
			if len(c.p.Schemes) == 0 {
				return ResultUnknown, c.p.Location + ": the encryption scheme could not be read"
			}
			var bad []string
			for _, sc := range c.p.Schemes {
				if !slices.Contains(allowed, sc) {
					bad = append(bad, string(sc))
				}
			}
			what := schemesText(c.p)
			if len(bad) > 0 {
				return ResultFail, fmt.Sprintf("%s uses %s", c.p.Location, what)
			}
			return ResultPass, fmt.Sprintf("%s uses %s", c.p.Location, what)
		}}
}

func schemesText(p *Presentation) string {
	var s []string
	for _, sc := range p.Schemes {
		s = append(s, string(sc))
	}
	out := strings.Join(s, " and ")
	if p.PIFF {
		out += " (PIFF 1.1 boxes)"
	}
	return out
}

// initDataInManifestRule: sys's init data is in the manifest, not only in the segments.
func initDataInManifestRule(id RuleID, sys drm.System, says, why, source, fix string) Rule {
	return Rule{ID: id, Scope: ScopePresentation, Says: says, Why: why, Source: source, Fix: fix,
		check: func(c *ruleCtx) (Result, string) {
			if c.p.Delivery == DeliveryDownload {
				return ResultPass, "a single file carries its init data in the moov"
			}
			for _, s := range c.p.signals(sys, PlaceMPD, PlaceHLSSessionKey, PlaceHLSKey) {
				if len(s.InitData) > 0 {
					return ResultPass, fmt.Sprintf("%s init data in %s", sys.Title(), s.Location)
				}
			}
			if s := c.p.signals(sys, PlaceInit, PlacePIFF, PlaceMoof); len(s) > 0 {
				return ResultFail, fmt.Sprintf("the %s PSSH is only in the segments (%s), not in %s",
					sys.Title(), s[0].Location, c.p.Location)
			}
			return ResultFail, fmt.Sprintf("%s carries no %s init data", c.p.Location, sys.Title())
		}}
}

// oneKeySetRule: the init data ExoPlayer requests its one offline license with (the first
// video track's) names every key ID of the presentation.
func oneKeySetRule(id RuleID, sys drm.System) Rule {
	return Rule{ID: id, Scope: ScopePresentation,
		Says: "One license must carry every key of the download: the init data of the first video track " +
			"must list every key ID.",
		Why: "ExoPlayer keeps one offline key set per playback, acquired with one track's init data; keys it lacks " +
			"fail later with \"Crypto key not available\".",
		Source: srcOneKeySet,
		Fix:    "signal one PSSH listing every key ID of the presentation in every representation (or use a single key)",
		check: func(c *ruleCtx) (Result, string) {
			s, ok := firstTrackSignal(c.p, sys)
			if !ok {
				return ResultPass, "no " + sys.Title() + " init data to request a license with (see the signalling rules)"
			}
			missing := missingKIDs(c.p.KIDs, s.KIDs)
			switch {
			case len(c.p.KIDs) == 0:
				return ResultUnknown, c.p.Location + ": the key IDs of the tracks could not be read"
			case len(missing) == 0:
				return ResultPass, fmt.Sprintf("%s lists all %d key IDs", s.Location, len(c.p.KIDs))
			case len(s.KIDs) == 0 && s.ContentID:
				return ResultUnknown, fmt.Sprintf("%s names no key IDs, only a content_id: whether the license "+
					"carries all %d keys depends on the license service", s.Location, len(c.p.KIDs))
			}
			return ResultFail, fmt.Sprintf("%s lists %d of the %d key IDs the tracks use; missing %s", s.Location,
				len(c.p.KIDs)-len(missing), len(c.p.KIDs), kidsText(missing))
		}}
}

// firstTrackSignal is the signal a player requests its license with: the first video track's
// manifest init data (else its init segment's), else the presentation's first with data.
func firstTrackSignal(p *Presentation, sys drm.System) (Signal, bool) {
	var first Signal
	found := false
	for _, places := range [][]Place{{PlaceMPD, PlaceHLSSessionKey, PlaceHLSKey}, {PlaceInit, PlacePIFF}} {
		for _, s := range p.signals(sys, places...) {
			if len(s.InitData) == 0 {
				continue
			}
			if s.Kind == media.Video || s.Place == PlaceHLSSessionKey {
				return s, true
			}
			if !found {
				first, found = s, true
			}
		}
	}
	return first, found
}

func missingKIDs(all, have []drm.KID) []drm.KID {
	var out []drm.KID
	for _, k := range all {
		if !slices.Contains(have, k) {
			out = append(out, k)
		}
	}
	return out
}

func kidsText(kids []drm.KID) string {
	var s []string
	for _, k := range kids {
		s = append(s, k.String())
	}
	return strings.Join(s, ", ")
}

// playReadyRule checks every PlayReady header of the presentation with test; the evidence
// names the first that fails.
func playReadyRule(id RuleID, says, why, source, fix string, test func(p *Presentation, s Signal) (bool, string)) Rule {
	return Rule{ID: id, Scope: ScopePresentation, Says: says, Why: why, Source: source, Fix: fix,
		check: func(c *ruleCtx) (Result, string) {
			sigs := c.p.signals(drm.PlayReady, PlaceMPD, PlaceInit, PlacePIFF, PlaceHLSKey, PlaceHLSSessionKey)
			checked := 0
			for _, s := range sigs {
				if s.PlayReadyVersion == "" {
					continue
				}
				checked++
				if ok, what := test(c.p, s); !ok {
					return ResultFail, fmt.Sprintf("%s: %s", s.Location, what)
				}
			}
			if checked == 0 {
				return ResultPass, "no PlayReady header to check (see the signalling rules)"
			}
			return ResultPass, fmt.Sprintf("%d PlayReady header(s) checked", checked)
		}}
}

var prVersions = map[string]int{"4.0.0.0": 40, "4.1.0.0": 41, "4.2.0.0": 42, "4.3.0.0": 43}

// prHeaderRule: the header version is one the client reads (max: 42 for PlayReady 3, 43 for 4).
func prHeaderRule(maxVersion int, client string) Rule {
	return playReadyRule(RuleID(fmt.Sprintf("playready-header-%s", strings.ToLower(strings.ReplaceAll(client, " ", "")))),
		fmt.Sprintf("The PlayReady header must be a version a %s client reads (up to %d.%d.0.0).",
			client, maxVersion/10, maxVersion%10),
		"Header 4.2 (several KIDs) needs PlayReady 3; 4.3 (AESCBC, for cbcs) needs PlayReady 4.",
		srcPRHeader, "write a WRMHEADER the client reads (4.2 for cenc on PlayReady 3; 4.3 only for cbcs on PlayReady 4)",
		func(p *Presentation, s Signal) (bool, string) {
			v, ok := prVersions[s.PlayReadyVersion]
			if !ok {
				return false, "WRMHEADER version " + s.PlayReadyVersion + " is not 4.0–4.3"
			}
			return v <= maxVersion, "WRMHEADER version " + s.PlayReadyVersion
		})
}

func prKIDRule() Rule {
	return playReadyRule("playready-header-kid", "The PlayReady header must name its key IDs.",
		"A header without a KID fails license acquisition with 0x8004B804.", srcPRNoKID,
		"write the KID (4.0/4.1) or KIDS (4.2/4.3) element in the WRMHEADER",
		func(p *Presentation, s Signal) (bool, string) {
			return len(s.KIDs) > 0, fmt.Sprintf("WRMHEADER %s names %d key IDs", s.PlayReadyVersion, len(s.KIDs))
		})
}

func prAllKIDsRule() Rule {
	return playReadyRule("playready-header-all-kids",
		"The PlayReady header of a single file must name every key the file uses.",
		"The client requests one license from the file's header; keys it does not name are never licensed.", srcPRMultiKey,
		"write a 4.2 (cenc) or 4.3 (cbcs) header with a KIDS list of every key ID in the file",
		func(p *Presentation, s Signal) (bool, string) {
			if p.Delivery != DeliveryDownload {
				return true, ""
			}
			miss := missingKIDs(p.KIDs, s.KIDs)
			if len(miss) > 0 {
				return false, fmt.Sprintf("WRMHEADER %s names %d key IDs; the tracks also use %s",
					s.PlayReadyVersion, len(s.KIDs), kidsText(miss))
			}
			return true, ""
		})
}

// prAlgIDRule: the header's ALGID matches the file's scheme (AESCTR for cenc, AESCBC in a 4.3
// header for cbcs).
func prAlgIDRule() Rule {
	return playReadyRule("playready-algid-matches-scheme",
		"The PlayReady header's ALGID must match the encryption: AESCTR for cenc, AESCBC (header 4.3) for cbcs.",
		"A client decrypts with the algorithm the header names; cbcs content behind an AESCTR header does not play.",
		"shaka-project/shaka-packager #734; "+srcPRHeader,
		"write a 4.3 header with ALGID=\"AESCBC\" for cbcs, and AESCTR for cenc",
		func(p *Presentation, s Signal) (bool, string) {
			what := fmt.Sprintf("WRMHEADER %s with ALGID %s for %s", s.PlayReadyVersion, orNone(nonEmpty(s.PlayReadyAlgID)),
				schemesText(p))
			switch {
			case slices.Contains(p.Schemes, drm.SchemeCBCS):
				return s.PlayReadyVersion == "4.3.0.0" && s.PlayReadyAlgID == "AESCBC", what
			case slices.Contains(p.Schemes, drm.SchemeCENC):
				return s.PlayReadyAlgID == "" || s.PlayReadyAlgID == "AESCTR", what
			}
			return true, what
		})
}

func nonEmpty(s ...string) []string {
	return slices.DeleteFunc(s, func(v string) bool { return v == "" })
}

func prSizeRule() Rule {
	return playReadyRule("playready-object-size", "The PlayReady Object must not exceed 15 KB.",
		"The PlayReady header specification limits the PlayReady Object to 15 KB.", srcPRHeader,
		"shorten the header (fewer KIDs per header, a shorter LA_URL or custom attributes)",
		func(p *Presentation, s Signal) (bool, string) {
			return s.Size <= 15*1024, fmt.Sprintf("PlayReady Object of %d bytes", s.Size)
		})
}

// fairPlaySessionKeyRule: the multivariant playlist carries a FairPlay EXT-X-SESSION-KEY.
func fairPlaySessionKeyRule() Rule {
	return Rule{ID: "fairplay-session-key", Scope: ScopePresentation,
		Says: "The multivariant playlist must carry a FairPlay EXT-X-SESSION-KEY.",
		Why: "The app requests persistable keys before the download starts; without session keys AVFoundation " +
			"only meets the keys inside the media playlists.",
		Source: srcFPSessionKey,
		Fix: "write EXT-X-SESSION-KEY lines (KEYFORMAT=\"com.apple.streamingkeydelivery\") for every key " +
			"into the master playlist",
		check: func(c *ruleCtx) (Result, string) {
			if s := c.p.signals(drm.FairPlay, PlaceHLSSessionKey); len(s) > 0 {
				return ResultPass, fmt.Sprintf("%d FairPlay EXT-X-SESSION-KEY in %s", len(s), c.p.Location)
			}
			if s := c.p.signals(drm.FairPlay, PlaceHLSKey); len(s) > 0 {
				return ResultFail, fmt.Sprintf("%s has no FairPlay EXT-X-SESSION-KEY; FairPlay keys are only in %s",
					c.p.Location, s[0].Location)
			}
			return ResultFail, c.p.Location + " has no FairPlay EXT-X-SESSION-KEY"
		}}
}

// fairPlayAudioRule: an audio rendition that AVFoundation downloads with the video.
func fairPlayAudioRule() Rule {
	return Rule{ID: "fairplay-offline-audio", Scope: ScopePresentation,
		Says: "Every video variant must have audio that is downloaded with it (muxed, or an EXT-X-MEDIA " +
			"audio group it names).",
		Why: "Offline playback fails or plays silent when the media selection has no downloaded audio; with alternate " +
			"audio AMS saw offline play audio only.",
		Source: srcFPAudio,
		Fix:    "name an audio group (AUDIO=\"…\") on every EXT-X-STREAM-INF and download that group with the video",
		check: func(c *ruleCtx) (Result, string) {
			switch {
			case c.p.AudioTracks == 0:
				return ResultFail, c.p.Location + " has no audio rendition"
			case c.p.VideoWithoutAudio > 0:
				return ResultFail, fmt.Sprintf("%s: %d video variant(s) name no audio group and mux no audio",
					c.p.Location, c.p.VideoWithoutAudio)
			case c.p.AudioOnlyVariants > 0:
				return ResultCaveat, fmt.Sprintf("%s lists %d audio-only variant(s): a download may pick one and play audio only "+
					"(AMS's workaround: filter them out)", c.p.Location, c.p.AudioOnlyVariants)
			}
			return ResultPass, fmt.Sprintf("%s: %d audio rendition(s), named by every video variant",
				c.p.Location, c.p.AudioTracks)
		}}
}

// cbcsGreenCaveat: cbcs works from API 25 but some Android 9/10 devices render it green.
func cbcsGreenCaveat() Rule {
	return Rule{ID: "android-cbcs-green-picture", Scope: ScopePresentation,
		Says:   "Prefer cenc for Android when both schemes are offered.",
		Why:    "Some Android 9 and 10 devices show a green picture with cbcs.",
		Source: srcCBCSGreen, Fix: "offer a cenc presentation too",
		check: func(c *ruleCtx) (Result, string) {
			if slices.Contains(c.p.Schemes, drm.SchemeCBCS) {
				return ResultCaveat, c.p.Location + " uses cbcs: some Android 9/10 devices show a green picture"
			}
			return ResultPass, ""
		}}
}

// shakaAudioCaveat: Shaka stores the first audio track only.
func shakaAudioCaveat() Rule {
	return Rule{ID: "shaka-first-audio-only", Scope: ScopePresentation,
		Says:   "Shaka Player's offline storage keeps one audio track by default.",
		Why:    "The default track selection stores the first audio track; other languages are not downloaded.",
		Source: srcShakaAudio, Fix: "set offline.trackSelectionCallback in the app to store the audio tracks users need",
		check: func(c *ruleCtx) (Result, string) {
			if c.p.AudioTracks > 1 {
				return ResultCaveat, fmt.Sprintf("%s has %d audio tracks; only the first is stored by default",
					c.p.Location, c.p.AudioTracks)
			}
			return ResultPass, ""
		}}
}

// ---- device rules ----

func chromeDesktopRule() Rule {
	return Rule{ID: "chrome-desktop-no-persistent-license", Scope: ScopeDevice,
		Says: "Desktop Chrome (M140 and later) and Edge's Widevine do not store persistent licenses.",
		Why: "Widevine removed persistent license support on desktop from Chrome M140 (September 2025); a " +
			"\"download in the browser\" demo with Widevine cannot play offline on a laptop.",
		Source: srcChromeM140,
		Fix: "offer offline playback on Android (ExoPlayer/Media3 or Chrome on Android), Windows PlayReady " +
			"or Apple FairPlay instead",
		check: func(c *ruleCtx) (Result, string) {
			return ResultFail, "the device itself: no persistent-license sessions for Widevine on desktop"
		}}
}

// ---- policy rules ----

// persistentRule: the policy licenses sys and lets its license be stored.
func persistentRule(sys drm.System) Rule {
	fields := map[drm.System]string{
		drm.Widevine: "widevine.policy_overrides.can_persist", drm.PlayReady: "playready.licenseType",
		drm.FairPlay: "fairplay.rentalAndLeaseKeyType", drm.ClearKey: "clearkey.licenseType",
	}
	fixes := map[drm.System]string{
		drm.Widevine: "set can_persist to true", drm.PlayReady: "set licenseType to Persistent",
		drm.FairPlay: "use DualExpiry (rental), PersistentLimited or PersistentUnlimited",
		drm.ClearKey: "set licenseType to persistent-license",
	}
	sources := map[drm.System]string{
		drm.Widevine: srcWVPersist, drm.PlayReady: srcPRPersist, drm.FairPlay: srcFPKeyType, drm.ClearKey: srcEMEPersist,
	}
	return Rule{ID: RuleID(string(sys) + "-persistent-license"), Scope: ScopePolicy,
		Says: "The policy must issue persistent " + sys.Title() + " licenses.",
		Why: "Offline playback uses the license stored at download; a non-persistent license is gone when " +
			"the session ends.",
		Source: sources[sys], Fix: fixes[sys],
		check: func(c *ruleCtx) (Result, string) {
			p := c.ev.Policy
			if p == nil {
				return ResultUnknown, "no policy was given, so whether licenses persist is unknown"
			}
			name := policyName(c.ev)
			if p.For(sys) == nil {
				return ResultFail, fmt.Sprintf("%s does not license %s", name, sys.Title())
			}
			if p.Persistent(sys) {
				return ResultPass, fmt.Sprintf("%s: %s = %s", name, fields[sys], persistValue(p, sys))
			}
			return ResultFail, fmt.Sprintf("%s: %s = %s", name, fields[sys], persistValue(p, sys))
		}}
}

func policyName(ev *Evidence) string {
	s := fmt.Sprintf("policy %q", ev.Policy.Name)
	if ev.PolicySource != "" {
		s += " (" + ev.PolicySource + ")"
	}
	return s
}

func persistValue(p *policy.Policy, sys drm.System) string {
	switch sys {
	case drm.Widevine:
		return fmt.Sprint(p.Widevine.PolicyOverrides.CanPersist)
	case drm.PlayReady:
		return p.PlayReady.LicenseType
	case drm.FairPlay:
		return p.FairPlay.RentalAndLeaseKeyType
	}
	return p.ClearKey.LicenseType
}

// widevineCheck wraps a check of the Widevine part of the policy: without a policy the result
// is unknown; a policy without a Widevine part passes (the persistence rule reports it).
func widevineCheck(f func(c *ruleCtx, wv *policy.WidevinePolicy) (Result, string)) func(*ruleCtx) (Result, string) {
	return func(c *ruleCtx) (Result, string) {
		p := c.ev.Policy
		switch {
		case p == nil:
			return ResultUnknown, "no policy was given"
		case p.Widevine == nil:
			return ResultPass, ""
		}
		return f(c, p.Widevine)
	}
}

func canPlayRule() Rule {
	return Rule{ID: "widevine-can-play", Scope: ScopePolicy, Says: "The Widevine license must allow playback (can_play).",
		Why:    "A license with can_play false grants no playback at all.",
		Source: srcWVTemplate + " (can_play)", Fix: "set can_play to true",
		check: widevineCheck(func(c *ruleCtx, wv *policy.WidevinePolicy) (Result, string) {
			if !wv.PolicyOverrides.CanPlay {
				return ResultFail, policyName(c.ev) + ": widevine.policy_overrides.can_play = false"
			}
			return ResultPass, policyName(c.ev) + ": can_play = true"
		})}
}

func durationsSetRule() Rule {
	return Rule{ID: "widevine-durations-set", Scope: ScopePolicy,
		Says: "license_duration_seconds, rental_duration_seconds and playback_duration_seconds must all be set " +
			"(0 = unlimited).",
		Why:    "Android 4.4 and older read unset durations as 9223372036854775807 and treat the license as expired.",
		Source: srcOldAndroid, Fix: "set all three durations explicitly; 0 means unlimited",
		check: widevineCheck(func(c *ruleCtx, wv *policy.WidevinePolicy) (Result, string) {
			o := wv.PolicyOverrides
			var unset []string
			for _, f := range []struct {
				n string
				v *int64
			}{{"license_duration_seconds", o.LicenseDurationSeconds}, {"rental_duration_seconds", o.RentalDurationSeconds},
				{"playback_duration_seconds", o.PlaybackDurationSeconds}} {
				if f.v == nil {
					unset = append(unset, f.n)
				}
			}
			if len(unset) > 0 {
				return ResultFail, fmt.Sprintf("%s leaves %s unset", policyName(c.ev), strings.Join(unset, ", "))
			}
			return ResultPass, policyName(c.ev) + " sets all three durations"
		})}
}

// l3SecurityLevelRule: an L3 (software) device gets no key for a track type whose
// content_key_specs demand hardware (security_level 3 or more).
func l3SecurityLevelRule() Rule {
	return Rule{ID: "widevine-l3-security-level", Scope: ScopePolicy,
		Says: "Track types an L3 device must play need security_level 1 or 2 (software) in content_key_specs.",
		Why: "Widevine L3 is software-only; the license omits keys whose track type requires hardware crypto " +
			"(security_level 3–5).",
		Source: srcWVLevel, Fix: "allow security_level 1 or 2 for AUDIO and SD, or do not offer the download to L3 devices",
		check: widevineCheck(func(c *ruleCtx, wv *policy.WidevinePolicy) (Result, string) {
			var basic, hd []string
			for _, s := range wv.ContentKeySpecs {
				if s.SecurityLevel <= 2 {
					continue
				}
				tt := strings.ToUpper(s.TrackType)
				if tt == drm.TrackAudio || tt == drm.TrackSD {
					basic = append(basic, fmt.Sprintf("%s (level %d)", tt, s.SecurityLevel))
				} else {
					hd = append(hd, fmt.Sprintf("%s (level %d)", tt, s.SecurityLevel))
				}
			}
			switch {
			case len(basic) > 0:
				return ResultFail, policyName(c.ev) + " requires hardware for " + strings.Join(basic, ", ")
			case len(hd) > 0:
				return ResultCaveat, policyName(c.ev) + " requires hardware for " + strings.Join(hd, ", ") +
					": an L3 device gets SD only"
			}
			return ResultPass, policyName(c.ev) + ": no track type requires hardware"
		})}
}

func sl3000Caveat() Rule {
	return Rule{ID: "playready-sl3000", Scope: ScopePolicy,
		Says:   "SL3000 licenses play only on PCs with hardware DRM.",
		Why:    "SL3000 needs hardware protection; AMS also requires audio to use a separate key at SL2000 or lower.",
		Source: srcSL3000, Fix: "use SL2000 for software clients, or a separate SL2000 audio key",
		check: func(c *ruleCtx) (Result, string) {
			if p := c.ev.Policy; p != nil && p.PlayReady != nil && p.PlayReady.SecurityLevel == "SL3000" {
				return ResultCaveat, policyName(c.ev) + ": playready.securityLevel = SL3000"
			}
			return ResultPass, ""
		}}
}
