package packaging

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/Eyevinn/mp4ff/mp4"

	"satchel/engine/cenc"
	"satchel/engine/drm"
	"satchel/engine/manifest"
	"satchel/engine/media"
	"satchel/engine/probe"
)

// download writes the single-file fragmented MP4 of one video rendition with every audio
// and subtitle track: ftyp, moov (the video, each audio track, each subtitle track; pssh;
// mvhd, tkhd and mdhd durations and an mvex/mehd with the presentation's duration, so players
// and tools know the length before reading fragments), one sidx per track, then per segment
// the video fragment followed by the fragments of the same time span of each audio and
// subtitle track (3GPP timed text). Every sidx indexes the same subsegments — one per video
// segment, each holding every track's fragments of that span — in its own track's timescale:
// players that index by the first sidx (ExoPlayer, Shaka Player, MSE applications) get the
// video's, whose byte ranges cover every track, and tools that index per track (ffmpeg) get
// each track's times and durations. The sidx boxes are reserved up front and filled in at the
// end, so the file streams out without holding segments in memory.
// Audio tracks share alternate group 1 with only the default enabled; subtitle tracks share
// group 2, enabled only when forced; subtitles are in the clear. With Config.PIFF the file
// also carries the PIFF 1.1 uuid boxes (cenc.AddPIFFInit, cenc.AddPIFFFragment).
type download struct {
	p          *packager
	path       string
	fw         *fileWriter
	video      *track
	vProt      *cenc.Protector
	audio      []*track
	aProt      []*cenc.Protector
	text       []*track
	sidxs      []*mp4.SidxBox // video, audio tracks, subtitle tracks (track ID order)
	sidxOffset int64
	seq        uint32
	closed     bool
}

// movieTimescale is the download's mvhd timescale (milliseconds).
const movieTimescale = 1000

const downloadVideoID = 1

func (p *packager) newDownload(v *track) (*download, error) {
	dir := filepath.Join(p.dir, manifest.DirDownload)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create download folder: %w", err)
	}
	d := &download{p: p, path: filepath.Join(dir, v.id+".mp4"), video: v}
	init := mp4.CreateEmptyInit()
	init.Ftyp = mp4.NewFtyp("iso6", 0, []string{"iso6", "cmfc", "dash", "mp41"})
	init.Children[0] = init.Ftyp
	init.Moov.Mvhd.Timescale = movieTimescale
	add := func(one *mp4.InitSegment) {
		init.Moov.AddChild(one.Moov.Traks[0])
		init.Moov.Mvex.AddChild(one.Moov.Mvex.Trexs[0])
	}
	id := uint32(downloadVideoID)
	vInit, err := newInit(v, id)
	if err != nil {
		return nil, err
	}
	if d.vProt, err = cenc.ProtectInit(vInit, v.key, drm.SchemeCENC, nil); err != nil {
		return nil, err
	}
	add(vInit)
	for _, t := range p.plan.tracks {
		switch t.kind {
		case media.Audio:
			id++
			one, err := newInit(t, id)
			if err != nil {
				return nil, err
			}
			prot, err := cenc.ProtectInit(one, t.key, drm.SchemeCENC, nil)
			if err != nil {
				return nil, err
			}
			setAlternate(one.Moov.Traks[0], 1, t.def)
			add(one)
			d.audio, d.aProt = append(d.audio, t), append(d.aProt, prot)
		case media.Text:
			id++
			one, err := downloadTextInit(t, id, v.info.Width, v.info.Height)
			if err != nil {
				return nil, err
			}
			setAlternate(one.Moov.Traks[0], 2, t.forced)
			add(one)
			d.text = append(d.text, t)
		}
	}
	init.Moov.Mvhd.NextTrackID = id + 1
	d.setDurations(init)
	for _, b := range p.downloadPSSH {
		init.Moov.AddChild(b)
	}
	if p.cfg.PIFF {
		init.Ftyp.AddCompatibleBrands([]string{"piff"})
		if err := cenc.AddPIFFInit(init, p.downloadPSSH); err != nil {
			return nil, err
		}
	}
	return d, d.start(init)
}

// tracks returns the download's tracks in track ID order.
func (d *download) tracks() []*track {
	return append(append([]*track{d.video}, d.audio...), d.text...)
}

