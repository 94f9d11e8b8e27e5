package policy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"satchel/engine/drm"
)

// variant is one way to change the valid base policy, validated online or offline.
type variant struct {
	offline bool
	mutate  func(p *Policy)
}

// ruleCase shows one validation rule firing (an issue of the given severity on field) and
// not firing for near-miss variants (no issue on field at all).
type ruleCase struct {
	name     string
	field    string
	severity Severity
	fire     []variant
	ok       []variant
}

func on(offline bool, m func(p *Policy)) variant { return variant{offline, m} }

const (
	offline   = true
	streaming = false
)

func b64(n int) string { return base64.StdEncoding.EncodeToString(make([]byte, n)) }

func jwtRestriction(mut func(t *TokenRestriction)) func(p *Policy) {
	return func(p *Policy) {
		p.Token = TokenRestriction{Type: RestrictionJWT, Issuer: "urn:issuer", Audience: "urn:audience", KeyType: KeySymmetric, KeyValue: b64(32)}
		if mut != nil {
			mut(&p.Token)
		}
	}
}

func testRSAPEM(t testing.TB) (*rsa.PrivateKey, string) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return k, string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// testCertPEM returns an ECDSA key and a self-signed certificate for it.
func testCertPEM(t testing.TB) (*ecdsa.PrivateKey, string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Satchel test signer"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	return k, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func TestValidationRules(t *testing.T) {
	_, rsaPEM := testRSAPEM(t)
	_, certPEM := testCertPEM(t)
	wo := func(m func(o *WidevineOverrides)) func(p *Policy) {
		return func(p *Policy) { m(&p.Widevine.PolicyOverrides) }
	}
	specs := func(s ...ContentKeySpec) func(p *Policy) {
		return func(p *Policy) { p.Widevine.AllowedTrackTypes, p.Widevine.ContentKeySpecs = "", s }
	}
	pr := func(m func(r *PlayReadyPolicy)) func(p *Policy) { return func(p *Policy) { m(p.PlayReady) } }
	right := func(m func(r *PlayReadyRight)) func(p *Policy) { return func(p *Policy) { m(&p.PlayReady.PlayRight) } }
	fp := func(m func(f *FairPlayPolicy)) func(p *Policy) { return func(p *Policy) { m(p.FairPlay) } }
	ck := func(m func(c *ClearKeyPolicy)) func(p *Policy) { return func(p *Policy) { m(p.ClearKey) } }
	sl3000 := func(m func(p *Policy)) func(p *Policy) {
		return func(p *Policy) {
			p.PlayReady.SecurityLevel = "SL3000"
			m(p)
		}
	}
	// oplCase fires for a value outside the allowed set and accepts every allowed value and 0.
	oplCase := func(field string, bad int, allowed []int, set func(r *PlayReadyRight, v int)) ruleCase {
		c := ruleCase{name: "playready " + field, field: "playready.playRight." + field, severity: "error",
			fire: []variant{on(offline, right(func(r *PlayReadyRight) { set(r, bad) }))},
			ok:   []variant{on(offline, right(func(r *PlayReadyRight) { set(r, 0) }))}}
		for _, v := range allowed {
			c.ok = append(c.ok, on(offline, right(func(r *PlayReadyRight) { set(r, v) })))
		}
		return c
	}

	cases := []ruleCase{
		{"no DRM system", "", "error",
			[]variant{on(streaming, func(p *Policy) { p.Widevine, p.PlayReady, p.FairPlay, p.ClearKey = nil, nil, nil, nil })},
			[]variant{on(offline, func(p *Policy) { p.Widevine, p.PlayReady, p.FairPlay = nil, nil, nil })}},
		// Widevine
		{"widevine offline needs can_persist", "widevine.policy_overrides.can_persist", "error",
			[]variant{on(offline, wo(func(o *WidevineOverrides) { o.CanPersist = false }))},
			[]variant{on(streaming, wo(func(o *WidevineOverrides) { o.CanPersist = false }))}},
		{"widevine can_play", "widevine.policy_overrides.can_play", "error",
			[]variant{on(streaming, wo(func(o *WidevineOverrides) { o.CanPlay = false }))},
			[]variant{on(streaming, wo(func(o *WidevineOverrides) { o.CanPlay = true }))}},
		{"widevine license duration unset", "widevine.policy_overrides.license_duration_seconds", "warning",
			[]variant{on(offline, wo(func(o *WidevineOverrides) { o.LicenseDurationSeconds = nil })),
				on(streaming, wo(func(o *WidevineOverrides) { o.LicenseDurationSeconds = nil }))}, // can_persist still true
			[]variant{on(offline, wo(func(o *WidevineOverrides) { o.LicenseDurationSeconds = i64(0) })),
				on(streaming, wo(func(o *WidevineOverrides) { o.LicenseDurationSeconds, o.CanPersist = nil, false }))}},
		{"widevine rental duration unset", "widevine.policy_overrides.rental_duration_seconds", "warning",
			[]variant{on(offline, wo(func(o *WidevineOverrides) { o.RentalDurationSeconds = nil }))},
			[]variant{on(offline, wo(func(o *WidevineOverrides) { o.RentalDurationSeconds = i64(0) }))}},
		{"widevine playback duration unset", "widevine.policy_overrides.playback_duration_seconds", "warning",
			[]variant{on(offline, wo(func(o *WidevineOverrides) { o.PlaybackDurationSeconds = nil }))},
			[]variant{on(offline, wo(func(o *WidevineOverrides) { o.PlaybackDurationSeconds = i64(3600) }))}},
		{"widevine negative duration", "widevine.policy_overrides.rental_duration_seconds", "error",
			[]variant{on(offline, wo(func(o *WidevineOverrides) { o.RentalDurationSeconds = i64(-1) }))},
			[]variant{on(offline, wo(func(o *WidevineOverrides) { o.RentalDurationSeconds = i64(0) }))}},
		{"widevine playback longer than license", "widevine.policy_overrides.playback_duration_seconds", "warning",
			[]variant{on(offline, wo(func(o *WidevineOverrides) { o.LicenseDurationSeconds, o.PlaybackDurationSeconds = i64(3600), i64(7200) }))},
			[]variant{on(offline, wo(func(o *WidevineOverrides) { o.LicenseDurationSeconds, o.PlaybackDurationSeconds = i64(0), i64(7200) })),
				on(offline, wo(func(o *WidevineOverrides) { o.LicenseDurationSeconds, o.PlaybackDurationSeconds = i64(7200), i64(7200) }))}},
		{"widevine can_renew without renewal_server_url", "widevine.policy_overrides.renewal_server_url", "error",
			[]variant{on(streaming, wo(func(o *WidevineOverrides) { o.CanRenew = true })),
				on(streaming, wo(func(o *WidevineOverrides) { o.CanRenew, o.RenewalServerURL = true, "ftp://renew.example" }))},
			[]variant{on(streaming, wo(func(o *WidevineOverrides) { o.CanRenew, o.RenewalServerURL = true, "https://renew.example/wv" }))}},
		{"widevine negative renewal delay", "widevine.policy_overrides.renewal_delay_seconds", "error",
			[]variant{on(offline, wo(func(o *WidevineOverrides) { o.RenewalDelaySeconds = i64(-5) }))},
			[]variant{on(offline, wo(func(o *WidevineOverrides) { o.RenewalDelaySeconds = i64(0) }))}},
		{"widevine security level range", "widevine.content_key_specs[0].security_level", "error",
			[]variant{on(offline, specs(ContentKeySpec{TrackType: "SD", SecurityLevel: 0})), on(offline, specs(ContentKeySpec{TrackType: "SD", SecurityLevel: 6}))},
			[]variant{on(offline, specs(ContentKeySpec{TrackType: "SD", SecurityLevel: 1})), on(offline, specs(ContentKeySpec{TrackType: "SD", SecurityLevel: 5}))}},
		{"widevine duplicate track type", "widevine.content_key_specs[1].track_type", "error",
			[]variant{on(offline, specs(ContentKeySpec{TrackType: "HD", SecurityLevel: 1}, ContentKeySpec{TrackType: "hd", SecurityLevel: 3}))},
			[]variant{on(offline, specs(ContentKeySpec{TrackType: "HD", SecurityLevel: 1}, ContentKeySpec{TrackType: "SD", SecurityLevel: 3}))}},
		{"widevine renewal settings without can_renew", "widevine.policy_overrides.can_renew", "warning",
			[]variant{on(streaming, wo(func(o *WidevineOverrides) { o.RenewalServerURL = "https://renew.example/wv" })),
				on(streaming, wo(func(o *WidevineOverrides) { o.RenewWithUsage = true }))},
			[]variant{on(streaming, wo(func(o *WidevineOverrides) { o.CanRenew, o.RenewalServerURL = true, "https://renew.example/wv" }))}},
		{"widevine hdcp", "widevine.content_key_specs[0].required_output_protection.hdcp", "error",
			[]variant{on(offline, specs(ContentKeySpec{TrackType: "HD", SecurityLevel: 1, RequiredOutputProtection: &OutputProtection{HDCP: "HDCP_V3"}}))},
			[]variant{on(offline, specs(ContentKeySpec{TrackType: "HD", SecurityLevel: 1, RequiredOutputProtection: &OutputProtection{HDCP: "HDCP_V2"}}))}},
		{"widevine empty track type", "widevine.content_key_specs[0].track_type", "error",
			[]variant{on(offline, specs(ContentKeySpec{SecurityLevel: 1}))},
			[]variant{on(offline, specs(ContentKeySpec{TrackType: "AUDIO", SecurityLevel: 1}))}},
		{"widevine track types and key specs", "widevine.allowed_track_types", "warning",
			[]variant{on(offline, func(p *Policy) { p.Widevine.ContentKeySpecs = []ContentKeySpec{{TrackType: "SD", SecurityLevel: 1}} })},
			[]variant{on(offline, specs(ContentKeySpec{TrackType: "SD", SecurityLevel: 1}))}},
		{"widevine allowed_track_types value", "widevine.allowed_track_types", "error",
			[]variant{on(offline, func(p *Policy) { p.Widevine.AllowedTrackTypes = "SD_UHD" })},
			[]variant{on(offline, func(p *Policy) { p.Widevine.AllowedTrackTypes = "SD_ONLY" })}},
		// PlayReady
		{"playready offline needs Persistent", "playready.licenseType", "error",
			[]variant{on(offline, pr(func(r *PlayReadyPolicy) { r.LicenseType = "NonPersistent" }))},
			[]variant{on(streaming, pr(func(r *PlayReadyPolicy) { r.LicenseType = "NonPersistent" }))}},
		{"playready license type value", "playready.licenseType", "error",
			[]variant{on(streaming, pr(func(r *PlayReadyPolicy) { r.LicenseType = "Forever" }))},
			[]variant{on(streaming, pr(func(r *PlayReadyPolicy) { r.LicenseType = "Persistent" }))}},
		{"playready security level value", "playready.securityLevel", "error",
			[]variant{on(offline, pr(func(r *PlayReadyPolicy) { r.SecurityLevel = "SL9000" })), on(offline, pr(func(r *PlayReadyPolicy) { r.SecurityLevel = "" }))},
			[]variant{on(offline, pr(func(r *PlayReadyPolicy) { r.SecurityLevel = "SL2000" }))}},
		{"playready SL150 is for testing", "playready.securityLevel", "warning",
			[]variant{on(offline, pr(func(r *PlayReadyPolicy) { r.SecurityLevel = "SL150" }))},
			[]variant{on(offline, pr(func(r *PlayReadyPolicy) { r.SecurityLevel = "SL2000" }))}},
		{"playready SL3000 needs a separate audio key", "playready.securityLevel", "warning",
			[]variant{on(offline, pr(func(r *PlayReadyPolicy) { r.SecurityLevel = "SL3000" }))},
			[]variant{on(offline, pr(func(r *PlayReadyPolicy) { r.SecurityLevel = "SL2000" }))}},
		{"playready SL3000 with default-level Widevine", "widevine.content_key_specs", "error",
			[]variant{on(offline, sl3000(func(p *Policy) {}))},
			[]variant{on(offline, sl3000(specs(ContentKeySpec{TrackType: "HD", SecurityLevel: 5}, ContentKeySpec{TrackType: "AUDIO", SecurityLevel: 4}))),
				on(offline, pr(func(r *PlayReadyPolicy) { r.SecurityLevel = "SL2000" }))}},
		{"playready SL3000 with Widevine below L1", "widevine.content_key_specs[1].security_level", "error",
			[]variant{on(offline, sl3000(specs(ContentKeySpec{TrackType: "HD", SecurityLevel: 5}, ContentKeySpec{TrackType: "SD", SecurityLevel: 3})))},
			[]variant{on(offline, sl3000(specs(ContentKeySpec{TrackType: "HD", SecurityLevel: 5}, ContentKeySpec{TrackType: "SD", SecurityLevel: 4}))),
				on(offline, specs(ContentKeySpec{TrackType: "HD", SecurityLevel: 5}, ContentKeySpec{TrackType: "SD", SecurityLevel: 1}))}},
		{"playready SL3000 with FairPlay", "fairplay", "error",
			[]variant{on(offline, sl3000(func(p *Policy) {}))},
			[]variant{on(offline, sl3000(func(p *Policy) { p.FairPlay = nil }))}},
		{"playready SL3000 with ClearKey", "clearkey", "error",
			[]variant{on(offline, sl3000(func(p *Policy) {}))},
			[]variant{on(offline, sl3000(func(p *Policy) { p.ClearKey = nil }))}},
		{"playready expiration before begin", "playready.expirationDate", "error",
			[]variant{on(offline, pr(func(r *PlayReadyPolicy) {
				r.RelativeExpirationDate, r.BeginDate, r.ExpirationDate = "", "2026-02-01T00:00:00Z", "2026-01-01T00:00:00Z"
			})), on(offline, pr(func(r *PlayReadyPolicy) {
				r.RelativeExpirationDate, r.BeginDate, r.ExpirationDate = "", "2026-02-01T00:00:00Z", "2026-02-01T00:00:00Z"
			}))},
			[]variant{on(offline, pr(func(r *PlayReadyPolicy) {
				r.RelativeExpirationDate, r.BeginDate, r.ExpirationDate = "", "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"
			}))}},
		{"playready date format", "playready.beginDate", "error",
			[]variant{on(offline, pr(func(r *PlayReadyPolicy) { r.BeginDate = "yesterday" }))},
			[]variant{on(offline, pr(func(r *PlayReadyPolicy) { r.BeginDate = "2017-10-16T18:22:53.46Z" }))}},
		{"playready relative expiration before relative begin", "playready.relativeExpirationDate", "error",
			[]variant{on(offline, pr(func(r *PlayReadyPolicy) { r.RelativeBeginDate, r.RelativeExpirationDate = "PT48H", "PT24H" }))},
			[]variant{on(offline, pr(func(r *PlayReadyPolicy) { r.RelativeBeginDate, r.RelativeExpirationDate = "PT1H", "PT48H" }))}},
		{"playready absolute and relative expiration", "playready.relativeExpirationDate", "error",
			[]variant{on(offline, pr(func(r *PlayReadyPolicy) { r.ExpirationDate = "2030-01-01T00:00:00Z" }))},
			[]variant{on(offline, pr(func(r *PlayReadyPolicy) { r.ExpirationDate, r.RelativeExpirationDate = "2030-01-01T00:00:00Z", "" }))}},
		{"playready absolute and relative begin", "playready.relativeBeginDate", "error",
			[]variant{on(offline, pr(func(r *PlayReadyPolicy) { r.BeginDate, r.RelativeBeginDate = "2026-01-01T00:00:00Z", "PT1H" }))},
			[]variant{on(offline, pr(func(r *PlayReadyPolicy) { r.RelativeBeginDate = "PT1H" }))}},
		{"playready ISO duration", "playready.relativeExpirationDate", "error",
			[]variant{on(offline, pr(func(r *PlayReadyPolicy) { r.RelativeExpirationDate = "48 hours" }))},
			[]variant{on(offline, pr(func(r *PlayReadyPolicy) { r.RelativeExpirationDate = "P2D" }))}},
		{"playready grace period", "playready.gracePeriod", "error",
			[]variant{on(offline, pr(func(r *PlayReadyPolicy) { r.GracePeriod = "10 minutes" }))},
			[]variant{on(offline, pr(func(r *PlayReadyPolicy) { r.GracePeriod = "PT10M" }))}},
		{"playready first play expiration", "playready.playRight.firstPlayExpiration", "error",
			[]variant{on(offline, right(func(r *PlayReadyRight) { r.FirstPlayExpiration = "20s" }))},
			[]variant{on(offline, right(func(r *PlayReadyRight) { r.FirstPlayExpiration = "PT20S" }))}},
		{"playready content type", "playready.contentType", "error",
			[]variant{on(offline, pr(func(r *PlayReadyPolicy) { r.ContentType = "Download" }))},
			[]variant{on(offline, pr(func(r *PlayReadyPolicy) { r.ContentType = "UltraVioletStreaming" })), on(offline, pr(func(r *PlayReadyPolicy) { r.ContentType = "" }))}},
		oplCase("compressedDigitalVideoOpl", 450, []int{400, 500}, func(r *PlayReadyRight, v int) { r.CompressedDigitalVideoOpl = v }),
		oplCase("uncompressedDigitalVideoOpl", 260, []int{100, 250, 270, 300}, func(r *PlayReadyRight, v int) { r.UncompressedDigitalVideoOpl = v }),
		oplCase("analogVideoOpl", 250, []int{100, 150, 200}, func(r *PlayReadyRight, v int) { r.AnalogVideoOpl = v }),
		oplCase("compressedDigitalAudioOpl", 400, []int{100, 150, 200, 250, 300}, func(r *PlayReadyRight, v int) { r.CompressedDigitalAudioOpl = v }),
		oplCase("uncompressedDigitalAudioOpl", 120, []int{100, 150, 200, 250, 300}, func(r *PlayReadyRight, v int) { r.UncompressedDigitalAudioOpl = v }),
		{"playready unknown output", "playready.playRight.allowPassingVideoContentToUnknownOutput", "error",
			[]variant{on(offline, right(func(r *PlayReadyRight) { r.AllowPassingVideoContentToUnknownOutput = "Maybe" })),
				on(offline, right(func(r *PlayReadyRight) { r.AllowPassingVideoContentToUnknownOutput = "" }))},
			[]variant{on(offline, right(func(r *PlayReadyRight) { r.AllowPassingVideoContentToUnknownOutput = "Allowed" })),
				on(offline, right(func(r *PlayReadyRight) { r.AllowPassingVideoContentToUnknownOutput = "AllowedWithVideoConstriction" })),
				on(offline, right(func(r *PlayReadyRight) { r.AllowPassingVideoContentToUnknownOutput = "NotAllowed" }))}},
		{"playready scms restriction", "playready.playRight.scmsRestriction", "error",
			[]variant{on(offline, right(func(r *PlayReadyRight) { v := 4; r.ScmsRestriction = &v }))},
			[]variant{on(offline, right(func(r *PlayReadyRight) { v := 2; r.ScmsRestriction = &v }))}},
		{"playready explicit analog TV restriction", "playready.playRight.explicitAnalogTelevisionOutputRestriction.configurationData", "error",
			[]variant{on(offline, right(func(r *PlayReadyRight) {
				r.ExplicitAnalogTelevisionOutputRestriction = &AnalogTVRestriction{BestEffort: true, ConfigurationData: 4}
			}))},
			[]variant{on(offline, right(func(r *PlayReadyRight) {
				r.ExplicitAnalogTelevisionOutputRestriction = &AnalogTVRestriction{BestEffort: true, ConfigurationData: 2}
			}))}},
		// FairPlay
		{"fairplay offline needs a persistable key type", "fairplay.rentalAndLeaseKeyType", "error",
			[]variant{on(offline, fp(func(f *FairPlayPolicy) { f.RentalAndLeaseKeyType = "Undefined" }))},
			[]variant{on(streaming, fp(func(f *FairPlayPolicy) { f.RentalAndLeaseKeyType = "Undefined" })),
				on(offline, fp(func(f *FairPlayPolicy) { f.RentalAndLeaseKeyType = "PersistentUnlimited" }))}},
		{"fairplay key type value", "fairplay.rentalAndLeaseKeyType", "error",
			[]variant{on(streaming, fp(func(f *FairPlayPolicy) { f.RentalAndLeaseKeyType = "Rental" }))},
			[]variant{on(streaming, fp(func(f *FairPlayPolicy) { f.RentalAndLeaseKeyType = "Undefined" }))}},
		{"fairplay DualExpiry without durations", "fairplay.offlineRentalConfiguration", "error",
			[]variant{on(offline, fp(func(f *FairPlayPolicy) { f.OfflineRentalConfiguration = nil })),
				on(offline, fp(func(f *FairPlayPolicy) { f.OfflineRentalConfiguration.StorageDurationSeconds = 0 })),
				on(offline, fp(func(f *FairPlayPolicy) { f.OfflineRentalConfiguration.PlaybackDurationSeconds = 0 }))},
			[]variant{on(offline, fp(func(f *FairPlayPolicy) {
				f.OfflineRentalConfiguration = &OfflineRentalConfig{PlaybackDurationSeconds: 86400, StorageDurationSeconds: 2592000}
			})),
				on(offline, fp(func(f *FairPlayPolicy) {
					f.RentalAndLeaseKeyType, f.OfflineRentalConfiguration = "PersistentUnlimited", nil
				}))}},
		{"fairplay negative offline rental duration", "fairplay.offlineRentalConfiguration", "error",
			[]variant{on(offline, fp(func(f *FairPlayPolicy) {
				f.RentalAndLeaseKeyType, f.OfflineRentalConfiguration = "PersistentUnlimited", &OfflineRentalConfig{StorageDurationSeconds: -1}
			}))},
			[]variant{on(offline, fp(func(f *FairPlayPolicy) {
				f.RentalAndLeaseKeyType, f.OfflineRentalConfiguration = "PersistentUnlimited", &OfflineRentalConfig{}
			}))}},
		{"fairplay PersistentLimited without rental duration", "fairplay.rentalDuration", "error",
			[]variant{on(offline, fp(func(f *FairPlayPolicy) { f.RentalAndLeaseKeyType = "PersistentLimited" }))},
			[]variant{on(offline, fp(func(f *FairPlayPolicy) { f.RentalAndLeaseKeyType, f.RentalDuration = "PersistentLimited", 604800 }))}},
		{"fairplay negative rental duration", "fairplay.rentalDuration", "error",
			[]variant{on(offline, fp(func(f *FairPlayPolicy) { f.RentalDuration = -1 }))},
			[]variant{on(offline, fp(func(f *FairPlayPolicy) { f.RentalDuration = 0 }))}},
		{"fairplay ASk is 16 bytes", "fairplay.ask", "error",
			[]variant{on(offline, fp(func(f *FairPlayPolicy) { f.ASk = "0123" })),
				on(offline, fp(func(f *FairPlayPolicy) { f.ASk = "0123456789abcdef0123456789abcdef00" })),
				on(offline, fp(func(f *FairPlayPolicy) { f.ASk = "not a key at all" }))},
			[]variant{on(offline, fp(func(f *FairPlayPolicy) { f.ASk = "0123456789abcdef0123456789ABCDEF" })),
				on(offline, fp(func(f *FairPlayPolicy) { f.ASk = "01 23 45 67 89 ab cd ef 01 23 45 67 89 ab cd ef" })),
				on(offline, fp(func(f *FairPlayPolicy) { f.ASk = b64(16) })),
				on(offline, fp(func(f *FairPlayPolicy) { f.ASk = redacted }))}},
		{"fairplay PFX is base64", "fairplay.fairPlayPfx", "error",
			[]variant{on(offline, fp(func(f *FairPlayPolicy) { f.FairPlayPfx = "-----BEGIN CERTIFICATE-----" }))},
			[]variant{on(offline, fp(func(f *FairPlayPolicy) { f.FairPlayPfx = b64(100) }))}},
		// ClearKey
		{"clearkey offline needs persistent-license", "clearkey.licenseType", "error",
			[]variant{on(offline, ck(func(c *ClearKeyPolicy) { c.LicenseType = "temporary" }))},
			[]variant{on(streaming, ck(func(c *ClearKeyPolicy) { c.LicenseType = "temporary" }))}},
		{"clearkey license type value", "clearkey.licenseType", "error",
			[]variant{on(streaming, ck(func(c *ClearKeyPolicy) { c.LicenseType = "persistent" }))},
			[]variant{on(streaming, ck(func(c *ClearKeyPolicy) { c.LicenseType = "persistent-license" }))}},
		{"clearkey negative duration", "clearkey.durationSeconds", "error",
			[]variant{on(offline, ck(func(c *ClearKeyPolicy) { c.DurationSeconds = -60 }))},
			[]variant{on(offline, ck(func(c *ClearKeyPolicy) { c.DurationSeconds = 0 }))}},
		// Token restriction
		{"restriction type", "token.type", "error",
			[]variant{on(offline, func(p *Policy) { p.Token.Type = "swt" })},
			[]variant{on(offline, func(p *Policy) { p.Token.Type = "" }), on(offline, jwtRestriction(nil))}},
		{"jwt without issuer", "token.issuer", "error",
			[]variant{on(offline, jwtRestriction(func(t *TokenRestriction) { t.Issuer = "" }))},
			[]variant{on(offline, jwtRestriction(nil))}},
		{"jwt without audience", "token.audience", "error",
			[]variant{on(offline, jwtRestriction(func(t *TokenRestriction) { t.Audience = "" }))},
			[]variant{on(offline, jwtRestriction(nil))}},
		{"jwt without key", "token.keyValue", "error",
			[]variant{on(offline, jwtRestriction(func(t *TokenRestriction) { t.KeyValue = "" })),
				on(offline, jwtRestriction(func(t *TokenRestriction) { t.KeyValue = "%%%" })),
				on(offline, jwtRestriction(func(t *TokenRestriction) { t.KeyType, t.KeyValue = KeyRSA, "" })),
				on(offline, jwtRestriction(func(t *TokenRestriction) { t.KeyType, t.KeyValue = KeyRSA, "MIIBIjANBgkq" })),
				on(offline, jwtRestriction(func(t *TokenRestriction) { t.KeyType, t.KeyValue = KeyX509, rsaPEM }))}, // a key, not a certificate
			[]variant{on(offline, jwtRestriction(nil)),
				on(offline, jwtRestriction(func(t *TokenRestriction) { t.KeyType, t.KeyValue = KeyRSA, rsaPEM })),
				on(offline, jwtRestriction(func(t *TokenRestriction) { t.KeyType, t.KeyValue = KeyX509, certPEM })),
				on(offline, jwtRestriction(func(t *TokenRestriction) { t.KeyValue = redacted }))}},
		{"jwt key type", "token.keyType", "error",
			[]variant{on(offline, jwtRestriction(func(t *TokenRestriction) { t.KeyType = "hmac" })), on(offline, jwtRestriction(func(t *TokenRestriction) { t.KeyType = "" }))},
			[]variant{on(offline, jwtRestriction(nil))}},
		{"jwt HS256 key shorter than 256 bits", "token.keyValue", "warning",
			[]variant{on(offline, jwtRestriction(func(t *TokenRestriction) { t.KeyValue = b64(16) })), on(offline, jwtRestriction(func(t *TokenRestriction) { t.KeyValue = b64(31) }))},
			[]variant{on(offline, jwtRestriction(func(t *TokenRestriction) { t.KeyValue = b64(32) })), on(offline, jwtRestriction(func(t *TokenRestriction) { t.KeyValue = b64(64) }))}},
		{"jwt alternate key", "token.alternateKeys[0]", "error",
			[]variant{on(offline, jwtRestriction(func(t *TokenRestriction) { t.AlternateKeys = []string{"not base64!"} }))},
			[]variant{on(offline, jwtRestriction(func(t *TokenRestriction) { t.AlternateKeys = []string{b64(32)} }))}},
		{"jwt required claim without type", "token.requiredClaims[0].claimType", "error",
			[]variant{on(offline, jwtRestriction(func(t *TokenRestriction) { t.RequiredClaims = []Claim{{Value: "x"}} }))},
			[]variant{on(offline, jwtRestriction(func(t *TokenRestriction) { t.RequiredClaims = []Claim{{Type: ContentKeyIdentifierClaim}} }))}},
	}
	base := func() *Policy { return Preset(PresetRental48h) }
	if is := Validate(base(), offline); len(is) != 0 {
		t.Fatalf("the base policy must be clean, got %+v", is)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if len(c.fire) == 0 || len(c.ok) == 0 {
				t.Fatal("every rule needs a firing and a non-firing variant")
			}
			for i, v := range c.fire {
				p := base()
				v.mutate(p)
				issues := Validate(p, v.offline)
				found := false
				for _, is := range issues {
					if is.Field == c.field && is.Severity == c.severity {
						found = true
						if is.Message == "" || is.Fix == "" {
							t.Errorf("fire[%d]: issue without message or fix: %+v", i, is)
						}
						want := drm.System(strings.SplitN(c.field, ".", 2)[0])
						if want == "token" {
							want = "" // the key delivery restriction is not a DRM system
						}
						if c.field != "" && is.System != want {
							t.Errorf("fire[%d]: system %q, want %q", i, is.System, want)
						}
					}
				}
				if !found {
					t.Errorf("fire[%d]: want a %s on %q, got %+v", i, c.severity, c.field, issues)
				}
				if HasErrors(issues) != (c.severity == "error" || hasSeverity(issues, "error")) {
					t.Errorf("fire[%d]: HasErrors disagrees with %+v", i, issues)
				}
			}
			for i, v := range c.ok {
				p := base()
				v.mutate(p)
				for _, is := range Validate(p, v.offline) {
					if is.Field == c.field {
						t.Errorf("ok[%d]: unexpected issue %+v", i, is)
					}
				}
			}
		})
	}
}

