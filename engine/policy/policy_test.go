package policy

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"satchel/internal/golden"
)

// fullPolicy sets every field of every model, including secrets.
func fullPolicy() *Policy {
	two, one := 2, 1
	return &Policy{
		Name: "Everything", Description: "every field set",
		Widevine: &WidevinePolicy{ContentKeySpecs: []ContentKeySpec{
			{TrackType: "HD", SecurityLevel: 5, RequiredOutputProtection: &OutputProtection{HDCP: "HDCP_V2"}},
			{TrackType: "AUDIO", SecurityLevel: 4}},
			PolicyOverrides: WidevineOverrides{CanPlay: true, CanPersist: true, CanRenew: true,
				LicenseDurationSeconds: i64(0), RentalDurationSeconds: i64(2592000), PlaybackDurationSeconds: i64(10800),
				RenewalServerURL: "https://renew.example/wv", RenewalDelaySeconds: i64(60), RenewalRetryIntervalSeconds: i64(30),
				RenewalRecoveryDurationSeconds: i64(0), RenewWithUsage: true}},
		PlayReady: &PlayReadyPolicy{LicenseType: "Persistent", SecurityLevel: "SL2000", AllowTestDevices: true,
			BeginDate: "2026-01-01T00:00:00Z", RelativeExpirationDate: "P30D", GracePeriod: "PT10M", ContentType: "UltraVioletDownload",
			PlayRight: PlayReadyRight{FirstPlayExpiration: "PT48H", ScmsRestriction: &two, AgcAndColorStripeRestriction: &one,
				ExplicitAnalogTelevisionOutputRestriction: &AnalogTVRestriction{BestEffort: true, ConfigurationData: 2},
				DigitalVideoOnlyContentRestriction:        true, ImageConstraintForAnalogComponentVideoRestriction: true,
				ImageConstraintForAnalogComputerMonitorRestriction: true, AllowPassingVideoContentToUnknownOutput: "AllowedWithVideoConstriction",
				UncompressedDigitalVideoOpl: 270, CompressedDigitalVideoOpl: 500, AnalogVideoOpl: 150, CompressedDigitalAudioOpl: 250, UncompressedDigitalAudioOpl: 300}},
		FairPlay: &FairPlayPolicy{RentalAndLeaseKeyType: "DualExpiry", OfflineRentalConfiguration: &OfflineRentalConfig{PlaybackDurationSeconds: 86400, StorageDurationSeconds: 2592000},
			ASk: "0123456789abcdef0123456789abcdef", FairPlayPfx: "MIIKCQIBAzCCCc8GCSqGSIb3DQEHAaCCCcAEggm8", FairPlayPfxPassword: "hunter2"},
		ClearKey: &ClearKeyPolicy{LicenseType: "persistent-license", DurationSeconds: 3600},
		Token: TokenRestriction{Type: RestrictionJWT, Issuer: "urn:issuer", Audience: "urn:audience", KeyType: KeySymmetric,
			KeyValue: "c2F0Y2hlbC10ZXN0LWtleS0zMi1ieXRlcy1sb25nLi4uLg==", AlternateKeys: []string{"YW5vdGhlci1zYXRjaGVsLWtleS0zMi1ieXRlcy1sb25n"},
			RequiredClaims: []Claim{{Type: ContentKeyIdentifierClaim}, {Type: "entitlement", Value: "rental"}}},
	}
}

// secretValues are the secret strings of fullPolicy; none may appear in public output.
var secretValues = []string{"0123456789abcdef0123456789abcdef", "MIIKCQIBAzCCCc8GCSqGSIb3DQEHAaCCCcAEggm8", "hunter2",
	"c2F0Y2hlbC10ZXN0LWtleS0zMi1ieXRlcy1sb25nLi4uLg==", "YW5vdGhlci1zYXRjaGVsLWtleS0zMi1ieXRlcy1sb25n"}

