package drm

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
