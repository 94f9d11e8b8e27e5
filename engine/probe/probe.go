// Package probe reads MP4 files (progressive or fragmented) without loading media data: tracks,
// RFC 6381 codec strings, resolution, audio format, duration, bitrate, sync-sample times and
// the sample table the packager streams from. It also checks that the GOPs of a bitrate ladder
// line up, which CMAF switching sets require.
package probe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/Eyevinn/mp4ff/mp4"

	"satchel/engine/media"
	"satchel/internal/mp4safe"
)

// Track describes one track: audio, video or subtitles, or a track Satchel does not package
// (then Unsupported says why, and Kind is empty for tracks that carry no media).
type Track struct {
	ID          uint32          `json:"id"`
	Kind        media.Kind      `json:"kind"`
	Codec       string          `json:"codec"`
	SampleEntry string          `json:"sample_entry"`
	Handler     string          `json:"handler,omitempty"` // hdlr type when it is not vide/soun/text
	Width       int             `json:"width,omitempty"`
	Height      int             `json:"height,omitempty"`
	FrameRate   float64         `json:"frame_rate,omitempty"`
	SampleRate  int             `json:"sample_rate,omitempty"`
	Channels    int             `json:"channels,omitempty"`    // from the codec configuration, not the sample entry
	ChannelMap  uint16          `json:"channel_map,omitempty"` // AC-3/E-AC-3 channel locations (ETSI TS 102 366 E.1.3.1.8)
	Timescale   uint32          `json:"timescale"`
	Duration    time.Duration   `json:"duration_ns"`
	Bitrate     int64           `json:"bitrate"`
	Bytes       int64           `json:"bytes"`
	SampleCount int             `json:"sample_count"`
	SyncTimes   []time.Duration `json:"sync_times_ns,omitempty"`
	Language    string          `json:"language,omitempty"` // BCP 47 ("en"); empty when undetermined
	Default     bool            `json:"default,omitempty"`  // tkhd track_enabled: played unless the viewer chooses
	Forced      bool            `json:"forced,omitempty"`   // subtitles: every cue is forced (tx3g display flags)
	Role        media.Role      `json:"role,omitempty"`     // from a 'kind' box, when the file has one
	Edit        *Edit           `json:"edit,omitempty"`     // the start of the edit list, when the track has one
	Encrypted   bool            `json:"encrypted,omitempty"`
	Scheme      string          `json:"scheme,omitempty"`
	// Unsupported says why the track cannot be packaged ("uses the unsupported audio codec
	// \"Opus\"…"); empty for tracks Satchel carries.
	Unsupported string `json:"unsupported,omitempty"`
}

// Packageable reports whether Satchel can carry the track (audio, video or subtitles in a
// supported format).
func (t *Track) Packageable() bool { return t.Kind != "" && t.Unsupported == "" }

// Asset is a probed file.
type Asset struct {
	Path       string        `json:"path"`
	Size       int64         `json:"size"`
	Fragmented bool          `json:"fragmented"`
	Duration   time.Duration `json:"duration_ns"`
	Bitrate    int64         `json:"bitrate"`
	Tracks     []Track       `json:"tracks"`
}

// Video returns the first video track, or nil.
func (a *Asset) Video() *Track { return a.first(media.Video) }

// Audio returns the first audio track, or nil.
func (a *Asset) Audio() *Track { return a.first(media.Audio) }

func (a *Asset) first(kind media.Kind) *Track {
	for i := range a.Tracks {
		if a.Tracks[i].Kind == kind {
			return &a.Tracks[i]
		}
	}
	return nil
}

// Text returns the subtitle tracks.
func (a *Asset) Text() []Track {
	var out []Track
	for _, t := range a.Tracks {
		if t.Kind == media.Text {
			out = append(out, t)
		}
	}
	return out
}

// RequireVideo returns an InputError when the asset has no video track, or when its video
// cannot be packaged.
func (a *Asset) RequireVideo() error {
	v := a.Video()
	if v == nil {
		return &InputError{Path: a.Path, Reason: "has no video track; a ladder rendition needs one (audio-only files can't be packaged as a rung)"}
	}
	if v.Unsupported != "" {
		return &InputError{Path: a.Path, Reason: fmt.Sprintf("track %d %s", v.ID, v.Unsupported)}
	}
	return nil
}

