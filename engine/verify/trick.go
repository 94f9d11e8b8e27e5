package verify

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"satchel/engine/manifest"
	"satchel/engine/media"
)

// trickSet is a DASH trick-mode AdaptationSet (DASH-IF IOP 3.2.9): an EssentialProperty (or
// SupplementalProperty) http://dashif.org/guidelines/trickmode naming the AdaptationSet it is
// made from. Its Representations are not renditions of the ladder.
type trickSet struct {
	set    *manifest.AdaptationSetInfo
	index  int // index of set in the MPD's AdaptationSets
	mainID string
	main   int // index of the main AdaptationSet (-1: not found)
	reps   []*mediaRef
	where  Where
}

// trickSetOf returns the trickSet of AdaptationSet index asIdx of info (made once per entry),
// or nil when it is not a trick-mode set.
func trickSetOf(e *entry, info *manifest.MPDInfo, asIdx int) *trickSet {
	as := &info.AdaptationSets[asIdx]
	mainID, ok := as.TrickModeOf()
	if !ok {
		return nil
	}
	for _, ts := range e.trickSets {
		if ts.index == asIdx {
			return ts
		}
	}
	ts := &trickSet{set: as, index: asIdx, mainID: mainID, main: -1,
		where: Where{File: e.name, At: "MPD/" + as.Element + "/EssentialProperty[trickmode]"}}
	for i, other := range info.AdaptationSets {
		if i != asIdx && other.ID != "" && other.ID == mainID {
			ts.main = i
		}
	}
	e.trickSets = append(e.trickSets, ts)
	return ts
}

// checkTrickSignalling checks what the MPD says about each trick-mode set: it names an
// existing video AdaptationSet, its Representations match that set's codecs and resolutions,
// and it carries maxPlayoutRate.
func (v *verifier) checkTrickSignalling(e *entry, info *manifest.MPDInfo) {
	for _, ts := range e.trickSets {
		subject := e.name + " trick mode"
		if ts.main < 0 {
			v.rep.failAt(ts.where, CatStructure, subject, fmt.Sprintf("the trick-mode AdaptationSet names AdaptationSet %q, "+
				"which the MPD does not have: players cannot tell which video it speeds through", ts.mainID),
				"set the trickmode EssentialProperty value to the id of the video AdaptationSet the trick track is made from")
			continue
		}
		main := info.AdaptationSets[ts.main]
		if !isVideoSet(main) {
			v.rep.failAt(ts.where, CatStructure, subject, fmt.Sprintf("the trick-mode AdaptationSet names AdaptationSet %q, "+
				"which is not video", ts.mainID), "name the video AdaptationSet the trick track is made from")
			continue
		}
		var mainReps []*mediaRef
		for _, m := range e.media {
			if m.set == ts.main && m.trick == nil {
				mainReps = append(mainReps, m)
			}
		}
		for _, r := range ts.reps {
			if !matchesAny(r, mainReps) {
				v.rep.warnAt(Where{File: e.name, At: r.element}, CatStructure, subject,
					fmt.Sprintf("trick Representation %s (%s %s) matches no Representation of AdaptationSet %s in codec and "+
						"resolution", r.rendition, r.codecs, r.resolution, ts.mainID),
					"make each trick track from a rendition of the main set, with its codec and resolution")
			}
		}
		if ts.set.MaxPlayoutRate == "" && (len(ts.reps) == 0 || ts.reps[0].maxPlayout == "") {
			v.rep.warnAt(ts.where, CatStructure, subject, "the trick-mode AdaptationSet has no maxPlayoutRate: players "+
				"cannot tell at which speeds it is meant to be used", "add maxPlayoutRate (main frame rate / trick frame rate)")
		}
		v.rep.passAt(ts.where, CatStructure, subject, "trick-mode AdaptationSet (%d Representations) is the trick mode "+
			"of video AdaptationSet %s", len(ts.reps), ts.mainID)
	}
}

func isVideoSet(as manifest.AdaptationSetInfo) bool {
	return strings.EqualFold(as.ContentType, "video") || strings.HasPrefix(strings.ToLower(as.MimeType), "video/")
}

// matchesAny reports whether r has the codec family and resolution of a main Representation.
func matchesAny(r *mediaRef, mains []*mediaRef) bool {
	family := func(c string) string { f, _, _ := strings.Cut(c, "."); return f }
	for _, m := range mains {
		if (r.codecs == "" || m.codecs == "" || family(r.codecs) == family(m.codecs)) &&
			(r.resolution == "" || m.resolution == "" || r.resolution == m.resolution) {
			return true
		}
	}
	return len(mains) == 0
}

