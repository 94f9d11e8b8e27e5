package policy

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"
)

// AMS OData types.
const (
	odataWidevine  = "#Microsoft.Media.ContentKeyPolicyWidevineConfiguration"
	odataPlayReady = "#Microsoft.Media.ContentKeyPolicyPlayReadyConfiguration"
	odataFairPlay  = "#Microsoft.Media.ContentKeyPolicyFairPlayConfiguration"
	odataClearKey  = "#Microsoft.Media.ContentKeyPolicyClearKeyConfiguration"
	odataOpen      = "#Microsoft.Media.ContentKeyPolicyOpenRestriction"
	odataToken     = "#Microsoft.Media.ContentKeyPolicyTokenRestriction"
	odataSymKey    = "#Microsoft.Media.ContentKeyPolicySymmetricTokenKey"
	odataRSAKey    = "#Microsoft.Media.ContentKeyPolicyRsaTokenKey"
	odataX509Key   = "#Microsoft.Media.ContentKeyPolicyX509CertificateTokenKey"
	odataKeyHeader = "#Microsoft.Media.ContentKeyPolicyPlayReadyContentEncryptionKeyFromHeader"
)

type amsPolicy struct {
	Name       string `json:"name,omitempty"`
	Properties struct {
		Description string      `json:"description,omitempty"`
		Options     []amsOption `json:"options"`
	} `json:"properties"`
}

type amsOption struct {
	Name          string          `json:"name"`
	Configuration json.RawMessage `json:"configuration"`
	Restriction   json.RawMessage `json:"restriction"`
}

type amsType struct {
	Type string `json:"@odata.type"`
}

type amsPlayReadyLicense struct {
	PlayReadyPolicy
	ContentKeyLocation amsType `json:"contentKeyLocation"`
}

type amsFairPlay struct {
	Type                       string               `json:"@odata.type"`
	ASk                        string               `json:"ask"`
	FairPlayPfxPassword        string               `json:"fairPlayPfxPassword"`
	FairPlayPfx                string               `json:"fairPlayPfx"`
	RentalAndLeaseKeyType      string               `json:"rentalAndLeaseKeyType"`
	RentalDuration             int64                `json:"rentalDuration"`
	OfflineRentalConfiguration *OfflineRentalConfig `json:"offlineRentalConfiguration,omitempty"`
}

type amsKey struct {
	Type     string `json:"@odata.type"`
	KeyValue string `json:"keyValue,omitempty"`
	Exponent string `json:"exponent,omitempty"`
	Modulus  string `json:"modulus,omitempty"`
	RawBody  string `json:"rawBody,omitempty"`
}

type amsRestriction struct {
	Type                      string   `json:"@odata.type"`
	Issuer                    string   `json:"issuer,omitempty"`
	Audience                  string   `json:"audience,omitempty"`
	PrimaryVerificationKey    *amsKey  `json:"primaryVerificationKey,omitempty"`
	AlternateVerificationKeys []amsKey `json:"alternateVerificationKeys,omitempty"`
	RequiredClaims            []Claim  `json:"requiredClaims,omitempty"`
	RestrictionTokenType      string   `json:"restrictionTokenType,omitempty"`
}

// ImportAMS reads an AMS content key policy (the REST body with properties.options, or the
// bare properties object).
func ImportAMS(r io.Reader) (*Policy, error) {
	b, err := readLimited(r)
	if err != nil {
		return nil, fmt.Errorf("read AMS content key policy: %w", err)
	}
	return importAMS(b)
}