// InputError is a problem with a user's file: missing, not an MP4, truncated, no video,
// unsupported codec. Its message names the file and what to do.
type InputError struct {
	Path   string
	Reason string
}

func (e *InputError) Error() string { return fmt.Sprintf("%s %s", filepath.Base(e.Path), e.Reason) }

// Supported sample entries.
var (
	videoEntries = map[string]bool{"avc1": true, "avc3": true, "hvc1": true, "hev1": true, "av01": true}
	audioEntries = map[string]bool{"mp4a": true, "ac-3": true, "ec-3": true}
)

const supportedList = "H.264 (avc1/avc3), HEVC (hvc1/hev1), AV1 (av01), AAC (mp4a), AC-3, E-AC-3"

// File is an opened MP4 with its decoded box structure (media data not loaded).
type File struct {
	Path string
	F    *os.File
	MP4  *mp4.File
	Size int64
}

// Close closes the file.
func (f *File) Close() error { return f.F.Close() }

// Open opens and decodes an MP4's boxes lazily (mdat payloads are not read), classifying
// failures as InputError.
func Open(ctx context.Context, path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, &InputError{Path: path, Reason: "does not exist; check the path"}
		}
		return nil, &InputError{Path: path, Reason: fmt.Sprintf("cannot be opened: %v", err)}
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, fmt.Errorf("probe %s: %w", path, err)
	}
	if st.IsDir() {
		fh.Close()
		return nil, &InputError{Path: path, Reason: "is a folder, not an MP4 file"}
	}
	if err := checkTopLevel(mp4safe.ReadAhead(fh, st.Size()), st.Size(), path); err != nil {
		fh.Close()
		return nil, err
	}
	mf, err := mp4safe.DecodeFile(ctx, fh, mp4safe.Lazy)
	if err != nil {
		if ctx.Err() != nil {
			fh.Close()
			return nil, ctx.Err()
		}
		fh.Close()
		return nil, &InputError{Path: path, Reason: fmt.Sprintf("is not a readable MP4 (%v); re-export it as MP4", err)}
	}
	if mf.Moov == nil && (mf.Init == nil || mf.Init.Moov == nil) {
		fh.Close()
		return nil, &InputError{Path: path, Reason: "has no moov box (no track information); it may be a fragment without its init segment or an incomplete download"}
	}
	return &File{Path: path, F: fh, MP4: mf, Size: st.Size()}, nil
}

// checkTopLevel walks the top-level box headers so that a text file or a truncated download
// gets a precise message before the box decoder sees it.
func checkTopLevel(r io.ReadSeeker, size int64, path string) error {
	var hdr [16]byte
	var pos int64
	first := true
	for pos < size {
		if _, err := r.Seek(pos, io.SeekStart); err != nil {
			return fmt.Errorf("probe %s: %w", path, err)
		}
		n, _ := io.ReadFull(r, hdr[:8])
		if n < 8 {
			return &InputError{Path: path, Reason: fmt.Sprintf("is truncated at byte %d of %d (incomplete box header); re-download or re-export it", pos, size)}
		}
		boxSize := int64(uint32(hdr[0])<<24 | uint32(hdr[1])<<16 | uint32(hdr[2])<<8 | uint32(hdr[3]))
		typ := string(hdr[4:8])
		if first {
			if !validFourCC(typ) || (typ != "ftyp" && typ != "styp" && typ != "moov" && typ != "free" && typ != "skip" && typ != "wide" && typ != "mdat") {
				return &InputError{Path: path, Reason: "is not an MP4 file (it does not start with an ftyp or moov box); give an .mp4/.m4a/.m4v file"}
			}
			first = false
		}
		switch boxSize {
		case 1:
			if _, err := io.ReadFull(r, hdr[8:16]); err != nil {
				return &InputError{Path: path, Reason: fmt.Sprintf("is truncated at byte %d of %d; re-download or re-export it", pos, size)}
			}
			var v int64
			for _, b := range hdr[8:16] {
				v = v<<8 | int64(b)
			}
			boxSize = v
		case 0:
			boxSize = size - pos
		}
		if boxSize < 8 {
			return &InputError{Path: path, Reason: fmt.Sprintf("has a corrupt %q box at byte %d (size %d); the file is damaged", typ, pos, boxSize)}
		}
		if pos+boxSize > size {
			return &InputError{Path: path, Reason: fmt.Sprintf("is truncated at byte %d of %d (the %s box needs %d bytes); re-download or re-export it", size, pos+boxSize, typ, boxSize)}
		}
		pos += boxSize
	}
	_, err := r.Seek(0, io.SeekStart)
	return err
}

