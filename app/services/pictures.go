package services

import (
	"context"
	"path/filepath"
	"sort"
	"time"

	"satchel/engine/encode"
	"satchel/engine/license"
	"satchel/packaging"
)

// RenditionSegments is one rendition of the selected ladder as packaging would cut it: its
// GOPs (sync sample times), the segments (start times; the last ends at Duration) and the
// cuts where it has no sync sample (the ladder is misaligned there).
type RenditionSegments struct {
	Name         string          `json:"name"` // the file's base name
	Width        int             `json:"width"`
	Height       int             `json:"height"`
	Bitrate      int64           `json:"bitrate"`       // the file's
	VideoBitrate int64           `json:"video_bitrate"` // its video track's
	Duration     time.Duration   `json:"duration_ns"`
	GOPs         []time.Duration `json:"gops_ns"`
	Segments     []time.Duration `json:"segments_ns"`
	Misaligned   []time.Duration `json:"misaligned_ns,omitempty"`
}

// SegmentPlan returns the selected ladder's renditions (by bit rate, lowest first, as
// packaging orders them) with the segments a package with segments of about target would
// have: the cuts are chosen on the lowest rendition's sync samples (packaging.SegmentCuts)
// and apply to every rendition. Renditions without video are left out.
func (s *Service) SegmentPlan(target time.Duration) ([]RenditionSegments, error) {
	all, err := s.Assets()
	if err != nil {
		return nil, err
	}
	var out []RenditionSegments
	for _, e := range all {
		v := e.Asset.Video()
		if !e.Selected || v == nil {
			continue
		}
		out = append(out, RenditionSegments{Name: filepath.Base(e.Path), Width: v.Width, Height: v.Height,
			Bitrate: e.Asset.Bitrate, VideoBitrate: v.Bitrate, Duration: v.Duration, GOPs: v.SyncTimes})
	}
	if len(out) == 0 {
		return nil, ErrNoSelection
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Bitrate < out[j].Bitrate })
	cuts := packaging.SegmentCuts(out[0].GOPs, target)
	for i := range out {
		out[i].Segments = cuts
		have := map[time.Duration]bool{}
		for _, g := range out[i].GOPs {
			have[g.Round(time.Millisecond)] = true
		}
		for _, c := range cuts[1:] {
			if !have[c.Round(time.Millisecond)] {
				out[i].Misaligned = append(out[i].Misaligned, c)
			}
		}
	}
	return out, nil
}

// SegmentDurations returns the lengths of r's segments.
func (r RenditionSegments) SegmentDurations() []time.Duration {
	out := make([]time.Duration, len(r.Segments))
	for i, start := range r.Segments {
		end := r.Duration
		if i+1 < len(r.Segments) {
			end = r.Segments[i+1]
		}
		out[i] = end - start
	}
	return out
}

// Thumbnail returns the first video frame of the asset at path as a PNG width pixels wide
// (ffmpeg; a *encode.ToolError when it is not installed).
func Thumbnail(ctx context.Context, path string, width int) ([]byte, error) {
	return encode.Thumbnail(ctx, encode.Tools{}, path, width)
}

// LedgerBucket is one interval of the license ledger over time: the entries of each
// decision in it.
type LedgerBucket struct {
	Start  time.Time                `json:"start"`
	Counts map[license.Decision]int `json:"counts"`
}

// LedgerOverTime counts the ledger's entries per decision in n equal intervals from the first
// entry to the last (one interval when they share a second); nil when the ledger is empty.
func (s *Service) LedgerOverTime(n int) ([]LedgerBucket, time.Duration, error) {
	entries, err := s.Ledger()
	if err != nil || len(entries) == 0 {
		return nil, 0, err
	}
	first, last := entries[0].Time, entries[0].Time
	for _, e := range entries {
		if e.Time.Before(first) {
			first = e.Time
		}
		if e.Time.After(last) {
			last = e.Time
		}
	}
	if n < 1 {
		n = 1
	}
	span := last.Sub(first)
	step := span / time.Duration(n)
	if step < time.Second {
		step, n = time.Second, int(span/time.Second)+1
	}
	buckets := make([]LedgerBucket, n)
	for i := range buckets {
		buckets[i] = LedgerBucket{Start: first.Add(time.Duration(i) * step), Counts: map[license.Decision]int{}}
	}
	for _, e := range entries {
		i := min(int(e.Time.Sub(first)/step), n-1)
		d := e.Decision
		if d == "" {
			d = license.DecisionIssued
		}
		buckets[i].Counts[d]++
	}
	return buckets, step, nil
}
