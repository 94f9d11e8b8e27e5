package policy

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Token errors; the license server maps ErrTokenMissing to 401 and the others to 403.
var (
	ErrTokenMissing   = errors.New("a bearer token is required (Authorization: Bearer <JWT>)")
	ErrTokenExpired   = errors.New("the token has expired or is not valid yet")
	ErrTokenAudience  = errors.New("the token's audience does not match the policy")
	ErrTokenIssuer    = errors.New("the token's issuer does not match the policy")
	ErrTokenSignature = errors.New("the token's signature does not verify with the policy's key")
	ErrTokenClaim     = errors.New("the token lacks a required claim")
	ErrTokenMalformed = errors.New("the token is not a well-formed JWT")
)

// ValidateToken checks token against the restriction for a license request for kid (any KID
// notation). Open restrictions accept anything.
func ValidateToken(tr TokenRestriction, token, kid string, now time.Time) error {
	if tr.Type != RestrictionJWT {
		return nil
	}
	if strings.TrimSpace(token) == "" {
		return ErrTokenMissing
	}
	keys, methods, err := verificationKeys(tr)
	if err != nil {
		return err
	}
	var last error
	for _, key := range keys {
		claims := jwt.MapClaims{}
		_, err := jwt.ParseWithClaims(token, claims, func(*jwt.Token) (any, error) { return key, nil },
			jwt.WithValidMethods(methods), jwt.WithIssuer(tr.Issuer), jwt.WithAudience(tr.Audience),
			jwt.WithTimeFunc(func() time.Time { return now }), jwt.WithExpirationRequired(), jwt.WithLeeway(30*time.Second))
		if err == nil {
			return checkClaims(tr, claims, kid)
		}
		switch {
		case errors.Is(err, jwt.ErrTokenSignatureInvalid):
			last = ErrTokenSignature
			continue // try the alternate keys
		case errors.Is(err, jwt.ErrTokenExpired), errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenRequiredClaimMissing) && strings.Contains(err.Error(), "exp"):
			return fmt.Errorf("%w: %v", ErrTokenExpired, err)
		case errors.Is(err, jwt.ErrTokenInvalidAudience):
			return fmt.Errorf("%w (want %q)", ErrTokenAudience, tr.Audience)
		case errors.Is(err, jwt.ErrTokenInvalidIssuer):
			return fmt.Errorf("%w (want %q)", ErrTokenIssuer, tr.Issuer)
		case errors.Is(err, jwt.ErrTokenMalformed):
			return fmt.Errorf("%w: %v", ErrTokenMalformed, err)
		default:
			last = fmt.Errorf("%w: %v", ErrTokenSignature, err)
		}
	}
	return last
}

func checkClaims(tr TokenRestriction, claims jwt.MapClaims, kid string) error {
	for _, c := range tr.RequiredClaims {
		v, ok := claims[c.Type]
		if !ok {
			return fmt.Errorf("%w %s", ErrTokenClaim, c.Type)
		}
		s := fmt.Sprint(v)
		switch {
		case c.Type == ContentKeyIdentifierClaim && c.Value == "":
			if normKID(s) != normKID(kid) {
				return fmt.Errorf("%w %s for key %s (token is for %s)", ErrTokenClaim, c.Type, kid, s)
			}
		case c.Value != "" && s != c.Value:
			return fmt.Errorf("%w %s=%s", ErrTokenClaim, c.Type, c.Value)
		}
	}
	return nil
}

func normKID(s string) string {
	return strings.ToLower(strings.NewReplacer("-", "", "{", "", "}", "").Replace(strings.TrimSpace(s)))
}

func verificationKeys(tr TokenRestriction) ([]any, []string, error) {
	vals := append([]string{tr.KeyValue}, tr.AlternateKeys...)
	var keys []any
	for _, v := range vals {
		switch tr.KeyType {
		case "symmetric":
			k, err := base64.StdEncoding.DecodeString(v)
			if err != nil || len(k) == 0 {
				return nil, nil, errors.New("the policy's HS256 key is not base64; fix the token restriction")
			}
			keys = append(keys, k)
		case "rsa", "x509":
			blk, _ := pem.Decode([]byte(v))
			if blk == nil {
				return nil, nil, errors.New("the policy's token key is not PEM; fix the token restriction")
			}
			if tr.KeyType == "x509" {
				cert, err := x509.ParseCertificate(blk.Bytes)
				if err != nil {
					return nil, nil, fmt.Errorf("the policy's certificate: %w", err)
				}
				keys = append(keys, cert.PublicKey)
			} else {
				pub, err := x509.ParsePKIXPublicKey(blk.Bytes)
				if err != nil {
					return nil, nil, fmt.Errorf("the policy's RSA key: %w", err)
				}
				keys = append(keys, pub)
			}
		default:
			return nil, nil, fmt.Errorf("token key type %q is not supported", tr.KeyType)
		}
	}
	if tr.KeyType == "symmetric" {
		return keys, []string{"HS256"}, nil
	}
	return keys, []string{"RS256", "RS384", "RS512", "PS256"}, nil
}

// IssueTestToken signs an HS256 token that satisfies tr for kid, valid for ttl (for trainers
// and tests; production tokens come from the studio's token service).
func IssueTestToken(tr TokenRestriction, kid string, ttl time.Duration) (string, error) {
	if tr.Type != RestrictionJWT || tr.KeyType != "symmetric" {
		return "", errors.New("test tokens can only be issued for an HS256 (symmetric) JWT restriction")
	}
	key, err := base64.StdEncoding.DecodeString(tr.KeyValue)
	if err != nil {
		return "", errors.New("the policy's HS256 key is not base64")
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
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(key)
}
