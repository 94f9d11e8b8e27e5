// Package packaging turns MP4 renditions into an offline-DRM package: CMAF init segments and
// fragments cut at sync samples, encrypted with cenc and/or cbcs, DASH and HLS manifests with
// every DRM system's signalling, one single-file fragmented MP4 per rendition for progressive
// download, and a CPIX key document. It streams: only one segment per track is in memory.
package packaging

import (
	"errors"
	"fmt"
	"time"

	"satchel/engine/drm"
	"satchel/engine/manifest"
)

// Config describes one packaging job.
type Config struct {
	Inputs  []string     // source renditions (progressive or fragmented MP4), one video rung each
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
	// Keys are explicit keys by track type; missing track types get keys from crypto/rand.
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
	// ContentID names the package in CPIX (default: the output folder name).
	ContentID string
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
}

func (c *Config) normalize() error {
	if len(c.Inputs) == 0 {
		return errors.New("no input renditions: give at least one MP4")
	}
	if c.OutDir == "" {
		return errors.New("no output folder given")
	}
	if c.SegmentDuration == 0 {
		c.SegmentDuration = 4 * time.Second
	}
	if c.SegmentDuration < 500*time.Millisecond || c.SegmentDuration > 30*time.Second {
		return fmt.Errorf("segment duration %s: use 0.5s to 30s (4s or 6s is usual)", c.SegmentDuration)
	}
	if c.ClearLead < 0 || c.ClearLead > 5*time.Minute {
		return fmt.Errorf("clear lead %s: use 0 to 5m (a few seconds is usual)", c.ClearLead)
	}
	if len(c.Schemes) == 0 {
		c.Schemes = append([]drm.Scheme(nil), drm.WrittenSchemes...)
	}
	seen := map[drm.Scheme]bool{}
	for _, s := range c.Schemes {
		if !s.Writable() {
			return fmt.Errorf("encryption scheme %q: use cenc or cbcs", s)
		}
		if seen[s] {
			return fmt.Errorf("encryption scheme %s given twice", s)
		}
		seen[s] = true
	}
	if len(c.Formats) == 0 {
		c.Formats = append([]Format(nil), AllFormats...)
	}
	for _, f := range c.Formats {
		if !f.Known() {
			return fmt.Errorf("output format %q: use dash, hls or mp4", f)
		}
	}
	if len(c.Systems) == 0 {
		c.Systems = append([]drm.System(nil), drm.AllSystems...)
	}
	if c.FairPlayKeyURI == "" {
		c.FairPlayKeyURI = drm.DefaultFairPlayBase
	}
	for _, k := range c.Keys {
		if k.TrackType == "" {
			return fmt.Errorf("key %s has no track type: give TYPE=KID:KEY with AUDIO, SD, HD or UHD", k.KID)
		}
	}
	return drm.CheckKeys(c.Keys)
}

func (c *Config) has(format Format) bool {
	for _, f := range c.Formats {
		if f == format {
			return true
		}
	}
	return false
}
