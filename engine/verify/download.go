package verify

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/Eyevinn/mp4ff/mp4"

	"satchel/engine/media"
)

// fragSpan is one fragment of a single file: its bytes [start, end) (moof to the end of its
// mdat) and how long each track's samples in it last, in the track's timescale.
type fragSpan struct {
	start, end uint64
	dur        map[uint32]uint64
}

// fileIndex is what the moofs of a fragmented single file say, read without its media.
type fileIndex struct {
	frags     []fragSpan
	at        map[uint64]int    // fragment start → index
	total     map[uint32]uint64 // track → sum of sample durations
	maxSample map[uint32]uint64 // track → longest sample
}

// checkDownloadIndex checks how a fragmented single file tells players its length and where
// to seek: for a download (a file entry point), mvex/mehd equal to the fragments' duration
// (± one sample) and non-zero mvhd and tkhd durations; for every single file, each sidx
// (one per track, or one for all) covering every fragment with the right referenced sizes
// and durations (± one sample). A missing sidx is a warning: players cannot seek before reading all of it.
func (v *verifier) checkDownloadIndex(m *mediaRef, name string) {
	mf := m.file.mf
	idx, err := readFileIndex(mf, m.tracks)
	if err != "" {
		v.rep.failAt(Where{File: name}, CatStructure, m.subject, err, "re-package the file")
		return
	}
	if len(idx.frags) == 0 {
		return
	}
	var parts []string
	ok := true
	if m.entry.kind == KindFile {
		p, good := v.checkFileDurations(m, name, idx)
		parts, ok = append(parts, p...), good
	}
	p, good := v.checkSidxs(m, name, idx)
	parts, ok = append(parts, p...), ok && good
	if ok && len(parts) > 0 {
		v.rep.passAt(Where{File: name}, CatStructure, m.subject, "indexed for download and seeking: %s", strings.Join(parts, "; "))
	}
}

func readFileIndex(mf *mp4.File, tracks []*trackInfo) (*fileIndex, string) {
	idx := &fileIndex{at: map[uint64]int{}, total: map[uint32]uint64{}, maxSample: map[uint32]uint64{}}
	trex := map[uint32]*mp4.TrexBox{}
	for _, t := range tracks {
		trex[t.trackID] = t.trex
	}
	for _, seg := range mf.Segments {
		for _, f := range seg.Fragments {
			if f.Moof == nil {
				continue
			}
			fs := fragSpan{start: f.Moof.StartPos, end: f.Moof.StartPos + f.Moof.Size(), dur: map[uint32]uint64{}}
			if f.Mdat != nil {
				fs.end = f.Mdat.StartPos + f.Mdat.Size()
			}
			for _, traf := range f.Moof.Trafs {
				if traf.Tfhd == nil {
					return nil, "a traf has no tfhd"
				}
				id := traf.Tfhd.TrackID
				def := uint32(0)
				if tx := trex[id]; tx != nil {
					def = tx.DefaultSampleDuration
				}
				if traf.Tfhd.HasDefaultSampleDuration() {
					def = traf.Tfhd.DefaultSampleDuration
				}
				for _, tr := range traf.Truns {
					d := tr.Duration(def)
					fs.dur[id] += d
					idx.total[id] += d
					if n := uint64(tr.SampleCount()); n > 0 {
						idx.maxSample[id] = max(idx.maxSample[id], longestSample(tr, def))
					}
				}
			}
			idx.at[fs.start] = len(idx.frags)
			idx.frags = append(idx.frags, fs)
		}
	}
	return idx, ""
}

func longestSample(tr *mp4.TrunBox, def uint32) uint64 {
	if !tr.HasSampleDuration() {
		return uint64(def)
	}
	var m uint32
	for _, s := range tr.Samples {
		m = max(m, s.Dur)
	}
	return uint64(m)
}

