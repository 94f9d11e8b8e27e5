package packaging

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"satchel/engine/drm"
	"satchel/engine/manifest"
	"satchel/engine/media"
	"satchel/engine/probe"
	"satchel/engine/subtitle"
	"satchel/internal/owner"
)

// source is an opened input: a ladder rendition or an audio file.
type source struct {
	path  string
	file  *probe.File
	asset *probe.Asset
	audio *AudioInput // set for Config.Audio files
}

// track is one CMAF track to write: a video rung, an audio track or a subtitle track.
type track struct {
	id      string // rendition ID: "360p", "audio_en", "text_fr"
	kind    media.Kind
	order   int // position in the plan: manifests list audio and text in this order
	src     *source
	info    probe.Track
	samples []probe.Sample
	key     drm.ContentKey
	cuts    []int // index of the first sample of each segment
	bytes   int64 // media bytes of the track

	lang, name  string
	role        media.Role
	def         bool // the default audio
	forced, sdh bool
	mediaTime   int64                 // edit list media time carried into the init segment (audio priming)
	cues        []subtitle.Cue        // text tracks
	smooth      *manifest.SmoothTrack // with Config.Smooth: the track's Smooth codec description
	origin      string                // "file track N", for messages
}

// segment returns the samples of segment k.
func (t *track) segment(k int) []probe.Sample {
	end := len(t.samples)
	if k+1 < len(t.cuts) {
		end = t.cuts[k+1]
	}
	return t.samples[t.cuts[k]:end]
}

// plan is what Package writes: the tracks, the segment grid and what was left out.
type plan struct {
	tracks   []*track
	cuts     []time.Duration // segment start times (from the reference video)
	end      time.Duration   // end of the reference video
	warnings []string
	notes    []string
}

// openSources probes every input (streaming; no media data read) and checks the ladder, then
// the audio files.
func openSources(ctx context.Context, cfg Config) (ladder, audio []*source, err error) {
	o := &opener{seen: map[string]bool{}}
	defer func() {
		if err != nil {
			for _, s := range o.all {
				s.file.Close()
			}
		}
	}()
	var assets []*probe.Asset
	for _, in := range cfg.Inputs {
		s, err := o.open(ctx, in, nil)
		if err != nil {
			return nil, nil, err
		}
		ladder = append(ladder, s)
		assets = append(assets, s.asset)
	}
	if err := probe.CheckLadder(assets); err != nil {
		return nil, nil, err
	}
	for i := range cfg.Audio {
		s, err := o.open(ctx, cfg.Audio[i].Path, &cfg.Audio[i])
		if err != nil {
			return nil, nil, err
		}
		if s.asset.Audio() == nil {
			return nil, nil, &probe.InputError{Path: s.path, Reason: "has no audio track; give an audio file (.m4a, .mp4)"}
		}
		audio = append(audio, s)
	}
	return ladder, audio, nil
}

// opener opens the inputs of one job, each file once.
type opener struct {
	seen map[string]bool
	all  []*source
}

func (o *opener) open(ctx context.Context, path string, ai *AudioInput) (*source, error) {
	abs, _ := filepath.Abs(path)
	if o.seen[abs] {
		return nil, &probe.InputError{Path: path, Reason: "is given twice; list each file once"}
	}
	o.seen[abs] = true
	f, err := probe.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	a, err := f.Asset(ctx)
	if err != nil {
		f.Close()
		return nil, err
	}
	s := &source{path: path, file: f, asset: a, audio: ai}
	o.all = append(o.all, s)
	for _, t := range a.Tracks {
		if t.Encrypted && t.Packageable() {
			return nil, &probe.InputError{Path: path, Reason: "is already encrypted; package the clear source instead"}
		}
	}
	return s, nil
}

