package policy

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Token errors. ValidateToken wraps exactly one of them, so the license server can answer
// ErrTokenMissing with 401 and the others with 403, and quote the reason.
var (
	ErrTokenMissing   = errors.New("a bearer token is required (Authorization: Bearer <JWT>)")
	ErrTokenExpired   = errors.New("the token has expired or is not valid yet")
	ErrTokenAudience  = errors.New("the token's audience does not match the policy")
	ErrTokenIssuer    = errors.New("the token's issuer does not match the policy")
	ErrTokenSignature = errors.New("the token's signature does not verify with the policy's key")
	ErrTokenClaim     = errors.New("the token lacks a required claim")
	ErrTokenMalformed = errors.New("the token is not a well-formed JWT")
	// ErrTokenPolicy means the restriction itself is broken (no or unreadable key); fix the
	// policy, not the token.
	ErrTokenPolicy = errors.New("the policy's token restriction cannot verify tokens")
)

// clockSkew is the leeway for exp/nbf/iat so small clock differences between the token
// service and the license server do not reject fresh tokens.
const clockSkew = 30 * time.Second

// ValidateToken checks token (the compact JWT, without "Bearer ") against the restriction for
// a license request for kid (any notation: UUID, 32 hex digits, with or without braces). Open
// restrictions accept anything. The token must be signed with the primary or an alternate key,
// carry the restriction's issuer and audience, an exp in the future (nbf, when present, in the
// past) and every required claim; the content key identifier claim with no value must name kid.
func ValidateToken(tr TokenRestriction, token, kid string, now time.Time) error {
	if tr.Type != RestrictionJWT {
		return nil
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return ErrTokenMissing
	}
	keys, err := verificationKeys(tr)
	if err != nil {
		return err
	}
	var last error
	for _, key := range keys {
		claims := jwt.MapClaims{}
		// Verify the signature here and the registered claims below, so every failure maps
		// to exactly one typed error (the library joins several claim errors into one).
		_, err := jwt.ParseWithClaims(token, claims, func(*jwt.Token) (any, error) { return key, nil },
			jwt.WithValidMethods(methodsFor(key)), jwt.WithoutClaimsValidation())
		switch {
		case err == nil:
			return checkClaims(tr, claims, kid, now)
		case errors.Is(err, jwt.ErrTokenMalformed):
			return fmt.Errorf("%w: %v", ErrTokenMalformed, err)
		default:
			// A bad signature or an algorithm the key may not use; the next (alternate) key
			// may still verify it: key rotation.
			last = fmt.Errorf("%w: %v", ErrTokenSignature, err)
		}
	}
	return last
}

// checkClaims checks the registered claims (exp, nbf, iss, aud) and the restriction's required
// claims of a token whose signature verified.
func checkClaims(tr TokenRestriction, claims jwt.MapClaims, kid string, now time.Time) error {
	exp, err := claims.GetExpirationTime()
	switch {
	case err != nil:
		return fmt.Errorf("%w exp as a number of seconds: %v", ErrTokenClaim, err)
	case exp == nil:
		return fmt.Errorf("%w exp (the token must say when it expires)", ErrTokenClaim)
	case !now.Before(exp.Add(clockSkew)):
		return fmt.Errorf("%w: it expired at %s", ErrTokenExpired, exp.UTC().Format(time.RFC3339))
	}
	nbf, err := claims.GetNotBefore()
	switch {
	case err != nil:
		return fmt.Errorf("%w nbf as a number of seconds: %v", ErrTokenClaim, err)
	case nbf != nil && now.Add(clockSkew).Before(nbf.Time):
		return fmt.Errorf("%w: it is valid from %s", ErrTokenExpired, nbf.UTC().Format(time.RFC3339))
	}
	if iss, err := claims.GetIssuer(); err != nil || iss != tr.Issuer {
		return fmt.Errorf("%w (want %q, got %q)", ErrTokenIssuer, tr.Issuer, iss)
	}
	aud, err := claims.GetAudience()
	if err != nil || !slices.Contains(aud, tr.Audience) {
		return fmt.Errorf("%w (want %q, got %q)", ErrTokenAudience, tr.Audience, []string(aud))
	}
	for _, c := range tr.RequiredClaims {
		v, ok := claims[c.Type]
		if !ok || v == nil {
			return fmt.Errorf("%w %s", ErrTokenClaim, c.Type)
		}
		s := fmt.Sprint(v)
		switch {
		case c.Type == ContentKeyIdentifierClaim && c.Value == "":
			// AMS: the required claim has no value and the token carries the KID GUID.
			if normKID(s) != normKID(kid) {
				return fmt.Errorf("%w %s for key %s (the token is for %s)", ErrTokenClaim, c.Type, kid, s)
			}
		case c.Value != "" && s != c.Value:
			return fmt.Errorf("%w %s=%s", ErrTokenClaim, c.Type, c.Value)
		}
	}
	return nil
}

