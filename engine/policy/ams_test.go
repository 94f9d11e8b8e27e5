package policy

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"satchel/internal/golden"
)

func importFile(t *testing.T, name string) *Policy {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := ImportAMS(f)
	if err != nil {
		t.Fatalf("import %s: %v", name, err)
	}
	return p
}

func fieldIssues(issues []Issue, sev Severity) map[string]bool {
	m := map[string]bool{}
	for _, is := range issues {
		if is.Severity == sev {
			m[is.Field] = true
		}
	}
	return m
}

func TestImportAMSSamples(t *testing.T) {
	t.Run("offline sample", func(t *testing.T) {
		p := importFile(t, "ams_offline.json")
		if p.Name != "OfflinePolicy" || !strings.Contains(p.Description, "AMS offline samples") {
			t.Errorf("name/description %q %q", p.Name, p.Description)
		}
		o := p.Widevine.PolicyOverrides
		if p.Widevine.AllowedTrackTypes != "SD_HD" || !o.CanPlay || !o.CanPersist || o.CanRenew ||
			*o.RentalDurationSeconds != 2592000 || *o.PlaybackDurationSeconds != 10800 || *o.LicenseDurationSeconds != 604800 {
			t.Errorf("widevine %+v", p.Widevine)
		}
		pr := p.PlayReady
		if pr.LicenseType != "Persistent" || !pr.AllowTestDevices || pr.BeginDate != "2017-10-16T18:22:53.46Z" || pr.ContentType != "UltraVioletStreaming" ||
			!pr.PlayRight.ImageConstraintForAnalogComponentVideoRestriction || pr.PlayRight.AllowPassingVideoContentToUnknownOutput != "Allowed" ||
			*pr.PlayRight.ExplicitAnalogTelevisionOutputRestriction != (AnalogTVRestriction{BestEffort: true, ConfigurationData: 2}) {
			t.Errorf("playready %+v", pr)
		}
		fp := p.FairPlay
		if fp.RentalAndLeaseKeyType != "DualExpiry" || fp.ASk != "0123456789abcdeffedcba9876543210" || fp.FairPlayPfxPassword != "pfx-password" ||
			*fp.OfflineRentalConfiguration != (OfflineRentalConfig{PlaybackDurationSeconds: 500000, StorageDurationSeconds: 300000}) {
			t.Errorf("fairplay %+v", fp)
		}
		if p.Token.Type != RestrictionJWT || p.Token.Issuer != "urn:issuer" || p.Token.Audience != "urn:audience" || p.Token.KeyType != KeySymmetric ||
			len(p.Token.RequiredClaims) != 1 || p.Token.RequiredClaims[0].Type != ContentKeyIdentifierClaim {
			t.Errorf("token %+v", p.Token)
		}
		if is := Validate(p, true); HasErrors(is) {
			t.Errorf("the offline sample has errors: %+v", is)
		}
		if !p.Offline() {
			t.Error("the offline sample is not offline")
		}
	})
	t.Run("SL3000 with X.509 token", func(t *testing.T) {
		p := importFile(t, "ams_sl3000_x509.json")
		pr := p.PlayReady
		r := pr.PlayRight
		if pr.SecurityLevel != "SL3000" || pr.ContentType != "UltraVioletDownload" || pr.GracePeriod != "PT10M" || pr.ExpirationDate != "2030-10-16T18:22:53.46Z" ||
			r.FirstPlayExpiration != "PT20S" || *r.ScmsRestriction != 2 || r.CompressedDigitalVideoOpl != 500 || r.UncompressedDigitalVideoOpl != 300 ||
			r.AnalogVideoOpl != 200 || r.CompressedDigitalAudioOpl != 250 || r.UncompressedDigitalAudioOpl != 250 || r.AllowPassingVideoContentToUnknownOutput != "NotAllowed" {
			t.Errorf("playready %+v", pr)
		}
		if s := p.Widevine.ContentKeySpecs; len(s) != 1 || s[0].SecurityLevel != 1 || s[0].RequiredOutputProtection.HDCP != "HDCP_V2" {
			t.Errorf("widevine %+v", p.Widevine)
		}
		if p.Token.KeyType != KeyX509 || !strings.HasPrefix(p.Token.KeyValue, "-----BEGIN CERTIFICATE-----") || len(p.Token.RequiredClaims) != 2 ||
			p.Token.RequiredClaims[1] != (Claim{Type: "entitlement", Value: "rental"}) {
			t.Errorf("token %+v", p.Token)
		}
		// The REST example's Widevine option is software level 1: not allowed beside SL3000.
		is := Validate(p, true)
		errs, warns := fieldIssues(is, "error"), fieldIssues(is, "warning")
		if !errs["widevine.content_key_specs[0].security_level"] || !warns["playready.securityLevel"] || !warns["widevine.allowed_track_types"] {
			t.Errorf("want the SL3000 mixing error and warnings, got %+v", is)
		}
		if _, err := parseVerificationKey(p.Token.KeyType, p.Token.KeyValue); err != nil {
			t.Errorf("imported certificate does not verify tokens: %v", err)
		}
	})
	t.Run("FairPlay persistent limited with RSA token", func(t *testing.T) {
		p := importFile(t, "ams_fairplay_rsa.json")
		if p.FairPlay.RentalAndLeaseKeyType != "PersistentLimited" || p.FairPlay.RentalDuration != 604800 || p.FairPlay.ASk != "aabbccddeeff00112233445566778899" {
			t.Errorf("fairplay %+v", p.FairPlay)
		}
		if p.ClearKey == nil || p.ClearKey.LicenseType != "temporary" {
			t.Errorf("AMS ClearKey without Satchel extensions must default to temporary: %+v", p.ClearKey)
		}
		if p.Token.KeyType != KeyRSA || !strings.HasPrefix(p.Token.KeyValue, "-----BEGIN PUBLIC KEY-----") {
			t.Errorf("token %+v", p.Token)
		}
		is := Validate(p, true)
		if errs := fieldIssues(is, "error"); len(errs) != 1 || !errs["clearkey.licenseType"] {
			t.Errorf("want only the temporary-ClearKey error for offline use, got %+v", is)
		}
		if is := Validate(p, false); HasErrors(is) {
			t.Errorf("streaming use: %+v", is)
		}
	})
}

