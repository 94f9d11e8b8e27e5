// Package policy models the offline license policy of each DRM system with the field names of
// the Azure Media Services v3 license templates: the Widevine template (snake_case
// policy_overrides with *int64 durations, so "unset" differs from 0), the PlayReady license and
// play right (camelCase, with the allowed output protection levels), the FairPlay offline
// rental configuration and the W3C ClearKey session type, plus the AMS token restriction.
//
// It provides presets, Validate (errors and warnings with the JSON path of the field and a
// fix), AMS content key policy import/export (ImportAMS, ExportAMS), JWT checking for the
// license server (ValidateToken with typed errors, IssueTestToken), and the split of secrets
// (FairPlay ASk, .pfx and password; HS256 keys) from the rest for encrypted storage and
// redacted previews.
package policy

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"satchel/engine/drm"
	"satchel/internal/isodur"
)

// Policy is a named set of per-DRM license settings and a token restriction. A nil system
// means that system is not licensed by this policy.
type Policy struct {
	Name        string           `json:"name"`
	Description string           `json:"description,omitempty"`
	Widevine    *WidevinePolicy  `json:"widevine,omitempty"`
	PlayReady   *PlayReadyPolicy `json:"playready,omitempty"`
	FairPlay    *FairPlayPolicy  `json:"fairplay,omitempty"`
	ClearKey    *ClearKeyPolicy  `json:"clearkey,omitempty"`
	Token       TokenRestriction `json:"token"`
}

// WidevinePolicy is the AMS widevineTemplate (snake_case JSON).
type WidevinePolicy struct {
	AllowedTrackTypes string            `json:"allowed_track_types,omitempty"` // SD_ONLY or SD_HD
	ContentKeySpecs   []ContentKeySpec  `json:"content_key_specs,omitempty"`
	PolicyOverrides   WidevineOverrides `json:"policy_overrides"`
}

// MissingTrackTypes returns the track types (e.g. Satchel's AUDIO, SD, HD, UHD) that have
// keys in a package but no content_key_specs entry. The AMS docs warn that a track type left
// out of content_key_specs makes playback fail after about 10 s. With allowed_track_types
// instead of content_key_specs nothing is missing. Comparison ignores case.
func (w *WidevinePolicy) MissingTrackTypes(trackTypes []string) []string {
	if w == nil || len(w.ContentKeySpecs) == 0 {
		return nil
	}
	var missing []string
	for _, tt := range trackTypes {
		found := false
		for _, s := range w.ContentKeySpecs {
			if strings.EqualFold(s.TrackType, tt) {
				found = true
				break
			}
		}
		if !found && !slices.Contains(missing, tt) {
			missing = append(missing, tt)
		}
	}
	return missing
}

// ContentKeySpec sets the robustness per track type.
type ContentKeySpec struct {
	TrackType                string            `json:"track_type"`
	SecurityLevel            int               `json:"security_level"` // 1–5 (Android MediaDrm levels)
	RequiredOutputProtection *OutputProtection `json:"required_output_protection,omitempty"`
}

// OutputProtection is the HDCP requirement (HDCP_NONE, HDCP_V1, HDCP_V2).
type OutputProtection struct {
	HDCP string `json:"hdcp"`
}

// WidevineOverrides is policy_overrides. Durations are pointers: unset differs from 0
// (0 = unlimited; unset makes older Android report the license as expired).
type WidevineOverrides struct {
	CanPlay                        bool   `json:"can_play"`
	CanPersist                     bool   `json:"can_persist"`
	CanRenew                       bool   `json:"can_renew"`
	LicenseDurationSeconds         *int64 `json:"license_duration_seconds,omitempty"`
	RentalDurationSeconds          *int64 `json:"rental_duration_seconds,omitempty"`
	PlaybackDurationSeconds        *int64 `json:"playback_duration_seconds,omitempty"`
	RenewalServerURL               string `json:"renewal_server_url,omitempty"`
	RenewalDelaySeconds            *int64 `json:"renewal_delay_seconds,omitempty"`
	RenewalRetryIntervalSeconds    *int64 `json:"renewal_retry_interval_seconds,omitempty"`
	RenewalRecoveryDurationSeconds *int64 `json:"renewal_recovery_duration_seconds,omitempty"`
	RenewWithUsage                 bool   `json:"renew_with_usage,omitempty"`
}

