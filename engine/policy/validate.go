package policy

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"satchel/engine/drm"
	"satchel/internal/isodur"
)

// Severity is how bad an issue is.
type Severity string

// The severities.
const (
	// SeverityError: the policy cannot work as configured, or a license service refuses it.
	SeverityError Severity = "error"
	// SeverityWarning: the policy works with a caveat.
	SeverityWarning Severity = "warning"
)

// Issue is one validation finding.
type Issue struct {
	Severity Severity `json:"severity"`
	// System is the DRM system the issue is about; empty for the key delivery restriction
	// (token) and for the policy as a whole.
	System  drm.System `json:"system,omitempty"`
	Field   string     `json:"field"` // JSON path, e.g. widevine.policy_overrides.can_persist
	Message string     `json:"message"`
	Fix     string     `json:"fix"`
}

// String reads "field: message (fix)"; the severity is left to the caller's rendering.
func (i Issue) String() string {
	s := i.Message
	if i.Field != "" {
		s = i.Field + ": " + s
	}
	if i.Fix != "" {
		s += " (" + i.Fix + ")"
	}
	return s
}

// HasErrors reports whether any issue is an error.
func HasErrors(issues []Issue) bool {
	for _, i := range issues {
		if i.Severity == SeverityError {
			return true
		}
	}
	return false
}

// Allowed values of the enumerated fields (AMS v3 REST ContentKeyPolicies.json, Widevine
// template docs, W3C EME session types), for validation and for the
// GUI's choices.
var (
	WidevineTrackTypes        = []string{"SD_ONLY", "SD_HD"}                // allowed_track_types
	HDCPValues                = []string{"HDCP_NONE", "HDCP_V1", "HDCP_V2"} // required_output_protection.hdcp
	PlayReadyLicenseTypes     = []string{"Persistent", "NonPersistent"}
	PlayReadySecurityLevels   = []string{"SL150", "SL2000", "SL3000"}
	PlayReadyContentTypes     = []string{"Unspecified", "UltraVioletDownload", "UltraVioletStreaming"}
	UnknownOutputValues       = []string{"NotAllowed", "Allowed", "AllowedWithVideoConstriction"} // allowPassingVideoContentToUnknownOutput
	FairPlayKeyTypes          = []string{"Undefined", "DualExpiry", "PersistentUnlimited", "PersistentLimited"}
	ClearKeyLicenseTypes      = []string{"temporary", "persistent-license"} // W3C EME MediaKeySessionType
	TokenRestrictionTypes     = []string{RestrictionOpen, RestrictionJWT}
	TokenVerificationKeyTypes = []string{KeySymmetric, KeyRSA, KeyX509}
)

// Allowed output protection levels (PlayReady "Output Protection Levels").
var (
	OPLCompressedDigitalAudio   = []int{100, 150, 200, 250, 300}
	OPLUncompressedDigitalAudio = []int{100, 150, 200, 250, 300}
	OPLCompressedDigitalVideo   = []int{400, 500}
	OPLUncompressedDigitalVideo = []int{100, 250, 270, 300}
	OPLAnalogVideo              = []int{100, 150, 200}
)

type issues []Issue

func (is *issues) add(sev Severity, system drm.System, field, msg, fix string) {
	*is = append(*is, Issue{Severity: sev, System: system, Field: field, Message: msg, Fix: fix})
}

