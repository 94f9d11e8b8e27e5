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
	"satchel/engine/probe"
)

// download writes the single-file fragmented MP4 of one video rendition with the audio:
// ftyp, moov (two protected tracks, pssh), one sidx indexing every segment, then per segment
// the video fragment followed by the audio fragment. The sidx is reserved up front and filled
// in at the end, so the file streams out without holding segments in memory.
type download struct {
	p          *packager
	path       string
	fw         *fileWriter
	video      *track
	audio      *track
	vProt      *cenc.Protector
	aProt      *cenc.Protector
	sidx       *mp4.SidxBox
	sidxOffset int64
	closed     bool
}

const (
	downloadVideoID = 1
	downloadAudioID = 2
)

func (p *packager) newDownload(v, audio *track) (*download, error) {
	dir := filepath.Join(p.dir, manifest.DirDownload)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create download folder: %w", err)
	}
	d := &download{p: p, path: filepath.Join(dir, v.id+".mp4"), video: v, audio: audio}
	vInit, err := newInit(v, downloadVideoID)
	if err != nil {
		return nil, err
	}
	if d.vProt, err = cenc.ProtectInit(vInit, v.key, drm.SchemeCENC, nil); err != nil {
		return nil, err
	}
	init := mp4.CreateEmptyInit()
	init.Ftyp = mp4.NewFtyp("iso6", 0, []string{"iso6", "cmfc", "dash", "mp41"})
	init.Children[0] = init.Ftyp
	init.Moov.AddChild(vInit.Moov.Traks[0])
	init.Moov.Mvex.AddChild(vInit.Moov.Mvex.Trexs[0])
	if audio != nil {
		aInit, err := newInit(audio, downloadAudioID)
		if err != nil {
			return nil, err
		}
		if d.aProt, err = cenc.ProtectInit(aInit, audio.key, drm.SchemeCENC, nil); err != nil {
			return nil, err
		}
		init.Moov.AddChild(aInit.Moov.Traks[0])
		init.Moov.Mvex.AddChild(aInit.Moov.Mvex.Trexs[0])
	}
	init.Moov.Mvhd.NextTrackID = downloadAudioID + 1
	init.Moov.Mvhd.Timescale = 1000
	for _, b := range p.downloadPSSH {
		init.Moov.AddChild(b)
	}
	if d.fw, err = createFile(d.path); err != nil {
		return nil, err
	}
	if err := init.Encode(d.fw); err != nil {
		d.abort()
		return nil, fmt.Errorf("write %s: %w", d.path, err)
	}
	// Reserve the sidx: version 1, one reference per segment (its size does not depend on the
	// values, so it can be rewritten in place).
	d.sidx = &mp4.SidxBox{Version: 1, ReferenceID: downloadVideoID, Timescale: v.info.Timescale,
		SidxRefs: make([]mp4.SidxRef, len(v.cuts))}
	d.sidxOffset = d.fw.n
	if err := d.sidx.Encode(d.fw); err != nil {
		d.abort()
		return nil, fmt.Errorf("write %s: %w", d.path, err)
	}
	return d, nil
}

// addSegment appends segment k: the video fragment (data already read; encrypted in place)
// and the audio samples of the same time span.
func (d *download) addSegment(k int, ss []probe.Sample, data []byte) error {
	start := d.fw.n
	frag, err := buildFragment(uint32(2*k+1), downloadVideoID, ss, data)
	if err != nil {
		return err
	}
	if err := d.p.protect(d.vProt, frag, ss[0].DecodeTime, d.video.info.Timescale); err != nil {
		return err
	}
	if err := frag.Encode(d.fw); err != nil {
		return fmt.Errorf("write %s: %w", d.path, err)
	}
	if d.audio != nil && k < len(d.audio.cuts) {
		as := d.audio.segment(k)
		if k == len(d.video.cuts)-1 {
			as = d.audio.samples[d.audio.cuts[k]:] // the last video segment takes the audio tail
		}
		adata, _, err := sampleData(d.audio.src.file.F, as)
		if err != nil {
			return err
		}
		defer putBuf(adata)
		afrag, err := buildFragment(uint32(2*k+2), downloadAudioID, as, adata)
		if err != nil {
			return err
		}
		if err := d.p.protect(d.aProt, afrag, as[0].DecodeTime, d.audio.info.Timescale); err != nil {
			return err
		}
		if err := afrag.Encode(d.fw); err != nil {
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
