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
// and subtitle track: ftyp, moov (the video, each audio track, each subtitle track; pssh),
// one sidx indexing every segment, then per segment the video fragment followed by the
// fragments of the same time span of each audio and subtitle track (3GPP timed text). The sidx is reserved up
// front and filled in at the end, so the file streams out without holding segments in memory.
// Audio tracks share alternate group 1 with only the default enabled; subtitle tracks share
// group 2, enabled only when forced; subtitles are in the clear.
type download struct {
	p          *packager
	path       string
	fw         *fileWriter
	video      *track
	vProt      *cenc.Protector
	audio      []*track
	aProt      []*cenc.Protector
	text       []*track
	sidx       *mp4.SidxBox
	sidxOffset int64
	seq        uint32
	closed     bool
}

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
	init.Moov.Mvhd.Timescale = 1000
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
	for _, b := range p.downloadPSSH {
		init.Moov.AddChild(b)
	}
	return d, d.start(init)
}

// setAlternate puts a track in an alternate group, enabled only when it is the one to play.
func setAlternate(trak *mp4.TrakBox, group int16, enabled bool) {
	trak.Tkhd.AlternateGroup = group
	trak.Tkhd.Flags = 0x6 // in movie, in preview
	if enabled {
		trak.Tkhd.Flags |= 0x1
	}
}

// start writes the init and reserves the sidx: version 1, one reference per segment (its size
// does not depend on the values, so it can be rewritten in place).
func (d *download) start(init *mp4.InitSegment) error {
	var err error
	if d.fw, err = createFile(d.path); err != nil {
		return err
	}
	if err := init.Encode(d.fw); err != nil {
		d.abort()
		return fmt.Errorf("write %s: %w", d.path, err)
	}
	d.sidx = &mp4.SidxBox{Version: 1, ReferenceID: downloadVideoID, Timescale: d.video.info.Timescale,
		SidxRefs: make([]mp4.SidxRef, len(d.video.cuts))}
	d.sidxOffset = d.fw.n
	if err := d.sidx.Encode(d.fw); err != nil {
		d.abort()
		return fmt.Errorf("write %s: %w", d.path, err)
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
	if err := d.p.protect(d.vProt, frag, ss[0].DecodeTime, d.video.info.Timescale); err != nil {
		return err
	}
	if err := frag.Encode(d.fw); err != nil {
		return fmt.Errorf("write %s: %w", d.path, err)
	}
	last := k == len(d.video.cuts)-1
	for i, a := range d.audio {
		if err := d.addAudio(a, d.aProt[i], uint32(2+i), k, last); err != nil {
			return err
		}
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
	}
	var dur uint64
	for _, s := range ss {
		dur += uint64(s.Dur)
	}
	if k == 0 {
		d.sidx.EarliestPresentationTime = earliestPTS(ss)
	}
	d.sidx.SidxRefs[k] = mp4.SidxRef{ReferencedSize: uint32(d.fw.n - start), SubSegmentDuration: uint32(dur), StartsWithSAP: 1, SAPType: 1}
	return nil
}

// addAudio appends the fragment of audio track a for video segment k (the last video segment
// takes the audio's tail).
func (d *download) addAudio(a *track, prot *cenc.Protector, trackID uint32, k int, last bool) error {
	if k >= len(a.cuts) {
		return nil
	}
	as := a.segment(k)
	if last {
		as = a.samples[a.cuts[k]:]
	}
	adata, _, err := sampleData(a.src.file.F, as)
	if err != nil {
		return err
	}
	defer putBuf(adata)
	d.seq++
	afrag, err := buildFragment(d.seq, trackID, as, adata)
	if err != nil {
		return err
	}
	if err := d.p.protect(prot, afrag, as[0].DecodeTime, a.info.Timescale); err != nil {
		return err
	}
	if err := afrag.Encode(d.fw); err != nil {
		return fmt.Errorf("write %s: %w", d.path, err)
	}
	return nil
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

// finish rewrites the sidx with the real sizes and closes the file.
func (d *download) finish() error {
	if err := d.fw.w.Flush(); err != nil {
		d.abort()
		return fmt.Errorf("write %s: %w", d.path, err)
	}
	var b bytes.Buffer
	if err := d.sidx.Encode(&b); err != nil {
		d.abort()
		return err
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

// abort closes the file after a failure (the temp folder is removed by the caller).
func (d *download) abort() {
	if !d.closed {
		d.closed = true
		d.fw.f.Close()
	}
}