// Validate checks p for offline use (download now, play later: persistent licenses) or, with
// offline false, for streaming. Errors mean the policy cannot work as configured or a license
// service would refuse it; warnings mean it works with a caveat. Each issue names the field
// by its JSON path and says how to fix it. A nil result means the policy is clean.
func Validate(p *Policy, offline bool) []Issue {
	var is issues
	if p == nil {
		is.add(SeverityError, "", "", "there is no policy", "choose a preset or import a policy")
		return is
	}
	if p.Widevine == nil && p.PlayReady == nil && p.FairPlay == nil && p.ClearKey == nil {
		is.add(SeverityError, "", "", "the policy configures no DRM system", "add at least one of Widevine, PlayReady, FairPlay or ClearKey")
	}
	if p.Widevine != nil {
		validateWidevine(&is, p.Widevine, offline)
	}
	if p.PlayReady != nil {
		validatePlayReady(&is, p.PlayReady, offline)
	}
	if p.FairPlay != nil {
		validateFairPlay(&is, p.FairPlay, offline)
	}
	if p.ClearKey != nil {
		ck := p.ClearKey
		if !slices.Contains(ClearKeyLicenseTypes, ck.LicenseType) {
			is.add(SeverityError, drm.ClearKey, "clearkey.licenseType", fmt.Sprintf("license type %q is not temporary or persistent-license", ck.LicenseType), "choose temporary (streaming) or persistent-license (offline)")
		}
		if offline && ck.LicenseType == "temporary" {
			is.add(SeverityError, drm.ClearKey, "clearkey.licenseType", "a temporary ClearKey session is discarded when the page closes, so downloaded content cannot play offline", "set licenseType to persistent-license")
		}
		if ck.DurationSeconds < 0 {
			is.add(SeverityError, drm.ClearKey, "clearkey.durationSeconds", "duration is negative", "use 0 for unlimited or a positive number of seconds")
		}
	}
	validateSL3000(&is, p)
	validateToken(&is, &p.Token)
	return is
}

// validateSL3000 applies the AMS rule for hardware-only PlayReady
// (drm-playready-license-template-concept.md): a policy that contains an SL3000 option may
// contain only other SL3000 PlayReady options or Widevine L1 options. Widevine L1 means the
// key is only released to hardware decode: security_level 4 (HW_SECURE_DECODE) or 5
// (HW_SECURE_ALL).
func validateSL3000(is *issues, p *Policy) {
	if p.PlayReady == nil || p.PlayReady.SecurityLevel != "SL3000" {
		return
	}
	const why = "a policy with an SL3000 PlayReady license may contain only SL3000 PlayReady and Widevine L1 options"
	if w := p.Widevine; w != nil {
		if len(w.ContentKeySpecs) == 0 {
			is.add(SeverityError, drm.Widevine, "widevine.content_key_specs", why+"; without content_key_specs Widevine licenses at the default software level", "list content_key_specs for every track type with security_level 4 or 5, or move Widevine to a separate policy")
		}
		for i, s := range w.ContentKeySpecs {
			if s.SecurityLevel >= 1 && s.SecurityLevel < 4 {
				is.add(SeverityError, drm.Widevine, fmt.Sprintf("widevine.content_key_specs[%d].security_level", i), fmt.Sprintf("%s; security level %d is not L1", why, s.SecurityLevel), "raise it to 4 (HW_SECURE_DECODE) or 5 (HW_SECURE_ALL), or move this track type to a separate policy")
			}
		}
	}
	if p.FairPlay != nil {
		is.add(SeverityError, drm.FairPlay, "fairplay", why+"; FairPlay is neither", "move FairPlay to a separate policy")
	}
	if p.ClearKey != nil {
		is.add(SeverityError, drm.ClearKey, "clearkey", why+"; ClearKey has no hardware protection at all", "move ClearKey to a separate policy")
	}
}

// relDur parses an ISO 8601 duration for comparisons; unset or invalid values (reported
// elsewhere) count as 0.
func relDur(s string) time.Duration {
	if s == "" {
		return 0
	}
	d, err := isodur.Parse(s)
	if err != nil {
		return 0
	}
	return d
}

