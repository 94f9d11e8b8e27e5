package packaging

import "time"

// SegmentCuts returns the segment start times Package chooses on a reference video track
// whose sync samples start at syncs (sorted), for segments of about target: at each step the
// sync sample nearest to the previous cut + target, never closer than a quarter of the target.
// The first segment starts at 0. A segment is as long as the GOPs allow: a source with one
// sync sample gives one segment as long as the whole track.
func SegmentCuts(syncs []time.Duration, target time.Duration) []time.Duration {
	cuts := []time.Duration{0}
	last := time.Duration(0)
	if len(syncs) > 0 {
		last = syncs[0] // a delayed video track starts at its first sample
	}
	for i := 1; i < len(syncs); i++ {
		if syncs[i]-last < target {
			continue
		}
		choice := syncs[i]
		if prev := syncs[i-1]; prev > last && prev-last >= target/4 && (last+target)-prev < syncs[i]-(last+target) {
			choice = prev
		}
		cuts = append(cuts, choice)
		last = choice
		if choice == syncs[i-1] {
			i-- // re-evaluate syncs[i] from the new cut
		}
	}
	return cuts
}