// mediaDuration returns a track's media duration (the end of its last sample) and the end of
// its composition timeline (the latest sample's composition time plus duration), in its
// timescale; for subtitles both are the end of the presentation.
func (d *download) mediaDuration(t *track) (dur, composition uint64) {
	if t.kind == media.Text {
		end := uint64(d.p.plan.end.Milliseconds())
		return end, end
	}
	for _, s := range t.samples {
		dur = max(dur, s.DecodeTime+uint64(s.Dur))
		composition = max(composition, uint64(max(int64(s.DecodeTime)+int64(s.CTO)+int64(s.Dur), 0)))
	}
	return dur, composition
}

// setDurations fills in the tkhd and mdhd durations of every track and the mvhd and mehd
// duration of the movie. A track's presentation ends where its composition timeline ends, less
// the media time its edit list skips (audio priming, the composition delay of B-frames).
func (d *download) setDurations(init *mp4.InitSegment) {
	var movie uint64
	for i, t := range d.tracks() {
		trak := init.Moov.Traks[i]
		ts := uint64(trak.Mdia.Mdhd.Timescale)
		mediaDur, compEnd := d.mediaDuration(t)
		pres := compEnd - min(compEnd, uint64(max(t.mediaTime, 0)))
		trak.Mdia.Mdhd.Duration = mediaDur
		trak.Tkhd.Duration = (pres*movieTimescale + ts/2) / ts
		movie = max(movie, trak.Tkhd.Duration)
		if trak.Edts != nil {
			// The duration is known: the edit spans the track's presentation (movie timescale).
			trak.Edts.Elst[0].Entries[0].SegmentDuration = trak.Tkhd.Duration
		}
	}
	init.Moov.Mvhd.Duration = movie
	init.Moov.Mvex.AddChild(&mp4.MehdBox{Version: 1, FragmentDuration: int64(movie)})
	// mehd must come first in mvex (ISO/IEC 14496-12 8.8.2).
	mvex := init.Moov.Mvex
	mvex.Children = append([]mp4.Box{mvex.Mehd}, mvex.Children[:len(mvex.Children)-1]...)
}

// setAlternate puts a track in an alternate group, enabled only when it is the one to play.
func setAlternate(trak *mp4.TrakBox, group int16, enabled bool) {
	trak.Tkhd.AlternateGroup = group
	trak.Tkhd.Flags = 0x6 // in movie, in preview
	if enabled {
		trak.Tkhd.Flags |= 0x1
	}
}

// start writes the init and reserves one sidx per track: version 1, one reference per video
// segment (a sidx's size does not depend on its values, so it can be rewritten in place).
func (d *download) start(init *mp4.InitSegment) error {
	var err error
	if d.fw, err = createFile(d.path); err != nil {
		return err
	}
	if err := init.Encode(d.fw); err != nil {
		d.abort()
		return fmt.Errorf("write %s: %w", d.path, err)
	}
	d.sidxOffset = d.fw.n
	for i, t := range d.tracks() {
		ts := t.info.Timescale
		if t.kind == media.Text {
			ts = textTimescale
		}
		sidx := &mp4.SidxBox{Version: 1, ReferenceID: uint32(downloadVideoID + i), Timescale: ts,
			SidxRefs: make([]mp4.SidxRef, len(d.video.cuts))}
		d.sidxs = append(d.sidxs, sidx)
	}
	// Each sidx's anchor is its own end: the first subsegment starts after the sidx boxes
	// that follow it.
	size := d.sidxs[0].Size()
	for i, sidx := range d.sidxs {
		sidx.FirstOffset = uint64(len(d.sidxs)-1-i) * size
		if err := sidx.Encode(d.fw); err != nil {
			d.abort()
			return fmt.Errorf("write %s: %w", d.path, err)
		}
	}
	return nil
}