func importAMS(b []byte) (*Policy, error) {
	var a amsPolicy
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, fmt.Errorf("AMS content key policy is not a JSON object: %w", err)
	}
	if len(a.Properties.Options) == 0 {
		// The bare properties object.
		var props struct {
			Description string      `json:"description"`
			Options     []amsOption `json:"options"`
		}
		if err := json.Unmarshal(b, &props); err == nil {
			a.Properties.Options, a.Properties.Description = props.Options, props.Description
		}
	}
	if len(a.Properties.Options) == 0 {
		return nil, errors.New("AMS content key policy has no options: expected properties.options[] with configuration and restriction")
	}
	if len(a.Properties.Options) > 64 {
		return nil, fmt.Errorf("AMS content key policy has %d options; at most 64 are supported", len(a.Properties.Options))
	}
	p := &Policy{Name: a.Name, Description: a.Properties.Description, Token: TokenRestriction{Type: RestrictionOpen}}
	restrictionFrom := 0 // option number whose restriction p.Token holds (0: none yet)
	for i, o := range a.Properties.Options {
		n := i + 1
		if err := importConfiguration(p, o.Configuration); err != nil {
			return nil, fmt.Errorf("AMS option %d (%s): %w", n, o.Name, err)
		}
		if len(o.Restriction) == 0 || string(o.Restriction) == "null" {
			continue // AMS requires a restriction; an option without one states nothing
		}
		tr, err := importRestriction(o.Restriction)
		if err != nil {
			return nil, fmt.Errorf("AMS option %d (%s): %w", n, o.Name, err)
		}
		// Satchel applies one restriction to a whole policy; AMS allows one per option.
		if restrictionFrom > 0 && !jsonEqual(tr, p.Token) {
			return nil, fmt.Errorf("AMS options %d and %d use different restrictions; Satchel applies one restriction per policy, so split this AMS policy into one policy per restriction", restrictionFrom, n)
		}
		p.Token, restrictionFrom = tr, n
	}
	if p.Name == "" {
		p.Name = a.Properties.Options[0].Name
	}
	return p, nil
}

