package drm

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// HLS KEYFORMAT identifiers per system.
const (
	KeyFormatFairPlay  = "com.apple.streamingkeydelivery"
	KeyFormatWidevine  = "urn:uuid:" + WidevineSystemID
	KeyFormatPlayReady = "com.microsoft.playready"
	KeyFormatClearKey  = "urn:uuid:" + CommonSystemID
)

// DefaultFairPlayBase is used when Signalling.FairPlayKeyURI is empty.
const DefaultFairPlayBase = "skd://satchel"

// FairPlaySKD returns the FairPlay key URI for a KID: base + "/" + 32 hex digits. The KID in
// the URI is what the app passes to its key server (AMS also used the skd URI as key ID).
func FairPlaySKD(base string, kid KID) string {
	if base == "" {
		base = DefaultFairPlayBase
	}
	return strings.TrimRight(base, "/") + "/" + kid.Hex()
}

// ParseFairPlaySKD extracts the KID from an skd:// URI whose last path element (or query
// value) is the KID as hex, UUID or base64.
func ParseFairPlaySKD(uri string) (KID, error) {
	if !strings.HasPrefix(strings.ToLower(uri), "skd://") {
		return KID{}, fmt.Errorf("fairplay key URI %q does not start with skd://", uri)
	}
	rest := uri[len("skd://"):]
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		// skd://host?kid or skd://host?id=kid
		q := rest[i+1:]
		if _, v, ok := strings.Cut(q, "="); ok {
			q = v
		}
		if k, err := ParseKID(q); err == nil {
			return k, nil
		}
		rest = rest[:i]
	}
	last := rest
	if i := strings.LastIndex(rest, "/"); i >= 0 {
		last = rest[i+1:]
	}
	k, err := ParseKID(last)
	if err != nil {
		return KID{}, fmt.Errorf("fairplay key URI %q: no key ID at its end: %w", uri, err)
	}
	return k, nil
}

// HLSKey is the attribute set of one EXT-X-KEY (or EXT-X-SESSION-KEY) line.
type HLSKey struct {
	System            System
	Method            string
	URI               string
	KeyFormat         string
	KeyFormatVersions string
	IV                string
}

// Attributes renders the tag attributes (without the tag name).
func (k HLSKey) Attributes() string {
	s := fmt.Sprintf(`METHOD=%s,URI="%s"`, k.Method, k.URI)
	if k.IV != "" {
		s += ",IV=" + k.IV
	}
	if k.KeyFormat != "" {
		s += fmt.Sprintf(`,KEYFORMAT="%s"`, k.KeyFormat)
	}
	if k.KeyFormatVersions != "" {
		s += fmt.Sprintf(`,KEYFORMATVERSIONS="%s"`, k.KeyFormatVersions)
	}
	return s
}

// HLSKeys returns the EXT-X-KEY attribute sets for one key (kid) under sig: FairPlay with an
// skd:// URI (cbcs only: FairPlay requires SAMPLE-AES), Widevine and PlayReady with their
// init data as data: URIs, ClearKey (cenc keyformat with the common pssh). The method is
// SAMPLE-AES for cbcs and SAMPLE-AES-CTR for cenc.
func HLSKeys(sig Signalling, kid KID) ([]HLSKey, error) {
	method := "SAMPLE-AES"
	if sig.Scheme == "cenc" {
		method = "SAMPLE-AES-CTR"
	}
	key, ok := KeyByKID(sig.Keys, kid)
	if !ok {
		return nil, fmt.Errorf("hls keys: KID %s is not among the presentation's keys", kid)
	}
	one := sig
	one.Keys = []ContentKey{key}
	var out []HLSKey
	for _, s := range sig.Systems {
		switch s {
		case FairPlay:
			if sig.Scheme != "cbcs" {
				continue
			}
			out = append(out, HLSKey{System: s, Method: method, URI: FairPlaySKD(sig.FairPlayKeyURI, kid), KeyFormat: KeyFormatFairPlay, KeyFormatVersions: "1"})
		case Widevine, ClearKey:
			var box, err = singlePSSH(one, s)
			if err != nil {
				return nil, err
			}
			kf := KeyFormatWidevine
			if s == ClearKey {
				kf = KeyFormatClearKey
			}
			out = append(out, HLSKey{System: s, Method: method, URI: "data:text/plain;base64," + box, KeyFormat: kf, KeyFormatVersions: "1"})
		case PlayReady:
			pro, err := PlayReadyObject(one.Keys, sig.Scheme, sig.PlayReadyLAURL)
			if err != nil {
				return nil, err
			}
			out = append(out, HLSKey{System: s, Method: method, URI: "data:text/plain;charset=UTF-16;base64," + base64.StdEncoding.EncodeToString(pro), KeyFormat: KeyFormatPlayReady, KeyFormatVersions: "1"})
		}
	}
	return out, nil
}

func singlePSSH(sig Signalling, s System) (string, error) {
	sig.Systems = []System{s}
	boxes, err := PSSHBoxes(sig)
	if err != nil {
		return "", err
	}
	return PSSHBase64(boxes[0])
}
