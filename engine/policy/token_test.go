package policy

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestValidateToken(t *testing.T) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	rsaKey, rsaPEM := testRSAPEM(t)
	ecKey, certPEM := testCertPEM(t)
	kid := "10203040-5060-7080-90a0-b0c0d0e0f001"
	now := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)

	hs := TokenRestriction{Type: RestrictionJWT, Issuer: "satchel", Audience: "players", KeyType: KeySymmetric, KeyValue: base64.StdEncoding.EncodeToString(key),
		RequiredClaims: []Claim{{Type: ContentKeyIdentifierClaim}, {Type: "entitlement", Value: "rental"}}}
	rs := hs
	rs.KeyType, rs.KeyValue = KeyRSA, rsaPEM
	x5 := hs
	x5.KeyType, x5.KeyValue = KeyX509, certPEM

	claims := func(mut func(c jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"iss": "satchel", "aud": "players", "exp": now.Add(time.Hour).Unix(), "nbf": now.Add(-time.Minute).Unix(),
			ContentKeyIdentifierClaim: kid, "entitlement": "rental"}
		if mut != nil {
			mut(c)
		}
		return c
	}
	sign := func(m jwt.SigningMethod, c jwt.MapClaims, k any) string {
		s, err := jwt.NewWithClaims(m, c).SignedString(k)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	hsSign := func(mut func(c jwt.MapClaims)) string { return sign(jwt.SigningMethodHS256, claims(mut), key) }
	none := sign(jwt.SigningMethodNone, claims(nil), jwt.UnsafeAllowNoneSignatureType)
	otherKey := []byte("another key that is long enough!")

	cases := []struct {
		name  string
		tr    TokenRestriction
		token string
		kid   string
		want  error
	}{
		{"HS256 good", hs, hsSign(nil), kid, nil},
		{"KID as hex", hs, hsSign(nil), "102030405060708090A0B0C0D0E0F001", nil},
		{"KID with braces in token", hs, hsSign(func(c jwt.MapClaims) { c[ContentKeyIdentifierClaim] = "{" + strings.ToUpper(kid) + "}" }), kid, nil},
		{"audience list", hs, hsSign(func(c jwt.MapClaims) { c["aud"] = []string{"others", "players"} }), kid, nil},
		{"expired within leeway", hs, hsSign(func(c jwt.MapClaims) { c["exp"] = now.Add(-10 * time.Second).Unix() }), kid, nil},
		{"RS256 good", rs, sign(jwt.SigningMethodRS256, claims(nil), rsaKey), kid, nil},
		{"X.509 ES256 good", x5, sign(jwt.SigningMethodES256, claims(nil), ecKey), kid, nil},
		{"missing", hs, "  ", kid, ErrTokenMissing},
		{"expired", hs, hsSign(func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Hour).Unix() }), kid, ErrTokenExpired},
		{"not valid yet", hs, hsSign(func(c jwt.MapClaims) { c["nbf"] = now.Add(time.Hour).Unix() }), kid, ErrTokenExpired},
		{"no exp", hs, hsSign(func(c jwt.MapClaims) { delete(c, "exp") }), kid, ErrTokenClaim},
		{"audience", hs, hsSign(func(c jwt.MapClaims) { c["aud"] = "others" }), kid, ErrTokenAudience},
		{"no audience", hs, hsSign(func(c jwt.MapClaims) { delete(c, "aud") }), kid, ErrTokenAudience},
		{"issuer", hs, hsSign(func(c jwt.MapClaims) { c["iss"] = "mallory" }), kid, ErrTokenIssuer},
		{"wrong HS256 key", hs, sign(jwt.SigningMethodHS256, claims(nil), otherKey), kid, ErrTokenSignature},
		{"alg none", hs, none, kid, ErrTokenSignature},
		{"HS384 for an HS256 policy", hs, sign(jwt.SigningMethodHS384, claims(nil), key), kid, ErrTokenSignature},
		{"RS256 for an HS256 policy", hs, sign(jwt.SigningMethodRS256, claims(nil), rsaKey), kid, ErrTokenSignature},
		{"HS256 signed with the RSA public key", rs, sign(jwt.SigningMethodHS256, claims(nil), []byte(rsaPEM)), kid, ErrTokenSignature},
		{"tampered payload", hs, tamper(t, hsSign(nil)), kid, ErrTokenSignature},
		{"kid claim missing", hs, hsSign(func(c jwt.MapClaims) { delete(c, ContentKeyIdentifierClaim) }), kid, ErrTokenClaim},
		{"kid claim for another key", hs, hsSign(nil), "00000000-0000-0000-0000-000000000000", ErrTokenClaim},
		{"claim value", hs, hsSign(func(c jwt.MapClaims) { c["entitlement"] = "purchase" }), kid, ErrTokenClaim},
		{"garbage", hs, "not.a.jwt", kid, ErrTokenMalformed},
		{"two parts", hs, "abc.def", kid, ErrTokenMalformed},
		{"broken policy key", TokenRestriction{Type: RestrictionJWT, Issuer: "satchel", Audience: "players", KeyType: KeyRSA, KeyValue: "nope"}, hsSign(nil), kid, ErrTokenPolicy},
		{"open restriction ignores the token", TokenRestriction{Type: RestrictionOpen}, "", kid, nil},
	}
	for _, c := range cases {
		err := ValidateToken(c.tr, c.token, c.kid, now)
		if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
		if err != nil && err.Error() == "" {
			t.Errorf("%s: empty message", c.name)
		}
	}

	// Alternate keys are accepted (key rotation); the primary still works.
	alt := make([]byte, 32)
	if _, err := rand.Read(alt); err != nil {
		t.Fatal(err)
	}
	rot := hs
	rot.AlternateKeys = []string{base64.StdEncoding.EncodeToString(alt)}
	if err := ValidateToken(rot, sign(jwt.SigningMethodHS256, claims(nil), alt), kid, now); err != nil {
		t.Errorf("alternate key: %v", err)
	}
	if err := ValidateToken(rot, hsSign(nil), kid, now); err != nil {
		t.Errorf("primary key with alternates: %v", err)
	}
	if err := ValidateToken(rot, sign(jwt.SigningMethodHS256, claims(nil), otherKey), kid, now); !errors.Is(err, ErrTokenSignature) {
		t.Errorf("neither key: %v", err)
	}
}