func validFourCC(s string) bool {
	for i := 0; i < 4; i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == ' ' || c == '-' || c == '_' || c == '©') {
			return false
		}
	}
	return true
}

// Probe reads the file's structure and sample tables (never the media data).
func Probe(ctx context.Context, path string) (*Asset, error) {
	f, err := Open(ctx, path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Asset(ctx)
}

// Asset describes the opened file: every track, with sample statistics for the tracks
// Satchel can package.
func (f *File) Asset(ctx context.Context) (*Asset, error) {
	a := &Asset{Path: f.Path, Size: f.Size, Fragmented: f.MP4.IsFragmented()}
	moov := f.Moov()
	var movieTimescale uint32
	if moov.Mvhd != nil {
		movieTimescale = moov.Mvhd.Timescale
	}
	chapters := chapterTracks(moov)
	var total int64
	presentable := 0
	for _, trak := range moov.Traks {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		t, err := describeTrak(trak, movieTimescale, chapters)
		if err != nil {
			return nil, &InputError{Path: f.Path, Reason: err.Error()}
		}
		if t.Packageable() {
			if err := f.measure(t); err != nil {
				return nil, err
			}
			total += t.Bytes
			a.Duration = max(a.Duration, t.Duration)
		}
		if t.Kind != "" {
			presentable++
		}
		a.Tracks = append(a.Tracks, *t)
	}
	if presentable == 0 {
		return nil, &InputError{Path: f.Path, Reason: "has no audio, video or subtitle track"}
	}
	if a.Duration > 0 {
		a.Bitrate = int64(float64(total*8) / a.Duration.Seconds())
	}
	return a, nil
}

// measure reads the track's sample table: count, bytes, duration, bitrate, sync times.
func (f *File) measure(t *Track) error {
	samples, err := f.Samples(t.ID)
	if err != nil {
		return &InputError{Path: f.Path, Reason: err.Error()}
	}
	if len(samples) == 0 {
		if t.Kind == media.Text {
			t.Unsupported = "has no samples (an empty subtitle track)"
			return nil
		}
		return &InputError{Path: f.Path, Reason: fmt.Sprintf("track %d has no samples; the file is empty or incomplete", t.ID)}
	}
	var bytes int64
	var end uint64
	for _, s := range samples {
		if int64(s.Offset)+int64(s.Size) > f.Size {
			return &InputError{Path: f.Path, Reason: fmt.Sprintf("is truncated: sample %d of track %d ends at byte %d but the file has %d; re-download or re-export it", s.Nr, t.ID, int64(s.Offset)+int64(s.Size), f.Size)}
		}
		bytes += int64(s.Size)
		if t.Kind == media.Video && s.Sync {
			t.SyncTimes = append(t.SyncTimes, ticks(s.DecodeTime, t.Timescale))
		}
		end = s.DecodeTime + uint64(s.Dur)
	}
	t.SampleCount = len(samples)
	t.Bytes = bytes
	t.Duration = ticks(end-samples[0].DecodeTime, t.Timescale)
	if t.Duration > 0 {
		t.Bitrate = int64(float64(bytes*8) / t.Duration.Seconds())
		if t.Kind == media.Video {
			t.FrameRate = float64(len(samples)) / t.Duration.Seconds()
		}
	}
	return nil
}

// Moov returns the file's movie box (from the init segment for fragmented files).
func (f *File) Moov() *mp4.MoovBox {
	if f.MP4.Moov != nil {
		return f.MP4.Moov
	}
	return f.MP4.Init.Moov
}

// Trak returns the track box with the given ID (nil when none; a track without a track
// header has no ID and is never returned).
func (f *File) Trak(id uint32) *mp4.TrakBox {
	for _, t := range f.Moov().Traks {
		if t.Tkhd != nil && t.Tkhd.TrackID == id {
			return t
		}
	}
	return nil
}

func ticks(t uint64, timescale uint32) time.Duration {
	if timescale == 0 {
		return 0
	}
	return time.Duration(float64(t) * float64(time.Second) / float64(timescale))
}

// describeTrak describes one track. Tracks Satchel cannot carry get Unsupported; an error
// means the file is damaged.
func describeTrak(trak *mp4.TrakBox, movieTimescale uint32, chapters map[uint32]bool) (*Track, error) {
	if trak.Tkhd == nil {
		return nil, fmt.Errorf("has a track box without its track header (tkhd); the file is damaged")
	}
	if trak.Mdia == nil || trak.Mdia.Hdlr == nil || trak.Mdia.Mdhd == nil || trak.Mdia.Minf == nil ||
		trak.Mdia.Minf.Stbl == nil || trak.Mdia.Minf.Stbl.Stsd == nil {
		return nil, fmt.Errorf("has an incomplete track box (missing mdia/minf/stbl/stsd); the file is damaged")
	}
	t := &Track{ID: trak.Tkhd.TrackID, Timescale: trak.Mdia.Mdhd.Timescale, Language: trackLanguage(trak),
		Default: trak.Tkhd.Flags&1 != 0, Role: trackRole(trak), Edit: readEdit(trak, movieTimescale)}
	handler := trak.Mdia.Hdlr.HandlerType
	kind, ok := media.KindForHandler(handler)
	switch {
	case chapters[t.ID]:
		t.Handler = handler
		t.Unsupported = "is a chapter track (chapter titles, not subtitles); chapters are not packaged"
		return t, nil
	case !ok:
		t.Handler = handler
		t.Unsupported = fmt.Sprintf("is a %q track (not audio, video or subtitles)", handler)
		return t, nil
	}
	t.Kind = kind
	stsd := trak.Mdia.Minf.Stbl.Stsd
	if len(stsd.Children) == 0 {
		return nil, fmt.Errorf("track %d has no sample description", t.ID)
	}
	entry := stsd.Children[0]
	t.SampleEntry = entry.Type()
	switch se := entry.(type) {
	case *mp4.VisualSampleEntryBox:
		return t, t.describeVideo(se)
	case *mp4.AudioSampleEntryBox:
		return t, t.describeAudio(se)
	}
	if kind == media.Text {
		describeText(t, entry)
		return t, nil
	}
	t.Codec = entry.Type()
	t.Unsupported = fmt.Sprintf("has the unsupported sample entry %q; supported: %s", entry.Type(), supportedList)
	return t, nil
}

func (t *Track) describeVideo(se *mp4.VisualSampleEntryBox) error {
	t.Width, t.Height = int(se.Width), int(se.Height)
	t.protection(se.Sinf)
	t.Codec = t.SampleEntry
	if !videoEntries[t.SampleEntry] {
		t.Unsupported = fmt.Sprintf("uses the unsupported video codec %q; supported: %s. Transcode it (e.g. ffmpeg -c:v libx264)", t.SampleEntry, supportedList)
		return nil
	}
	codec, err := videoCodec(t.SampleEntry, se)
	if err != nil {
		return err
	}
	t.Codec = codec
	return nil
}

func (t *Track) describeAudio(se *mp4.AudioSampleEntryBox) error {
	t.SampleRate = int(se.SampleRate)
	t.protection(se.Sinf)
	t.Codec = t.SampleEntry
	if !audioEntries[t.SampleEntry] {
		t.Unsupported = fmt.Sprintf("uses the unsupported audio codec %q; supported: %s. Transcode it (e.g. ffmpeg -c:a aac)", t.SampleEntry, supportedList)
		return nil
	}
	t.Codec = audioCodec(t.SampleEntry, se)
	n, chanMap, err := audioChannels(t.SampleEntry, se)
	if err != nil {
		return fmt.Errorf("track %d has an unreadable %s configuration (%v); re-export it", t.ID, t.SampleEntry, err)
	}
	t.Channels, t.ChannelMap = n, chanMap
	return nil
}

// protection records the scheme of a protected sample entry and the original format it wraps.
func (t *Track) protection(sinf *mp4.SinfBox) {
	if sinf == nil {
		return
	}
	t.Encrypted = true
	if sinf.Frma != nil {
		t.SampleEntry = sinf.Frma.DataFormat
	}
	if sinf.Schm != nil {
		t.Scheme = sinf.Schm.SchemeType
	}
}