func validateWidevine(is *issues, w *WidevinePolicy, offline bool) {
	o := &w.PolicyOverrides
	const sys = drm.Widevine
	if w.AllowedTrackTypes != "" && len(w.ContentKeySpecs) > 0 {
		// A warning, not an error: the AMS REST example itself sets both.
		is.add(SeverityWarning, sys, "widevine.allowed_track_types", "both allowed_track_types and content_key_specs are set; the AMS template documentation says to set only one", "keep content_key_specs (listing every track type) and remove allowed_track_types")
	}
	if w.AllowedTrackTypes != "" && !slices.Contains(WidevineTrackTypes, w.AllowedTrackTypes) {
		is.add(SeverityError, sys, "widevine.allowed_track_types", fmt.Sprintf("%q is not SD_ONLY or SD_HD", w.AllowedTrackTypes), "use SD_ONLY or SD_HD")
	}
	seen := map[string]int{}
	for i, s := range w.ContentKeySpecs {
		f := fmt.Sprintf("widevine.content_key_specs[%d]", i)
		if j, dup := seen[strings.ToUpper(s.TrackType)]; dup && s.TrackType != "" {
			is.add(SeverityError, sys, f+".track_type", fmt.Sprintf("track type %s is listed twice (also content_key_specs[%d])", s.TrackType, j), "list each track type once")
		}
		seen[strings.ToUpper(s.TrackType)] = i
		if s.SecurityLevel < 1 || s.SecurityLevel > 5 {
			is.add(SeverityError, sys, f+".security_level", fmt.Sprintf("security level %d is outside 1–5", s.SecurityLevel), "use 1 (SW secure crypto) to 5 (HW secure all); L1 devices need 5 for HD")
		}
		if s.TrackType == "" {
			is.add(SeverityError, sys, f+".track_type", "track_type is empty", "use SD, HD, UHD1, UHD2 or AUDIO and list every track type")
		}
		if op := s.RequiredOutputProtection; op != nil && !slices.Contains(HDCPValues, op.HDCP) {
			is.add(SeverityError, sys, f+".required_output_protection.hdcp", fmt.Sprintf("%q is not a valid HDCP value", op.HDCP), "use HDCP_NONE, HDCP_V1 or HDCP_V2")
		}
	}
	if !o.CanPlay {
		is.add(SeverityError, sys, "widevine.policy_overrides.can_play", "can_play is false, so no license plays", "set can_play to true")
	}
	if offline && !o.CanPersist {
		is.add(SeverityError, sys, "widevine.policy_overrides.can_persist", "can_persist is false, so Android cannot store the license for offline playback", "set can_persist to true")
	}
	for _, d := range []struct {
		name string
		v    *int64
	}{{"license_duration_seconds", o.LicenseDurationSeconds}, {"rental_duration_seconds", o.RentalDurationSeconds}, {"playback_duration_seconds", o.PlaybackDurationSeconds}} {
		f := "widevine.policy_overrides." + d.name
		switch {
		case d.v == nil && (offline || o.CanPersist):
			// AMS "Working with older Android devices": unset durations overflow to
			// Long.MAX_VALUE and persisted licenses report as expired (ExoPlayer #3150).
			is.add(SeverityWarning, sys, f, d.name+" is unset: older Android devices (4.4 and earlier) report a stored license as expired and offline playback fails", "set it explicitly: 0 for unlimited or a number of seconds")
		case d.v != nil && *d.v < 0:
			is.add(SeverityError, sys, f, d.name+" is negative", "use 0 for unlimited or a positive number of seconds")
		}
	}
	if o.PlaybackDurationSeconds != nil && o.LicenseDurationSeconds != nil && *o.LicenseDurationSeconds > 0 && *o.PlaybackDurationSeconds > *o.LicenseDurationSeconds {
		is.add(SeverityWarning, sys, "widevine.policy_overrides.playback_duration_seconds", "the playback window is longer than the license itself, so it is cut short", "make playback_duration_seconds ≤ license_duration_seconds")
	}
	if !o.CanRenew && (o.RenewalServerURL != "" || o.RenewalDelaySeconds != nil || o.RenewalRetryIntervalSeconds != nil || o.RenewalRecoveryDurationSeconds != nil || o.RenewWithUsage) {
		is.add(SeverityWarning, sys, "widevine.policy_overrides.can_renew", "renewal settings are set but can_renew is false, so they are ignored", "set can_renew to true to use them, or clear the renewal fields")
	}
	if o.CanRenew && o.RenewalServerURL == "" {
		is.add(SeverityError, sys, "widevine.policy_overrides.renewal_server_url", "can_renew is true but renewal_server_url is empty, so renewals have nowhere to go", "set renewal_server_url or turn can_renew off (offline licenses usually don't renew)")
	}
	if o.RenewalServerURL != "" {
		if u, err := url.Parse(o.RenewalServerURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") {
			is.add(SeverityError, sys, "widevine.policy_overrides.renewal_server_url", "renewal_server_url is not an http(s) URL", "give a full https:// URL")
		}
	}
	for _, d := range []struct {
		name string
		v    *int64
	}{{"renewal_delay_seconds", o.RenewalDelaySeconds}, {"renewal_retry_interval_seconds", o.RenewalRetryIntervalSeconds}, {"renewal_recovery_duration_seconds", o.RenewalRecoveryDurationSeconds}} {
		if d.v != nil && *d.v < 0 {
			is.add(SeverityError, sys, "widevine.policy_overrides."+d.name, d.name+" is negative", "use 0 or a positive number of seconds")
		}
	}
}