// checkFileDurations checks mehd, mvhd and tkhd against the fragments' duration.
func (v *verifier) checkFileDurations(m *mediaRef, name string, idx *fileIndex) ([]string, bool) {
	moov := m.file.mf.Moov
	ts := uint64(1000)
	if moov.Mvhd != nil && moov.Mvhd.Timescale > 0 {
		ts = uint64(moov.Mvhd.Timescale)
	}
	// The presentation lasts as long as its longest track: packagers write it with the edit
	// list applied (Satchel) or as the media's duration (Shaka Packager); either is accepted.
	var want, edited, tol float64
	var longest *trackInfo
	for _, t := range m.tracks {
		if t.timescale == 0 || t.kind == media.Text {
			continue
		}
		d := float64(idx.total[t.trackID]) / float64(t.timescale)
		edited = math.Max(edited, d-t.elstShift)
		if longest == nil || d > want {
			want, longest = d, t
		}
		tol = math.Max(tol, float64(idx.maxSample[t.trackID])/float64(t.timescale)+1/float64(ts))
	}
	if longest == nil {
		return nil, true
	}
	near := func(got float64) bool { return math.Abs(got-want) <= tol || math.Abs(got-edited) <= tol }
	var parts []string
	ok := true
	w := Where{File: name, At: "moov/mvex/mehd"}
	switch {
	case moov.Mvex == nil || moov.Mvex.Mehd == nil:
		ok = false
		v.rep.warnAt(w, CatStructure, m.subject, "no mvex/mehd: players learn the download's duration only by reading "+
			"every fragment (progress bars and seeking are wrong until then)", "write an mvex/mehd with the fragments' duration")
	default:
		got := float64(moov.Mvex.Mehd.FragmentDuration) / float64(ts)
		if !near(got) {
			ok = false
			v.rep.failAt(w, CatStructure, m.subject, fmt.Sprintf("mehd says %.3f s but the fragments last %.3f s (%s; %.3f s "+
				"with the edit lists applied): players show the wrong length and cannot seek to the end", got, want,
				longest.label(), edited),
				"write mehd as the duration of the longest track's fragments (edit list applied)")
		} else {
			parts = append(parts, fmt.Sprintf("mehd %.3f s = the fragments' duration", got))
		}
	}
	if moov.Mvhd == nil || moov.Mvhd.Duration == 0 {
		ok = false
		v.rep.warnAt(Where{File: name, At: "moov/mvhd"}, CatStructure, m.subject, "mvhd duration is 0: ffprobe and MSE "+
			"players report no duration before they read the fragments", "write the presentation's duration into mvhd")
	} else if got := float64(moov.Mvhd.Duration) / float64(ts); !near(got) {
		ok = false
		v.rep.warnAt(Where{File: name, At: "moov/mvhd"}, CatStructure, m.subject, fmt.Sprintf("mvhd says %.3f s but the "+
			"fragments last %.3f s", got, want), "write the presentation's duration into mvhd")
	}
	for _, t := range m.tracks {
		if t.trak.Tkhd.Duration == 0 && t.kind != media.Text {
			ok = false
			v.rep.warnAt(Where{File: name, At: fmt.Sprintf("moov/trak[%d]/tkhd", t.trackID)}, CatStructure, t.subject,
				"tkhd duration is 0: players that read track durations show none", "write each track's duration into its tkhd")
		}
	}
	if ok {
		parts = append(parts, "mvhd and tkhd durations set")
	}
	return parts, ok
}

