package license

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"satchel/engine/drm"
	"satchel/engine/policy"
	"satchel/internal/isodur"
)

// Clocks are the time rules a license carries, in its DRM system's own terms, as the server
// resolved them when it issued the license. Exactly one member is set: the one of the
// license's system. A license issued without a policy carries no clocks (nil).
//
// The reference client and the simulated device (engine/simulate) enforce these; real
// licenses carry the same rules inside the vendors' formats.
type Clocks struct {
	Widevine  *WidevineClocks  `json:"widevine,omitempty"`
	PlayReady *PlayReadyClocks `json:"playready,omitempty"`
	FairPlay  *FairPlayClocks  `json:"fairplay,omitempty"`
	ClearKey  *ClearKeyClocks  `json:"clearkey,omitempty"`
}

// WidevineClocks are the Widevine license policy fields (the policy_overrides of the AMS
// Widevine template). A nil duration is "unset" and is sent as JSON null, because Android 4.4
// and older read unset durations as expired while 0 means unlimited.
type WidevineClocks struct {
	CanPlay    bool `json:"can_play"`
	CanPersist bool `json:"can_persist"`
	CanRenew   bool `json:"can_renew"`
	// LicenseDurationSeconds is the time window of the license from its issue; 0 = unlimited.
	LicenseDurationSeconds *int64 `json:"license_duration_seconds"`
	// RentalDurationSeconds is the window from issue in which playback may start; 0 = unlimited.
	RentalDurationSeconds *int64 `json:"rental_duration_seconds"`
	// PlaybackDurationSeconds is the viewing window once playback started; 0 = unlimited.
	PlaybackDurationSeconds *int64 `json:"playback_duration_seconds"`
	// The renewal fields matter only when CanRenew is true.
	RenewalServerURL               string `json:"renewal_server_url,omitempty"`
	RenewalDelaySeconds            *int64 `json:"renewal_delay_seconds,omitempty"`
	RenewalRetryIntervalSeconds    *int64 `json:"renewal_retry_interval_seconds,omitempty"`
	RenewalRecoveryDurationSeconds *int64 `json:"renewal_recovery_duration_seconds,omitempty"`
	RenewWithUsage                 bool   `json:"renew_with_usage,omitempty"`
}

// PlayReadyClocks are the PlayReady license's time rights. BeginDate and ExpirationDate are
// absolute, resolved at issue (from the policy's absolute dates, or issue time plus its
// relative ones); the relative values are carried too, as configured, so a client can tell a
// window that starts at download from a fixed date.
type PlayReadyClocks struct {
	LicenseType            string     `json:"license_type"` // Persistent | NonPersistent
	BeginDate              *time.Time `json:"begin_date,omitempty"`
	ExpirationDate         *time.Time `json:"expiration_date,omitempty"`
	RelativeBeginDate      string     `json:"relative_begin_date,omitempty"`      // ISO 8601, e.g. PT0S
	RelativeExpirationDate string     `json:"relative_expiration_date,omitempty"` // ISO 8601, e.g. PT48H
	// GracePeriod is how long content may play after the device clock is lost (ISO 8601).
	GracePeriod string `json:"grace_period,omitempty"`
	// FirstPlayExpiration is the validity after the license is first used to play (ISO 8601).
	FirstPlayExpiration string `json:"first_play_expiration,omitempty"`
}

// FairPlayClocks are the FairPlay key's lease and rental terms (rentalAndLeaseKeyType of the
// AMS FairPlay configuration; Apple FPS "Offline Rental Support").
type FairPlayClocks struct {
	// KeyType is Undefined (not persistable), DualExpiry, PersistentUnlimited or
	// PersistentLimited.
	KeyType string `json:"rental_and_lease_key_type"`
	// RentalDurationSeconds limits a PersistentLimited key from its delivery.
	RentalDurationSeconds int64 `json:"rental_duration_seconds,omitempty"`
	// StorageDurationSeconds (DualExpiry) is the time allowed before the first play.
	StorageDurationSeconds int64 `json:"storage_duration_seconds,omitempty"`
	// PlaybackDurationSeconds (DualExpiry) is the time allowed after the first play.
	PlaybackDurationSeconds int64 `json:"playback_duration_seconds,omitempty"`
}