func validatePlayReady(is *issues, pr *PlayReadyPolicy, offline bool) {
	const sys = drm.PlayReady
	if !slices.Contains(PlayReadyLicenseTypes, pr.LicenseType) {
		is.add(SeverityError, sys, "playready.licenseType", fmt.Sprintf("license type %q is not Persistent or NonPersistent", pr.LicenseType), "choose Persistent (offline) or NonPersistent (streaming)")
	}
	if offline && pr.LicenseType == "NonPersistent" {
		is.add(SeverityError, sys, "playready.licenseType", "a NonPersistent license lives in memory only, so downloaded content cannot play offline", "set licenseType to Persistent")
	}
	if !slices.Contains(PlayReadySecurityLevels, pr.SecurityLevel) {
		is.add(SeverityError, sys, "playready.securityLevel", fmt.Sprintf("security level %q is not SL150, SL2000 or SL3000", pr.SecurityLevel), "use SL2000 for most devices, SL3000 for hardware DRM only, SL150 for testing")
	}
	if pr.SecurityLevel == "SL150" {
		is.add(SeverityWarning, sys, "playready.securityLevel", "SL150 is for development: content is not protected on the client", "use SL2000 or SL3000 in production")
	}
	if pr.SecurityLevel == "SL3000" {
		is.add(SeverityWarning, sys, "playready.securityLevel", "SL3000 plays only on hardware-DRM devices (not in Azure Media Player), and audio must use a separate key licensed at SL2000 or lower", "give audio its own key (Satchel's AUDIO key) and license it from a separate SL2000 policy")
	}
	var begin, expire time.Time
	var err error
	if pr.BeginDate != "" {
		if begin, err = time.Parse(time.RFC3339, pr.BeginDate); err != nil {
			is.add(SeverityError, sys, "playready.beginDate", "beginDate is not an RFC 3339 date-time", "use e.g. 2026-01-01T00:00:00Z")
		}
	}
	if pr.ExpirationDate != "" {
		if expire, err = time.Parse(time.RFC3339, pr.ExpirationDate); err != nil {
			is.add(SeverityError, sys, "playready.expirationDate", "expirationDate is not an RFC 3339 date-time", "use e.g. 2026-12-31T23:59:59Z")
		}
	}
	if !begin.IsZero() && !expire.IsZero() && !expire.After(begin) {
		is.add(SeverityError, sys, "playready.expirationDate", "the license expires before it begins", "set expirationDate after beginDate")
	}
	if rb, rx := relDur(pr.RelativeBeginDate), relDur(pr.RelativeExpirationDate); rx > 0 && rb >= rx {
		is.add(SeverityError, sys, "playready.relativeExpirationDate", "the relative expiration ("+pr.RelativeExpirationDate+") is not after the relative begin ("+pr.RelativeBeginDate+"), so the license is never valid", "make relativeExpirationDate longer than relativeBeginDate")
	}
	if pr.BeginDate != "" && pr.RelativeBeginDate != "" {
		is.add(SeverityError, sys, "playready.relativeBeginDate", "both an absolute and a relative begin are set", "set only one")
	}
	if pr.ExpirationDate != "" && pr.RelativeExpirationDate != "" {
		is.add(SeverityError, sys, "playready.relativeExpirationDate", "both an absolute and a relative expiration are set", "set only one")
	}
	for _, d := range []struct{ name, v string }{{"relativeBeginDate", pr.RelativeBeginDate}, {"relativeExpirationDate", pr.RelativeExpirationDate}, {"gracePeriod", pr.GracePeriod}, {"playRight.firstPlayExpiration", pr.PlayRight.FirstPlayExpiration}} {
		if d.v == "" {
			continue
		}
		if _, err := isodur.Parse(d.v); err != nil {
			is.add(SeverityError, sys, "playready."+d.name, err.Error(), "use an ISO 8601 duration such as PT48H")
		}
	}
	if pr.ContentType != "" && !slices.Contains(PlayReadyContentTypes, pr.ContentType) {
		is.add(SeverityError, sys, "playready.contentType", fmt.Sprintf("%q is not a PlayReady content type", pr.ContentType), "use Unspecified, UltraVioletDownload or UltraVioletStreaming")
	}
	r := &pr.PlayRight
	opl := func(name string, v int, allowed []int) {
		if v != 0 && !slices.Contains(allowed, v) {
			is.add(SeverityError, sys, "playready.playRight."+name, fmt.Sprintf("%s %d is not an allowed output protection level", name, v), "use one of "+ints(allowed)+" (or leave it unset)")
		}
	}
	opl("compressedDigitalVideoOpl", r.CompressedDigitalVideoOpl, OPLCompressedDigitalVideo)
	opl("uncompressedDigitalVideoOpl", r.UncompressedDigitalVideoOpl, OPLUncompressedDigitalVideo)
	opl("analogVideoOpl", r.AnalogVideoOpl, OPLAnalogVideo)
	opl("compressedDigitalAudioOpl", r.CompressedDigitalAudioOpl, OPLCompressedDigitalAudio)
	opl("uncompressedDigitalAudioOpl", r.UncompressedDigitalAudioOpl, OPLUncompressedDigitalAudio)
	if !slices.Contains(UnknownOutputValues, r.AllowPassingVideoContentToUnknownOutput) {
		is.add(SeverityError, sys, "playready.playRight.allowPassingVideoContentToUnknownOutput", fmt.Sprintf("%q is not a valid value", r.AllowPassingVideoContentToUnknownOutput), "use NotAllowed, Allowed or AllowedWithVideoConstriction")
	}
	for _, v := range []struct {
		name string
		v    *int
	}{{"scmsRestriction", r.ScmsRestriction}, {"agcAndColorStripeRestriction", r.AgcAndColorStripeRestriction}} {
		if v.v != nil && (*v.v < 0 || *v.v > 3) {
			is.add(SeverityError, sys, "playready.playRight."+v.name, v.name+" must be 0–3", "use a value from 0 to 3")
		}
	}
	if a := r.ExplicitAnalogTelevisionOutputRestriction; a != nil && (a.ConfigurationData < 0 || a.ConfigurationData > 3) {
		is.add(SeverityError, sys, "playready.playRight.explicitAnalogTelevisionOutputRestriction.configurationData", "configurationData must be 0–3", "use a value from 0 to 3")
	}
}

