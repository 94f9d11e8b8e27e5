// Package drm holds the DRM signalling Satchel writes and reads: key identifiers in every
// notation a DRM vendor uses, content keys per track type, PSSH boxes for Widevine, PlayReady
// and the W3C common format (ClearKey), PlayReady Objects, FairPlay skd:// URIs and DASH-IF
// CPIX key documents.
package drm

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// KID is a 16-byte key identifier in CENC (big-endian, ISO/IEC 23001-7) byte order.
type KID [16]byte

// ParseKID accepts a key ID as a UUID with dashes, 32 hex digits (optionally 0x-prefixed or
// in braces), or base64/base64url (with or without padding) of 16 bytes.
func ParseKID(s string) (KID, error) {
	var k KID
	b, err := decode16(s)
	if err != nil {
		return k, fmt.Errorf("key ID %q: %w", s, err)
	}
	copy(k[:], b)
	return k, nil
}

// decode16 decodes a 16-byte value written as UUID, hex or base64.
func decode16(s string) ([]byte, error) {
	t := strings.TrimSpace(s)
	// Braces and a 0x prefix belong to the hex/UUID notations only: a base64 value may
	// legitimately start with "0x", so the base64 attempt below uses t unchanged.
	h := strings.TrimPrefix(strings.TrimSuffix(t, "}"), "{")
	h = strings.TrimPrefix(strings.TrimPrefix(h, "0x"), "0X")
	if h = strings.ReplaceAll(h, "-", ""); len(h) == 32 {
		if b, err := hex.DecodeString(h); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(t); err == nil {
			if len(b) != 16 {
				return nil, fmt.Errorf("decodes to %d bytes, want 16", len(b))
			}
			return b, nil
		}
	}
	return nil, fmt.Errorf("not a 16-byte value: use a UUID (8-4-4-4-12), 32 hex digits or base64")
}

// RandomKID returns a key ID from crypto/rand (a version-4 UUID).
func RandomKID() (KID, error) {
	var k KID
	if _, err := rand.Read(k[:]); err != nil {
		return k, fmt.Errorf("generate key ID: %w", err)
	}
	k[6] = k[6]&0x0f | 0x40
	k[8] = k[8]&0x3f | 0x80
	return k, nil
}

// IsZero reports whether every byte of the key ID is zero.
func (k KID) IsZero() bool { return k == KID{} }

// String returns the lowercase UUID form 8-4-4-4-12.
func (k KID) String() string {
	h := hex.EncodeToString(k[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// Hex returns 32 lowercase hex digits.
func (k KID) Hex() string { return hex.EncodeToString(k[:]) }

// Base64 returns standard base64 with padding (the CPIX and PSSH-in-manifest convention).
func (k KID) Base64() string { return base64.StdEncoding.EncodeToString(k[:]) }

// Base64URL returns base64url without padding (the W3C ClearKey JWK convention).
func (k KID) Base64URL() string { return base64.RawURLEncoding.EncodeToString(k[:]) }

// PlayReadyLE returns the key ID in PlayReady's GUID byte order: the first three fields
// (4, 2 and 2 bytes) are little-endian, the last 8 bytes unchanged (PlayReady Header
// Specification, "KID").
func (k KID) PlayReadyLE() [16]byte {
	var g [16]byte
	g[0], g[1], g[2], g[3] = k[3], k[2], k[1], k[0]
	g[4], g[5] = k[5], k[4]
	g[6], g[7] = k[7], k[6]
	copy(g[8:], k[8:])
	return g
}

// PlayReadyBase64 returns the base64 of PlayReadyLE, the form used in WRMHEADER KID values.
func (k KID) PlayReadyBase64() string {
	g := k.PlayReadyLE()
	return base64.StdEncoding.EncodeToString(g[:])
}

// KIDFromPlayReadyLE converts a PlayReady little-endian GUID back to CENC byte order.
func KIDFromPlayReadyLE(g [16]byte) KID {
	// The swap is its own inverse.
	return KID(KID(g).PlayReadyLE())
}

// MarshalText encodes the key ID as a UUID (used by JSON).
func (k KID) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText accepts every form ParseKID accepts.
func (k *KID) UnmarshalText(b []byte) error {
	v, err := ParseKID(string(b))
	if err != nil {
		return err
	}
	*k = v
	return nil
}
