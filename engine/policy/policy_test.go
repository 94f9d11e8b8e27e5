package policy

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestPresetsValidate(t *testing.T) {
	for _, p := range Presets() {
		offline := p.Name != PresetStreaming
		if is := Validate(p, offline); HasErrors(is) {
			t.Errorf("preset %q has errors: %+v", p.Name, is)
		}
		if p.Offline() != offline {
			t.Errorf("preset %q Offline() = %v", p.Name, p.Offline())
		}
	}
	if is := Validate(Preset(PresetStreaming), true); !HasErrors(is) {
		t.Error("streaming preset accepted for offline use")
	}
}

// Each rule: a mutation of a valid policy must produce an issue on the field (and the valid
// policy must not).
func TestValidationRules(t *testing.T) {
	cases := []struct {
		name     string
		offline  bool
		mutate   func(p *Policy)
		field    string
		severity string
	}{
		{"widevine can_persist offline", true, func(p *Policy) { p.Widevine.PolicyOverrides.CanPersist = false }, "widevine.policy_overrides.can_persist", "error"},
		{"widevine durations unset", true, func(p *Policy) { p.Widevine.PolicyOverrides.RentalDurationSeconds = nil }, "widevine.policy_overrides.rental_duration_seconds", "warning"},
		{"widevine negative duration", true, func(p *Policy) { p.Widevine.PolicyOverrides.LicenseDurationSeconds = i64(-1) }, "widevine.policy_overrides.license_duration_seconds", "error"},
		{"widevine can_renew without url", true, func(p *Policy) { p.Widevine.PolicyOverrides.CanRenew = true }, "widevine.policy_overrides.renewal_server_url", "error"},
		{"widevine can_play false", true, func(p *Policy) { p.Widevine.PolicyOverrides.CanPlay = false }, "widevine.policy_overrides.can_play", "error"},
		{"widevine security level", true, func(p *Policy) {
			p.Widevine.AllowedTrackTypes = ""
			p.Widevine.ContentKeySpecs = []ContentKeySpec{{TrackType: "SD", SecurityLevel: 6}}
		}, "widevine.content_key_specs[0].security_level", "error"},
		{"widevine hdcp", true, func(p *Policy) {
			p.Widevine.AllowedTrackTypes = ""
			p.Widevine.ContentKeySpecs = []ContentKeySpec{{TrackType: "SD", SecurityLevel: 1, RequiredOutputProtection: &OutputProtection{HDCP: "HDCP_V3"}}}
		}, "widevine.content_key_specs[0].required_output_protection.hdcp", "error"},
		{"playready non-persistent offline", true, func(p *Policy) { p.PlayReady.LicenseType = "NonPersistent" }, "playready.licenseType", "error"},
		{"playready SL3000", true, func(p *Policy) { p.PlayReady.SecurityLevel = "SL3000" }, "playready.securityLevel", "warning"},
		{"playready bad SL", true, func(p *Policy) { p.PlayReady.SecurityLevel = "SL9000" }, "playready.securityLevel", "error"},
		{"playready OPL", true, func(p *Policy) { p.PlayReady.PlayRight.CompressedDigitalVideoOpl = 450 }, "playready.playRight.compressedDigitalVideoOpl", "error"},
		{"playready analog OPL", true, func(p *Policy) { p.PlayReady.PlayRight.AnalogVideoOpl = 250 }, "playready.playRight.analogVideoOpl", "error"},
		{"playready expiry before begin", true, func(p *Policy) {
			p.PlayReady.RelativeExpirationDate = ""
			p.PlayReady.BeginDate, p.PlayReady.ExpirationDate = "2026-02-01T00:00:00Z", "2026-01-01T00:00:00Z"
		}, "playready.expirationDate", "error"},
		{"playready bad duration", true, func(p *Policy) { p.PlayReady.RelativeExpirationDate = "48 hours" }, "playready.relativeExpirationDate", "error"},
		{"playready unknown output", true, func(p *Policy) { p.PlayReady.PlayRight.AllowPassingVideoContentToUnknownOutput = "Maybe" }, "playready.playRight.allowPassingVideoContentToUnknownOutput", "error"},
		{"fairplay not persistable", true, func(p *Policy) { p.FairPlay.RentalAndLeaseKeyType = "Undefined" }, "fairplay.rentalAndLeaseKeyType", "error"},
		{"fairplay dual expiry durations", true, func(p *Policy) { p.FairPlay.OfflineRentalConfiguration = nil }, "fairplay.offlineRentalConfiguration", "error"},
		{"fairplay limited without duration", true, func(p *Policy) { p.FairPlay.RentalAndLeaseKeyType = "PersistentLimited" }, "fairplay.rentalDuration", "error"},
		{"fairplay ask length", true, func(p *Policy) { p.FairPlay.ASk = "0123" }, "fairplay.ask", "error"},
		{"clearkey temporary offline", true, func(p *Policy) { p.ClearKey.LicenseType = "temporary" }, "clearkey.licenseType", "error"},
		{"jwt without issuer", true, func(p *Policy) {
			p.Token = TokenRestriction{Type: RestrictionJWT, Audience: "a", KeyType: "symmetric", KeyValue: base64.StdEncoding.EncodeToString(make([]byte, 32))}
		}, "token.issuer", "error"},
		{"jwt short key", true, func(p *Policy) {
			p.Token = TokenRestriction{Type: RestrictionJWT, Issuer: "i", Audience: "a", KeyType: "symmetric", KeyValue: base64.StdEncoding.EncodeToString(make([]byte, 8))}
		}, "token.keyValue", "warning"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := Preset(PresetRental48h)
			for _, is := range Validate(p, c.offline) {
				if is.Field == c.field {
					t.Fatalf("valid preset already has an issue on %s: %+v", c.field, is)
				}
			}
			c.mutate(p)
			var found *Issue
			for _, is := range Validate(p, c.offline) {
				if is.Field == c.field {
					found = &is
					break
				}
			}
			if found == nil || found.Severity != c.severity || found.Message == "" || found.Fix == "" {
				t.Fatalf("want a %s on %s with message and fix, got %+v (all: %+v)", c.severity, c.field, found, Validate(p, c.offline))
			}
		})
	}
}

