package packaging

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/Eyevinn/mp4ff/mp4"

	"satchel/engine/media"
	"satchel/engine/probe"
	"satchel/internal/mp4safe"
)

// copyBox deep-copies a box by encoding and decoding it, so each output (cenc, cbcs,
// download) protects its own sample entry. The box comes from the source file, so it is
// decoded through mp4safe like any other untrusted input.
func copyBox(b mp4.Box) (mp4.Box, error) {
	var buf bytes.Buffer
	if err := b.Encode(&buf); err != nil {
		return nil, err
	}
	return mp4safe.DecodeBox(buf.Bytes())
}

// newInit returns a single-track init segment (ftyp cmfc + moov with mvex) for t with the
// given track ID; the sample entry is a copy of the source's. The language goes into mdhd
// (ISO 639-2/T) and, when BCP 47 says more than that, elng; an audio priming offset goes into
// an edit list, as in the source.
func newInit(t *track, trackID uint32) (*mp4.InitSegment, error) {
	init := mp4.CreateEmptyInit()
	trak := init.AddEmptyTrack(t.info.Timescale, string(t.kind), media.LanguageISO639(t.lang))
	setLanguage(trak, t.lang)
	trak.Tkhd.TrackID = trackID
	init.Moov.Mvex.Trex.TrackID = trackID
	init.Moov.Mvhd.NextTrackID = trackID + 1
	src := t.src.file.Trak(t.info.ID)
	entry, err := copyBox(src.Mdia.Minf.Stbl.Stsd.Children[0])
	if err != nil {
		return nil, fmt.Errorf("copy sample entry of %s: %w", t.src.path, err)
	}
	trak.Mdia.Minf.Stbl.Stsd.AddChild(entry)
	if t.kind == media.Video {
		trak.Tkhd.Width = mp4.Fixed32(t.info.Width << 16)
		trak.Tkhd.Height = mp4.Fixed32(t.info.Height << 16)
	}
	if t.mediaTime > 0 {
		addEdit(trak, t.mediaTime)
	}
	return init, nil
}

// setLanguage adds an elng box when the BCP 47 tag says more than mdhd's ISO 639-2 code can
// ("pt-BR", "es-419", or a language without a three-letter code).
func setLanguage(trak *mp4.TrakBox, tag string) {
	if tag == "" || !strings.Contains(tag, "-") && media.LanguageISO639(tag) != "und" {
		return
	}
	elng := mp4.CreateElng(tag)
	trak.Mdia.Elng = elng
	trak.Mdia.Children = insertAfter(trak.Mdia.Children, "hdlr", elng)
}

// addEdit gives a track the CMAF edit list that starts presentation at mediaTime (ISO/IEC
// 23000-19 7.5.13: one edit, segment_duration 0 for fragmented tracks).
func addEdit(trak *mp4.TrakBox, mediaTime int64) {
	elst := &mp4.ElstBox{Entries: []mp4.ElstEntry{{SegmentDuration: 0, MediaTime: mediaTime, MediaRateInteger: 1}}}
	edts := &mp4.EdtsBox{Elst: []*mp4.ElstBox{elst}, Children: []mp4.Box{elst}}
	trak.Edts = edts
	trak.Children = insertAfter(trak.Children, "tkhd", edts)
}

// insertAfter inserts b after the first child of type typ (or at the end).
func insertAfter(children []mp4.Box, typ string, b mp4.Box) []mp4.Box {
	for i, c := range children {
		if c.Type() == typ {
			return append(children[:i+1], append([]mp4.Box{b}, children[i+1:]...)...)
		}
	}
	return append(children, b)
}

// bufPool recycles segment buffers: a segment is read, encrypted and written, then its
// buffer serves the next one, so memory stays at a few segments whatever the file size.
var bufPool sync.Pool

// getBuf returns a buffer of length n (contents undefined).
func getBuf(n int) []byte {
	if p, ok := bufPool.Get().(*[]byte); ok && cap(*p) >= n {
		return (*p)[:n]
	}
	return make([]byte, n)
}

// putBuf returns a buffer to the pool.
func putBuf(b []byte) {
	if cap(b) > 0 {
		bufPool.Put(&b)
	}
}

// cloneBuf copies b into a pooled buffer.
func cloneBuf(b []byte) []byte {
	c := getBuf(len(b))
	copy(c, b)
	return c
}

// sampleData reads the media bytes of samples into one pooled buffer, in sample order, with as
// few reads as possible (contiguous samples are read together).
func sampleData(f *os.File, ss []probe.Sample) ([]byte, int64, error) {
	var total int64
	for _, s := range ss {
		total += int64(s.Size)
	}
	buf := getBuf(int(total))
	var pos int64
	for i := 0; i < len(ss); {
		j := i + 1
		end := ss[i].Offset + uint64(ss[i].Size)
		for j < len(ss) && ss[j].Offset == end {
			end += uint64(ss[j].Size)
			j++
		}
		n := int64(end - ss[i].Offset)
		if _, err := f.ReadAt(buf[pos:pos+n], int64(ss[i].Offset)); err != nil {
			putBuf(buf)
			if err == io.EOF {
				return nil, 0, fmt.Errorf("read %s: the file ends before sample %d; it is truncated", f.Name(), ss[j-1].Nr)
			}
			return nil, 0, fmt.Errorf("read %s: %w", f.Name(), err)
		}
		pos += n
		i = j
	}
	return buf, total, nil
}

// buildFragment makes a single-track fragment whose mdat is data (the samples' bytes in
// order); the fragment takes data over, encryption happens in place.
func buildFragment(seq, trackID uint32, ss []probe.Sample, data []byte) (*mp4.Fragment, error) {
	f, err := mp4.CreateFragment(seq, trackID)
	if err != nil {
		return nil, err
	}
	for _, s := range ss {
		flags := mp4.NonSyncSampleFlags
		if s.Sync {
			flags = mp4.SyncSampleFlags
		}
		f.AddSample(mp4.Sample{Flags: flags, Dur: s.Dur, Size: s.Size, CompositionTimeOffset: s.CTO}, ss[0].DecodeTime)
	}
	f.Mdat.SetData(data)
	return f, nil
}

// fileWriter writes a file through a buffer and counts bytes.
type fileWriter struct {
	f *os.File
	w *bufio.Writer
	n int64
}

func createFile(path string) (*fileWriter, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	return &fileWriter{f: f, w: bufio.NewWriterSize(f, 1<<20)}, nil
}

func (fw *fileWriter) Write(p []byte) (int, error) {
	n, err := fw.w.Write(p)
	fw.n += int64(n)
	return n, err
}

func (fw *fileWriter) Close() error {
	if err := fw.w.Flush(); err != nil {
		fw.f.Close()
		return fmt.Errorf("write %s: %w", fw.f.Name(), err)
	}
	if err := fw.f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", fw.f.Name(), err)
	}
	return nil
}

// writeBoxes encodes boxes into a new file and returns its size.
func writeBoxes(path string, encode func(io.Writer) error) (int64, error) {
	fw, err := createFile(path)
	if err != nil {
		return 0, err
	}
	if err := encode(fw); err != nil {
		fw.f.Close()
		return 0, fmt.Errorf("write %s: %w", path, err)
	}
	return fw.n, fw.Close()
}