// normKID reduces a KID to lowercase hex so UUID, brace and plain-hex notations compare equal.
func normKID(s string) string {
	return strings.ToLower(strings.NewReplacer("-", "", "{", "", "}", "").Replace(strings.TrimSpace(s)))
}

// verificationKeys parses the primary and alternate keys of tr.
func verificationKeys(tr TokenRestriction) ([]any, error) {
	var keys []any
	for i, v := range append([]string{tr.KeyValue}, tr.AlternateKeys...) {
		k, err := parseVerificationKey(tr.KeyType, v)
		if err != nil {
			which := "primary key"
			if i > 0 {
				which = fmt.Sprintf("alternate key %d", i)
			}
			return nil, fmt.Errorf("%w: %s: %v", ErrTokenPolicy, which, err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// parseVerificationKey decodes one key of the given type: symmetric → []byte (base64),
// rsa → *rsa.PublicKey (PEM "PUBLIC KEY" or PKCS#1 "RSA PUBLIC KEY"), x509 → the certificate's
// public key (PEM "CERTIFICATE"; RSA or ECDSA).
func parseVerificationKey(keyType, value string) (any, error) {
	switch keyType {
	case KeySymmetric:
		k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(value))
		if err != nil {
			if k, err = base64.RawURLEncoding.DecodeString(strings.TrimSpace(value)); err != nil {
				return nil, errors.New("the HS256 key is not base64")
			}
		}
		if len(k) == 0 {
			return nil, errors.New("the HS256 key is empty")
		}
		return k, nil
	case KeyRSA, KeyX509:
		blk, _ := pem.Decode([]byte(value))
		if blk == nil {
			return nil, fmt.Errorf("the %s key is not PEM", keyType)
		}
		if keyType == KeyX509 {
			cert, err := x509.ParseCertificate(blk.Bytes)
			if err != nil {
				return nil, fmt.Errorf("the X.509 certificate does not parse: %v", err)
			}
			switch cert.PublicKey.(type) {
			case *rsa.PublicKey, *ecdsa.PublicKey:
				return cert.PublicKey, nil
			}
			return nil, fmt.Errorf("the certificate's %s key cannot verify JWTs (RSA or ECDSA needed)", cert.PublicKeyAlgorithm)
		}
		if pub, err := x509.ParsePKCS1PublicKey(blk.Bytes); err == nil {
			return pub, nil
		}
		pub, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("the RSA public key does not parse: %v", err)
		}
		rk, ok := pub.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("the key is %T, not RSA; use key type x509 for ECDSA certificates", pub)
		}
		return rk, nil
	}
	return nil, fmt.Errorf("token key type %q is not symmetric, rsa or x509", keyType)
}

// methodsFor lists the JWT algorithms a key may verify, so a token cannot pick a weaker or
// mismatched algorithm (e.g. HS256 signed with an RSA public key, or "none").
func methodsFor(key any) []string {
	switch key.(type) {
	case []byte:
		return []string{"HS256"}
	case *ecdsa.PublicKey:
		return []string{"ES256", "ES384", "ES512"}
	}
	return []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
}

// IssueTestToken signs an HS256 token that satisfies tr for kid and is valid for ttl from
// now (for trainers, the GUI and tests; production tokens come from the studio's token
// service). Required claims get their configured value; the content key identifier claim gets
// kid.
func IssueTestToken(tr TokenRestriction, kid string, ttl time.Duration) (string, error) {
	if tr.Type != RestrictionJWT || tr.KeyType != KeySymmetric {
		return "", errors.New("test tokens can only be issued for a JWT restriction with a symmetric (HS256) key; switch the restriction's key type to symmetric")
	}
	if ttl <= 0 {
		return "", fmt.Errorf("test token lifetime %s must be positive", ttl)
	}
	k, err := parseVerificationKey(KeySymmetric, tr.KeyValue)
	if err != nil {
		return "", fmt.Errorf("issue test token: %w", err)
	}
	now := time.Now()
	claims := jwt.MapClaims{"iss": tr.Issuer, "aud": tr.Audience, "iat": now.Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(ttl).Unix()}
	for _, c := range tr.RequiredClaims {
		switch {
		case c.Type == ContentKeyIdentifierClaim && c.Value == "":
			claims[c.Type] = kid
		case c.Value != "":
			claims[c.Type] = c.Value
		default:
			claims[c.Type] = "1"
		}
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(k.([]byte))
	if err != nil {
		return "", fmt.Errorf("issue test token: %w", err)
	}
	return s, nil
}