// PlayReadyPolicy is one ContentKeyPolicyPlayReadyLicense (camelCase like the AMS REST API).
type PlayReadyPolicy struct {
	LicenseType            string         `json:"licenseType"`   // Persistent | NonPersistent
	SecurityLevel          string         `json:"securityLevel"` // SL150 | SL2000 | SL3000
	AllowTestDevices       bool           `json:"allowTestDevices"`
	BeginDate              string         `json:"beginDate,omitempty"`      // RFC 3339 UTC
	ExpirationDate         string         `json:"expirationDate,omitempty"` // RFC 3339 UTC
	RelativeBeginDate      string         `json:"relativeBeginDate,omitempty"`
	RelativeExpirationDate string         `json:"relativeExpirationDate,omitempty"` // ISO 8601, e.g. PT48H
	GracePeriod            string         `json:"gracePeriod,omitempty"`
	ContentType            string         `json:"contentType,omitempty"` // Unspecified | UltraVioletDownload | UltraVioletStreaming
	PlayRight              PlayReadyRight `json:"playRight"`
}

// Validity returns when a license issued at issued begins and expires under pr: the absolute
// beginDate/expirationDate when set, otherwise issued plus relativeBeginDate/
// relativeExpirationDate. begin defaults to issued; a zero expire means no expiration.
func (pr *PlayReadyPolicy) Validity(issued time.Time) (begin, expire time.Time, err error) {
	at := func(field, abs, rel string, def time.Time) (time.Time, error) {
		switch {
		case abs != "":
			t, err := time.Parse(time.RFC3339, abs)
			if err != nil {
				return time.Time{}, fmt.Errorf("playready %s %q is not an RFC 3339 date-time such as 2026-01-01T00:00:00Z", field, abs)
			}
			return t, nil
		case rel != "":
			d, err := isodur.Parse(rel)
			if err != nil {
				return time.Time{}, fmt.Errorf("playready relative %s: %w", field, err)
			}
			return issued.Add(d), nil
		}
		return def, nil
	}
	if begin, err = at("beginDate", pr.BeginDate, pr.RelativeBeginDate, issued); err != nil {
		return time.Time{}, time.Time{}, err
	}
	if expire, err = at("expirationDate", pr.ExpirationDate, pr.RelativeExpirationDate, time.Time{}); err != nil {
		return time.Time{}, time.Time{}, err
	}
	return begin, expire, nil
}

// PlayReadyRight is the play right with output protection levels.
type PlayReadyRight struct {
	FirstPlayExpiration                                string               `json:"firstPlayExpiration,omitempty"` // ISO 8601
	ScmsRestriction                                    *int                 `json:"scmsRestriction,omitempty"`
	AgcAndColorStripeRestriction                       *int                 `json:"agcAndColorStripeRestriction,omitempty"`
	ExplicitAnalogTelevisionOutputRestriction          *AnalogTVRestriction `json:"explicitAnalogTelevisionOutputRestriction,omitempty"`
	DigitalVideoOnlyContentRestriction                 bool                 `json:"digitalVideoOnlyContentRestriction"`
	ImageConstraintForAnalogComponentVideoRestriction  bool                 `json:"imageConstraintForAnalogComponentVideoRestriction"`
	ImageConstraintForAnalogComputerMonitorRestriction bool                 `json:"imageConstraintForAnalogComputerMonitorRestriction"`
	AllowPassingVideoContentToUnknownOutput            string               `json:"allowPassingVideoContentToUnknownOutput"` // NotAllowed | Allowed | AllowedWithVideoConstriction
	UncompressedDigitalVideoOpl                        int                  `json:"uncompressedDigitalVideoOpl,omitempty"`
	CompressedDigitalVideoOpl                          int                  `json:"compressedDigitalVideoOpl,omitempty"`
	AnalogVideoOpl                                     int                  `json:"analogVideoOpl,omitempty"`
	CompressedDigitalAudioOpl                          int                  `json:"compressedDigitalAudioOpl,omitempty"`
	UncompressedDigitalAudioOpl                        int                  `json:"uncompressedDigitalAudioOpl,omitempty"`
}

