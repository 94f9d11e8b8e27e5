package drm

import "fmt"

// Signalling is everything the packager needs to signal protection for one presentation:
// the encryption scheme, the keys, the DRM systems and their license/key URLs.
type Signalling struct {
	// Scheme is SchemeCENC (AES-CTR) or SchemeCBCS (AES-CBC pattern).
	Scheme Scheme
	// Keys are all content keys of the presentation.
	Keys []ContentKey
	// Systems are the DRM systems to signal.
	Systems []System
	// PlayReadyLAURL is written into the WRMHEADER LA_URL (optional).
	PlayReadyLAURL string
	// ClearKeyLAURL is the ClearKey license URL for dashif:laurl (optional).
	ClearKeyLAURL string
	// WidevineProvider is the provider field of WidevinePsshData (optional).
	WidevineProvider string
	// WidevineContentID is the content_id field of WidevinePsshData (optional; some license
	// services reject a PSSH without one).
	WidevineContentID []byte
	// AllKeys makes every system's init data for a track — the MPD's cenc:pssh and mspr:pro,
	// the HLS EXT-X-KEY and EXT-X-SESSION-KEY data URIs, the CPIX PSSH — list every key ID of
	// the presentation, not only the track's: one license request then returns every key, as
	// a player that keeps one offline key set (ExoPlayer) needs. FairPlay's skd:// URI names
	// one key whatever this says.
	AllKeys bool
	// FairPlayKeyURI is the skd:// base; the KID hex is appended (default "skd://satchel").
	FairPlayKeyURI string
}

// Has reports whether s signals the system.
func (s Signalling) Has(sys System) bool {
	for _, v := range s.Systems {
		if v == sys {
			return true
		}
	}
	return false
}

// KIDs returns the key IDs of all keys, in order.
func (s Signalling) KIDs() []KID {
	out := make([]KID, len(s.Keys))
	for i, k := range s.Keys {
		out[i] = k.KID
	}
	return out
}

// InitDataKeys returns the keys the init data of the track protected by kid names: every key
// when s.AllKeys, else that key alone. A KID not among s.Keys is an error.
func (s Signalling) InitDataKeys(kid KID) ([]ContentKey, error) {
	key, ok := KeyByKID(s.Keys, kid)
	if !ok {
		return nil, fmt.Errorf("KID %s is not among the presentation's keys", kid)
	}
	if s.AllKeys {
		return s.Keys, nil
	}
	return []ContentKey{key}, nil
}
