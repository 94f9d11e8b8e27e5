// Package packaging turns MP4 renditions into an offline-DRM package: CMAF init segments and
// fragments cut at sync samples, encrypted with cenc and/or cbcs, DASH and HLS manifests with
// every DRM system's signalling, one single-file fragmented MP4 per rendition for progressive
// download, and a CPIX key document. It streams: only one segment per track is in memory.
package packaging

import (
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"satchel/engine/drm"
	"satchel/engine/manifest"
	"satchel/engine/media"
	"satchel/internal/field"
)

// Config describes one packaging job. Every audio and subtitle track of the inputs is
// packaged (identical copies once); a track that cannot be carried is an
// *UnsupportedTrackError unless SkipUnsupported is set.
type Config struct {
	// Inputs are the source renditions (progressive or fragmented MP4), one video rung each;
	// their audio and subtitle tracks (mov_text/tx3g, wvtt) are packaged too.
	Inputs  []string
	OutDir  string       // written atomically: OutDir.tmp-* renamed to OutDir at the end
	Systems []drm.System // DRM systems to signal
	Schemes []drm.Scheme // drm.SchemeCENC and/or drm.SchemeCBCS
	Formats []Format     // outputs to write (default AllFormats)
	// SegmentDuration is the target fragment duration; fragments are cut at the sync sample
	// nearest to each multiple (default 4 s).
	SegmentDuration time.Duration
	// ClearLead leaves the segments that start before it unencrypted (signalled with a 'seig'
	// sample group), so playback can start before the license arrives.
	ClearLead time.Duration
	// Keys are explicit keys by track type (drm.TrackAll: one key for every track type no
	// other key names); missing track types get keys from crypto/rand.
	Keys             []drm.ContentKey
	PlayReadyLAURL   string
	ClearKeyLAURL    string
	WidevineProvider string
	FairPlayKeyURI   string
	// PolicyJSON, when set, is written to policy.json beside the manifests.
	PolicyJSON []byte
	// Concurrency is the number of renditions packaged in parallel (0: number of CPUs).
	Concurrency int
	// Overwrite replaces an existing non-empty OutDir after the new package is complete.
	Overwrite bool
	// ContentID names the package: the CPIX contentId and the Widevine PSSH content_id
	// (default: the output folder name).
	ContentID string
	// PerTrackInitData makes each track's init data in the manifests (MPD cenc:pssh and
	// mspr:pro, HLS key tags) name only that track's key, so a player requests one license per
	// key. By default every track's init data lists every key ID of the presentation, as the
	// init segments' pssh boxes do: one license request returns every key, which players that
	// keep one offline key set (ExoPlayer) need; license services still choose which keys to
	// grant (Widevine content_key_specs, PlayReady security levels). Per-track init data keeps
	// a single-key PlayReady 4.0 header, which PlayReady 1 and 2 clients need.
	PerTrackInitData bool
	// NoTrickPlay leaves out trick play. By default every video rendition gets an HLS I-frame
	// playlist (byte ranges into its segments: no extra media) and, for DASH, a trick-mode
	// AdaptationSet over a trick-play track beside it (manifest.TrickDir), whose segments are
	// each the I-frame of one segment as a complete fragment (a byte range cut out of a
	// segment is not a valid DASH segment).
	NoTrickPlay bool
	// PIFF makes the single-file downloads PIFF 1.1 compatible — the offline file of Azure
	// Media Services' PlayReady path, which older PlayReady clients and Smooth Streaming
	// players open: the PIFF uuid track encryption, sample encryption and pssh boxes beside
	// the CENC boxes (which CENC clients keep reading).
	PIFF bool
	// Smooth adds a Smooth Streaming client manifest (manifest.FileSmooth) for the cenc
	// renditions — the streaming side of Azure Media Services' PlayReady path. Their segments
	// are written once, under the Smooth fragment names (QualityLevels(<bitrate>)/
	// Fragments(<stream>=<time>)) beside it, and the MPD and HLS playlists point to the same
	// files; the segments carry the PIFF 1.1 sample encryption and MS-SSTR tfxd boxes, the
	// cenc init segments the PIFF track encryption and pssh boxes. Smooth is AES-CTR with a
	// PlayReady header naming one key: it needs the cenc scheme, the PlayReady system and one
	// key for every track (generated when no key is given), and H.264 video and AAC audio.
	Smooth bool
	// Audio are audio tracks in separate files (.m4a/.mp4): every audio track of each file
	// becomes its own rendition after the audio of the Inputs.
	Audio []AudioInput
	// Subtitles are SRT or WebVTT files, one subtitle rendition each.
	Subtitles []SubtitleInput
	// SkipUnsupported leaves out tracks Satchel cannot carry (an unsupported codec, a TTML
	// subtitle track, a second video track) with a warning in the Result, instead of failing.
	SkipUnsupported bool
}

