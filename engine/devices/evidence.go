package devices

import (
	"slices"

	"satchel/engine/drm"
	"satchel/engine/media"
	"satchel/engine/policy"
)

// Delivery is how a device downloads a presentation.
type Delivery string

// The deliveries a package can offer.
const (
	// DeliveryDASH is a DASH MPD with CMAF segments.
	DeliveryDASH Delivery = "dash"
	// DeliveryHLS is an HLS multivariant playlist with media playlists.
	DeliveryHLS Delivery = "hls"
	// DeliveryDownload is a single protected MP4 for progressive download.
	DeliveryDownload Delivery = "download"
)

// Place is where a presentation signals a DRM system.
type Place string

// The places a DRM system can be signalled.
const (
	// PlaceMPD: an MPD ContentProtection element with init data (cenc:pssh or mspr:pro).
	PlaceMPD Place = "mpd"
	// PlaceMPDDescriptor: an MPD ContentProtection element naming the system, without init data.
	PlaceMPDDescriptor Place = "mpd-descriptor"
	// PlaceInit: a pssh box in an init segment (or a single file's moov).
	PlaceInit Place = "init"
	// PlaceMoof: a pssh box in a media segment's moof only (late signalling, key rotation).
	PlaceMoof Place = "moof"
	// PlacePIFF: a PIFF 1.1 uuid pssh box (d08a4f18-…) in a moov.
	PlacePIFF Place = "piff"
	// PlaceHLSKey: an EXT-X-KEY tag in a media playlist.
	PlaceHLSKey Place = "hls-key"
	// PlaceHLSSessionKey: an EXT-X-SESSION-KEY tag in the multivariant playlist.
	PlaceHLSSessionKey Place = "hls-session-key"
)

// Signal is one place that signals a DRM system, with what its init data names.
type Signal struct {
	System drm.System `json:"system"`
	Place  Place      `json:"place"`
	// Location names the file and element: "manifest.mpd, Representation 240p".
	Location string `json:"location"`
	// Track is the representation or rendition the signal belongs to (empty: presentation).
	Track string     `json:"track,omitempty"`
	Kind  media.Kind `json:"kind,omitempty"`
	// KIDs are the key IDs the init data lists (PSSH key IDs, PlayReady header KIDs, the KID of
	// an skd:// URI).
	KIDs []drm.KID `json:"kids,omitempty"`
	// ContentID is set when a Widevine PSSH carries a content_id, which a license service
	// may use to return every key of the content.
	ContentID bool `json:"content_id,omitempty"`
	// PlayReadyVersion and PlayReadyAlgID come from a PlayReady header (WRMHEADER).
	PlayReadyVersion string `json:"playready_version,omitempty"`
	PlayReadyAlgID   string `json:"playready_algid,omitempty"`
	// Size is the size in bytes of the init data (for PlayReady, the PlayReady Object).
	Size int `json:"size,omitempty"`
	// Method is the HLS METHOD (SAMPLE-AES, SAMPLE-AES-CTR).
	Method string `json:"method,omitempty"`
	// KeyFormat is the HLS KEYFORMAT.
	KeyFormat string `json:"keyformat,omitempty"`
	// InitData is what a license request for the system carries (pssh box, PlayReady Object,
	// skd:// URI); empty for a descriptor without data.
	InitData []byte `json:"-"`
}

// Presentation is one downloadable form of the content: an MPD, an HLS multivariant
// playlist, or a single MP4.
type Presentation struct {
	Delivery Delivery `json:"delivery"`
	// Location is the manifest or file, relative to the package when it is a folder.
	Location string `json:"location"`
	// Dynamic is set for a dynamic (live) MPD or an HLS playlist without EXT-X-ENDLIST.
	Dynamic bool `json:"dynamic,omitempty"`
	// Schemes are the common encryption schemes the tracks use (from their init segments).
	Schemes []drm.Scheme `json:"schemes"`
	// PIFF is set when the tracks carry PIFF 1.1 boxes (uuid tenc/senc/pssh).
	PIFF bool `json:"piff,omitempty"`
	// KIDs are every key ID the presentation's tracks use.
	KIDs    []drm.KID `json:"kids"`
	Signals []Signal  `json:"signals"`
	// AudioTracks counts audio adaptation sets (DASH), audio renditions (HLS EXT-X-MEDIA
	// TYPE=AUDIO, or muxed audio when there is none), or audio tracks (MP4).
	AudioTracks int `json:"audio_tracks"`
	// TextTracks counts text adaptation sets or subtitle renditions.
	TextTracks int `json:"text_tracks,omitempty"`
	// AudioOnlyVariants counts HLS variants without video.
	AudioOnlyVariants int `json:"audio_only_variants,omitempty"`
	// VideoWithoutAudio counts HLS video variants that neither mux audio nor name an audio group.
	VideoWithoutAudio int `json:"video_without_audio,omitempty"`
}

// Evidence is what a package and its policy provide, as the device rules need it.
type Evidence struct {
	// Source is what was examined (folder, manifest, file or URL).
	Source        string         `json:"source"`
	Presentations []Presentation `json:"presentations"`
	// Policy is the offline policy licenses are issued under; nil when unknown, which makes
	// the policy rules (persistence, durations) Unknown.
	Policy *policy.Policy `json:"-"`
	// PolicySource says where the policy came from ("policy.json", a preset name).
	PolicySource string `json:"policy_source,omitempty"`
}

// signals returns the presentation's signals for sys at one of places (all places when none
// are given), in document order.
func (p *Presentation) signals(sys drm.System, places ...Place) []Signal {
	var out []Signal
	for _, s := range p.Signals {
		if s.System == sys && (len(places) == 0 || slices.Contains(places, s.Place)) {
			out = append(out, s)
		}
	}
	return out
}

// onlyScheme reports whether every scheme of p is sc (and p has at least one).
func (p *Presentation) onlyScheme(sc drm.Scheme) bool {
	return len(p.Schemes) > 0 && !slices.ContainsFunc(p.Schemes, func(s drm.Scheme) bool { return s != sc })
}

// InitData returns, per DRM system, the init data a license request for the content would
// carry: the first signal with data, preferring manifests over init segments. The simulated
// device (engine/simulate) acquires its licenses with it.
func (ev *Evidence) InitData() map[drm.System][]byte {
	out := map[drm.System][]byte{}
	for _, pass := range [][]Place{{PlaceMPD, PlaceHLSSessionKey, PlaceHLSKey}, {PlaceInit, PlacePIFF}} {
		for _, p := range ev.Presentations {
			for _, s := range p.Signals {
				if _, done := out[s.System]; !done && len(s.InitData) > 0 && slices.Contains(pass, s.Place) {
					out[s.System] = s.InitData
				}
			}
		}
	}
	return out
}

// KIDs returns every key ID the presentations use, in first-seen order.
func (ev *Evidence) KIDs() []drm.KID {
	var out []drm.KID
	for _, p := range ev.Presentations {
		for _, k := range p.KIDs {
			if !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
	}
	return out
}

// Systems returns the DRM systems any presentation signals, in drm.AllSystems order.
func (ev *Evidence) Systems() []drm.System {
	var out []drm.System
	for _, sys := range drm.AllSystems {
		for _, p := range ev.Presentations {
			if len(p.signals(sys)) > 0 && !slices.Contains(out, sys) {
				out = append(out, sys)
			}
		}
	}
	return out
}
