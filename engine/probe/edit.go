package probe

import (
	"fmt"
	"time"

	"github.com/Eyevinn/mp4ff/mp4"
)

// Edit is the part of a track's edit list (ISO/IEC 14496-12 8.6.6) that decides where its
// presentation starts, which Satchel carries into every output so that audio and video keep
// the source's sync.
type Edit struct {
	// Delay is the length of the empty edits before the media: the track starts this much
	// later than the presentation.
	Delay time.Duration `json:"delay_ns,omitempty"`
	// MediaTime is the media time (track timescale) presented first: the AAC encoder priming
	// that decoders discard (typically 1024 or 2112 samples), or the composition delay of
	// video with B-frames.
	MediaTime int64 `json:"media_time"`
	// Ignored describes what the edit list holds beyond a start offset (further edits, a
	// rate other than 1), which CMAF tracks cannot carry; empty when nothing is lost.
	Ignored string `json:"ignored,omitempty"`
}

// readEdit returns the track's start edit, or nil when the track has no edit list.
func readEdit(trak *mp4.TrakBox, movieTimescale uint32) *Edit {
	if trak.Edts == nil || len(trak.Edts.Elst) == 0 || len(trak.Edts.Elst[0].Entries) == 0 {
		return nil
	}
	entries := trak.Edts.Elst[0].Entries
	e := &Edit{}
	i := 0
	for ; i < len(entries) && entries[i].MediaTime == -1; i++ {
		if movieTimescale > 0 {
			e.Delay += ticks(entries[i].SegmentDuration, movieTimescale)
		}
	}
	if i == len(entries) {
		e.Ignored = "the edit list has only empty edits"
		return e
	}
	first := entries[i]
	e.MediaTime = first.MediaTime
	switch {
	case first.MediaRateInteger != 1 || first.MediaRateFraction != 0:
		e.Ignored = fmt.Sprintf("an edit at rate %d.%d (played at normal speed)",
			first.MediaRateInteger, first.MediaRateFraction)
	case len(entries) > i+1:
		e.Ignored = fmt.Sprintf("%d further edits (only the start offset is kept)", len(entries)-i-1)
	case e.MediaTime < 0:
		e.MediaTime, e.Ignored = 0, "a negative media time"
	}
	return e
}