// AudioInput is an audio file to package beside the Inputs' audio.
type AudioInput struct {
	Path string
	// Language overrides the file's (BCP 47 or ISO 639-2, e.g. "fr", "fra"); empty keeps it.
	Language string
	// Name is the label players show; empty derives one from the language and role.
	Name string
	// Role is main, alternate, dub, commentary or description; empty derives one (the
	// default audio is main, others alternate).
	Role media.Role
}

// SubtitleInput is a subtitle file (SRT or WebVTT) to package.
type SubtitleInput struct {
	Path     string
	Language string // BCP 47 or ISO 639-2; empty means undetermined
	Name     string // label players show; empty derives one from the language and flags
	Forced   bool   // forced subtitles: shown when the viewer has subtitles off
	SDH      bool   // subtitles for the deaf and hard of hearing (captions with sound cues)
}

// Progress is one progress event of a rendition.
type Progress struct {
	Rendition      string        `json:"rendition"`
	Bytes          int64         `json:"bytes"`
	TotalBytes     int64         `json:"total_bytes"`
	Fragments      int           `json:"fragments"`
	TotalFragments int           `json:"total_fragments"`
	ETA            time.Duration `json:"eta_ns"`
	Done           bool          `json:"done"`
	Err            string        `json:"error,omitempty"`
}

// Result describes a finished package.
type Result struct {
	OutDir     string               `json:"out_dir"`
	Keys       []drm.ContentKey     `json:"-"`
	Files      []string             `json:"files"` // relative to OutDir, sorted
	Renditions []manifest.Rendition `json:"renditions"`
	Schemes    []drm.Scheme         `json:"schemes"`
	// Warnings name what was left out or changed: tracks skipped as SkipUnsupported asked,
	// edit lists that could only be carried in part, cues past the end of the video.
	Warnings []string `json:"warnings,omitempty"`
	// Notes name tracks deliberately not packaged that lose nothing: identical copies of a
	// track already packaged (ladder rungs all carrying the same audio), chapter, timecode
	// and metadata tracks.
	Notes []string `json:"notes,omitempty"`
}

// Validate checks the configuration without changing it: every rule a caller can break is
// checked here, once, and reported as a *field.Error naming the field (inputs, out_dir,
// segment_duration, clear_lead, schemes, formats, keys). Empty lists and zero durations are
// valid: Package fills in the defaults.
func (c *Config) Validate() error {
	if len(c.Inputs) == 0 {
		return field.Errorf("inputs", nil, "no source rendition given")
	}
	if c.OutDir == "" {
		return field.Errorf("out_dir", nil, "no output folder given")
	}
	if d := c.SegmentDuration; d != 0 && (d < MinSegment || d > MaxSegment) {
		return field.Errorf("segment_duration", d, "must be %s to %s (4s or 6s is usual)", MinSegment, MaxSegment)
	}
	if c.ClearLead < 0 || c.ClearLead > MaxClearLead {
		return field.Errorf("clear_lead", c.ClearLead, "must be 0 to %s (a few seconds is usual)", MaxClearLead)
	}
	seen := map[drm.Scheme]bool{}
	for _, s := range c.Schemes {
		if !s.Writable() {
			return field.Errorf("schemes", s, "Satchel writes cenc or cbcs")
		}
		if seen[s] {
			return field.Errorf("schemes", s, "given twice")
		}
		seen[s] = true
	}
	for _, f := range c.Formats {
		if !f.Known() {
			return field.Errorf("formats", f, "not one of dash, hls, mp4")
		}
	}
	for _, s := range c.Systems {
		if s.SystemID() == nil {
			return field.Errorf("systems", s, "not a DRM system Satchel signals")
		}
	}
	if c.PIFF && len(c.Formats) > 0 && !c.has(FormatMP4) {
		return field.Errorf("piff", nil, "PIFF applies to the single-file download: include the mp4 output")
	}
	if err := c.validateSmooth(); err != nil {
		return err
	}
	if len(c.ContentID) > MaxContentID {
		return field.Errorf("content_id", c.ContentID, "is %d bytes; at most %d", len(c.ContentID), MaxContentID)
	}
	for _, k := range c.Keys {
		if k.TrackType == "" {
			return field.Errorf("keys", k.KID, "the key has no track type (AUDIO, SD, HD, UHD or ALL)")
		}
	}
	if err := drm.CheckKeys(c.Keys); err != nil {
		return &field.Error{Field: "keys", Reason: err.Error()}
	}
	return c.validateTracks()
}

