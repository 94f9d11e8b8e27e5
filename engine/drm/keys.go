package drm

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"

	"satchel/engine/media"
)

// Track types a content key is used for (CPIX intendedTrackType, AMS key-per-track-type).
const (
	TrackAudio = "AUDIO"
	TrackSD    = "SD"
	TrackHD    = "HD"
	TrackUHD   = "UHD"
	// TrackAll marks one key for every track (audio and every video resolution): the common
	// simple setup. Next to per-track-type keys it covers the track types they leave out.
	TrackAll = "ALL"
)

// TrackTypes lists the track types in ascending order (TrackAll is not one: it covers them).
var TrackTypes = []string{TrackAudio, TrackSD, TrackHD, TrackUHD}

// ContentKey is one AES-128 content key with its key ID and the track type it protects.
type ContentKey struct {
	TrackType string   `json:"track_type"`
	KID       KID      `json:"kid"`
	Key       [16]byte `json:"-"`
}

// KeyHex returns the key as 32 hex digits.
func (c ContentKey) KeyHex() string { return hex.EncodeToString(c.Key[:]) }

// ParseKeySpec parses "TYPE=KID:KEY" (as in `--key HD=KID:KEY`; TYPE AUDIO, SD, HD, UHD or ALL)
// or "KID:KEY" (TrackType empty). KID and KEY are each a UUID, 32 hex digits or base64 of 16
// bytes.
func ParseKeySpec(s string) (ContentKey, error) {
	var ck ContentKey
	spec := strings.TrimSpace(s)
	if t, rest, ok := strings.Cut(spec, "="); ok && !strings.Contains(t, ":") && isTrackTypeName(t) {
		tt := strings.ToUpper(strings.TrimSpace(t))
		if !validTrackType(tt) {
			return ck, fmt.Errorf("key %q: track type %q is not one of AUDIO, SD, HD, UHD, ALL", s, t)
		}
		ck.TrackType = tt
		spec = rest
	}
	kidPart, keyPart, ok := strings.Cut(spec, ":")
	if !ok {
		return ck, fmt.Errorf("key %q: expected TYPE=KID:KEY (for example HD=0123…:4567…)", s)
	}
	kid, err := ParseKID(kidPart)
	if err != nil {
		return ck, fmt.Errorf("key %q: %w", s, err)
	}
	kb, err := decode16(keyPart)
	if err != nil {
		return ck, fmt.Errorf("key %q: content key: %w", s, err)
	}
	ck.KID = kid
	copy(ck.Key[:], kb)
	return ck, nil
}

// isTrackTypeName reports whether t looks like a track-type prefix (letters only), so that
// base64 KIDs containing '=' padding are not mistaken for one.
func isTrackTypeName(t string) bool {
	t = strings.TrimSpace(t)
	if t == "" || len(t) > 8 {
		return false
	}
	for _, r := range t {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

func validTrackType(t string) bool {
	if t == TrackAll {
		return true
	}
	for _, v := range TrackTypes {
		if v == t {
			return true
		}
	}
	return false
}

// RandomContentKey returns a new key with a random KID and key from crypto/rand.
func RandomContentKey(trackType string) (ContentKey, error) {
	ck := ContentKey{TrackType: trackType}
	kid, err := RandomKID()
	if err != nil {
		return ck, err
	}
	ck.KID = kid
	if _, err := rand.Read(ck.Key[:]); err != nil {
		return ck, fmt.Errorf("generate content key: %w", err)
	}
	return ck, nil
}

// TrackTypeFor returns the track type of a track: audio → AUDIO; video by height:
// SD below 720 lines, HD from 720 up to 1088 lines (1080p coded as 1088 included), UHD above.
// These thresholds match the usual multi-key policy (separate keys so SD can be licensed to
// lower security levels than HD/UHD).
func TrackTypeFor(kind media.Kind, width, height int) string {
	if kind == media.Audio {
		return TrackAudio
	}
	switch {
	case height < 720:
		return TrackSD
	case height <= 1088:
		return TrackHD
	default:
		return TrackUHD
	}
}

// CheckKeys reports duplicate KIDs or track types in a key list.
func CheckKeys(keys []ContentKey) error {
	kids := map[KID]string{}
	types := map[string]bool{}
	for _, k := range keys {
		if prev, ok := kids[k.KID]; ok {
			return fmt.Errorf("key ID %s is used for both %s and %s: give every track type its own KID", k.KID, prev, k.TrackType)
		}
		kids[k.KID] = k.TrackType
		if k.TrackType != "" {
			if types[k.TrackType] {
				return fmt.Errorf("two keys for track type %s: give one key per track type", k.TrackType)
			}
			types[k.TrackType] = true
		}
	}
	return nil
}

// KeyFor returns the key for a track type from keys: the key of that type, else the TrackAll
// key.
func KeyFor(keys []ContentKey, trackType string) (ContentKey, bool) {
	for _, k := range keys {
		if k.TrackType == trackType {
			return k, true
		}
	}
	for _, k := range keys {
		if k.TrackType == TrackAll {
			return k, true
		}
	}
	return ContentKey{}, false
}

// CoveredTypes returns the track types (of TrackTypes) that k protects among keys: its own
// type, or for the TrackAll key every type no other key of keys has.
func CoveredTypes(keys []ContentKey, k ContentKey) []string {
	if k.TrackType != TrackAll {
		return []string{k.TrackType}
	}
	var out []string
	for _, tt := range TrackTypes {
		if other, ok := KeyFor(keys, tt); ok && other.KID == k.KID {
			out = append(out, tt)
		}
	}
	return out
}

// KeyByKID returns the key with the given KID.
func KeyByKID(keys []ContentKey, kid KID) (ContentKey, bool) {
	for _, k := range keys {
		if k.KID == kid {
			return k, true
		}
	}
	return ContentKey{}, false
}
