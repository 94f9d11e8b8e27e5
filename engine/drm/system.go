package drm

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/Eyevinn/mp4ff/mp4"
)

// System is a DRM system Satchel signals.
type System string

// The DRM systems Satchel knows.
const (
	Widevine  System = "widevine"
	PlayReady System = "playready"
	FairPlay  System = "fairplay"
	ClearKey  System = "clearkey"
)

// AllSystems lists every system in the order Satchel writes them.
var AllSystems = []System{Widevine, PlayReady, FairPlay, ClearKey}

// DASH-IF registered system IDs (https://dashif.org/identifiers/content_protection/).
const (
	WidevineSystemID  = "edef8ba9-79d6-4ace-a3c8-27dcd51d21ed"
	PlayReadySystemID = "9a04f079-9840-4286-ab92-e65be0885f95"
	FairPlaySystemID  = "94ce86fb-07ff-4f43-adb8-93d2fa968ca2"
	// CommonSystemID is the W3C common PSSH format used by ClearKey.
	CommonSystemID = "1077efec-c0b2-4d02-ace3-3c1e52e2fb4b"
	// ClearKeyDASHSchemeID is the DASH-IF ClearKey ContentProtection scheme.
	ClearKeyDASHSchemeID = "e2719d58-a985-b3c9-781a-b030af78d30e"
)

// ParseSystems parses a comma-separated list such as "widevine,playready"; "all" selects
// every system. Names are case-insensitive; duplicates are dropped.
func ParseSystems(csv string) ([]System, error) {
	var out []System
	seen := map[System]bool{}
	for _, f := range strings.Split(csv, ",") {
		name := System(strings.ToLower(strings.TrimSpace(f)))
		if name == "" {
			continue
		}
		if name == "all" {
			return append([]System(nil), AllSystems...), nil
		}
		if name.SystemID() == nil {
			return nil, fmt.Errorf("unknown DRM system %q: use widevine, playready, fairplay, clearkey or all", f)
		}
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no DRM system given: use widevine, playready, fairplay, clearkey or all")
	}
	return out, nil
}

// SystemID returns the 16-byte system ID of s (ClearKey: the W3C common ID), or nil for an
// unknown system.
func (s System) SystemID() mp4.UUID {
	var id string
	switch s {
	case Widevine:
		id = WidevineSystemID
	case PlayReady:
		id = PlayReadySystemID
	case FairPlay:
		id = FairPlaySystemID
	case ClearKey:
		id = CommonSystemID
	default:
		return nil
	}
	b, _ := hex.DecodeString(strings.ReplaceAll(id, "-", ""))
	return mp4.UUID(b)
}

// Title returns the product name for display.
func (s System) Title() string {
	switch s {
	case Widevine:
		return "Widevine"
	case PlayReady:
		return "PlayReady"
	case FairPlay:
		return "FairPlay"
	case ClearKey:
		return "ClearKey"
	}
	return string(s)
}

// SystemForID maps a system ID (16 bytes) to a System.
func SystemForID(id mp4.UUID) (System, bool) {
	for _, s := range AllSystems {
		if bytes.Equal(s.SystemID(), id) {
			return s, true
		}
	}
	return "", false
}
