package packaging

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"satchel/engine/drm"
	"satchel/engine/media"
	"satchel/engine/probe"
	"satchel/internal/owner"
)

// source is an opened input rendition.
type source struct {
	path  string
	file  *probe.File
	asset *probe.Asset
}

// track is one CMAF track to write: a video rung or the audio.
type track struct {
	id      string // rendition ID: "360p", "audio"
	kind    media.Kind
	src     *source
	info    probe.Track
	samples []probe.Sample
	key     drm.ContentKey
	cuts    []int // index of the first sample of each segment
	bytes   int64 // media bytes of the track
}

// segment returns the samples of segment k.
func (t *track) segment(k int) []probe.Sample {
	end := len(t.samples)
	if k+1 < len(t.cuts) {
		end = t.cuts[k+1]
	}
	return t.samples[t.cuts[k]:end]
}

// openSources probes every input (streaming; no media data read) and checks the ladder.
func openSources(ctx context.Context, inputs []string) ([]*source, error) {
	var srcs []*source
	closeAll := func() {
		for _, s := range srcs {
			s.file.Close()
		}
	}
	seen := map[string]bool{}
	for _, in := range inputs {
		abs, _ := filepath.Abs(in)
		if seen[abs] {
			closeAll()
			return nil, &probe.InputError{Path: in, Reason: "is given twice; list each rendition once"}
		}
		seen[abs] = true
		f, err := probe.Open(ctx, in)
		if err != nil {
			closeAll()
			return nil, err
		}
		a, err := f.Asset(ctx)
		if err != nil {
			f.Close()
			closeAll()
			return nil, err
		}
		srcs = append(srcs, &source{path: in, file: f, asset: a})
		if a.Video() != nil && a.Video().Encrypted || a.Audio() != nil && a.Audio().Encrypted {
			closeAll()
			return nil, &probe.InputError{Path: in, Reason: "is already encrypted; package the clear source instead"}
		}
	}
	assets := make([]*probe.Asset, len(srcs))
	for i, s := range srcs {
		assets[i] = s.asset
	}
	if err := probe.CheckLadder(assets); err != nil {
		closeAll()
		return nil, err
	}
	return srcs, nil
}

// planTracks builds the video tracks (one per input, sorted by bitrate) and the audio track
// (from the input with the best audio bitrate).
func planTracks(srcs []*source, target time.Duration) ([]*track, error) {
	var tracks []*track
	ids := map[string]int{}
	for _, s := range srcs {
		v := s.asset.Video()
		samples, err := s.file.Samples(v.ID)
		if err != nil {
			return nil, &probe.InputError{Path: s.path, Reason: err.Error()}
		}
		id := strconv.Itoa(v.Height) + "p"
		ids[id]++
		if ids[id] > 1 {
			id = fmt.Sprintf("%s_%dk", id, v.Bitrate/1000)
		}
		normalizeTiming(samples)
		tracks = append(tracks, &track{id: id, kind: media.Video, src: s, info: *v, samples: samples, bytes: v.Bytes})
	}
	sort.SliceStable(tracks, func(i, j int) bool { return tracks[i].info.Bitrate < tracks[j].info.Bitrate })
	var best *source
	for _, s := range srcs {
		if a := s.asset.Audio(); a != nil && (best == nil || a.Bitrate > best.asset.Audio().Bitrate) {
			best = s
		}
	}
	if best != nil {
		a := best.asset.Audio()
		samples, err := best.file.Samples(a.ID)
		if err != nil {
			return nil, &probe.InputError{Path: best.path, Reason: err.Error()}
		}
		normalizeTiming(samples)
		tracks = append(tracks, &track{id: "audio", kind: media.Audio, src: best, info: *a, samples: samples, bytes: a.Bytes})
	}
	cuts := cutTimes(tracks[0], target)
	for _, t := range tracks {
		if err := t.placeCuts(cuts); err != nil {
			return nil, err
		}
	}
	return tracks, nil
}

