package verify

import (
	"satchel/engine/decode"
	"satchel/engine/drm"
	"satchel/engine/media"
)

// Inventory is what a verified package holds and signals, as facts other analyses (device
// readiness, reports) can use without re-reading the package. It records what was found, not
// whether it is right: the findings judge.
type Inventory struct {
	Manifests  []ManifestFact `json:"manifests,omitempty"`
	Tracks     []TrackFact    `json:"tracks,omitempty"`
	Downloads  []DownloadFact `json:"downloads,omitempty"`
	Subtitles  []SubtitleFact `json:"subtitles,omitempty"`
	Signals    []Signal       `json:"signals,omitempty"`
	NotChecked []NotChecked   `json:"not_checked,omitempty"`
}

// ManifestKind is the kind of an entry point.
type ManifestKind string

// The entry point kinds.
const (
	KindDASH      ManifestKind = "dash"             // an MPD
	KindHLSMaster ManifestKind = "hls-multivariant" // a master playlist
	KindHLSMedia  ManifestKind = "hls-media"        // a media playlist checked on its own
	KindFile      ManifestKind = "file"             // a single MP4 (progressive or fragmented)
	KindCMAF      ManifestKind = "cmaf-track"       // an init segment and its segments, no manifest
)

// ManifestFact is one entry point that was checked.
type ManifestFact struct {
	File    string       `json:"file"`
	Kind    ManifestKind `json:"kind"`
	Dynamic bool         `json:"dynamic,omitempty"` // a live MPD or an HLS playlist without ENDLIST
	// Schemes are the encryption schemes of its tracks; Systems the DRM systems it signals.
	Schemes         []drm.Scheme `json:"schemes,omitempty"`
	Systems         []drm.System `json:"systems,omitempty"`
	VideoRenditions int          `json:"video_renditions"`
	AudioRenditions int          `json:"audio_renditions"`
	// TextRenditions counts subtitle renditions (DASH text Representations, HLS
	// EXT-X-MEDIA TYPE=SUBTITLES, text tracks of a file).
	TextRenditions int `json:"text_renditions,omitempty"`
	// AudioTracks counts the audio a player offers to choose from: audio AdaptationSets
	// (DASH), EXT-X-MEDIA TYPE=AUDIO renditions or muxed audio (HLS), audio tracks (file).
	AudioTracks int `json:"audio_tracks"`
	// AudioOnlyVariants counts HLS variants without video; VideoWithoutAudio counts HLS video
	// variants that neither mux audio nor name an audio group.
	AudioOnlyVariants int `json:"audio_only_variants,omitempty"`
	VideoWithoutAudio int `json:"video_without_audio,omitempty"`
	SessionKeys       int `json:"session_keys,omitempty"` // HLS EXT-X-SESSION-KEY tags
	// TrickRenditions counts the Representations of DASH trick-mode AdaptationSets (not in
	// VideoRenditions); IFramePlaylists the HLS EXT-X-I-FRAME-STREAM-INF playlists.
	TrickRenditions int `json:"trick_renditions,omitempty"`
	IFramePlaylists int `json:"iframe_playlists,omitempty"`
}

// SignalSource says where a DRM system is signalled.
type SignalSource string

// The places a DRM system can be signalled.
const (
	SourceMPDPSSH       SignalSource = "mpd-pssh"        // cenc:pssh in a ContentProtection
	SourceMPDPRO        SignalSource = "mpd-pro"         // mspr:pro in a ContentProtection
	SourceMPDClearKey   SignalSource = "mpd-clearkey"    // the DASH-IF ClearKey descriptor (Laurl)
	SourceInitPSSH      SignalSource = "init-pssh"       // pssh in moov
	SourceMoofPSSH      SignalSource = "moof-pssh"       // pssh in a moof
	SourcePIFFPSSH      SignalSource = "piff-pssh"       // PIFF uuid pssh in moov
	SourceHLSKey        SignalSource = "hls-key"         // EXT-X-KEY in a media playlist
	SourceHLSSessionKey SignalSource = "hls-session-key" // EXT-X-SESSION-KEY in a master playlist
)

