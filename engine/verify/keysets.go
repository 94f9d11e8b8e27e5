package verify

import (
	"fmt"
	"sort"
	"strings"

	"satchel/engine/drm"
)

// checkKeySets judges each entry point's DRM init data for what license services and offline
// players need: a Widevine PSSH without content_id (some license services reject the request),
// and init data that does not list every key ID of the presentation (ExoPlayer/Media3 keeps one
// offline key set per download, so one license request must return every key). Both are
// warnings: the package plays online, and per-track init data can be a deliberate choice.
func (v *verifier) checkKeySets() {
	inv := &v.rep.Inventory
	for _, e := range v.entries {
		var kids []drm.KID
		for _, t := range inv.Tracks {
			if t.Entry == e.name && t.KID != nil && !containsKID(kids, *t.KID) {
				kids = append(kids, *t.KID)
			}
		}
		sort.Slice(kids, func(i, j int) bool { return kids[i].String() < kids[j].String() })
		var noCID []Signal
		partial := map[drm.System][]Signal{}
		for _, s := range inv.Signals {
			if s.Entry != e.name || s.System == "" || s.Source == SourceMoofPSSH {
				continue
			}
			if s.System == drm.Widevine && s.SystemID != "" && !s.WidevineContentID {
				noCID = append(noCID, s)
			}
			if s.System != drm.FairPlay && len(s.KIDs) > 0 && len(kids) > 1 && len(missingFrom(kids, s.KIDs)) > 0 {
				partial[s.System] = append(partial[s.System], s)
			}
		}
		if len(noCID) > 0 {
			s := noCID[0]
			v.rep.warnAt(Where{File: s.File, At: s.At}, CatDRM, e.name, fmt.Sprintf("the Widevine PSSH has no content_id (%s): "+
				"some license services reject a license request without one", signalPlaces(noCID)),
				"give the title a content_id in the Widevine PSSH")
		}
		for _, sys := range drm.AllSystems {
			list := partial[sys]
			if len(list) == 0 {
				continue
			}
			s := list[0]
			missing := missingFrom(kids, s.KIDs)
			v.rep.warnAt(Where{File: s.File, At: s.At}, CatDRM, e.name, fmt.Sprintf("the %s init data lists %d of the %d key IDs "+
				"of the presentation (%s; missing %s): one license request does not return every key, and ExoPlayer/Media3 "+
				"keeps one offline key set per download, so an offline download fails on the keys it lacks (\"Crypto key not "+
				"available\"); if one key per request is intended, the device must license each key set separately",
				sys.Title(), len(kids)-len(missing), len(kids), signalPlaces(list), kidText(missing)),
				"list every key ID of the presentation in each PSSH (or use one key for every track)")
		}
	}
}

// missingFrom returns the KIDs of want that have is not.
func missingFrom(want, have []drm.KID) []drm.KID {
	var out []drm.KID
	for _, k := range want {
		if !containsKID(have, k) {
			out = append(out, k)
		}
	}
	return out
}

func kidText(kids []drm.KID) string {
	s := make([]string, len(kids))
	for i, k := range kids {
		s[i] = k.String()
	}
	return strings.Join(s, ", ")
}

// signalPlaces names where signals are: "3 places, first cenc/240p/init.mp4: moov/pssh[0]".
func signalPlaces(list []Signal) string {
	first := Finding{File: list[0].File, At: list[0].At}.Location()
	if len(list) == 1 {
		return first
	}
	return fmt.Sprintf("%d places, first %s", len(list), first)
}