func TestPresets(t *testing.T) {
	ps := Presets()
	names := map[string]bool{}
	for _, p := range ps {
		names[p.Name] = true
		offline := p.Name != PresetStreaming
		if is := Validate(p, offline); len(is) != 0 {
			t.Errorf("preset %q is not clean for offline=%v: %+v", p.Name, offline, is)
		}
		if p.Offline() != offline {
			t.Errorf("preset %q Offline() = %v", p.Name, p.Offline())
		}
		if p.Description == "" {
			t.Errorf("preset %q has no description", p.Name)
		}
	}
	for _, n := range []string{PresetRental48h, PresetPurchase, PresetStreaming, PresetTrainer} {
		if !names[n] || Preset(n) == nil {
			t.Errorf("preset %q missing", n)
		}
	}
	if Preset("nope") != nil {
		t.Error("Preset of an unknown name")
	}
	if is := Validate(Preset(PresetStreaming), true); !HasErrors(is) {
		t.Error("the streaming preset was accepted for offline use")
	}
	// The 48 h rental is 48 h in every system.
	r := Preset(PresetRental48h)
	o := r.Widevine.PolicyOverrides
	if !o.CanPersist || *o.LicenseDurationSeconds != 172800 || *o.RentalDurationSeconds != 172800 || *o.PlaybackDurationSeconds != 172800 {
		t.Errorf("rental widevine %+v", o)
	}
	if r.PlayReady.LicenseType != "Persistent" || r.PlayReady.RelativeExpirationDate != "PT48H" {
		t.Errorf("rental playready %+v", r.PlayReady)
	}
	if f := r.FairPlay; f.RentalAndLeaseKeyType != "DualExpiry" || f.OfflineRentalConfiguration.StorageDurationSeconds != 172800 || f.OfflineRentalConfiguration.PlaybackDurationSeconds != 172800 {
		t.Errorf("rental fairplay %+v", f)
	}
	if r.ClearKey.LicenseType != "persistent-license" {
		t.Errorf("rental clearkey %+v", r.ClearKey)
	}
	// Presets are fresh copies: changing one does not change the next call's.
	r.Widevine.PolicyOverrides.CanPersist = false
	if !Preset(PresetRental48h).Widevine.PolicyOverrides.CanPersist {
		t.Error("Presets share state between calls")
	}
	b, err := json.MarshalIndent(Presets(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "presets.golden.json", append(b, '\n'))
}

func TestJSONRoundTrip(t *testing.T) {
	for _, p := range append(Presets(), fullPolicy(), &Policy{Name: "bare", Widevine: &WidevinePolicy{}, Token: TokenRestriction{Type: RestrictionOpen}}) {
		t.Run(p.Name, func(t *testing.T) {
			b, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			back, err := Read(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			b2, _ := json.Marshal(back)
			if !bytes.Equal(b, b2) {
				t.Fatalf("round trip differs:\n%s\n%s", b, b2)
			}
		})
	}
	// Unset durations stay unset; 0 (unlimited) stays 0.
	b, _ := json.Marshal(fullPolicy().Widevine)
	s := string(b)
	for _, want := range []string{`"license_duration_seconds":0`, `"rental_duration_seconds":2592000`, `"can_persist":true`, `"security_level":5`, `"hdcp":"HDCP_V2"`, `"renewal_server_url":"https://renew.example/wv"`} {
		if !strings.Contains(s, want) {
			t.Errorf("widevine JSON lacks %s: %s", want, s)
		}
	}
	b, _ = json.Marshal(&WidevinePolicy{})
	if strings.Contains(string(b), "duration") {
		t.Errorf("unset durations were written: %s", b)
	}
	var w WidevinePolicy
	if err := json.Unmarshal([]byte(`{"policy_overrides":{"can_play":true,"license_duration_seconds":0}}`), &w); err != nil || w.PolicyOverrides.LicenseDurationSeconds == nil || w.PolicyOverrides.RentalDurationSeconds != nil {
		t.Errorf("0 and unset must differ after decoding: %+v, %v", w.PolicyOverrides, err)
	}
}

func TestRead(t *testing.T) {
	cases := []struct {
		name, in string
		ok       bool
		check    func(p *Policy) bool
	}{
		{"satchel", `{"name":"x","clearkey":{"licenseType":"temporary"},"token":{"type":"open"}}`, true, func(p *Policy) bool { return p.ClearKey.LicenseType == "temporary" }},
		{"token type defaults to open", `{"name":"x","clearkey":{"licenseType":"temporary"},"token":{}}`, true, func(p *Policy) bool { return p.Token.Type == RestrictionOpen }},
		{"AMS detected", `{"properties":{"options":[{"name":"ck","configuration":{"@odata.type":"#Microsoft.Media.ContentKeyPolicyClearKeyConfiguration"},"restriction":{"@odata.type":"#Microsoft.Media.ContentKeyPolicyOpenRestriction"}}]}}`, true,
			func(p *Policy) bool { return p.ClearKey != nil && p.Name == "ck" }},
		{"unknown field", `{"name":"x","bogus":1}`, false, nil},
		{"unknown nested field", `{"name":"x","widevine":{"policy_overrides":{"can_persists":true}}}`, false, nil},
		{"not an object", `[1,2]`, false, nil},
		{"not JSON", `name: x`, false, nil},
		{"trailing garbage", `{"name":"x"} {"name":"y"}`, false, nil},
		{"wrong type", `{"name":"x","widevine":{"policy_overrides":{"license_duration_seconds":"48h"}}}`, false, nil},
	}
	for _, c := range cases {
		p, err := Read(strings.NewReader(c.in))
		if (err == nil) != c.ok {
			t.Errorf("%s: err = %v", c.name, err)
			continue
		}
		if c.ok && !c.check(p) {
			t.Errorf("%s: got %+v", c.name, p)
		}
	}
}

func TestSecrets(t *testing.T) {
	p := fullPolicy()
	orig, _ := json.Marshal(p)
	secrets, bare := p.Secrets()
	if len(secrets) != 5 {
		t.Errorf("want 5 secrets (ASk, PFX, password, key, alternate keys), got %v", secrets)
	}
	bareJSON, _ := json.Marshal(bare)
	pub, err := MarshalPublic(p)
	if err != nil {
		t.Fatal(err)
	}
	var forAll []byte
	for _, s := range Systems {
		forAll = append(forAll, p.For(s)...)
	}
	for _, v := range secretValues {
		for name, out := range map[string][]byte{"Secrets() copy": bareJSON, "MarshalPublic": pub, "For": forAll} {
			if bytes.Contains(out, []byte(v)) {
				t.Errorf("%s leaks %q", name, v)
			}
		}
	}
	if again, _ := json.Marshal(bare.WithSecrets(secrets)); !bytes.Equal(again, orig) {
		t.Errorf("WithSecrets does not restore the policy:\n%s\n%s", again, orig)
	}
	if now, _ := json.Marshal(p); !bytes.Equal(now, orig) {
		t.Error("Secrets/Redacted modified the policy")
	}
	// RSA/X.509 token keys are public: they stay in place.
	p.Token.KeyType, p.Token.KeyValue, p.Token.AlternateKeys = KeyRSA, "-----BEGIN PUBLIC KEY-----", nil
	if s, bare := p.Secrets(); s["token.key"] != "" || bare.Token.KeyValue == "" {
		t.Errorf("a public RSA key was treated as a secret: %v", s)
	}
	if v := Preset(PresetTrainer); len(func() map[string]string { s, _ := v.Secrets(); return s }()) != 0 {
		t.Error("a policy without secrets reported some")
	}
}

func TestOfflineForPersistent(t *testing.T) {
	p := fullPolicy()
	if !p.Offline() {
		t.Error("full policy is offline")
	}
	for _, s := range Systems {
		if !p.Persistent(s) || p.For(s) == nil {
			t.Errorf("%s: Persistent %v For %s", s, p.Persistent(s), p.For(s))
		}
	}
	var fp FairPlayPolicy
	if err := json.Unmarshal(p.For("fairplay"), &fp); err != nil || fp.RentalAndLeaseKeyType != "DualExpiry" || fp.ASk != redacted {
		t.Errorf("For(fairplay) = %s (%v)", p.For("fairplay"), err)
	}
	p.ClearKey.LicenseType = "temporary"
	if p.Offline() || p.Persistent("clearkey") || !p.Persistent("widevine") {
		t.Error("one streaming system makes the policy not offline")
	}
	p.Widevine = nil
	if p.For("widevine") != nil || p.Persistent("widevine") || p.For("marlin") != nil || p.Persistent("marlin") {
		t.Error("unconfigured or unknown systems")
	}
	if (&Policy{}).Offline() {
		t.Error("an empty policy is not offline")
	}
	var none *Policy
	if none.Offline() || none.Persistent("widevine") || none.For("widevine") != nil || !HasErrors(Validate(none, false)) {
		t.Error("a nil policy must be handled without panicking")
	}
}

func FuzzUnmarshalPolicy(f *testing.F) {
	for _, p := range append(Presets(), fullPolicy()) {
		b, _ := json.Marshal(p)
		f.Add(b)
	}
	if b, err := os.ReadFile("testdata/presets.golden.json"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		_ = Validate(p, true)
		_ = Validate(p, false)
		_ = p.Offline()
		for _, s := range Systems {
			_ = p.For(s)
		}
		// Whatever Read accepts must survive a write/read cycle unchanged.
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		again, err := Read(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("re-read of %s: %v", b, err)
		}
		if b2, _ := json.Marshal(again); !bytes.Equal(b, b2) {
			t.Fatalf("unstable round trip:\n%s\n%s", b, b2)
		}
		secrets, bare := p.Secrets()
		if b3, _ := json.Marshal(bare.WithSecrets(secrets)); !bytes.Equal(b, b3) {
			t.Fatalf("secrets do not round-trip:\n%s\n%s", b, b3)
		}
	})
}

func TestPlayReadyValidity(t *testing.T) {
	issued := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	cases := []struct {
		name          string
		pr            PlayReadyPolicy
		begin, expire time.Time
		err           bool
	}{
		{"unlimited", PlayReadyPolicy{}, issued, time.Time{}, false},
		{"relative 48 h", PlayReadyPolicy{RelativeExpirationDate: "PT48H"}, issued, issued.Add(48 * time.Hour), false},
		{"relative begin", PlayReadyPolicy{RelativeBeginDate: "PT1H", RelativeExpirationDate: "P2D"}, issued.Add(time.Hour), issued.Add(48 * time.Hour), false},
		{"absolute", PlayReadyPolicy{BeginDate: "2026-01-01T00:00:00Z", ExpirationDate: "2027-01-01T00:00:00Z"},
			time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{"absolute wins", PlayReadyPolicy{ExpirationDate: "2027-01-01T00:00:00Z", RelativeExpirationDate: "PT1H"}, issued, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{"bad date", PlayReadyPolicy{BeginDate: "tomorrow"}, time.Time{}, time.Time{}, true},
		{"bad duration", PlayReadyPolicy{RelativeExpirationDate: "2 days"}, time.Time{}, time.Time{}, true},
	}
	for _, c := range cases {
		b, e, err := c.pr.Validity(issued)
		if (err != nil) != c.err || !b.Equal(c.begin) || !e.Equal(c.expire) {
			t.Errorf("%s: got %s %s %v", c.name, b, e, err)
		}
	}
}

func TestMissingTrackTypes(t *testing.T) {
	w := &WidevinePolicy{ContentKeySpecs: []ContentKeySpec{{TrackType: "SD", SecurityLevel: 1}, {TrackType: "hd", SecurityLevel: 1}}}
	if got := w.MissingTrackTypes([]string{"AUDIO", "SD", "HD", "UHD", "AUDIO"}); strings.Join(got, ",") != "AUDIO,UHD" {
		t.Errorf("got %v", got)
	}
	if got := w.MissingTrackTypes([]string{"SD", "HD"}); got != nil {
		t.Errorf("got %v", got)
	}
	if got := (&WidevinePolicy{AllowedTrackTypes: "SD_HD"}).MissingTrackTypes([]string{"AUDIO"}); got != nil {
		t.Errorf("allowed_track_types: got %v", got)
	}
	var none *WidevinePolicy
	if none.MissingTrackTypes([]string{"SD"}) != nil {
		t.Error("nil policy")
	}
}