// planTracks builds the tracks: one video per input (sorted by bitrate), every audio track of
// the inputs and audio files, every subtitle track and file; identical copies once. Tracks
// that cannot be carried fail the job unless cfg.SkipUnsupported.
func planTracks(ladder, audio []*source, cfg Config) (*plan, error) {
	pl := &plan{}
	var videos, audios, texts []*track
	for _, s := range append(append([]*source(nil), ladder...), audio...) {
		v, a, t, err := pl.sourceTracks(s, cfg)
		if err != nil {
			return nil, err
		}
		videos, audios, texts = append(videos, v...), append(audios, a...), append(texts, t...)
	}
	ids := map[string]int{}
	for _, v := range videos {
		v.id = strconv.Itoa(v.info.Height) + "p"
		ids[v.id]++
		if ids[v.id] > 1 {
			v.id = fmt.Sprintf("%s_%dk", v.id, v.info.Bitrate/1000)
		}
	}
	sort.SliceStable(videos, func(i, j int) bool { return videos[i].info.Bitrate < videos[j].info.Bitrate })
	for i := range cfg.Subtitles {
		t, err := subtitleFileTrack(cfg.Subtitles[i])
		if err != nil {
			return nil, err
		}
		texts = append(texts, t)
	}
	audios, err := pl.dedupAudio(audios)
	if err != nil {
		return nil, err
	}
	texts = pl.dedupText(texts)
	ref := videos[0]
	pl.cuts = cutTimes(ref, cfg.SegmentDuration)
	last := ref.samples[len(ref.samples)-1]
	pl.end = ticksToDur(last.DecodeTime+uint64(last.Dur), ref.info.Timescale)
	nameTracks(audios, texts)
	pl.tracks = append(append(videos, audios...), texts...)
	for i, t := range pl.tracks {
		t.order = i
		if t.kind == media.Text {
			pl.clipCues(t)
			continue
		}
		if err := t.placeCuts(pl.cuts); err != nil {
			return nil, err
		}
	}
	return pl, nil
}

// sourceTracks turns one input's tracks into tracks to write (audio files give audio only).
func (pl *plan) sourceTracks(s *source, cfg Config) (videos, audios, texts []*track, err error) {
	videoSeen := false
	for _, info := range s.asset.Tracks {
		origin := fmt.Sprintf("%s track %d", filepath.Base(s.path), info.ID)
		switch {
		case info.Kind == "":
			pl.notes = append(pl.notes, fmt.Sprintf("%s %s", origin, info.Unsupported))
			continue
		case s.audio != nil && info.Kind != media.Audio:
			pl.notes = append(pl.notes, fmt.Sprintf("%s (%s) is not packaged: the file was given for its audio",
				origin, info.Kind))
			continue
		case info.Kind == media.Video && videoSeen:
			info.Unsupported = "is a second video track; a ladder rendition carries one (give each rung as its own input)"
		}
		if info.Unsupported != "" {
			if !cfg.SkipUnsupported || info.Kind == media.Video && !videoSeen {
				return nil, nil, nil, &UnsupportedTrackError{Path: s.path, TrackID: info.ID, Kind: info.Kind,
					Reason: info.Unsupported}
			}
			pl.warnings = append(pl.warnings, fmt.Sprintf("%s (%s) skipped: it %s", origin, info.Kind,
				strings.TrimPrefix(info.Unsupported, "is ")))
			continue
		}
		t, err := newTrack(s, info, origin)
		if err != nil {
			return nil, nil, nil, err
		}
		if info.Kind == media.Text && len(t.cues) == 0 {
			pl.notes = append(pl.notes, fmt.Sprintf("%s (subtitles) holds no cues; not packaged", origin))
			continue
		}
		if info.Edit != nil && info.Edit.Ignored != "" {
			pl.warnings = append(pl.warnings, fmt.Sprintf("%s: its edit list has %s, which CMAF cannot carry",
				origin, info.Edit.Ignored))
		}
		switch info.Kind {
		case media.Video:
			videoSeen = true
			videos = append(videos, t)
		case media.Audio:
			audios = append(audios, t)
		case media.Text:
			texts = append(texts, t)
		}
	}
	return videos, audios, texts, nil
}