// cutTimes chooses segment start times on the reference video track: at each step the sync
// sample nearest to previous cut + target, never closer than a quarter of the target.
func cutTimes(ref *track, target time.Duration) []time.Duration {
	var syncs []time.Duration
	for _, s := range ref.samples {
		if s.Sync {
			syncs = append(syncs, ticksToDur(s.DecodeTime-ref.samples[0].DecodeTime, ref.info.Timescale))
		}
	}
	cuts := []time.Duration{0}
	last := time.Duration(0)
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

func ticksToDur(t uint64, ts uint32) time.Duration {
	return time.Duration(float64(t) / float64(ts) * float64(time.Second))
}

// placeCuts maps cut times to sample indexes: sync samples for video (the ladder is aligned),
// the nearest sample start for audio.
func (t *track) placeCuts(cuts []time.Duration) error {
	t.cuts = t.cuts[:0]
	base := t.samples[0].DecodeTime
	i := 0
	for _, c := range cuts {
		want := uint64(c.Seconds()*float64(t.info.Timescale) + 0.5)
		for i < len(t.samples) && t.samples[i].DecodeTime-base < want {
			i++
		}
		if i >= len(t.samples) {
			break
		}
		j := i
		if t.kind == media.Audio && i > 0 && want-(t.samples[i-1].DecodeTime-base) < (t.samples[i].DecodeTime-base)-want {
			j = i - 1
		}
		if t.kind == media.Video && !t.samples[j].Sync {
			return &probe.InputError{Path: t.src.path, Reason: fmt.Sprintf("has no sync sample at %.3fs where the ladder is cut; re-encode with aligned GOPs", c.Seconds())}
		}
		if len(t.cuts) > 0 && j <= t.cuts[len(t.cuts)-1] {
			continue
		}
		t.cuts = append(t.cuts, j)
	}
	if len(t.cuts) == 0 || t.cuts[0] != 0 {
		return errors.New("internal: the first segment must start at the first sample")
	}
	if t.kind == media.Video && !t.samples[0].Sync {
		return &probe.InputError{Path: t.src.path, Reason: "does not start with a sync sample (keyframe); re-encode it so the first frame is a keyframe"}
	}
	return nil
}

// assignKeys picks the key for every track: explicit keys by track type, otherwise a new
// random key per track type.
func assignKeys(tracks []*track, explicit []drm.ContentKey) ([]drm.ContentKey, error) {
	byType := map[string]drm.ContentKey{}
	for _, k := range explicit {
		byType[k.TrackType] = k
	}
	var used []drm.ContentKey
	for _, t := range tracks {
		tt := drm.TrackTypeFor(t.kind, t.info.Width, t.info.Height)
		k, ok := byType[tt]
		if !ok {
			var err error
			if k, err = drm.RandomContentKey(tt); err != nil {
				return nil, err
			}
			byType[tt] = k
		}
		t.key = k
	}
	for _, tt := range drm.TrackTypes {
		if k, ok := byType[tt]; ok {
			for _, t := range tracks {
				if t.key.KID == k.KID {
					used = append(used, k)
					break
				}
			}
		}
	}
	return used, drm.CheckKeys(used)
}

// prepareOutDir checks the destination (checkOutDir: never replace a folder Satchel did not
// make, or one holding an input or a workspace), removes the temp folders of dead runs beside
// it, and creates this run's temp folder (owned by this process) beside it.
func prepareOutDir(out string, overwrite bool, inputs []string) (string, error) {
	abs, err := filepath.Abs(out)
	if err != nil {
		return "", fmt.Errorf("output folder %s: %w", out, err)
	}
	replacing := false
	if st, err := os.Stat(abs); err == nil {
		if !st.IsDir() {
			return "", fmt.Errorf("output %s exists and is a file; choose a folder path", out)
		}
		entries, _ := os.ReadDir(abs)
		if len(entries) > 0 && !overwrite {
			return "", &OutputExistsError{Dir: out}
		}
		replacing = len(entries) > 0
	}
	if err := checkOutDir(out, replacing, inputs); err != nil {
		return "", err
	}
	parent := filepath.Dir(abs)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", fmt.Errorf("output folder %s cannot be created: %w; choose a writable location", out, err)
	}
	removeStaleTemps(parent)
	tmp, err := makeTemp(abs)
	if err != nil {
		return "", fmt.Errorf("output folder %s is not writable (%v); choose a writable location", out, err)
	}
	if err := writeMarker(tmp); err != nil {
		os.RemoveAll(tmp)
		return "", err
	}
	return tmp, nil
}

// commitOutDir moves the finished temp folder into place. A folder being replaced is checked
// again, then moved into a second owned temp folder (so a run killed half way leaves only
// folders the next run removes) and deleted once the new package is in place.
func commitOutDir(tmp, out string, overwrite bool, inputs []string) error {
	abs, _ := filepath.Abs(out)
	var trash string
	if _, err := os.Stat(abs); err == nil {
		entries, _ := os.ReadDir(abs)
		switch {
		case len(entries) == 0:
			os.Remove(abs)
		case !overwrite:
			return fmt.Errorf("output folder %s appeared while packaging; not replacing it", out)
		default:
			if err := checkOutDir(out, true, inputs); err != nil {
				return err
			}
			if trash, err = makeTemp(abs); err != nil {
				return fmt.Errorf("replace %s: %w", out, err)
			}
			if err := os.Rename(abs, filepath.Join(trash, "old")); err != nil {
				os.RemoveAll(trash)
				return fmt.Errorf("replace %s: %w", out, err)
			}
		}
	}
	if err := os.Rename(tmp, abs); err != nil {
		if trash != "" {
			os.Rename(filepath.Join(trash, "old"), abs)
			os.RemoveAll(trash)
		}
		return fmt.Errorf("move the finished package to %s: %w", out, err)
	}
	os.Remove(filepath.Join(abs, owner.File)) // the package in place is nobody's temp folder
	if trash != "" {
		os.RemoveAll(trash)
	}
	return nil
}

// normalizeTiming rebases decode times to start at 0 and shifts composition offsets so the
// earliest presentation time is 0 too (what an edit list did in the source; CMAF tracks use
// signed trun offsets instead).
func normalizeTiming(ss []probe.Sample) {
	if len(ss) == 0 {
		return
	}
	base := ss[0].DecodeTime
	shift := int64(-1)
	for i := range ss {
		ss[i].DecodeTime -= base
		if i < 64 {
			if pts := int64(ss[i].DecodeTime) + int64(ss[i].CTO); shift < 0 || pts < shift {
				shift = pts
			}
		}
	}
	if shift > 0 {
		for i := range ss {
			ss[i].CTO -= int32(shift)
		}
	}
}