// validateSmooth checks what a Smooth Streaming manifest needs of the configuration.
func (c *Config) validateSmooth() error {
	if !c.Smooth {
		return nil
	}
	if len(c.Schemes) > 0 && !slices.Contains(c.Schemes, drm.SchemeCENC) {
		return field.Errorf("smooth", nil, "Smooth Streaming (PlayReady) is AES-CTR: include the cenc scheme")
	}
	if len(c.Systems) > 0 && !slices.Contains(c.Systems, drm.PlayReady) {
		return field.Errorf("smooth", nil, "the Smooth manifest's ProtectionHeader is PlayReady's: include the PlayReady system")
	}
	return nil
}

// Limits of the configurable durations.
const (
	MinSegment   = 500 * time.Millisecond
	MaxSegment   = 30 * time.Second
	MaxClearLead = 5 * time.Minute
	// MaxContentID is the longest ContentID in bytes (it travels in every Widevine PSSH).
	MaxContentID = 256
)

// normalize validates c and fills in the defaults.
func (c *Config) normalize() error {
	if err := c.Validate(); err != nil {
		return err
	}
	if c.SegmentDuration == 0 {
		c.SegmentDuration = 4 * time.Second
	}
	if len(c.Schemes) == 0 {
		c.Schemes = append([]drm.Scheme(nil), drm.WrittenSchemes...)
	}
	if len(c.Formats) == 0 {
		c.Formats = append([]Format(nil), AllFormats...)
	}
	if len(c.Systems) == 0 {
		c.Systems = append([]drm.System(nil), drm.AllSystems...)
	}
	if c.FairPlayKeyURI == "" {
		c.FairPlayKeyURI = drm.DefaultFairPlayBase
	}
	if c.ContentID == "" {
		abs, _ := filepath.Abs(c.OutDir)
		c.ContentID = filepath.Base(abs)
	}
	c.normalizeTracks()
	return nil
}

// OutputExistsError says the output folder already holds files and Overwrite was not set.
type OutputExistsError struct{ Dir string }

func (e *OutputExistsError) Error() string {
	return fmt.Sprintf("output folder %s is not empty", e.Dir)
}

func (c *Config) has(format Format) bool {
	for _, f := range c.Formats {
		if f == format {
			return true
		}
	}
	return false
}

// normalizeTracks checks the audio and subtitle inputs and normalizes their languages to
// BCP 47.
// validateTracks checks the separate audio and subtitle inputs.
func (c *Config) validateTracks() error {
	for _, a := range c.Audio {
		if a.Path == "" {
			return field.Errorf("audio", nil, "an audio input has no file")
		}
		if _, err := media.ParseLanguage(a.Language); err != nil {
			return field.Errorf("audio", a.Path, "%v", err)
		}
		if a.Role != "" {
			if _, err := media.ParseAudioRole(string(a.Role)); err != nil {
				return field.Errorf("audio", a.Path, "%v", err)
			}
		}
	}
	for _, s := range c.Subtitles {
		if s.Path == "" {
			return field.Errorf("subtitles", nil, "a subtitle input has no file")
		}
		if _, err := media.ParseLanguage(s.Language); err != nil {
			return field.Errorf("subtitles", s.Path, "%v", err)
		}
	}
	return nil
}

// normalizeTracks writes the languages of the separate audio and subtitle inputs as BCP 47
// tags; Validate has checked that they parse.
func (c *Config) normalizeTracks() {
	for i := range c.Audio {
		c.Audio[i].Language, _ = media.ParseLanguage(c.Audio[i].Language)
	}
	for i := range c.Subtitles {
		c.Subtitles[i].Language, _ = media.ParseLanguage(c.Subtitles[i].Language)
	}
}

// UnsupportedTrackError says that a track of an input cannot be packaged (Config.SkipUnsupported
// leaves such tracks out instead).
type UnsupportedTrackError struct {
	Path    string
	TrackID uint32
	Kind    media.Kind
	Reason  string // e.g. "uses the unsupported audio codec \"Opus\"…"
}

func (e *UnsupportedTrackError) Error() string {
	return fmt.Sprintf("%s track %d (%s) %s", filepath.Base(e.Path), e.TrackID, e.Kind, e.Reason)
}
