package packaging

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/Eyevinn/mp4ff/mp4"

	"satchel/engine/manifest"
	"satchel/engine/media"
	"satchel/engine/probe"
	"satchel/engine/subtitle"
)

// textTimescale is the timescale of subtitle tracks: milliseconds, WebVTT's resolution.
const textTimescale = 1000

// trackCues reads the cues of an input's subtitle track (tx3g or wvtt samples), in
// presentation time: decode time (already rebased and delayed) plus composition offset minus
// the edit list's media time.
func trackCues(s *source, t *track, mediaTime int64) ([]subtitle.Cue, error) {
	var cues []subtitle.Cue
	ts := int64(t.info.Timescale)
	for i := 0; i < len(t.samples); i += 256 {
		ss := t.samples[i:min(i+256, len(t.samples))]
		buf, _, err := sampleData(s.file.F, ss)
		if err != nil {
			return nil, err
		}
		pos := 0
		for _, smp := range ss {
			data := buf[pos : pos+int(smp.Size)]
			pos += int(smp.Size)
			start := int64(smp.DecodeTime) + int64(smp.CTO) - mediaTime
			end := start + int64(smp.Dur)
			if end <= 0 {
				continue
			}
			from := time.Duration(max(start, 0)) * time.Second / time.Duration(ts)
			to := time.Duration(end) * time.Second / time.Duration(ts)
			got, err := sampleCues(t.info.Codec, data, from, to)
			if err != nil {
				putBuf(buf)
				return nil, &probe.InputError{Path: s.path, Reason: fmt.Sprintf("track %d sample %d: %v", t.info.ID, smp.Nr, err)}
			}
			cues = append(cues, got...)
		}
		putBuf(buf)
	}
	cues = subtitle.Merge(cues)
	subtitle.Sort(cues)
	return cues, nil
}

func sampleCues(codec string, data []byte, from, to time.Duration) ([]subtitle.Cue, error) {
	if codec == "wvtt" {
		return subtitle.WvttCues(data, from, to)
	}
	text, err := subtitle.Tx3gText(data)
	if err != nil || text == "" || to <= from {
		return nil, err
	}
	return []subtitle.Cue{{Start: from, End: to, Text: text}}, nil
}

// subtitleFileTrack reads an SRT or WebVTT file into a subtitle track.
func subtitleFileTrack(in SubtitleInput) (*track, error) {
	cues, _, err := subtitle.ReadFile(in.Path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, &probe.InputError{Path: in.Path, Reason: "does not exist; check the path"}
	case err != nil:
		return nil, &probe.InputError{Path: in.Path, Reason: err.Error()}
	}
	return &track{kind: media.Text, info: probe.Track{Kind: media.Text, Codec: "wvtt", Timescale: textTimescale},
		lang: in.Language, name: in.Name, forced: in.Forced, sdh: in.SDH, cues: cues, origin: filepath.Base(in.Path)}, nil
}

// clipCues keeps the cues inside the video: cues starting after its end are dropped (with a
// warning), cues running past it end with it.
func (pl *plan) clipCues(t *track) {
	var kept []subtitle.Cue
	dropped := 0
	for _, c := range t.cues {
		if c.Start >= pl.end {
			dropped++
			continue
		}
		c.End = min(c.End, pl.end)
		kept = append(kept, c)
	}
	if dropped > 0 {
		pl.warnings = append(pl.warnings, fmt.Sprintf("%s: %d cue(s) start after the video ends (%.3fs) and were left out",
			t.origin, dropped, pl.end.Seconds()))
	}
	t.cues = kept
}

// segmentSpan returns the time span of segment k of the package.
func (p *packager) segmentSpan(k int) (time.Duration, time.Duration) {
	if k+1 < len(p.plan.cuts) {
		return p.plan.cuts[k], p.plan.cuts[k+1]
	}
	return p.plan.cuts[k], max(p.plan.end, p.plan.cuts[k])
}

// textFragment builds the fragment of segment k of a subtitle track: wvtt samples for the
// CMAF track, tx3g samples for the single-file download.
func (p *packager) textFragment(t *track, k int, seq, trackID uint32, tx3g bool) (*mp4.Fragment, error) {
	from, to := p.segmentSpan(k)
	var samples []subtitle.Sample
	if tx3g {
		samples = subtitle.Tx3gSamples(t.cues, from, to, textTimescale)
	} else {
		var err error
		if samples, err = subtitle.WvttSamples(t.cues, from, to, textTimescale); err != nil {
			return nil, err
		}
	}
	ss := make([]probe.Sample, len(samples))
	var data []byte
	start := uint64(from.Milliseconds())
	for i, s := range samples {
		ss[i] = probe.Sample{DecodeTime: start, Dur: s.Dur, Size: uint32(len(s.Data)), Sync: true}
		start += uint64(s.Dur)
		data = append(data, s.Data...)
	}
	return buildFragment(seq, trackID, ss, data)
}