// importConfiguration sets the system of one AMS option's configuration on p. A second
// option for the same system must configure the same license (AMS uses several options to
// serve several restrictions; Satchel keeps one license per system).
func importConfiguration(p *Policy, raw json.RawMessage) error {
	var t amsType
	if err := json.Unmarshal(raw, &t); err != nil {
		return fmt.Errorf("configuration is not a JSON object: %w", err)
	}
	dup := func(system string, have, got any) error {
		if jsonEqual(have, got) {
			return nil
		}
		return fmt.Errorf("a second, different %s configuration; Satchel keeps one %s license per policy, so split this AMS policy", system, system)
	}
	switch t.Type {
	case odataWidevine:
		var c struct {
			Template *string `json:"widevineTemplate"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return fmt.Errorf("Widevine configuration: %w", err)
		}
		if c.Template == nil {
			return errors.New("Widevine configuration without widevineTemplate (use \"{}\" for the defaults)")
		}
		var w WidevinePolicy
		if tpl := strings.TrimSpace(*c.Template); tpl != "" && tpl != "{}" {
			if err := json.Unmarshal([]byte(tpl), &w); err != nil {
				return fmt.Errorf("widevineTemplate is not a valid Widevine template: %w", err)
			}
		} else {
			// AMS "Basic license": an empty template yields a playable streaming license.
			w.PolicyOverrides.CanPlay = true
		}
		if p.Widevine != nil {
			return dup("Widevine", p.Widevine, &w)
		}
		p.Widevine = &w
	case odataPlayReady:
		var c struct {
			Licenses []amsPlayReadyLicense `json:"licenses"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return fmt.Errorf("PlayReady configuration: %w", err)
		}
		if len(c.Licenses) == 0 {
			return errors.New("PlayReady configuration without licenses")
		}
		pr := c.Licenses[0].PlayReadyPolicy
		for _, l := range c.Licenses[1:] {
			if err := dup("PlayReady", &pr, &l.PlayReadyPolicy); err != nil {
				return err
			}
		}
		if p.PlayReady != nil {
			return dup("PlayReady", p.PlayReady, &pr)
		}
		p.PlayReady = &pr
	case odataFairPlay:
		var c amsFairPlay
		if err := json.Unmarshal(raw, &c); err != nil {
			return fmt.Errorf("FairPlay configuration: %w", err)
		}
		fp := &FairPlayPolicy{RentalAndLeaseKeyType: c.RentalAndLeaseKeyType, RentalDuration: c.RentalDuration, OfflineRentalConfiguration: c.OfflineRentalConfiguration,
			FairPlayPfx: c.FairPlayPfx, FairPlayPfxPassword: c.FairPlayPfxPassword}
		if c.ASk != "" {
			// The REST API carries the ASk as base64 bytes; Satchel shows it as hex.
			raw, err := base64.StdEncoding.DecodeString(c.ASk)
			if err != nil {
				return errors.New("FairPlay ask is not base64 (the REST API sends the 16-byte ASk base64-encoded)")
			}
			fp.ASk = hex.EncodeToString(raw)
		}
		if p.FairPlay != nil {
			return dup("FairPlay", p.FairPlay, fp)
		}
		p.FairPlay = fp
	case odataClearKey:
		// AMS's ClearKey configuration has no properties; Satchel adds its session type and
		// duration as x-satchel-* extensions and defaults to a temporary session.
		var c struct {
			LicenseType     string `json:"x-satchel-licenseType"`
			DurationSeconds int64  `json:"x-satchel-durationSeconds"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return fmt.Errorf("ClearKey configuration: %w", err)
		}
		if c.LicenseType == "" {
			c.LicenseType = "temporary"
		}
		ck := &ClearKeyPolicy{LicenseType: c.LicenseType, DurationSeconds: c.DurationSeconds}
		if p.ClearKey != nil {
			return dup("ClearKey", p.ClearKey, ck)
		}
		p.ClearKey = ck
	case "":
		return errors.New("configuration has no @odata.type")
	default:
		return fmt.Errorf("configuration type %q is not supported (Satchel reads %s, %s, %s and %s)", t.Type, odataWidevine, odataPlayReady, odataFairPlay, odataClearKey)
	}
	return nil
}

// jsonEqual compares two values by their JSON encoding.
func jsonEqual(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}

func importRestriction(raw json.RawMessage) (TokenRestriction, error) {
	var r amsRestriction
	if err := json.Unmarshal(raw, &r); err != nil {
		return TokenRestriction{}, fmt.Errorf("restriction: %w", err)
	}
	switch r.Type {
	case odataOpen:
		return TokenRestriction{Type: RestrictionOpen}, nil
	case odataToken:
	case "":
		return TokenRestriction{}, errors.New("restriction has no @odata.type")
	default:
		return TokenRestriction{}, fmt.Errorf("restriction type %q is not supported (Satchel reads %s and %s)", r.Type, odataOpen, odataToken)
	}
	if r.RestrictionTokenType != "" && !strings.EqualFold(r.RestrictionTokenType, "Jwt") {
		return TokenRestriction{}, fmt.Errorf("token type %s is not supported: use JWT (SWT is deprecated)", r.RestrictionTokenType)
	}
	t := TokenRestriction{Type: RestrictionJWT, Issuer: r.Issuer, Audience: r.Audience, RequiredClaims: r.RequiredClaims}
	if r.PrimaryVerificationKey == nil {
		return t, errors.New("token restriction without primaryVerificationKey")
	}
	kt, v, err := importKey(*r.PrimaryVerificationKey)
	if err != nil {
		return t, err
	}
	t.KeyType, t.KeyValue = kt, v
	for i, k := range r.AlternateVerificationKeys {
		akt, v, err := importKey(k)
		if err != nil {
			return t, fmt.Errorf("alternate verification key %d: %w", i+1, err)
		}
		if akt != kt {
			return t, fmt.Errorf("alternate verification key %d is %s but the primary key is %s; Satchel needs all keys of a restriction to be of one kind", i+1, akt, kt)
		}
		t.AlternateKeys = append(t.AlternateKeys, v)
	}
	return t, nil
}

func importKey(k amsKey) (string, string, error) {
	switch k.Type {
	case odataSymKey:
		return KeySymmetric, k.KeyValue, nil
	case odataRSAKey:
		n, err1 := base64.StdEncoding.DecodeString(k.Modulus)
		e, err2 := base64.StdEncoding.DecodeString(k.Exponent)
		if err1 != nil || err2 != nil || len(n) == 0 || len(e) == 0 {
			return "", "", errors.New("RSA token key: modulus/exponent are not base64")
		}
		exp := new(big.Int).SetBytes(e)
		if !exp.IsInt64() || exp.Int64() < 3 || exp.Int64() > 1<<31-1 {
			return "", "", errors.New("RSA token key: the exponent is out of range (usually AQAB = 65537)")
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(exp.Int64())}
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			return "", "", fmt.Errorf("RSA token key: %w", err)
		}
		return KeyRSA, string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
	case odataX509Key:
		der, err := base64.StdEncoding.DecodeString(k.RawBody)
		if err != nil {
			return "", "", errors.New("X.509 token key: rawBody is not base64")
		}
		if _, err := x509.ParseCertificate(der); err != nil {
			return "", "", fmt.Errorf("X.509 token key: rawBody is not a DER certificate (export the certificate's raw data, not the .pfx): %w", err)
		}
		return KeyX509, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), nil
	}
	return "", "", fmt.Errorf("token key type %q is not supported", k.Type)
}

func exportKey(kt, v string) (*amsKey, error) {
	switch kt {
	case KeySymmetric:
		return &amsKey{Type: odataSymKey, KeyValue: v}, nil
	case KeyRSA:
		k, err := parseVerificationKey(KeyRSA, v)
		if err != nil {
			return nil, fmt.Errorf("export token key: %w", err)
		}
		rk := k.(*rsa.PublicKey)
		return &amsKey{Type: odataRSAKey, Modulus: base64.StdEncoding.EncodeToString(rk.N.Bytes()), Exponent: base64.StdEncoding.EncodeToString(big.NewInt(int64(rk.E)).Bytes())}, nil
	case KeyX509:
		blk, _ := pem.Decode([]byte(v))
		if blk == nil {
			return nil, errors.New("X.509 token key is not PEM")
		}
		return &amsKey{Type: odataX509Key, RawBody: base64.StdEncoding.EncodeToString(blk.Bytes)}, nil
	}
	return nil, fmt.Errorf("token key type %q is not supported", kt)
}

// ExportAMS writes p as an AMS content key policy: one option per configured system, each
// with the same restriction.
func ExportAMS(w io.Writer, p *Policy) error {
	var a amsPolicy
	a.Name = p.Name
	a.Properties.Description = p.Description
	restr, err := exportRestriction(p.Token)
	if err != nil {
		return err
	}
	add := func(name string, cfg any) error {
		b, err := json.Marshal(cfg)
		if err != nil {
			return err
		}
		a.Properties.Options = append(a.Properties.Options, amsOption{Name: name, Configuration: b, Restriction: restr})
		return nil
	}
	if p.Widevine != nil {
		tpl, err := json.Marshal(p.Widevine)
		if err != nil {
			return err
		}
		if err := add("widevine", map[string]string{"@odata.type": odataWidevine, "widevineTemplate": string(tpl)}); err != nil {
			return err
		}
	}
	if p.PlayReady != nil {
		lic := amsPlayReadyLicense{PlayReadyPolicy: *p.PlayReady, ContentKeyLocation: amsType{Type: odataKeyHeader}}
		if lic.ContentType == "" {
			lic.ContentType = "Unspecified"
		}
		if err := add("playready", map[string]any{"@odata.type": odataPlayReady, "licenses": []amsPlayReadyLicense{lic}}); err != nil {
			return err
		}
	}
	if p.FairPlay != nil {
		fp := amsFairPlay{Type: odataFairPlay, RentalAndLeaseKeyType: p.FairPlay.RentalAndLeaseKeyType, RentalDuration: p.FairPlay.RentalDuration,
			OfflineRentalConfiguration: p.FairPlay.OfflineRentalConfiguration, FairPlayPfx: p.FairPlay.FairPlayPfx, FairPlayPfxPassword: p.FairPlay.FairPlayPfxPassword}
		if p.FairPlay.ASk != "" {
			raw, err := ParseASk(p.FairPlay.ASk)
			if err != nil {
				return fmt.Errorf("export FairPlay configuration: %w", err)
			}
			fp.ASk = base64.StdEncoding.EncodeToString(raw)
		}
		if err := add("fairplay", fp); err != nil {
			return err
		}
	}
	if p.ClearKey != nil {
		ck := map[string]any{"@odata.type": odataClearKey, "x-satchel-licenseType": p.ClearKey.LicenseType}
		if p.ClearKey.DurationSeconds != 0 {
			ck["x-satchel-durationSeconds"] = p.ClearKey.DurationSeconds
		}
		if err := add("clearkey", ck); err != nil {
			return err
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(a)
}

func exportRestriction(t TokenRestriction) (json.RawMessage, error) {
	if t.Type != RestrictionJWT {
		return json.Marshal(amsType{Type: odataOpen})
	}
	r := amsRestriction{Type: odataToken, Issuer: t.Issuer, Audience: t.Audience, RequiredClaims: t.RequiredClaims, RestrictionTokenType: "Jwt"}
	k, err := exportKey(t.KeyType, t.KeyValue)
	if err != nil {
		return nil, err
	}
	r.PrimaryVerificationKey = k
	for _, v := range t.AlternateKeys {
		ak, err := exportKey(t.KeyType, v)
		if err != nil {
			return nil, err
		}
		r.AlternateVerificationKeys = append(r.AlternateVerificationKeys, *ak)
	}
	return json.Marshal(r)
}