// ClearKeyClocks are Satchel's extension of a W3C ClearKey license: the session type and how
// long a persistent-license may be kept. EME ClearKey itself has no clocks; the application
// enforces this one with the device clock.
type ClearKeyClocks struct {
	SessionType     string `json:"session_type"`               // temporary | persistent-license
	DurationSeconds int64  `json:"duration_seconds,omitempty"` // 0 = unlimited
}

// FairPlay key types (rentalAndLeaseKeyType).
const (
	FairPlayUndefined           = "Undefined"
	FairPlayDualExpiry          = "DualExpiry"
	FairPlayPersistentUnlimited = "PersistentUnlimited"
	FairPlayPersistentLimited   = "PersistentLimited"
)

// PlayReady license types and ClearKey session types.
const (
	PlayReadyPersistent    = "Persistent"
	PlayReadyNonPersistent = "NonPersistent"
	SessionTemporary       = "temporary"
	SessionPersistent      = "persistent-license"
)

// ClocksFor resolves the clocks system's license gets under p when issued at issued. It
// returns nil without a policy or when p does not license system, and an error when a
// PlayReady date or duration of p does not parse (Validate reports those too).
func ClocksFor(p *policy.Policy, system drm.System, issued time.Time) (*Clocks, error) {
	if p == nil {
		return nil, nil
	}
	switch system {
	case drm.Widevine:
		if p.Widevine == nil {
			return nil, nil
		}
		o := p.Widevine.PolicyOverrides
		return &Clocks{Widevine: &WidevineClocks{
			CanPlay:                        o.CanPlay,
			CanPersist:                     o.CanPersist,
			CanRenew:                       o.CanRenew,
			LicenseDurationSeconds:         o.LicenseDurationSeconds,
			RentalDurationSeconds:          o.RentalDurationSeconds,
			PlaybackDurationSeconds:        o.PlaybackDurationSeconds,
			RenewalServerURL:               o.RenewalServerURL,
			RenewalDelaySeconds:            o.RenewalDelaySeconds,
			RenewalRetryIntervalSeconds:    o.RenewalRetryIntervalSeconds,
			RenewalRecoveryDurationSeconds: o.RenewalRecoveryDurationSeconds,
			RenewWithUsage:                 o.RenewWithUsage,
		}}, nil
	case drm.PlayReady:
		if p.PlayReady == nil {
			return nil, nil
		}
		return playReadyClocks(p.PlayReady, issued)
	case drm.FairPlay:
		if p.FairPlay == nil {
			return nil, nil
		}
		return &Clocks{FairPlay: fairPlayClocks(p.FairPlay)}, nil
	case drm.ClearKey:
		if p.ClearKey == nil {
			return nil, nil
		}
		return &Clocks{ClearKey: &ClearKeyClocks{SessionType: p.ClearKey.LicenseType,
			DurationSeconds: p.ClearKey.DurationSeconds}}, nil
	}
	return nil, fmt.Errorf("system %s has no license clocks", system)
}

func playReadyClocks(pr *policy.PlayReadyPolicy, issued time.Time) (*Clocks, error) {
	begin, expire, err := pr.Validity(issued)
	if err != nil {
		return nil, err
	}
	for _, d := range []struct{ field, v string }{
		{"gracePeriod", pr.GracePeriod},
		{"playRight.firstPlayExpiration", pr.PlayRight.FirstPlayExpiration},
	} {
		if d.v == "" {
			continue
		}
		if _, err := isodur.Parse(d.v); err != nil {
			return nil, fmt.Errorf("playready %s: %w", d.field, err)
		}
	}
	c := &PlayReadyClocks{
		LicenseType:            pr.LicenseType,
		RelativeBeginDate:      pr.RelativeBeginDate,
		RelativeExpirationDate: pr.RelativeExpirationDate,
		GracePeriod:            pr.GracePeriod,
		FirstPlayExpiration:    pr.PlayRight.FirstPlayExpiration,
	}
	if pr.BeginDate != "" || pr.RelativeBeginDate != "" {
		b := begin.UTC()
		c.BeginDate = &b
	}
	if !expire.IsZero() {
		e := expire.UTC()
		c.ExpirationDate = &e
	}
	// An absolute date wins over a relative one (policy.Validity); carry only what applies.
	if pr.BeginDate != "" {
		c.RelativeBeginDate = ""
	}
	if pr.ExpirationDate != "" {
		c.RelativeExpirationDate = ""
	}
	return &Clocks{PlayReady: c}, nil
}

