package drm

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// HLS KEYFORMAT identifiers per system.
const (
	// KeyFormatFairPlay is Apple's FairPlay Streaming key format (URI skd://…).
	KeyFormatFairPlay = "com.apple.streamingkeydelivery"
	// KeyFormatWidevine is the DASH-IF style system-ID URN Shaka Packager writes for
	// Widevine (URI: data: URI of the full Widevine pssh box).
	KeyFormatWidevine = "urn:uuid:" + WidevineSystemID
	// KeyFormatPlayReady is Microsoft's key format (URI: data: URI, UTF-16 charset, of the PRO).
	KeyFormatPlayReady = "com.microsoft.playready"
	// KeyFormatClearKey signals W3C ClearKey the same way as Widevine: the common system ID
	// URN with the v1 common pssh as a data: URI. The HLS "identity" key format is not used:
	// its URI must return the raw content key, which would publish the key next to the media.
	KeyFormatClearKey = "urn:uuid:" + CommonSystemID
	// KeyFormatIdentity is the HLS default key format (URI returns the raw key); recognised
	// when reading playlists, never written by Satchel.
	KeyFormatIdentity = "identity"
)

// ClearKeySystemName is the EME key system string of W3C ClearKey.
const ClearKeySystemName = "org.w3.clearkey"

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
	// The KID is the last path element, or the last elements joined when it is standard
	// base64 (which may itself contain '/'), or everything after skd:// (skd://<kid>).
	for end := len(rest); ; {
		i := strings.LastIndex(rest[:end], "/")
		if k, err := ParseKID(rest[i+1:]); err == nil {
			return k, nil
		}
		if i < 0 {
			break
		}
		end = i
	}
	return KID{}, fmt.Errorf("fairplay key URI %q: no key ID (32 hex digits, UUID or base64) at its end", uri)
}

// HLSKey is the attribute set of one EXT-X-KEY (or EXT-X-SESSION-KEY) line.
type HLSKey struct {
	System            System // the DRM system the tag is for
	Method            string // SAMPLE-AES (cbcs) or SAMPLE-AES-CTR (cenc)
	URI               string // skd:// or data: URI with the system's init data
	KeyFormat         string // KeyFormatFairPlay, KeyFormatWidevine, …
	KeyFormatVersions string // "1"
	IV                string // 0x-prefixed hex; empty when the IV travels with the media or key
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

// HLSKeys returns the EXT-X-KEY (or EXT-X-SESSION-KEY) attribute sets for one key (kid) under
// sig, one per system in sig.Systems order: FairPlay with an skd:// URI and no IV (cbcs only:
// FairPlay requires SAMPLE-AES; FairPlay carries the IV with the key), Widevine with its pssh
// box and PlayReady with its PRO as data: URIs (the Shaka Packager convention), ClearKey with
// the common pssh (see KeyFormatClearKey). The method is SAMPLE-AES for cbcs and
// SAMPLE-AES-CTR for cenc. Each system's init data names kid alone, or every key of the
// presentation when sig.AllKeys (Signalling.InitDataKeys).
func HLSKeys(sig Signalling, kid KID) ([]HLSKey, error) {
	method := "SAMPLE-AES"
	if sig.Scheme == SchemeCENC {
		method = "SAMPLE-AES-CTR"
	}
	keys, err := sig.InitDataKeys(kid)
	if err != nil {
		return nil, fmt.Errorf("hls keys: %w", err)
	}
	one := sig
	one.Keys = keys
	var out []HLSKey
	for _, s := range sig.Systems {
		switch s {
		case FairPlay:
			if sig.Scheme != SchemeCBCS {
				continue
			}
			out = append(out, HLSKey{System: s, Method: method, URI: FairPlaySKD(sig.FairPlayKeyURI, kid), KeyFormat: KeyFormatFairPlay, KeyFormatVersions: "1"})
		case Widevine, ClearKey:
			box, err := singlePSSH(one, s)
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
