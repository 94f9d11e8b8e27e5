package drm

import (
	"fmt"
	"strings"
)

// Scheme is a common encryption scheme of ISO/IEC 23001-7 (the four-character code in 'schm').
type Scheme string

// The common encryption schemes. Satchel writes cenc and cbcs; it reads and verifies all four.
const (
	// SchemeCENC is AES-CTR full-sample (video: subsample) encryption, the DASH default.
	SchemeCENC Scheme = "cenc"
	// SchemeCBCS is AES-CBC pattern encryption (1:9 video, whole blocks audio) with a constant
	// IV: FairPlay/HLS SAMPLE-AES, and modern Widevine and PlayReady 4 clients.
	SchemeCBCS Scheme = "cbcs"
	// SchemeCENS is AES-CTR pattern encryption.
	SchemeCENS Scheme = "cens"
	// SchemeCBC1 is AES-CBC full-sample encryption without a pattern.
	SchemeCBC1 Scheme = "cbc1"
)

// WrittenSchemes are the schemes Satchel packages with, in the order it writes them.
var WrittenSchemes = []Scheme{SchemeCENC, SchemeCBCS}

// AllSchemes are every scheme Satchel can read.
var AllSchemes = []Scheme{SchemeCENC, SchemeCBCS, SchemeCENS, SchemeCBC1}

// ParseScheme parses a scheme name (case-insensitive) among AllSchemes.
func ParseScheme(s string) (Scheme, error) {
	sc := Scheme(strings.ToLower(strings.TrimSpace(s)))
	if sc.Known() {
		return sc, nil
	}
	return "", fmt.Errorf("unknown encryption scheme %q: use cenc, cbcs, cens or cbc1", s)
}

// ParseWrittenSchemes parses "cenc", "cbcs" or "both" (also a comma-separated list) into the
// schemes Satchel writes, in WrittenSchemes order without duplicates.
func ParseWrittenSchemes(s string) ([]Scheme, error) {
	if strings.EqualFold(strings.TrimSpace(s), "both") {
		return append([]Scheme(nil), WrittenSchemes...), nil
	}
	seen := map[Scheme]bool{}
	for _, f := range strings.Split(s, ",") {
		if strings.TrimSpace(f) == "" {
			continue
		}
		sc, err := ParseScheme(f)
		if err != nil || !sc.Writable() {
			return nil, fmt.Errorf("encryption scheme %q: use cenc, cbcs or both", f)
		}
		seen[sc] = true
	}
	var out []Scheme
	for _, sc := range WrittenSchemes {
		if seen[sc] {
			out = append(out, sc)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no encryption scheme given: use cenc, cbcs or both")
	}
	return out, nil
}

// Known reports whether s is one of AllSchemes.
func (s Scheme) Known() bool {
	for _, k := range AllSchemes {
		if s == k {
			return true
		}
	}
	return false
}

// Writable reports whether Satchel packages with s (cenc or cbcs).
func (s Scheme) Writable() bool { return s == SchemeCENC || s == SchemeCBCS }

// CBC reports whether s uses AES-CBC (cbcs, cbc1); otherwise it uses AES-CTR.
func (s Scheme) CBC() bool { return s == SchemeCBCS || s == SchemeCBC1 }

// Pattern reports whether s uses pattern encryption (cbcs, cens).
func (s Scheme) Pattern() bool { return s == SchemeCBCS || s == SchemeCENS }