func TestJSONRoundTripAndSecrets(t *testing.T) {
	p := Preset(PresetRental48h)
	p.FairPlay.ASk = "0123456789abcdef0123456789abcdef"
	p.FairPlay.FairPlayPfxPassword = "hunter2"
	b, _ := json.Marshal(p)
	back, err := Read(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if b2, _ := json.Marshal(back); !bytes.Equal(b, b2) {
		t.Fatalf("round trip differs:\n%s\n%s", b, b2)
	}
	if !strings.Contains(string(b), `"can_persist":true`) || !strings.Contains(string(b), `"rental_duration_seconds":172800`) {
		t.Fatalf("widevine JSON is not AMS snake_case: %s", b)
	}
	pub, _ := MarshalPublic(p)
	if strings.Contains(string(pub), "hunter2") || strings.Contains(string(pub), "0123456789abcdef") {
		t.Fatalf("public JSON leaks secrets: %s", pub)
	}
	secrets, bare := p.Secrets()
	if secrets["fairplay.pfx_password"] != "hunter2" || bare.FairPlay.FairPlayPfxPassword != "" {
		t.Fatalf("secrets split: %v", secrets)
	}
	if again := bare.WithSecrets(secrets); again.FairPlay.ASk != p.FairPlay.ASk {
		t.Fatal("WithSecrets lost the ASk")
	}
	if _, err := Read(strings.NewReader(`{"name":"x","bogus":1}`)); err == nil {
		t.Fatal("unknown field accepted")
	}
}

func TestAMSImportExport(t *testing.T) {
	f, err := os.Open("testdata/ams_offline.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := ImportAMS(f)
	if err != nil {
		t.Fatal(err)
	}
	if p.Widevine == nil || !p.Widevine.PolicyOverrides.CanPersist || *p.Widevine.PolicyOverrides.PlaybackDurationSeconds != 10800 {
		t.Fatalf("widevine %+v", p.Widevine)
	}
	if p.PlayReady == nil || p.PlayReady.LicenseType != "Persistent" || p.PlayReady.PlayRight.ExplicitAnalogTelevisionOutputRestriction.ConfigurationData != 2 {
		t.Fatalf("playready %+v", p.PlayReady)
	}
	if p.FairPlay == nil || p.FairPlay.ASk != "0123456789abcdeffedcba9876543210" || p.FairPlay.OfflineRentalConfiguration.StorageDurationSeconds != 300000 {
		t.Fatalf("fairplay %+v", p.FairPlay)
	}
	if p.Token.Type != RestrictionJWT || p.Token.Issuer != "urn:issuer" || len(p.Token.RequiredClaims) != 1 {
		t.Fatalf("token %+v", p.Token)
	}
	if is := Validate(p, true); HasErrors(is) {
		t.Fatalf("imported offline policy has errors: %+v", is)
	}
	var out bytes.Buffer
	if err := ExportAMS(&out, p); err != nil {
		t.Fatal(err)
	}
	again, err := ImportAMS(&out)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(p)
	b, _ := json.Marshal(again)
	if !bytes.Equal(a, b) {
		t.Fatalf("AMS round trip differs:\n%s\n%s", a, b)
	}
	// RSA keys survive the modulus/exponent conversion.
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	der, _ := x509.MarshalPKIXPublicKey(&rk.PublicKey)
	p.Token = TokenRestriction{Type: RestrictionJWT, Issuer: "i", Audience: "a", KeyType: "rsa", KeyValue: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))}
	out.Reset()
	if err := ExportAMS(&out, p); err != nil {
		t.Fatal(err)
	}
	again, err = ImportAMS(&out)
	if err != nil || again.Token.KeyValue != p.Token.KeyValue {
		t.Fatalf("rsa round trip: %v", err)
	}
	for _, bad := range []string{`{}`, `{"properties":{"options":[{"configuration":{"@odata.type":"#Microsoft.Media.Unknown"}}]}}`, `[`} {
		if _, err := ImportAMS(strings.NewReader(bad)); err == nil {
			t.Errorf("ImportAMS(%s) succeeded", bad)
		}
	}
}

