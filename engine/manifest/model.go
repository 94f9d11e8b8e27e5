// Package manifest models a packaged presentation and writes and reads its DASH MPD and HLS
// playlists, with the content-protection signalling of every DRM system.
package manifest

import (
	"time"

	"satchel/engine/drm"
	"satchel/engine/media"
)

// Segment is one CMAF segment of a rendition.
type Segment struct {
	Number   int    `json:"number"`
	Start    uint64 `json:"start"`    // decode time, track timescale
	Duration uint64 `json:"duration"` // track timescale
	Path     string `json:"path"`     // relative to the presentation root
	Size     int64  `json:"size"`
	// IFrame locates the segment's first sync sample for trick play (video only).
	IFrame *IFrame `json:"iframe,omitempty"`
}

// IFrame is the byte range of a segment that holds its first sync sample (an I-frame) with
// what a player needs to read it: the segment's moof, the mdat header and the sample (HLS
// Authoring Specification: an fMP4 I-frame segment includes the moof of its I-frame).
type IFrame struct {
	Offset int64  `json:"offset"` // byte offset of the moof in the segment file
	Size   int64  `json:"size"`   // moof + mdat header + the sync sample
	Time   uint64 `json:"time"`   // the sample's composition time, track timescale
}

// Rendition is one CMAF track: a video rung, an audio track or a subtitle track. Text
// renditions are in the clear (KID zero): no player decrypts subtitles.
type Rendition struct {
	ID           string     `json:"id"`
	Kind         media.Kind `json:"kind"`
	Codecs       string     `json:"codecs"`
	Language     string     `json:"language,omitempty"`
	Bandwidth    int64      `json:"bandwidth"`         // peak segment bitrate, bits/s
	AvgBandwidth int64      `json:"average_bandwidth"` // bits/s
	Width        int        `json:"width,omitempty"`
	Height       int        `json:"height,omitempty"`
	FrameRate    string     `json:"frame_rate,omitempty"` // e.g. "24" or "30000/1001"
	SampleRate   int        `json:"sample_rate,omitempty"`
	Channels     int        `json:"channels,omitempty"`
	Timescale    uint32     `json:"timescale"`
	Dir          string     `json:"dir"`  // e.g. "cenc/360p"
	InitPath     string     `json:"init"` // e.g. "cenc/360p/init.mp4"
	Segments     []Segment  `json:"segments"`
	KID          drm.KID    `json:"kid"`
	// Name is the label players show in their audio and subtitle menus ("English", "Français").
	Name string `json:"name,omitempty"`
	// Role is what an audio or text rendition is for (main, alternate, commentary, subtitle…).
	Role media.Role `json:"role,omitempty"`
	// Default marks the rendition players choose first in its group (one audio rendition).
	Default bool `json:"default,omitempty"`
	// Forced marks forced subtitles (shown when the viewer has subtitles off).
	Forced bool `json:"forced,omitempty"`
	// SDH marks subtitles for the deaf and hard of hearing (captions with sound cues).
	SDH bool `json:"sdh,omitempty"`
	// ChannelMap is the AC-3/E-AC-3 channel map signalled with Dolby's DASH scheme.
	ChannelMap uint16 `json:"channel_map,omitempty"`
	// WebVTT lists a text rendition's WebVTT segment files, which HLS plays; Segments hold the
	// same cues as wvtt fMP4 for DASH.
	WebVTT []Segment `json:"webvtt,omitempty"`
	// Trick lists a video rendition's trick-play segments for DASH, in TrickDir(Dir): one per
	// segment, each a complete fragment holding only the segment's first sync sample, lasting
	// the segment.
	Trick []Segment `json:"trick,omitempty"`
	// Smooth describes the rendition in the Smooth Streaming client manifest (FileSmooth);
	// its Segments are then that manifest's fragments, at SmoothFragmentPath names.
	Smooth *SmoothTrack `json:"smooth,omitempty"`
}

// IFrames reports whether every segment of the rendition locates its I-frame (HLS I-frame
// playlists can be written).
func (r *Rendition) IFrames() bool {
	for _, s := range r.Segments {
		if s.IFrame == nil {
			return false
		}
	}
	return r.Kind == media.Video && len(r.Segments) > 0
}

// Encrypted reports whether the rendition is protected (text renditions are not).
func (r *Rendition) Encrypted() bool { return !r.KID.IsZero() }

// Duration returns the rendition's total duration.
func (r *Rendition) Duration() time.Duration {
	var d uint64
	for _, s := range r.Segments {
		d += s.Duration
	}
	if r.Timescale == 0 {
		return 0
	}
	return time.Duration(float64(d) / float64(r.Timescale) * float64(time.Second))
}

// Presentation is one encrypted set (one scheme) of renditions.
type Presentation struct {
	Duration        time.Duration
	Scheme          drm.Scheme
	Renditions      []Rendition
	Signalling      drm.Signalling
	SegmentDuration time.Duration
}

// Video returns the video renditions.
func (p *Presentation) Video() []Rendition { return p.kind(media.Video) }

// Audio returns the audio renditions.
func (p *Presentation) Audio() []Rendition { return p.kind(media.Audio) }

// Text returns the subtitle renditions.
func (p *Presentation) Text() []Rendition { return p.kind(media.Text) }

func (p *Presentation) kind(k media.Kind) []Rendition {
	var out []Rendition
	for _, r := range p.Renditions {
		if r.Kind == k {
			out = append(out, r)
		}
	}
	return out
}