func hasSeverity(issues []Issue, sev Severity) bool {
	for _, is := range issues {
		if is.Severity == sev {
			return true
		}
	}
	return false
}

func TestValidationMessages(t *testing.T) {
	p := Preset(PresetRental48h)
	p.Widevine.PolicyOverrides.LicenseDurationSeconds = nil
	p.PlayReady.PlayRight.AnalogVideoOpl = 250
	var android, opl bool
	for _, is := range Validate(p, true) {
		switch is.Field {
		case "widevine.policy_overrides.license_duration_seconds":
			android = strings.Contains(is.Message, "older Android") && strings.Contains(is.Fix, "0 for unlimited")
		case "playready.playRight.analogVideoOpl":
			opl = strings.Contains(is.Message+is.Fix, "100, 150, 200")
		}
	}
	if !android || !opl {
		t.Fatalf("messages must explain the old-Android failure (%v) and name the allowed OPL values (%v)", android, opl)
	}
	if HasErrors(nil) || HasErrors([]Issue{{Severity: "warning"}}) || !HasErrors([]Issue{{Severity: "warning"}, {Severity: "error"}}) {
		t.Fatal("HasErrors")
	}
}

func TestParseASk(t *testing.T) {
	want := "0123456789abcdef0123456789abcdef"
	for _, in := range []string{want, strings.ToUpper(want), "0x" + want, "01-23-45-67-89-ab-cd-ef-01-23-45-67-89-ab-cd-ef", "ASNFZ4mrze8BI0VniavN7w=="} {
		b, err := ParseASk(in)
		if err != nil || fmt.Sprintf("%x", b) != want {
			t.Errorf("ParseASk(%q) = %x, %v", in, b, err)
		}
	}
	for _, in := range []string{"", "0123", want + "00", "zz23456789abcdef0123456789abcdef", b64(32)} {
		if _, err := ParseASk(in); err == nil {
			t.Errorf("ParseASk(%q) succeeded", in)
		}
	}
}