func fairPlayClocks(fp *policy.FairPlayPolicy) *FairPlayClocks {
	c := &FairPlayClocks{KeyType: fp.RentalAndLeaseKeyType}
	switch fp.RentalAndLeaseKeyType {
	case FairPlayPersistentLimited:
		c.RentalDurationSeconds = fp.RentalDuration
	case FairPlayDualExpiry:
		if r := fp.OfflineRentalConfiguration; r != nil {
			c.StorageDurationSeconds = r.StorageDurationSeconds
			c.PlaybackDurationSeconds = r.PlaybackDurationSeconds
		}
	}
	return c
}

// System returns the system whose clocks c holds ("" when none or several are set).
func (c *Clocks) System() drm.System {
	if c == nil {
		return ""
	}
	var out drm.System
	n := 0
	for sys, set := range map[drm.System]bool{
		drm.Widevine: c.Widevine != nil, drm.PlayReady: c.PlayReady != nil,
		drm.FairPlay: c.FairPlay != nil, drm.ClearKey: c.ClearKey != nil,
	} {
		if set {
			out = sys
			n++
		}
	}
	if n != 1 {
		return ""
	}
	return out
}

// Persistent reports whether the clocks let the license be stored for offline playback:
// Widevine can_persist, PlayReady Persistent, a FairPlay persistable key type, a ClearKey
// persistent-license.
func (c *Clocks) Persistent() bool {
	switch {
	case c == nil:
		return false
	case c.Widevine != nil:
		return c.Widevine.CanPersist
	case c.PlayReady != nil:
		return c.PlayReady.LicenseType == PlayReadyPersistent
	case c.FairPlay != nil:
		switch c.FairPlay.KeyType {
		case FairPlayDualExpiry, FairPlayPersistentLimited, FairPlayPersistentUnlimited:
			return true
		}
	case c.ClearKey != nil:
		return c.ClearKey.SessionType == SessionPersistent
	}
	return false
}

// ExpiresAt returns the hard end of a license issued at issued that is known at issue time
// (Widevine license_duration_seconds, PlayReady ExpirationDate, FairPlay storage duration or
// PersistentLimited rental duration, ClearKey duration), or the zero time when there is none.
// Windows that start at the first play are not included.
func (c *Clocks) ExpiresAt(issued time.Time) time.Time {
	secs := func(v int64) time.Time {
		if v <= 0 {
			return time.Time{}
		}
		return issued.Add(time.Duration(v) * time.Second)
	}
	switch {
	case c == nil:
	case c.Widevine != nil:
		if d := c.Widevine.LicenseDurationSeconds; d != nil {
			return secs(*d)
		}
	case c.PlayReady != nil:
		if c.PlayReady.ExpirationDate != nil {
			return *c.PlayReady.ExpirationDate
		}
	case c.FairPlay != nil:
		switch c.FairPlay.KeyType {
		case FairPlayDualExpiry:
			return secs(c.FairPlay.StorageDurationSeconds)
		case FairPlayPersistentLimited:
			return secs(c.FairPlay.RentalDurationSeconds)
		}
	case c.ClearKey != nil:
		return secs(c.ClearKey.DurationSeconds)
	}
	return time.Time{}
}

// ClocksError says which clock field of a license is malformed.
type ClocksError struct {
	System drm.System
	Field  string
	Reason string
}

func (e *ClocksError) Error() string {
	return fmt.Sprintf("%s license clocks: %s %s", e.System, e.Field, e.Reason)
}

// maxClockSeconds bounds durations (100 years); larger values are nonsense or overflow bait.
const maxClockSeconds = 100 * 365 * 24 * 3600

