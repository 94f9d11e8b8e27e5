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
	b, err := io.ReadAll(io.LimitReader(r, 4<<20))
	if err != nil {
		return nil, err
	}
	return importAMS(b)
}

func importAMS(b []byte) (*Policy, error) {
	var a amsPolicy
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, fmt.Errorf("AMS content key policy: %w", err)
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
		return nil, errors.New("AMS content key policy: no options")
	}
	p := &Policy{Name: a.Name, Description: a.Properties.Description, Token: TokenRestriction{Type: RestrictionOpen}}
	for i, o := range a.Properties.Options {
		var t amsType
		if err := json.Unmarshal(o.Configuration, &t); err != nil {
			return nil, fmt.Errorf("AMS option %d: configuration: %w", i+1, err)
		}
		switch t.Type {
		case odataWidevine:
			var c struct {
				Template string `json:"widevineTemplate"`
			}
			if err := json.Unmarshal(o.Configuration, &c); err != nil {
				return nil, fmt.Errorf("AMS option %d: %w", i+1, err)
			}
			var w WidevinePolicy
			if c.Template != "" && c.Template != "{}" {
				if err := json.Unmarshal([]byte(c.Template), &w); err != nil {
					return nil, fmt.Errorf("AMS option %d: widevineTemplate is not valid JSON: %w", i+1, err)
				}
			}
			p.Widevine = &w
		case odataPlayReady:
			var c struct {
				Licenses []amsPlayReadyLicense `json:"licenses"`
			}
			if err := json.Unmarshal(o.Configuration, &c); err != nil {
				return nil, fmt.Errorf("AMS option %d: %w", i+1, err)
			}
			if len(c.Licenses) == 0 {
				return nil, fmt.Errorf("AMS option %d: PlayReady configuration without licenses", i+1)
			}
			pr := c.Licenses[0].PlayReadyPolicy
			p.PlayReady = &pr
		case odataFairPlay:
			var c amsFairPlay
			if err := json.Unmarshal(o.Configuration, &c); err != nil {
				return nil, fmt.Errorf("AMS option %d: %w", i+1, err)
			}
			fp := &FairPlayPolicy{RentalAndLeaseKeyType: c.RentalAndLeaseKeyType, RentalDuration: c.RentalDuration, OfflineRentalConfiguration: c.OfflineRentalConfiguration,
				FairPlayPfx: c.FairPlayPfx, FairPlayPfxPassword: c.FairPlayPfxPassword}
			if c.ASk != "" {
				raw, err := base64.StdEncoding.DecodeString(c.ASk)
				if err != nil {
					return nil, fmt.Errorf("AMS option %d: ask is not base64", i+1)
				}
				fp.ASk = hex.EncodeToString(raw)
			}
			p.FairPlay = fp
		case odataClearKey:
			var c struct {
				LicenseType string `json:"x-satchel-licenseType"`
			}
			_ = json.Unmarshal(o.Configuration, &c)
			if c.LicenseType == "" {
				c.LicenseType = "temporary"
			}
			p.ClearKey = &ClearKeyPolicy{LicenseType: c.LicenseType}
		default:
			return nil, fmt.Errorf("AMS option %d: configuration type %q is not supported (Widevine, PlayReady, FairPlay, ClearKey are)", i+1, t.Type)
		}
		if len(o.Restriction) > 0 {
			tr, err := importRestriction(o.Restriction)
			if err != nil {
				return nil, fmt.Errorf("AMS option %d: %w", i+1, err)
			}
			p.Token = tr
		}
	}
	if p.Name == "" {
		p.Name = a.Properties.Options[0].Name
	}
	return p, nil
}

func importRestriction(raw json.RawMessage) (TokenRestriction, error) {
	var r amsRestriction
	if err := json.Unmarshal(raw, &r); err != nil {
		return TokenRestriction{}, fmt.Errorf("restriction: %w", err)
	}
	switch r.Type {
	case odataOpen, "":
		return TokenRestriction{Type: RestrictionOpen}, nil
	case odataToken:
	default:
		return TokenRestriction{}, fmt.Errorf("restriction type %q is not supported (open or token)", r.Type)
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
	for _, k := range r.AlternateVerificationKeys {
		_, v, err := importKey(k)
		if err != nil {
			return t, err
		}
		t.AlternateKeys = append(t.AlternateKeys, v)
	}
	return t, nil
}

func importKey(k amsKey) (string, string, error) {
	switch k.Type {
	case odataSymKey:
		return "symmetric", k.KeyValue, nil
	case odataRSAKey:
		n, err1 := base64.StdEncoding.DecodeString(k.Modulus)
		e, err2 := base64.StdEncoding.DecodeString(k.Exponent)
		if err1 != nil || err2 != nil || len(n) == 0 || len(e) == 0 {
			return "", "", errors.New("RSA token key: modulus/exponent are not base64")
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			return "", "", fmt.Errorf("RSA token key: %w", err)
		}
		return "rsa", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
	case odataX509Key:
		der, err := base64.StdEncoding.DecodeString(k.RawBody)
		if err != nil {
			return "", "", errors.New("X.509 token key: rawBody is not base64")
		}
		return "x509", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), nil
	}
	return "", "", fmt.Errorf("token key type %q is not supported", k.Type)
}

func exportKey(kt, v string) (*amsKey, error) {
	switch kt {
	case "symmetric":
		return &amsKey{Type: odataSymKey, KeyValue: v}, nil
	case "rsa":
		blk, _ := pem.Decode([]byte(v))
		if blk == nil {
			return nil, errors.New("RSA token key is not PEM")
		}
		pub, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("RSA token key: %w", err)
		}
		rk, ok := pub.(*rsa.PublicKey)
		if !ok {
			return nil, errors.New("token key is not RSA")
		}
		return &amsKey{Type: odataRSAKey, Modulus: base64.StdEncoding.EncodeToString(rk.N.Bytes()), Exponent: base64.StdEncoding.EncodeToString(big.NewInt(int64(rk.E)).Bytes())}, nil
	case "x509":
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
			raw, err := hex.DecodeString(p.FairPlay.ASk)
			if err != nil {
				return fmt.Errorf("fairplay ask is not hex: %w", err)
			}
			fp.ASk = base64.StdEncoding.EncodeToString(raw)
		}
		if err := add("fairplay", fp); err != nil {
			return err
		}
	}
	if p.ClearKey != nil {
		if err := add("clearkey", map[string]string{"@odata.type": odataClearKey, "x-satchel-licenseType": p.ClearKey.LicenseType}); err != nil {
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