// newTrack reads the sample table (or, for subtitles, the cues) of one input track and applies
// its edit list as Shaka Packager does: the start edit's media time (audio priming, the
// composition delay of B-frames) goes into the init segment's edit list, empty edits delay
// the track's decode times, and subtitle cues are placed in presentation time. Audio and video
// then start exactly where the source's do.
func newTrack(s *source, info probe.Track, origin string) (*track, error) {
	samples, err := s.file.Samples(info.ID)
	if err != nil {
		return nil, &probe.InputError{Path: s.path, Reason: err.Error()}
	}
	t := &track{kind: info.Kind, src: s, info: info, samples: samples, bytes: info.Bytes, origin: origin,
		lang: info.Language, role: info.Role, def: info.Default, forced: info.Forced}
	if ai := s.audio; ai != nil {
		t.def = false
		if ai.Language != "" {
			t.lang = ai.Language
		}
		t.name, t.role = ai.Name, ai.Role
	}
	var edit probe.Edit
	if info.Edit != nil {
		edit = *info.Edit
	}
	delay := uint64(edit.Delay.Seconds()*float64(info.Timescale) + 0.5)
	base := samples[0].DecodeTime
	for i := range samples {
		samples[i].DecodeTime = samples[i].DecodeTime - base + delay
	}
	switch info.Kind {
	case media.Audio, media.Video:
		t.mediaTime = edit.MediaTime
	case media.Text:
		if t.cues, err = trackCues(s, t, edit.MediaTime); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// cutTimes chooses segment start times on the reference video track: at each step the sync
// sample nearest to previous cut + target, never closer than a quarter of the target.
func cutTimes(ref *track, target time.Duration) []time.Duration {
	var syncs []time.Duration
	for _, s := range ref.samples {
		if s.Sync {
			syncs = append(syncs, ticksToDur(s.DecodeTime, ref.info.Timescale))
		}
	}
	return SegmentCuts(syncs, target)
}

func ticksToDur(t uint64, ts uint32) time.Duration {
	return time.Duration(float64(t) / float64(ts) * float64(time.Second))
}

// placeCuts maps cut times to sample indexes: sync samples for video (the ladder is aligned),
// the nearest sample start for audio. The first segment always starts at the first sample.
func (t *track) placeCuts(cuts []time.Duration) error {
	t.cuts = []int{0}
	i := 0
	for _, c := range cuts[1:] {
		want := uint64(c.Seconds()*float64(t.info.Timescale) + 0.5)
		for i < len(t.samples) && t.samples[i].DecodeTime < want {
			i++
		}
		if i >= len(t.samples) {
			break
		}
		j := i
		if t.kind == media.Audio && i > 0 && want-t.samples[i-1].DecodeTime < t.samples[i].DecodeTime-want {
			j = i - 1
		}
		if t.kind == media.Video && !t.samples[j].Sync {
			return &probe.InputError{Path: t.src.path, Reason: fmt.Sprintf("has no sync sample at %.3fs where the ladder is cut; re-encode with aligned GOPs", c.Seconds())}
		}
		if j <= t.cuts[len(t.cuts)-1] {
			continue
		}
		t.cuts = append(t.cuts, j)
	}
	if t.kind == media.Video && !t.samples[0].Sync {
		return &probe.InputError{Path: t.src.path, Reason: "does not start with a sync sample (keyframe); re-encode it so the first frame is a keyframe"}
	}
	return nil
}

// assignKeys picks the key for every track: the explicit key of its track type, else the
// explicit TrackAll key, else a new random key per track type. It returns the keys used, in
// TrackTypes order, the TrackAll key last.
func assignKeys(tracks []*track, explicit []drm.ContentKey) ([]drm.ContentKey, error) {
	byType := map[string]drm.ContentKey{}
	for _, k := range explicit {
		byType[k.TrackType] = k
	}
	usedBy := map[drm.KID]bool{}
	for _, t := range tracks {
		if t.kind == media.Text {
			continue // subtitles stay in the clear
		}
		tt := drm.TrackTypeFor(t.kind, t.info.Width, t.info.Height)
		k, ok := byType[tt]
		if !ok {
			if k, ok = byType[drm.TrackAll]; !ok {
				var err error
				if k, err = drm.RandomContentKey(tt); err != nil {
					return nil, err
				}
				byType[tt] = k
			}
		}
		t.key = k
		usedBy[k.KID] = true
	}
	var used []drm.ContentKey
	for _, tt := range append(append([]string(nil), drm.TrackTypes...), drm.TrackAll) {
		if k, ok := byType[tt]; ok && usedBy[k.KID] {
			used = append(used, k)
			delete(usedBy, k.KID)
		}
	}
	return used, drm.CheckKeys(used)
}

// CheckOutDir reports whether Package could write out now: an *OutputExistsError when it
// holds files and overwrite is false, an error when it is a file, an *OutputConflictError when
// it is a folder Satchel never replaces (one it did not make, or one holding an input or a
// workspace). Package checks it itself; a caller with slow work to do before packaging (an
// encode) checks it first, naming the files that work reads as inputs.
func CheckOutDir(out string, overwrite bool, inputs ...string) error {
	abs, err := filepath.Abs(out)
	if err != nil {
		return fmt.Errorf("output folder %s: %w", out, err)
	}
	replacing := false
	if st, err := os.Stat(abs); err == nil {
		if !st.IsDir() {
			return fmt.Errorf("output %s exists and is a file; choose a folder path", out)
		}
		entries, _ := os.ReadDir(abs)
		if len(entries) > 0 && !overwrite {
			return &OutputExistsError{Dir: out}
		}
		replacing = len(entries) > 0
	}
	return checkOutDir(out, replacing, inputs)
}

// prepareOutDir checks the destination (CheckOutDir), removes the temp folders of dead runs
// beside it, and creates this run's temp folder (owned by this process) beside it.
func prepareOutDir(out string, overwrite bool, inputs []string) (string, error) {
	if err := CheckOutDir(out, overwrite, inputs...); err != nil {
		return "", err
	}
	abs, err := filepath.Abs(out)
	if err != nil {
		return "", fmt.Errorf("output folder %s: %w", out, err)
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