// Signal is one place where a DRM system is signalled, with what it lists.
type Signal struct {
	System   drm.System   `json:"system,omitempty"` // empty for an unknown system ID
	SystemID string       `json:"system_id,omitempty"`
	Source   SignalSource `json:"source"`
	// Entry is the entry point (manifest or file) the signal was read through; an init
	// segment that several entries share is recorded once, under the first.
	Entry string `json:"entry,omitempty"`
	File  string `json:"file"`
	At    string `json:"at,omitempty"`
	// Rendition and Kind name the Representation, media playlist or file the signal belongs
	// to (empty for a multivariant playlist's session keys).
	Rendition string     `json:"rendition,omitempty"`
	Kind      media.Kind `json:"kind,omitempty"`
	KIDs      []drm.KID  `json:"kids,omitempty"`
	// PSSHVersion is the pssh box version (0 or 1).
	PSSHVersion int `json:"pssh_version,omitempty"`
	// PlayReadyVersion and AlgID come from a PlayReady header (WRMHEADER version, ALGID).
	PlayReadyVersion string `json:"playready_version,omitempty"`
	AlgID            string `json:"algid,omitempty"`
	HasChecksum      bool   `json:"has_checksum,omitempty"`
	LAURL            string `json:"la_url,omitempty"`
	// Method, KeyFormat and URI come from an HLS key tag.
	Method    string `json:"method,omitempty"`
	KeyFormat string `json:"keyformat,omitempty"`
	URI       string `json:"uri,omitempty"`
	// WidevineContentID reports whether a Widevine PSSH carries a content_id.
	WidevineContentID bool   `json:"widevine_content_id,omitempty"`
	WidevineScheme    string `json:"widevine_protection_scheme,omitempty"`
	// InitData is what a license request for the system carries: the pssh box, the PlayReady
	// Object of mspr:pro or an HLS data: URI, the skd:// URI (empty for a descriptor).
	InitData []byte `json:"init_data,omitempty"`
	// Size is the size of the init data; for PlayReady, of the PlayReady Object.
	Size int `json:"size,omitempty"`
}

// TrackFact is one media track that was checked.
type TrackFact struct {
	Entry   string     `json:"entry"` // the manifest or file it was reached from
	File    string     `json:"file"`  // init segment or single file
	TrackID uint32     `json:"track_id"`
	Kind    media.Kind `json:"kind"`
	Codec   string     `json:"codec"`
	// Scheme is empty for a clear track; PIFF marks a PIFF 1.1 track.
	Scheme drm.Scheme `json:"scheme,omitempty"`
	PIFF   bool       `json:"piff,omitempty"`
	KID    *drm.KID   `json:"kid,omitempty"`
	// ClearLead lists the forms of clear lead found ("sample-description", "seig").
	ClearLead []string `json:"clear_lead,omitempty"`
	// Language is the track's language (mdhd), for audio renditions.
	Language string         `json:"language,omitempty"`
	Samples  int            `json:"samples"`
	Duration float64        `json:"duration_s"`
	Start    float64        `json:"start_s"`
	Decode   *decode.Result `json:"decode,omitempty"`
	// SameAs names the entry that already checked this media (it was not decrypted twice).
	SameAs string `json:"same_as,omitempty"`
	// Trick marks a track of a DASH trick-mode AdaptationSet.
	Trick bool `json:"trick,omitempty"`
}

// DownloadFact is one single-file MP4 meant for progressive download.
type DownloadFact struct {
	File       string       `json:"file"`
	Size       int64        `json:"size"`
	Fragmented bool         `json:"fragmented"`
	Schemes    []drm.Scheme `json:"schemes,omitempty"`
	PIFF       bool         `json:"piff,omitempty"`
	Tracks     int          `json:"tracks"`
}

// SubtitleFact is one subtitle rendition that was checked: an HLS WebVTT playlist, a DASH
// text Representation, or a text track of a single file.
type SubtitleFact struct {
	Entry string `json:"entry"`
	// File is the media playlist, the init segment or the single file.
	File string `json:"file"`
	// Format is "webvtt" (segmented WebVTT), "wvtt" (WebVTT in MP4), "tx3g" (3GPP timed
	// text) or the sample entry type of another text track ("stpp").
	Format string `json:"format"`
	// Language and Name are what the manifest says (HLS LANGUAGE and NAME, DASH lang and
	// Label), or the track's mdhd language for a file.
	Language string `json:"language,omitempty"`
	Name     string `json:"name,omitempty"`
	Forced   bool   `json:"forced,omitempty"`
	// Encrypted is set for a protected text track (always a failure).
	Encrypted bool `json:"encrypted,omitempty"`
	// Segments and Cues count what was parsed (Cues stays 0 for formats not parsed).
	Segments int `json:"segments,omitempty"`
	Cues     int `json:"cues"`
}

// NotChecked is a file (or part of the input) the checker did not check, and why.
type NotChecked struct {
	File   string `json:"file"`
	Reason string `json:"reason"`
}

func (inv *Inventory) notChecked(file, reason string) {
	inv.NotChecked = append(inv.NotChecked, NotChecked{File: file, Reason: reason})
}

func appendScheme(list []drm.Scheme, s drm.Scheme) []drm.Scheme {
	if s == "" {
		return list
	}
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

func appendSystem(list []drm.System, s drm.System) []drm.System {
	if s == "" {
		return list
	}
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}