// ParseClocks decodes and checks the clocks of a system's license (untrusted input): only
// the system's own member may be set, durations are between 0 and 100 years, the license and
// key types are known values and PlayReady durations are ISO 8601. JSON null gives nil.
func ParseClocks(system drm.System, raw []byte) (*Clocks, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var c Clocks
	if err := dec.Decode(&c); err != nil {
		return nil, &ClocksError{System: system, Field: "clocks", Reason: "is not a clocks object: " + err.Error()}
	}
	if got := c.System(); got != system {
		return nil, &ClocksError{System: system, Field: "clocks",
			Reason: fmt.Sprintf("must hold exactly the %s member", system)}
	}
	if err := c.validate(system); err != nil {
		return nil, err
	}
	return &c, nil
}

func (c *Clocks) validate(system drm.System) error {
	bad := func(field, reason string) error { return &ClocksError{System: system, Field: field, Reason: reason} }
	dur := func(field string, v *int64) error {
		if v != nil && (*v < 0 || *v > maxClockSeconds) {
			return bad(field, fmt.Sprintf("%d is not between 0 and %d seconds", *v, int64(maxClockSeconds)))
		}
		return nil
	}
	switch {
	case c.Widevine != nil:
		w := c.Widevine
		for _, f := range []struct {
			name string
			v    *int64
		}{{"license_duration_seconds", w.LicenseDurationSeconds}, {"rental_duration_seconds", w.RentalDurationSeconds},
			{"playback_duration_seconds", w.PlaybackDurationSeconds}, {"renewal_delay_seconds", w.RenewalDelaySeconds},
			{"renewal_retry_interval_seconds", w.RenewalRetryIntervalSeconds},
			{"renewal_recovery_duration_seconds", w.RenewalRecoveryDurationSeconds}} {
			if err := dur(f.name, f.v); err != nil {
				return err
			}
		}
	case c.PlayReady != nil:
		return c.PlayReady.validate(bad)
	case c.FairPlay != nil:
		f := c.FairPlay
		switch f.KeyType {
		case FairPlayUndefined, FairPlayDualExpiry, FairPlayPersistentLimited, FairPlayPersistentUnlimited:
		default:
			return bad("rental_and_lease_key_type",
				fmt.Sprintf("%q is not Undefined, DualExpiry, PersistentLimited or PersistentUnlimited", f.KeyType))
		}
		for _, v := range []struct {
			name string
			v    int64
		}{{"rental_duration_seconds", f.RentalDurationSeconds}, {"storage_duration_seconds", f.StorageDurationSeconds},
			{"playback_duration_seconds", f.PlaybackDurationSeconds}} {
			if err := dur(v.name, &v.v); err != nil {
				return err
			}
		}
	case c.ClearKey != nil:
		if s := c.ClearKey.SessionType; s != SessionTemporary && s != SessionPersistent {
			return bad("session_type", fmt.Sprintf("%q is not temporary or persistent-license", s))
		}
		return dur("duration_seconds", &c.ClearKey.DurationSeconds)
	}
	return nil
}

func (p *PlayReadyClocks) validate(bad func(field, reason string) error) error {
	if p.LicenseType != PlayReadyPersistent && p.LicenseType != PlayReadyNonPersistent {
		return bad("license_type", fmt.Sprintf("%q is not Persistent or NonPersistent", p.LicenseType))
	}
	for _, f := range []struct{ name, v string }{
		{"relative_begin_date", p.RelativeBeginDate}, {"relative_expiration_date", p.RelativeExpirationDate},
		{"grace_period", p.GracePeriod}, {"first_play_expiration", p.FirstPlayExpiration},
	} {
		if f.v == "" {
			continue
		}
		d, err := isodur.Parse(f.v)
		if err != nil {
			return bad(f.name, err.Error())
		}
		if d > maxClockSeconds*time.Second {
			return bad(f.name, "is longer than 100 years")
		}
	}
	if p.BeginDate != nil && p.ExpirationDate != nil && p.ExpirationDate.Before(*p.BeginDate) {
		return bad("expiration_date", "is before begin_date")
	}
	return nil
}