func validateFairPlay(is *issues, fp *FairPlayPolicy, offline bool) {
	const sys = drm.FairPlay
	if !slices.Contains(FairPlayKeyTypes, fp.RentalAndLeaseKeyType) {
		is.add(SeverityError, sys, "fairplay.rentalAndLeaseKeyType", fmt.Sprintf("%q is not a FairPlay key type", fp.RentalAndLeaseKeyType), "use Undefined, DualExpiry, PersistentUnlimited or PersistentLimited")
	}
	if offline && !fp.Persistable() {
		is.add(SeverityError, sys, "fairplay.rentalAndLeaseKeyType", "key type "+fp.RentalAndLeaseKeyType+" cannot be persisted, so iOS cannot play downloads offline", "use DualExpiry (offline rental), PersistentLimited or PersistentUnlimited, and allow persistent licenses in the streaming policy")
	}
	if fp.RentalDuration < 0 {
		is.add(SeverityError, sys, "fairplay.rentalDuration", "rentalDuration is negative", "use 0 or a positive number of seconds")
	}
	if fp.RentalAndLeaseKeyType == "PersistentLimited" && fp.RentalDuration <= 0 {
		is.add(SeverityError, sys, "fairplay.rentalDuration", "PersistentLimited needs a rental duration", "set rentalDuration in seconds (e.g. 172800 for 48 h)")
	}
	if rc := fp.OfflineRentalConfiguration; rc != nil && (rc.StorageDurationSeconds < 0 || rc.PlaybackDurationSeconds < 0) {
		is.add(SeverityError, sys, "fairplay.offlineRentalConfiguration", "an offline rental duration is negative", "use positive numbers of seconds (storage = time to start watching, playback = time after starting)")
	}
	if fp.RentalAndLeaseKeyType == "DualExpiry" {
		rc := fp.OfflineRentalConfiguration
		if rc == nil || rc.StorageDurationSeconds <= 0 || rc.PlaybackDurationSeconds <= 0 {
			is.add(SeverityError, sys, "fairplay.offlineRentalConfiguration", "DualExpiry needs both a storage duration (time to start watching) and a playback duration (time after starting)", "set offlineRentalConfiguration.storageDurationSeconds and playbackDurationSeconds, e.g. 2592000 and 86400")
		}
	}
	if fp.ASk != "" && fp.ASk != redacted {
		if _, err := ParseASk(fp.ASk); err != nil {
			is.add(SeverityError, sys, "fairplay.ask", err.Error(), "copy the Application Secret Key (32 hex digits) from Apple's FPS deployment package")
		}
	}
	if fp.FairPlayPfx != "" && fp.FairPlayPfx != redacted {
		if _, err := base64.StdEncoding.DecodeString(fp.FairPlayPfx); err != nil {
			is.add(SeverityError, sys, "fairplay.fairPlayPfx", "the certificate is not base64 PKCS#12", "import the .pfx file")
		}
	}
}