// tamper changes the payload of a compact JWT without re-signing it.
func tamper(t *testing.T, tok string) string {
	parts := strings.Split(tok, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), `"rental"`, `"buyout"`, 1)))
	return strings.Join(parts, ".")
}

func TestIssueTestToken(t *testing.T) {
	tr := TokenRestriction{Type: RestrictionJWT, Issuer: "satchel", Audience: "players", KeyType: KeySymmetric, KeyValue: b64(32),
		RequiredClaims: []Claim{{Type: ContentKeyIdentifierClaim}, {Type: "entitlement", Value: "rental"}, {Type: "urn:custom:present"}}}
	kid := "10203040-5060-7080-90a0-b0c0d0e0f001"
	tok, err := IssueTestToken(tr, kid, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := ValidateToken(tr, tok, kid, time.Now()); err != nil {
		t.Errorf("issued token does not validate: %v", err)
	}
	if err := ValidateToken(tr, tok, kid, time.Now().Add(2*time.Hour)); !errors.Is(err, ErrTokenExpired) {
		t.Errorf("issued token must expire after its ttl: %v", err)
	}
	if err := ValidateToken(tr, tok, "00000000-0000-0000-0000-000000000001", time.Now()); !errors.Is(err, ErrTokenClaim) {
		t.Errorf("issued token is bound to its KID: %v", err)
	}
	_, rsaPEM := testRSAPEM(t)
	for name, bad := range map[string]struct {
		tr  TokenRestriction
		ttl time.Duration
	}{
		"open":        {TokenRestriction{Type: RestrictionOpen}, time.Hour},
		"rsa":         {TokenRestriction{Type: RestrictionJWT, KeyType: KeyRSA, KeyValue: rsaPEM}, time.Hour},
		"bad key":     {TokenRestriction{Type: RestrictionJWT, KeyType: KeySymmetric, KeyValue: "%%"}, time.Hour},
		"no lifetime": {tr, 0},
	} {
		if _, err := IssueTestToken(bad.tr, kid, bad.ttl); err == nil {
			t.Errorf("%s: IssueTestToken succeeded", name)
		}
	}
}