// addSegment appends segment k: the video fragment (data already read; encrypted in place),
// then the samples of the same time span of every audio and subtitle track.
func (d *download) addSegment(k int, ss []probe.Sample, data []byte) error {
	start := d.fw.n
	d.seq++
	frag, err := buildFragment(d.seq, downloadVideoID, ss, data)
	if err != nil {
		return err
	}
	if err := d.protect(d.vProt, frag, ss[0].DecodeTime, d.video.info.Timescale); err != nil {
		return err
	}
	if err := frag.Encode(d.fw); err != nil {
		return fmt.Errorf("write %s: %w", d.path, err)
	}
	last := k == len(d.video.cuts)-1
	spans := []span{spanOf(ss, d.video.mediaTime)}
	for i, a := range d.audio {
		sp, err := d.addAudio(a, d.aProt[i], uint32(2+i), k, last)
		if err != nil {
			return err
		}
		spans = append(spans, sp)
	}
	for i, t := range d.text {
		d.seq++
		tf, err := d.p.textFragment(t, k, d.seq, uint32(2+len(d.audio)+i), true)
		if err != nil {
			return err
		}
		if err := tf.Encode(d.fw); err != nil {
			return fmt.Errorf("write %s: %w", d.path, err)
		}
		from, to := d.p.segmentSpan(k)
		spans = append(spans, span{ept: uint64(from.Milliseconds()), dur: uint64((to - from).Milliseconds())})
	}
	size := uint32(d.fw.n - start)
	for i, sidx := range d.sidxs {
		if k == 0 {
			sidx.EarliestPresentationTime = spans[i].ept
		}
		sidx.SidxRefs[k] = mp4.SidxRef{ReferencedSize: size, SubSegmentDuration: uint32(spans[i].dur),
			StartsWithSAP: 1, SAPType: 1}
	}
	return nil
}

// span is one track's part of a subsegment: its earliest presentation time and duration.
type span struct{ ept, dur uint64 }

// spanOf returns the span of samples: the earliest presentation time (composition time less
// the edit list's media time, as ISO/IEC 14496-12 8.16.3.3 defines it; never below 0) and the
// duration.
func spanOf(ss []probe.Sample, mediaTime int64) span {
	var sp span
	for _, s := range ss {
		sp.dur += uint64(s.Dur)
	}
	if pts := int64(earliestPTS(ss)) - mediaTime; pts > 0 {
		sp.ept = uint64(pts)
	}
	return sp
}

// addAudio appends the fragment of audio track a for video segment k (the last video segment
// takes the audio's tail) and returns its span.
func (d *download) addAudio(a *track, prot *cenc.Protector, trackID uint32, k int, last bool) (span, error) {
	if k >= len(a.cuts) {
		return span{}, nil
	}
	as := a.segment(k)
	if last {
		as = a.samples[a.cuts[k]:]
	}
	adata, _, err := sampleData(a.src.file.F, as)
	if err != nil {
		return span{}, err
	}
	defer putBuf(adata)
	d.seq++
	afrag, err := buildFragment(d.seq, trackID, as, adata)
	if err != nil {
		return span{}, err
	}
	if err := d.protect(prot, afrag, as[0].DecodeTime, a.info.Timescale); err != nil {
		return span{}, err
	}
	if err := afrag.Encode(d.fw); err != nil {
		return span{}, fmt.Errorf("write %s: %w", d.path, err)
	}
	return spanOf(as, a.mediaTime), nil
}

func earliestPTS(ss []probe.Sample) uint64 {
	var min int64 = -1
	for _, s := range ss {
		if pts := int64(s.DecodeTime) + int64(s.CTO); min < 0 || pts < min {
			min = pts
		}
	}
	if min < 0 {
		return 0
	}
	return uint64(min)
}

// finish rewrites the sidx boxes with the real sizes and times and closes the file.
func (d *download) finish() error {
	if err := d.fw.w.Flush(); err != nil {
		d.abort()
		return fmt.Errorf("write %s: %w", d.path, err)
	}
	var b bytes.Buffer
	for _, sidx := range d.sidxs {
		if err := sidx.Encode(&b); err != nil {
			d.abort()
			return err
		}
	}
	if _, err := d.fw.f.WriteAt(b.Bytes(), d.sidxOffset); err != nil {
		d.abort()
		return fmt.Errorf("write %s: %w", d.path, err)
	}
	d.closed = true
	if err := d.fw.f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", d.path, err)
	}
	return nil
}

// protect encrypts a fragment of the download (or marks it clear in the clear lead) and, for a
// PIFF download, adds the PIFF sample encryption box.
func (d *download) protect(prot *cenc.Protector, frag *mp4.Fragment, start uint64, timescale uint32) error {
	if err := d.p.protect(prot, frag, start, timescale); err != nil {
		return err
	}
	if d.p.cfg.PIFF {
		return cenc.AddPIFFFragment(frag)
	}
	return nil
}

// abort closes the file after a failure (the temp folder is removed by the caller).
func (d *download) abort() {
	if !d.closed {
		d.closed = true
		d.fw.f.Close()
	}
}