// AnalogTVRestriction is explicitAnalogTelevisionOutputRestriction.
type AnalogTVRestriction struct {
	BestEffort        bool `json:"bestEffort"`
	ConfigurationData int  `json:"configurationData"` // 0–3
}

// FairPlayPolicy is ContentKeyPolicyFairPlayConfiguration.
type FairPlayPolicy struct {
	RentalAndLeaseKeyType      string               `json:"rentalAndLeaseKeyType"` // Undefined | DualExpiry | PersistentUnlimited | PersistentLimited
	RentalDuration             int64                `json:"rentalDuration"`        // seconds
	OfflineRentalConfiguration *OfflineRentalConfig `json:"offlineRentalConfiguration,omitempty"`
	// ASk is the Application Secret Key (32 hex digits). Secret.
	ASk string `json:"ask,omitempty"`
	// FairPlayPfx is the base64 PKCS#12 with the private key. Secret.
	FairPlayPfx string `json:"fairPlayPfx,omitempty"`
	// FairPlayPfxPassword unlocks the PFX. Secret.
	FairPlayPfxPassword string `json:"fairPlayPfxPassword,omitempty"`
}

// OfflineRentalConfig is the FairPlay offline rental: storage = time to start watching,
// playback = time after playback starts.
type OfflineRentalConfig struct {
	PlaybackDurationSeconds int64 `json:"playbackDurationSeconds"`
	StorageDurationSeconds  int64 `json:"storageDurationSeconds"`
}

// ClearKeyPolicy is the W3C ClearKey session type and an optional license duration.
type ClearKeyPolicy struct {
	LicenseType     string `json:"licenseType"` // temporary | persistent-license
	DurationSeconds int64  `json:"durationSeconds,omitempty"`
}

// Key restriction types.
const (
	RestrictionOpen = "open"
	RestrictionJWT  = "jwt"
)

// Verification key types of a JWT restriction (TokenRestriction.KeyType).
const (
	KeySymmetric = "symmetric" // HS256; KeyValue is the base64 key (a secret)
	KeyRSA       = "rsa"       // RS256/RS384/RS512/PS256; KeyValue is a PEM public key
	KeyX509      = "x509"      // KeyValue is a PEM certificate whose public key verifies
)

// ContentKeyIdentifierClaim is the AMS claim that must carry the KID when required.
const ContentKeyIdentifierClaim = "urn:microsoft:azure:mediaservices:contentkeyidentifier"

// TokenRestriction is open, or JWT with issuer/audience and a verification key.
type TokenRestriction struct {
	Type     string `json:"type"` // open | jwt
	Issuer   string `json:"issuer,omitempty"`
	Audience string `json:"audience,omitempty"`
	// KeyType is symmetric (HS256, KeyValue base64), rsa (KeyValue PEM public key) or x509
	// (KeyValue PEM certificate).
	KeyType       string   `json:"keyType,omitempty"`
	KeyValue      string   `json:"keyValue,omitempty"` // secret when symmetric
	AlternateKeys []string `json:"alternateKeys,omitempty"`
	// RequiredClaims lists claim types the token must carry (the content key identifier claim
	// must equal the requested KID).
	RequiredClaims []Claim `json:"requiredClaims,omitempty"`
}

// Claim is a required claim; an empty Value means "present" (or the KID for the content key
// identifier claim).
type Claim struct {
	Type  string `json:"claimType"`
	Value string `json:"claimValue,omitempty"`
}

