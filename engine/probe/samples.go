package probe

import (
	"fmt"

	"github.com/Eyevinn/mp4ff/mp4"
)

// Sample is one sample's place in the file and its timing: what the packager needs to read it
// (a byte range) and to write it into a fragment.
type Sample struct {
	Nr         uint32 // 1-based, in decode order
	Offset     uint64 // absolute byte offset in the file
	Size       uint32
	DecodeTime uint64 // in the track timescale
	Dur        uint32
	CTO        int32 // composition time offset
	Sync       bool
}

// Samples returns the sample table of a track, from stbl (progressive) or from the moof/trun
// boxes (fragmented). Only metadata is read; it costs about 40 bytes per sample.
func (f *File) Samples(trackID uint32) ([]Sample, error) {
	trak := f.Trak(trackID)
	if trak == nil {
		return nil, fmt.Errorf("has no track %d", trackID)
	}
	if f.MP4.IsFragmented() {
		return f.fragmentSamples(trackID)
	}
	return stblSamples(trak, f.Size)
}

// maxSamples bounds a sample table against the file size (a corrupt or hostile count must not
// allocate gigabytes): every sample needs at least a byte of media or of table.
func maxSamples(size int64) int {
	if size < 1<<20 {
		return 1 << 20
	}
	return int(size)
}

func stblSamples(trak *mp4.TrakBox, size int64) ([]Sample, error) {
	id := trak.Tkhd.TrackID
	if trak.Mdia == nil || trak.Mdia.Minf == nil || trak.Mdia.Minf.Stbl == nil {
		return nil, fmt.Errorf("track %d has no sample table (stbl); the file is damaged", id)
	}
	stbl := trak.Mdia.Minf.Stbl
	if stbl.Stsz == nil || stbl.Stts == nil || stbl.Stsc == nil || (stbl.Stco == nil && stbl.Co64 == nil) {
		return nil, fmt.Errorf("track %d has an incomplete sample table (stsz/stts/stsc/stco); the file is damaged", id)
	}
	n := int(stbl.Stsz.GetNrSamples())
	if n > maxSamples(size) {
		return nil, fmt.Errorf("track %d claims %d samples, more than the file can hold; the file is damaged", id, n)
	}
	out := make([]Sample, n)
	// Timing: stts runs.
	var t uint64
	i := 0
	for e := range stbl.Stts.SampleCount {
		for c := uint32(0); c < stbl.Stts.SampleCount[e] && i < n; c++ {
			out[i].DecodeTime = t
			out[i].Dur = stbl.Stts.SampleTimeDelta[e]
			t += uint64(stbl.Stts.SampleTimeDelta[e])
			i++
		}
	}
	if i < n {
		return nil, fmt.Errorf("track %d: the time table (stts) covers %d of %d samples; the file is damaged", id, i, n)
	}
	// Composition offsets.
	if ct := stbl.Ctts; ct != nil {
		i = 0
		for e := 0; e < ct.NrSampleCount() && i < n; e++ {
			cnt := ct.SampleCount(e)
			off := ct.SampleOffset[e]
			for c := uint32(0); c < cnt && i < n; c++ {
				out[i].CTO = off
				i++
			}
		}
	}
	// Sync samples: all when stss is absent.
	if stbl.Stss == nil {
		for j := range out {
			out[j].Sync = true
		}
	} else {
		for _, nr := range stbl.Stss.SampleNumber {
			if nr >= 1 && int(nr) <= n {
				out[nr-1].Sync = true
			}
		}
	}
	// Offsets: chunks from stsc + stco/co64, sizes from stsz.
	nChunks := 0
	if stbl.Stco != nil {
		nChunks = len(stbl.Stco.ChunkOffset)
	} else {
		nChunks = len(stbl.Co64.ChunkOffset)
	}
	chunkOffset := func(c int) uint64 {
		if stbl.Stco != nil {
			return uint64(stbl.Stco.ChunkOffset[c])
		}
		return stbl.Co64.ChunkOffset[c]
	}
	stsc := stbl.Stsc
	i = 0
	for e := range stsc.Entries {
		first := int(stsc.Entries[e].FirstChunk)
		last := nChunks
		if e+1 < len(stsc.Entries) {
			last = int(stsc.Entries[e+1].FirstChunk) - 1
		}
		per := int(stsc.Entries[e].SamplesPerChunk)
		for c := first; c <= last && i < n; c++ {
			if c < 1 || c > nChunks {
				return nil, fmt.Errorf("track %d: the chunk table (stsc) points at chunk %d of %d; the file is damaged", id, c, nChunks)
			}
			off := chunkOffset(c - 1)
			for s := 0; s < per && i < n; s++ {
				out[i].Offset = off
				out[i].Size = stbl.Stsz.GetSampleSize(i + 1)
				out[i].Nr = uint32(i + 1)
				off += uint64(out[i].Size)
				i++
			}
		}
	}
	if i < n {
		return nil, fmt.Errorf("track %d: the chunk tables place %d of %d samples; the file is damaged", id, i, n)
	}
	return out, nil
}

func (f *File) fragmentSamples(trackID uint32) ([]Sample, error) {
	var trex *mp4.TrexBox
	if mvex := f.Moov().Mvex; mvex != nil {
		for _, tx := range mvex.Trexs {
			if tx.TrackID == trackID {
				trex = tx
			}
		}
	}
	var out []Sample
	var nr uint32
	var next uint64
	for _, seg := range f.MP4.Segments {
		for _, frag := range seg.Fragments {
			moof := frag.Moof
			if moof == nil {
				continue
			}
			for _, traf := range moof.Trafs {
				if traf.Tfhd == nil || traf.Tfhd.TrackID != trackID {
					continue
				}
				t := next
				if traf.Tfdt != nil {
					t = traf.Tfdt.BaseMediaDecodeTime()
				}
				for _, trun := range traf.Truns {
					trun.AddSampleDefaultValues(traf.Tfhd, trex)
					base := moof.StartPos
					if traf.Tfhd.HasBaseDataOffset() {
						base = traf.Tfhd.BaseDataOffset
					}
					off := base
					if trun.HasDataOffset() {
						off = uint64(int64(base) + int64(trun.DataOffset))
					}
					if len(out)+len(trun.Samples) > maxSamples(f.Size) {
						return nil, fmt.Errorf("track %d claims more samples than the file can hold; the file is damaged", trackID)
					}
					for _, s := range trun.Samples {
						nr++
						out = append(out, Sample{Nr: nr, Offset: off, Size: s.Size, DecodeTime: t, Dur: s.Dur, CTO: s.CompositionTimeOffset, Sync: s.IsSync()})
						off += uint64(s.Size)
						t += uint64(s.Dur)
					}
				}
				next = t
			}
		}
	}
	return out, nil
}