// checkTrickMedia checks the trick-mode tracks once their samples are read: sync samples only,
// and a maxPlayoutRate (and frameRate, when written) consistent with the frames the trick track
// and the main rendition actually hold.
func (v *verifier) checkTrickMedia(e *entry) {
	for _, ts := range e.trickSets {
		mainFPS, mainFrom := v.mainFrameRate(e, ts)
		for _, r := range ts.reps {
			for _, t := range r.tracks {
				if t.kind == media.Video {
					v.checkTrickTrack(ts, r, t, mainFPS, mainFrom)
				}
			}
		}
	}
}

func (v *verifier) checkTrickTrack(ts *trickSet, r *mediaRef, t *trackInfo, mainFPS float64, mainFrom string) {
	o := t.origin()
	if o.samples == 0 {
		return
	}
	w := Where{File: t.file}
	if o.nonSync > 0 {
		v.rep.failAt(w, CatStructure, t.subject, fmt.Sprintf("%d of %d samples of the trick-mode track are not sync samples "+
			"(first: sample %d): a player decodes each trick frame on its own and shows garbage or stalls", o.nonSync, o.samples,
			o.firstNonSync), "re-package the trick track with I-frames only (one sync sample per segment)")
		return
	}
	dur := v.rep.Inventory.Tracks[o.fact].Duration
	if dur <= 0 {
		return
	}
	trickFPS := float64(o.samples) / dur
	msg := fmt.Sprintf("trick-mode track: %d sync samples only (%.3g frames/s)", o.samples, trickFPS)
	if fr, ok := parseRate(r.frameRate); ok && !near(fr, trickFPS, 0.1) {
		v.rep.warnAt(Where{File: r.entry.name, At: r.element}, CatStructure, t.subject,
			fmt.Sprintf("frameRate says %s (%.3g frames/s) but the trick track holds %d frames in %.3f s (%.3g frames/s)",
				r.frameRate, fr, o.samples, dur, trickFPS), "write the trick Representation's frameRate as its frames per second")
	}
	mpr := firstOf(r.maxPlayout, ts.set.MaxPlayoutRate)
	rate, ok := parseRate(mpr)
	if mainFPS <= 0 || !ok {
		v.rep.passAt(w, CatStructure, t.subject, "%s", msg)
		return
	}
	want := mainFPS / trickFPS
	if math.Abs(rate-want) > math.Max(1, 0.1*want) {
		v.rep.warnAt(Where{File: r.entry.name, At: "MPD/" + ts.set.Element}, CatStructure, t.subject,
			fmt.Sprintf("maxPlayoutRate is %s, but the main video has %.3g frames/s (%s) and the trick track %.3g: at %s× "+
				"it shows %.3g frames/s, not the normal %.3g", mpr, mainFPS, mainFrom, trickFPS, mpr, trickFPS*rate, mainFPS),
			fmt.Sprintf("set maxPlayoutRate to the main frame rate divided by the trick frame rate (%.0f)", want))
		return
	}
	v.rep.passAt(w, CatStructure, t.subject, "%s; maxPlayoutRate %s agrees with %.3g frames/s of the main video (%s)",
		msg, mpr, mainFPS, mainFrom)
}

// mainFrameRate is the frame rate of the trick set's main video: its frameRate attribute, else
// its samples per second.
func (v *verifier) mainFrameRate(e *entry, ts *trickSet) (float64, string) {
	for _, m := range e.media {
		if m.set != ts.main || m.trick != nil {
			continue
		}
		if fr, ok := parseRate(m.frameRate); ok {
			return fr, "frameRate " + m.frameRate
		}
		for _, t := range m.tracks {
			o := t.origin()
			if d := v.rep.Inventory.Tracks[o.fact].Duration; t.kind == media.Video && o.samples > 0 && d > 0 {
				return float64(o.samples) / d, "measured"
			}
		}
	}
	return 0, ""
}

// parseRate parses a DASH frame rate or playout rate: "24", "30000/1001", "2.5".
func parseRate(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	if a, b, ok := strings.Cut(s, "/"); ok {
		n, err1 := strconv.ParseFloat(a, 64)
		d, err2 := strconv.ParseFloat(b, 64)
		if err1 != nil || err2 != nil || d <= 0 || n <= 0 {
			return 0, false
		}
		return n / d, true
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil && f > 0 && !math.IsInf(f, 0)
}

// near reports whether a and b differ by at most frac of b.
func near(a, b, frac float64) bool { return math.Abs(a-b) <= frac*math.Abs(b) }

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