// Systems are the DRM systems a policy configures, in display order (drm.AllSystems).
var Systems = drm.AllSystems

// Offline reports whether the policy configures at least one system and every configured
// system allows persistent (offline) licenses.
func (p *Policy) Offline() bool {
	if p == nil {
		return false
	}
	configured := false
	for _, s := range Systems {
		if p.configures(s) {
			configured = true
			if !p.Persistent(s) {
				return false
			}
		}
	}
	return configured
}

// configures reports whether the policy has a license configuration for system.
func (p *Policy) configures(system drm.System) bool {
	if p == nil {
		return false
	}
	switch system {
	case drm.Widevine:
		return p.Widevine != nil
	case drm.PlayReady:
		return p.PlayReady != nil
	case drm.FairPlay:
		return p.FairPlay != nil
	case drm.ClearKey:
		return p.ClearKey != nil
	}
	return false
}

// Persistable reports whether the FairPlay key type can be stored for offline playback.
func (f *FairPlayPolicy) Persistable() bool {
	switch f.RentalAndLeaseKeyType {
	case "PersistentUnlimited", "PersistentLimited", "DualExpiry":
		return true
	}
	return false
}

// For returns the system's license configuration as JSON with secrets redacted, ready to embed in a license
// response or preview, or nil when the policy does not license that system.
func (p *Policy) For(system drm.System) json.RawMessage {
	if !p.configures(system) {
		return nil
	}
	r := p.Redacted()
	var v any
	switch system {
	case drm.Widevine:
		v = r.Widevine
	case drm.PlayReady:
		v = r.PlayReady
	case drm.FairPlay:
		v = r.FairPlay
	case drm.ClearKey:
		v = r.ClearKey
	}
	b, err := json.Marshal(v)
	if err != nil { // the models hold only JSON-safe types
		return nil
	}
	return b
}

// Persistent reports whether the policy lets system's license be stored.
func (p *Policy) Persistent(system drm.System) bool {
	if p == nil {
		return false
	}
	switch system {
	case drm.Widevine:
		return p.Widevine != nil && p.Widevine.PolicyOverrides.CanPersist
	case drm.PlayReady:
		return p.PlayReady != nil && p.PlayReady.LicenseType == "Persistent"
	case drm.FairPlay:
		return p.FairPlay != nil && p.FairPlay.Persistable()
	case drm.ClearKey:
		return p.ClearKey != nil && p.ClearKey.LicenseType == "persistent-license"
	}
	return false
}

// Clone returns a deep copy.
func (p *Policy) Clone() *Policy {
	b, _ := json.Marshal(p)
	var c Policy
	_ = json.Unmarshal(b, &c)
	return &c
}

// MarshalPublic returns indented JSON with secrets redacted.
func MarshalPublic(p *Policy) ([]byte, error) {
	return json.MarshalIndent(p.Redacted(), "", "  ")
}

// Read reads a Satchel policy JSON or an AMS content key policy JSON (detected by its
// "properties"/"options" shape).
func Read(r io.Reader) (*Policy, error) {
	b, err := readLimited(r)
	if err != nil {
		return nil, fmt.Errorf("read policy: %w", err)
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if _, ok := probe["properties"]; ok {
		return importAMS(b)
	}
	if _, ok := probe["options"]; ok {
		return importAMS(b)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	var p Policy
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("not a Satchel policy: %w", err)
	}
	if p.Token.Type == "" {
		p.Token.Type = RestrictionOpen
	}
	return &p, nil
}

// maxPolicySize bounds policy documents; real ones are a few kilobytes (a .pfx inside makes
// them larger, never megabytes).
const maxPolicySize = 4 << 20

// readLimited reads all of r, refusing more than maxPolicySize bytes.
func readLimited(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxPolicySize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxPolicySize {
		return nil, fmt.Errorf("the document is larger than %d MiB; a policy is a few kilobytes, so this is probably the wrong file", maxPolicySize>>20)
	}
	return b, nil
}

func i64(v int64) *int64 { return &v }