// checkSidxs checks every sidx of the file against its fragments.
func (v *verifier) checkSidxs(m *mediaRef, name string, idx *fileIndex) ([]string, bool) {
	mf := m.file.mf
	sidxs := append([]*mp4.SidxBox(nil), mf.Sidxs...)
	for _, seg := range mf.Segments {
		sidxs = append(sidxs, seg.Sidxs...)
	}
	if len(sidxs) == 0 {
		v.rep.warnAt(Where{File: name}, CatStructure, m.subject, "no sidx: players cannot seek in the file before they have "+
			"downloaded all of it", "index the file with a sidx per track (or one covering every track)")
		return nil, false
	}
	byID := map[uint32]*trackInfo{}
	for _, t := range m.tracks {
		byID[t.trackID] = t
	}
	ok := true
	covered := map[uint32]bool{}
	for i, sx := range sidxs {
		w := Where{File: name, At: fmt.Sprintf("sidx[%d]", i)}
		t := byID[sx.ReferenceID]
		if t == nil || t.timescale == 0 || sx.Timescale == 0 {
			ok = false
			v.rep.failAt(w, CatStructure, m.subject, fmt.Sprintf("sidx reference_ID %d names no track of the file (or its "+
				"timescale is 0)", sx.ReferenceID), "write the indexed track's ID and timescale into the sidx")
			continue
		}
		if msg := checkSidx(sx, t, idx); msg != "" {
			ok = false
			v.rep.failAt(w, CatStructure, m.subject, fmt.Sprintf("sidx of track %d: %s", sx.ReferenceID, msg),
				"re-index the file: players seek to the byte ranges the sidx gives")
			continue
		}
		covered[sx.ReferenceID] = true
	}
	if !ok {
		return nil, false
	}
	if len(sidxs) > 1 {
		for _, t := range m.tracks {
			if !covered[t.trackID] && idx.total[t.trackID] > 0 {
				v.rep.warnAt(Where{File: name}, CatStructure, t.subject, fmt.Sprintf("the file has a sidx per track but none "+
					"for track %d (%s): tools that index per track cannot seek in it", t.trackID, t.kind),
					"write a sidx for every track, or one covering every track")
				ok = false
			}
		}
	}
	ids := make([]string, 0, len(covered))
	for id := range covered {
		ids = append(ids, fmt.Sprint(id))
	}
	sort.Strings(ids)
	what := fmt.Sprintf("%d sidx (tracks %s)", len(sidxs), strings.Join(ids, ", "))
	if len(sidxs) == 1 {
		what = fmt.Sprintf("one sidx (track %s)", ids[0])
	}
	return []string{fmt.Sprintf("%s cover all %d fragments with correct sizes and durations", what, len(idx.frags))}, ok
}

// checkSidx walks one sidx's references over the fragments: each media reference starts at a
// fragment, ends at a fragment boundary and lasts as long as the indexed track's samples in it
// (± one tick of rounding); together they run from the first fragment to the last. A
// reference to another sidx (hierarchical index) is skipped. "" when it holds.
func checkSidx(sx *mp4.SidxBox, t *trackInfo, idx *fileIndex) string {
	pos := sx.AnchorPoint // mp4ff: the byte after the sidx plus first_offset, where the first reference starts
	first, last := idx.frags[0].start, idx.frags[len(idx.frags)-1].end
	if pos != first && !hasType1(sx) {
		return fmt.Sprintf("its first reference starts at byte %d, the first fragment at byte %d", pos, first)
	}
	for j, ref := range sx.SidxRefs {
		end := pos + uint64(ref.ReferencedSize)
		if ref.ReferenceType == 1 {
			pos = end
			continue
		}
		k, ok := idx.at[pos]
		if !ok {
			return fmt.Sprintf("reference %d starts at byte %d, which is not the start of a fragment (moof)", j+1, pos)
		}
		var dur uint64
		for ; k < len(idx.frags) && idx.frags[k].start < end; k++ {
			dur += idx.frags[k].dur[t.trackID]
		}
		if idx.frags[k-1].end != end {
			return fmt.Sprintf("reference %d (referenced_size %d) ends at byte %d, inside the fragment at bytes %d–%d",
				j+1, ref.ReferencedSize, end, idx.frags[k-1].start, idx.frags[k-1].end)
		}
		// subsegment_duration runs from this subsegment's earliest presentation time to the next
		// one's, so composition offsets and edits move it by up to a sample.
		want := float64(dur) * float64(sx.Timescale) / float64(t.timescale)
		tol := float64(idx.maxSample[t.trackID])*float64(sx.Timescale)/float64(t.timescale) + 1
		if math.Abs(float64(ref.SubSegmentDuration)-want) > tol {
			return fmt.Sprintf("reference %d lasts %d ticks (%.3f s) but the track's samples in it last %.0f (%.3f s)", j+1,
				ref.SubSegmentDuration, float64(ref.SubSegmentDuration)/float64(sx.Timescale), want, want/float64(sx.Timescale))
		}
		pos = end
	}
	if pos != last && !hasType1(sx) {
		return fmt.Sprintf("its references end at byte %d, the fragments at byte %d: the rest cannot be seeked to", pos, last)
	}
	return ""
}

func hasType1(sx *mp4.SidxBox) bool {
	for _, r := range sx.SidxRefs {
		if r.ReferenceType == 1 {
			return true
		}
	}
	return false
}
