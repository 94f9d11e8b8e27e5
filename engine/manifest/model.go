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
}

// Rendition is one CMAF track (a video rung or the audio).
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
}

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

func (p *Presentation) kind(k media.Kind) []Rendition {
	var out []Rendition
	for _, r := range p.Renditions {
		if r.Kind == k {
			out = append(out, r)
		}
	}
	return out
}