func validateToken(is *issues, t *TokenRestriction) {
	switch t.Type {
	case "", RestrictionOpen:
		return
	case RestrictionJWT:
	default:
		is.add(SeverityError, "", "token.type", fmt.Sprintf("restriction %q is not open or jwt", t.Type), "use open or jwt")
		return
	}
	if t.Issuer == "" {
		is.add(SeverityError, "", "token.issuer", "a JWT restriction needs an issuer", "set the issuer your token service writes in iss")
	}
	if t.Audience == "" {
		is.add(SeverityError, "", "token.audience", "a JWT restriction needs an audience", "set the audience your token service writes in aud")
	}
	switch t.KeyType {
	case KeySymmetric, KeyRSA, KeyX509:
	default:
		is.add(SeverityError, "", "token.keyType", fmt.Sprintf("key type %q is not symmetric, rsa or x509", t.KeyType), "choose symmetric (HS256), rsa (PEM public key) or x509 (PEM certificate)")
		return
	}
	keyIssue := func(field, value string) {
		if value == redacted {
			return
		}
		if value == "" {
			is.add(SeverityError, "", field, "the JWT restriction has no verification key", keyFix(t.KeyType))
			return
		}
		k, err := parseVerificationKey(t.KeyType, value)
		if err != nil {
			is.add(SeverityError, "", field, err.Error(), keyFix(t.KeyType))
			return
		}
		if b, ok := k.([]byte); ok && len(b) < 32 {
			is.add(SeverityWarning, "", field, fmt.Sprintf("the HS256 key has %d bits; keys shorter than 256 bits can be brute-forced", len(b)*8), "use a 256-bit (32-byte) random key")
		}
	}
	keyIssue("token.keyValue", t.KeyValue)
	for i, v := range t.AlternateKeys {
		keyIssue(fmt.Sprintf("token.alternateKeys[%d]", i), v)
	}
	for i, c := range t.RequiredClaims {
		if strings.TrimSpace(c.Type) == "" {
			is.add(SeverityError, "", fmt.Sprintf("token.requiredClaims[%d].claimType", i), "a required claim has no claim type", "name the claim, e.g. "+ContentKeyIdentifierClaim)
		}
	}
}

func keyFix(keyType string) string {
	switch keyType {
	case KeySymmetric:
		return "paste the base64 HS256 key your token service signs with (32 random bytes)"
	case KeyRSA:
		return "paste the token service's RSA public key as PEM (-----BEGIN PUBLIC KEY-----)"
	}
	return "paste the token service's X.509 certificate as PEM (-----BEGIN CERTIFICATE-----)"
}

func ints(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}