// TestAMSRoundTrip exports and re-imports every sample and preset; nothing may change.
func TestAMSRoundTrip(t *testing.T) {
	var ps []*Policy
	for _, n := range []string{"ams_offline.json", "ams_sl3000_x509.json", "ams_fairplay_rsa.json"} {
		ps = append(ps, importFile(t, n))
	}
	full := fullPolicy()
	full.PlayReady.ContentType = "UltraVioletDownload"
	ps = append(ps, full)
	for _, p := range Presets() {
		p.Token = TokenRestriction{Type: RestrictionJWT, Issuer: "i", Audience: "a", KeyType: KeySymmetric, KeyValue: b64(32)}
		ps = append(ps, p)
	}
	for _, p := range ps {
		t.Run(p.Name, func(t *testing.T) {
			var out bytes.Buffer
			if err := ExportAMS(&out, p); err != nil {
				t.Fatal(err)
			}
			back, err := ImportAMS(bytes.NewReader(out.Bytes()))
			if err != nil {
				t.Fatalf("%v\n%s", err, out.Bytes())
			}
			if a, b := mustJSON(t, p), mustJSON(t, back); a != b {
				t.Fatalf("AMS round trip differs:\n%s\n%s", a, b)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestExportAMSShape checks the exported document against the AMS REST shapes, and pins it
// with a golden file.
func TestExportAMSShape(t *testing.T) {
	p := Preset(PresetRental48h)
	p.FairPlay.ASk = "0123456789abcdef0123456789abcdef"
	p.FairPlay.FairPlayPfx, p.FairPlay.FairPlayPfxPassword = "MIIB", "pfx-password"
	p.Token = TokenRestriction{Type: RestrictionJWT, Issuer: "urn:issuer", Audience: "urn:audience", KeyType: KeySymmetric,
		KeyValue: "c2F0Y2hlbC10ZXN0LWtleS0zMi1ieXRlcy1sb25nLi4uLg==", RequiredClaims: []Claim{{Type: ContentKeyIdentifierClaim}}}
	var out bytes.Buffer
	if err := ExportAMS(&out, p); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "rental48h.ams.golden.json", out.Bytes())

	var doc struct {
		Name       string `json:"name"`
		Properties struct {
			Options []struct {
				Name          string         `json:"name"`
				Configuration map[string]any `json:"configuration"`
				Restriction   map[string]any `json:"restriction"`
			} `json:"options"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Name != PresetRental48h || len(doc.Properties.Options) != 4 {
		t.Fatalf("document %+v", doc)
	}
	types := map[string]map[string]any{}
	for _, o := range doc.Properties.Options {
		types[o.Configuration["@odata.type"].(string)] = o.Configuration
		r := o.Restriction
		key, _ := r["primaryVerificationKey"].(map[string]any)
		if r["@odata.type"] != odataToken || r["restrictionTokenType"] != "Jwt" || r["issuer"] != "urn:issuer" || key["@odata.type"] != odataSymKey || key["keyValue"] == "" {
			t.Errorf("option %s restriction %v", o.Name, r)
		}
	}
	wv, ok := types[odataWidevine]["widevineTemplate"].(string)
	if !ok || !strings.Contains(wv, `"can_persist":true`) || !strings.Contains(wv, `"license_duration_seconds":172800`) {
		t.Errorf("widevineTemplate must be a snake_case JSON string: %v", types[odataWidevine])
	}
	lic := types[odataPlayReady]["licenses"].([]any)[0].(map[string]any)
	if lic["licenseType"] != "Persistent" || lic["relativeExpirationDate"] != "PT48H" || lic["contentKeyLocation"].(map[string]any)["@odata.type"] != odataKeyHeader {
		t.Errorf("playready license %v", lic)
	}
	if f := types[odataFairPlay]; f["ask"] != "ASNFZ4mrze8BI0VniavN7w==" || f["rentalAndLeaseKeyType"] != "DualExpiry" {
		t.Errorf("fairplay %v", f)
	}
	if ck := types[odataClearKey]; ck["x-satchel-licenseType"] != "persistent-license" {
		t.Errorf("clearkey %v", ck)
	}
}

func TestImportAMSBasicWidevineAndBareProperties(t *testing.T) {
	in := `{"description":"bare properties","options":[{"name":"basic","configuration":{"@odata.type":"#Microsoft.Media.ContentKeyPolicyWidevineConfiguration","widevineTemplate":"{}"},"restriction":{"@odata.type":"#Microsoft.Media.ContentKeyPolicyOpenRestriction"}}]}`
	p, err := ImportAMS(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "basic" || p.Description != "bare properties" || !p.Widevine.PolicyOverrides.CanPlay || p.Token.Type != RestrictionOpen {
		t.Errorf("%+v %+v", p, p.Widevine)
	}
	if is := Validate(p, false); HasErrors(is) {
		t.Errorf("AMS basic Widevine license must be valid for streaming: %+v", is)
	}
}

func TestImportAMSErrors(t *testing.T) {
	opt := func(cfg, restr string) string {
		return `{"name":"o","configuration":` + cfg + `,"restriction":` + restr + `}`
	}
	doc := func(opts ...string) string {
		return `{"properties":{"options":[` + strings.Join(opts, ",") + `]}}`
	}
	const (
		open   = `{"@odata.type":"#Microsoft.Media.ContentKeyPolicyOpenRestriction"}`
		ck     = `{"@odata.type":"#Microsoft.Media.ContentKeyPolicyClearKeyConfiguration"}`
		wv     = `{"@odata.type":"#Microsoft.Media.ContentKeyPolicyWidevineConfiguration","widevineTemplate":"{\"policy_overrides\":{\"can_play\":true}}"}`
		wv2    = `{"@odata.type":"#Microsoft.Media.ContentKeyPolicyWidevineConfiguration","widevineTemplate":"{\"policy_overrides\":{\"can_play\":true,\"can_persist\":true}}"}`
		symKey = `{"@odata.type":"#Microsoft.Media.ContentKeyPolicySymmetricTokenKey","keyValue":"AAAA"}`
	)
	token := func(key, extra string) string {
		return `{"@odata.type":"#Microsoft.Media.ContentKeyPolicyTokenRestriction","issuer":"i","audience":"a","restrictionTokenType":"Jwt","primaryVerificationKey":` + key + extra + `}`
	}
	pr := func(lics ...string) string {
		return `{"@odata.type":"#Microsoft.Media.ContentKeyPolicyPlayReadyConfiguration","licenses":[` + strings.Join(lics, ",") + `]}`
	}
	lic := func(lt string) string {
		return `{"allowTestDevices":false,"licenseType":"` + lt + `","contentType":"Unspecified","contentKeyLocation":{"@odata.type":"#Microsoft.Media.ContentKeyPolicyPlayReadyContentEncryptionKeyFromHeader"},"playRight":{"allowPassingVideoContentToUnknownOutput":"Allowed"}}`
	}
	cases := []struct{ name, in, want string }{
		{"not JSON", `[`, "not a JSON object"},
		{"array", `[]`, "not a JSON object"},
		{"no options", `{}`, "no options"},
		{"unknown configuration", doc(opt(`{"@odata.type":"#Microsoft.Media.ContentKeyPolicyUnknownConfiguration"}`, open)), "ContentKeyPolicyUnknownConfiguration"},
		{"configuration without type", doc(opt(`{}`, open)), "no @odata.type"},
		{"configuration not an object", doc(opt(`"x"`, open)), "configuration is not a JSON object"},
		{"unknown restriction", doc(opt(ck, `{"@odata.type":"#Microsoft.Media.ContentKeyPolicyMagicRestriction"}`)), "ContentKeyPolicyMagicRestriction"},
		{"restriction without type", doc(opt(ck, `{"issuer":"i"}`)), "no @odata.type"},
		{"unknown key type", doc(opt(ck, token(`{"@odata.type":"#Microsoft.Media.ContentKeyPolicyMagicTokenKey"}`, ""))), "ContentKeyPolicyMagicTokenKey"},
		{"token without key", doc(opt(ck, `{"@odata.type":"#Microsoft.Media.ContentKeyPolicyTokenRestriction","issuer":"i","audience":"a"}`)), "primaryVerificationKey"},
		{"SWT", doc(opt(ck, token(symKey, `,"restrictionTokenType":"Swt"`))), "Swt"},
		{"mixed key kinds", doc(opt(ck, token(symKey, `,"alternateVerificationKeys":[{"@odata.type":"#Microsoft.Media.ContentKeyPolicyRsaTokenKey","exponent":"AQAB","modulus":"AQID"}]`))), "one kind"},
		{"RSA exponent", doc(opt(ck, token(`{"@odata.type":"#Microsoft.Media.ContentKeyPolicyRsaTokenKey","exponent":"AQ==","modulus":"AQID"}`, ""))), "exponent"},
		{"RSA not base64", doc(opt(ck, token(`{"@odata.type":"#Microsoft.Media.ContentKeyPolicyRsaTokenKey","exponent":"AQAB","modulus":"!!"}`, ""))), "not base64"},
		{"X.509 not a certificate", doc(opt(ck, token(`{"@odata.type":"#Microsoft.Media.ContentKeyPolicyX509CertificateTokenKey","rawBody":"AQID"}`, ""))), "not a DER certificate"},
		{"different restrictions", doc(opt(ck, open), opt(wv, token(symKey, ""))), "different restrictions"},
		{"different Widevine options", doc(opt(wv, open), opt(wv2, open)), "second, different Widevine"},
		{"PlayReady without licenses", doc(opt(pr(), open)), "without licenses"},
		{"different PlayReady licenses", doc(opt(pr(lic("Persistent"), lic("NonPersistent")), open)), "second, different PlayReady"},
		{"Widevine template not JSON", doc(opt(`{"@odata.type":"#Microsoft.Media.ContentKeyPolicyWidevineConfiguration","widevineTemplate":"{can_persist: true}"}`, open)), "widevineTemplate"},
		{"Widevine without template", doc(opt(`{"@odata.type":"#Microsoft.Media.ContentKeyPolicyWidevineConfiguration"}`, open)), "without widevineTemplate"},
		{"FairPlay ask not base64", doc(opt(`{"@odata.type":"#Microsoft.Media.ContentKeyPolicyFairPlayConfiguration","ask":"zz!","rentalAndLeaseKeyType":"Undefined"}`, open)), "ask is not base64"},
	}
	for _, c := range cases {
		_, err := ImportAMS(strings.NewReader(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want one mentioning %q", c.name, err, c.want)
		}
	}
	// Identical repeats are fine: AMS repeats configurations across options.
	if p, err := ImportAMS(strings.NewReader(doc(opt(wv, open), opt(wv, open), opt(pr(lic("Persistent"), lic("Persistent")), open)))); err != nil || p.PlayReady == nil {
		t.Errorf("identical options: %v", err)
	}
}

func TestExportAMSErrors(t *testing.T) {
	p := Preset(PresetRental48h)
	p.FairPlay.ASk = "short"
	if err := ExportAMS(&bytes.Buffer{}, p); err == nil || !strings.Contains(err.Error(), "ASk") {
		t.Errorf("bad ASk: %v", err)
	}
	p = Preset(PresetRental48h)
	p.Token = TokenRestriction{Type: RestrictionJWT, Issuer: "i", Audience: "a", KeyType: KeyRSA, KeyValue: "not pem"}
	if err := ExportAMS(&bytes.Buffer{}, p); err == nil || !strings.Contains(err.Error(), "PEM") {
		t.Errorf("bad RSA key: %v", err)
	}
}

func FuzzImportAMS(f *testing.F) {
	files, _ := filepath.Glob("testdata/*ams*.json")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"options":[{"name":"x","configuration":{"@odata.type":"#Microsoft.Media.ContentKeyPolicyWidevineConfiguration","widevineTemplate":"{}"}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ImportAMS(bytes.NewReader(data))
		if err != nil {
			return
		}
		_ = Validate(p, true)
		var out bytes.Buffer
		if err := ExportAMS(&out, p); err != nil {
			if HasErrors(Validate(p, false)) {
				return // an invalid key or ASk may legitimately fail to export
			}
			t.Fatalf("a valid imported policy does not export: %v", err)
		}
		back, err := ImportAMS(&out)
		if err != nil {
			t.Fatalf("re-import of the export: %v\n%s", err, out.Bytes())
		}
		// Export fills AMS-required defaults (contentType), so compare from the first re-import.
		var out2 bytes.Buffer
		if err := ExportAMS(&out2, back); err != nil {
			t.Fatalf("second export: %v", err)
		}
		back2, err := ImportAMS(&out2)
		if err != nil {
			t.Fatalf("second re-import: %v", err)
		}
		if a, b := mustJSON(t, back), mustJSON(t, back2); a != b {
			t.Fatalf("round trip differs:\n%s\n%s", a, b)
		}
	})
}