// textInit returns the init segment of a subtitle track: wvtt sample entry, text handler.
func textInit(t *track, trackID uint32) *mp4.InitSegment {
	init := mp4.CreateEmptyInit()
	trak := init.AddEmptyTrack(textTimescale, "wvtt", media.LanguageISO639(t.lang))
	setLanguage(trak, t.lang)
	trak.Tkhd.TrackID = trackID
	init.Moov.Mvex.Trex.TrackID = trackID
	init.Moov.Mvhd.NextTrackID = trackID + 1
	trak.Mdia.Minf.Stbl.Stsd.AddChild(subtitle.WvttEntry())
	return init
}

// downloadTextInit returns the init segment of a subtitle track in the single-file download:
// 3GPP timed text (tx3g, what ffmpeg's mov_text writes), which the native players and tools
// that read downloads (ffmpeg, VLC, ExoPlayer, Media Foundation, AVFoundation) all read —
// unlike WebVTT-in-MP4, a DASH format (ffmpeg 5 cannot demux it).
func downloadTextInit(t *track, trackID uint32, width, height int) (*mp4.InitSegment, error) {
	init := mp4.CreateEmptyInit()
	trak := init.AddEmptyTrack(textTimescale, "sbtl", media.LanguageISO639(t.lang))
	setLanguage(trak, t.lang)
	trak.Tkhd.TrackID = trackID
	trak.Tkhd.Width, trak.Tkhd.Height = mp4.Fixed32(width<<16), mp4.Fixed32(height<<16)
	init.Moov.Mvex.Trex.TrackID = trackID
	entry, err := subtitle.Tx3gEntry(t.forced)
	if err != nil {
		return nil, fmt.Errorf("tx3g sample entry: %w", err)
	}
	trak.Mdia.Minf.Stbl.Stsd.AddChild(entry)
	return init, nil
}

// writeText writes a subtitle track once (subtitles are not encrypted, so every scheme shares
// it): init.mp4 and wvtt segments for DASH, WebVTT segments for HLS.
func (p *packager) writeText(ctx context.Context, t *track) error {
	dir := filepath.ToSlash(filepath.Join(manifest.DirText, t.id))
	if err := os.MkdirAll(filepath.Join(p.dir, dir), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	initRel := dir + "/" + manifest.FileInit
	if _, err := writeBoxes(filepath.Join(p.dir, initRel), textInit(t, 1).Encode); err != nil {
		return err
	}
	r := p.rendition(t, dir, initRel)
	for k := range p.plan.cuts {
		if err := ctx.Err(); err != nil {
			return err
		}
		frag, err := p.textFragment(t, k, uint32(k+1), 1, false)
		if err != nil {
			return err
		}
		seg := mp4.NewMediaSegment()
		seg.AddFragment(frag)
		rel := dir + "/" + manifest.SegmentName(k+1)
		size, err := writeBoxes(filepath.Join(p.dir, rel), seg.Encode)
		if err != nil {
			return err
		}
		from, to := p.segmentSpan(k)
		s := manifest.Segment{Number: k + 1, Start: uint64(from.Milliseconds()),
			Duration: uint64(to.Milliseconds() - from.Milliseconds()), Path: rel, Size: size}
		r.Segments = append(r.Segments, s)
		var vtt bytes.Buffer
		if err := subtitle.WriteSegment(&vtt, t.cues, from, to); err != nil {
			return err
		}
		s.Path, s.Size = dir+"/"+manifest.TextSegmentName(k+1), int64(vtt.Len())
		if err := os.WriteFile(filepath.Join(p.dir, s.Path), vtt.Bytes(), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", s.Path, err)
		}
		r.WebVTT = append(r.WebVTT, s)
	}
	r.Bandwidth, r.AvgBandwidth = bandwidth(r)
	p.progress(Progress{Rendition: t.id, Fragments: len(r.Segments), TotalFragments: len(r.Segments), Done: true})
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, scheme := range p.cfg.Schemes {
		p.renditions[scheme] = append(p.renditions[scheme], r)
	}
	return nil
}