func TestTokens(t *testing.T) {
	key := make([]byte, 32)
	rand.Read(key)
	tr := TokenRestriction{Type: RestrictionJWT, Issuer: "satchel", Audience: "players", KeyType: "symmetric", KeyValue: base64.StdEncoding.EncodeToString(key),
		RequiredClaims: []Claim{{Type: ContentKeyIdentifierClaim}}}
	kid := "10203040-5060-7080-90a0-b0c0d0e0f001"
	good, err := IssueTestToken(tr, kid, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := ValidateToken(tr, good, "102030405060708090a0b0c0d0e0f001", now); err != nil {
		t.Fatalf("good token: %v", err)
	}
	sign := func(claims jwt.MapClaims, k []byte) string {
		s, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(k)
		return s
	}
	base := func() jwt.MapClaims {
		return jwt.MapClaims{"iss": "satchel", "aud": "players", "exp": now.Add(time.Hour).Unix(), ContentKeyIdentifierClaim: kid}
	}
	expired := base()
	expired["exp"] = now.Add(-time.Hour).Unix()
	wrongAud := base()
	wrongAud["aud"] = "others"
	wrongIss := base()
	wrongIss["iss"] = "mallory"
	noClaim := base()
	delete(noClaim, ContentKeyIdentifierClaim)
	otherKID := base()
	otherKID[ContentKeyIdentifierClaim] = "00000000-0000-0000-0000-000000000000"
	cases := []struct {
		name  string
		token string
		want  error
	}{
		{"missing", "", ErrTokenMissing},
		{"expired", sign(expired, key), ErrTokenExpired},
		{"audience", sign(wrongAud, key), ErrTokenAudience},
		{"issuer", sign(wrongIss, key), ErrTokenIssuer},
		{"signature", sign(base(), []byte("another key that is long enough!")), ErrTokenSignature},
		{"claim missing", sign(noClaim, key), ErrTokenClaim},
		{"claim other kid", sign(otherKID, key), ErrTokenClaim},
		{"garbage", "not.a.jwt", ErrTokenMalformed},
	}
	for _, c := range cases {
		if err := ValidateToken(tr, c.token, kid, now); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
	// Alternate keys are accepted (key rotation).
	alt := make([]byte, 32)
	rand.Read(alt)
	tr.AlternateKeys = []string{base64.StdEncoding.EncodeToString(alt)}
	if err := ValidateToken(tr, sign(base(), alt), kid, now); err != nil {
		t.Errorf("alternate key: %v", err)
	}
	if err := ValidateToken(TokenRestriction{Type: RestrictionOpen}, "", kid, now); err != nil {
		t.Errorf("open restriction: %v", err)
	}
}

func FuzzImportAMS(f *testing.F) {
	b, _ := os.ReadFile("testdata/ams_offline.json")
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ImportAMS(bytes.NewReader(data))
		if err == nil {
			_ = Validate(p, true)
			_ = ExportAMS(&bytes.Buffer{}, p)
		}
	})
}

func FuzzUnmarshalPolicy(f *testing.F) {
	for _, p := range Presets() {
		b, _ := json.Marshal(p)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Read(bytes.NewReader(data))
		if err == nil {
			_ = Validate(p, true)
			_, _ = MarshalPublic(p)
		}
	})
}
