package verify

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"satchel/engine/media"
)

// startTolerance is the audio/video start offset accepted (lip sync is noticeable from about
// 45 ms; AAC priming and frame boundaries stay well below 100 ms).
const startTolerance = 0.1

// checkManifestTiming checks what the manifest says about timing: HLS segments no longer
// than EXT-X-TARGETDURATION, DASH segments no longer than maxSegmentDuration, and no gaps
// or overlaps in a SegmentTimeline.
func (v *verifier) checkManifestTiming(e *entry) {
	for _, m := range e.media {
		if m.playlist != "" {
			w := Where{File: v.fetch.rel(m.playlist)}
			for i, d := range m.durations {
				if m.target > 0 && math.Round(d) > float64(m.target) {
					v.rep.failAt(Where{File: w.File, At: fmt.Sprintf("EXTINF[%d]", i)}, CatTiming, m.subject,
						fmt.Sprintf("segment %d lasts %.3f s, more than EXT-X-TARGETDURATION %d s", i+1, d, m.target),
						"re-package with segments cut at the target duration")
					break
				}
			}
		}
		if len(m.timeline) > 0 {
			v.checkTimeline(e, m)
		}
	}
}

func (v *verifier) checkTimeline(e *entry, m *mediaRef) {
	w := Where{File: e.name, At: m.element + "/SegmentTemplate/SegmentTimeline"}
	ts := float64(m.timescale)
	for i := 1; i < len(m.timeline); i++ {
		prev, cur := m.timeline[i-1], m.timeline[i]
		want := prev.Start + prev.Duration
		if cur.Start == want {
			continue
		}
		kind := "a gap"
		diff := float64(cur.Start) - float64(want)
		if cur.Start < want {
			kind = "an overlap"
		}
		v.rep.failAt(w, CatTiming, m.subject, fmt.Sprintf("%s of %.3f s before segment %d: it starts at t=%d (%.3f s), the previous one ends at %d (%.3f s)",
			kind, math.Abs(diff)/ts, i+1, cur.Start, float64(cur.Start)/ts, want, float64(want)/ts),
			"re-package: players stall at gaps and skip or repeat media at overlaps")
		return
	}
	if e.maxSegment > 0 {
		for i, s := range m.timeline {
			if d := float64(s.Duration) / ts; d > e.maxSegment+0.001 {
				v.rep.failAt(w, CatTiming, m.subject, fmt.Sprintf("segment %d lasts %.3f s, more than the MPD's maxSegmentDuration %.3f s",
					i+1, d, e.maxSegment), "re-package with segments no longer than maxSegmentDuration")
				return
			}
		}
	}
}

// checkLadder compares the tracks of an entry point once they are read: renditions whose
// durations differ by more than a segment, a segment far longer than the others, and audio
// and video that start at different times.
func (v *verifier) checkLadder(e *entry) {
	var tracks []*trackInfo
	var segs []float64
	for _, m := range e.media {
		if m.trick != nil {
			continue // a trick-mode track is not a rendition of the ladder
		}
		for _, t := range m.tracks {
			o := t.origin()
			if o.samples == 0 || t.kind == media.Text {
				continue
			}
			tracks = append(tracks, t)
			segs = append(segs, o.segDurs...)
		}
	}
	if len(tracks) == 0 || len(segs) == 0 {
		return
	}
	sorted := append([]float64(nil), segs...)
	sort.Float64s(sorted)
	median, longest := sorted[len(sorted)/2], sorted[len(sorted)-1]
	w := Where{File: e.name}
	v.checkDurations(e, w, tracks, median)
	if longest > 2*median+0.5 {
		for _, t := range tracks {
			for i, d := range t.origin().segDurs {
				if d == longest {
					v.rep.failAt(w, CatTiming, t.subject, fmt.Sprintf("segment %d lasts %.3f s, while the presentation's segments last %.3f s",
						i+1, d, median), "re-encode the rendition with the ladder's GOP and re-package it")
					goto starts
				}
			}
		}
	}
starts:
	v.checkStarts(w, e, tracks)
}

func (v *verifier) checkDurations(e *entry, w Where, tracks []*trackInfo, segment float64) {
	lo, hi := math.Inf(1), math.Inf(-1)
	var parts []string
	for _, t := range tracks {
		d := v.rep.Inventory.Tracks[t.origin().fact].Duration
		lo, hi = math.Min(lo, d), math.Max(hi, d)
		parts = append(parts, fmt.Sprintf("%s=%.3f s", t.label(), d))
	}
	if len(tracks) < 2 || hi-lo <= math.Max(segment, 0.5) {
		if len(tracks) > 1 {
			v.rep.passAt(w, CatTiming, e.name, "renditions last %.3f–%.3f s (within a segment of each other)", lo, hi)
		}
		return
	}
	v.rep.failAt(w, CatTiming, e.name, fmt.Sprintf("renditions differ in duration by %.3f s, more than a segment (%.3f s): %s",
		hi-lo, segment, strings.Join(parts, ", ")), "re-encode the ladder from one master so every rendition has the same duration")
}

func (v *verifier) checkStarts(w Where, e *entry, tracks []*trackInfo) {
	va, aa := math.Inf(1), math.Inf(1)
	for _, t := range tracks {
		s := v.rep.Inventory.Tracks[t.origin().fact].Start
		switch t.kind {
		case media.Video:
			va = math.Min(va, s)
		case media.Audio:
			aa = math.Min(aa, s)
		}
	}
	if math.IsInf(va, 1) || math.IsInf(aa, 1) {
		return
	}
	if d := aa - va; math.Abs(d) > startTolerance {
		v.rep.failAt(w, CatTiming, e.name, fmt.Sprintf("audio starts at %.3f s and video at %.3f s: %+.3f s out of sync", aa, va, d),
			"re-package from sources whose audio and video start together (check edit lists and encoder delay)")
		return
	}
	v.rep.passAt(w, CatTiming, e.name, "audio and video start together (%.3f s, %.3f s)", aa, va)
}

func (t *trackInfo) label() string {
	if t.ref != nil {
		if s := strings.TrimPrefix(t.subject, t.ref.entry.name+" "); s != t.subject {
			return s
		}
	}
	return fmt.Sprintf("track %d (%s)", t.trackID, t.kind)
}
