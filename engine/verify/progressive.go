package verify

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/Eyevinn/mp4ff/mp4"

	"satchel/engine/cenc"
	"satchel/engine/media"
	"satchel/engine/probe"
	"satchel/internal/mp4safe"
)

// decryptProgressive handles a non-fragmented encrypted MP4 (as ffmpeg writes with
// -encryption_scheme cenc-aes-ctr): the sample auxiliary information is located by the
// sample table's saiz/saio. Samples are read one at a time.
func (v *verifier) decryptProgressive(ctx context.Context, t *trackInfo) error {
	of := t.ref.file
	pf := &probe.File{MP4: of.mf}
	var samples []probe.Sample
	err := mp4safe.Do(func() error {
		var err error
		samples, err = pf.Samples(t.trackID)
		return err
	})
	w := Where{File: t.file, At: "moov/trak/mdia/minf/stbl"}
	if err != nil {
		v.rep.failAt(w, CatStructure, t.subject, "sample table: "+err.Error(), "re-package the file")
		return nil
	}
	r := v.newRun(ctx, t)
	if t.kind == media.Text {
		return v.progressiveText(ctx, r, samples)
	}
	var aux []auxInfo
	if t.encrypted() {
		if aux, err = readAux(of.f, t.trak.Mdia.Minf.Stbl, len(samples), t.prot.IVSize); err != nil {
			v.rep.failAt(Where{File: t.file, At: w.At + "/saiz"}, CatStructure, t.subject, "sample auxiliary information (saiz/saio): "+err.Error(),
				"re-package the file")
			r.abort()
			return nil
		}
		v.rep.passAt(Where{File: t.file, At: w.At + "/saiz"}, CatStructure, t.subject, "saiz/saio describe %d samples", len(aux))
	}
	r.fragments = 1
	buf := make([]byte, 0, 1<<20)
	for i, s := range samples {
		if err := r.progressiveSample(ctx, i, s); err != nil {
			return err
		}
		if cap(buf) < int(s.Size) {
			buf = make([]byte, s.Size)
		}
		b := buf[:s.Size]
		if _, err := of.f.ReadAt(b, int64(s.Offset)); err != nil {
			r.structErr = &finding{Where{File: t.file}, fmt.Sprintf("sample %d cannot be read: %v (the file is truncated)", i+1, err)}
			break
		}
		if t.encrypted() {
			sc := cenc.SampleCrypto{Protected: t.prot.IsProtected, Scheme: t.prot.Scheme, KID: t.prot.KID,
				Subsamples: aux[i].subs, Crypt: t.prot.Crypt, Skip: t.prot.Skip}
			if t.prot.IVSize == 0 {
				copy(sc.IV[:], t.prot.ConstantIV)
			} else {
				copy(sc.IV[:], aux[i].iv)
			}
			v.decryptOne(r, &sc, b, t.file, w.At, i+1)
		}
		// Progressive files are decoded in full: the decoder needs the reference frames and
		// the samples are read anyway.
		v.consume(r, b, true)
	}
	if t.timescale > 0 {
		r.segDurs = append(r.segDurs, float64(r.total)/float64(t.timescale))
	}
	v.finish(r)
	return nil
}

// progressiveText parses the samples of a text track of a non-fragmented file.
func (v *verifier) progressiveText(ctx context.Context, r *trackRun, samples []probe.Sample) error {
	t := r.t
	of := t.ref.file
	r.fragments = 1
	for i, s := range samples {
		if err := r.progressiveSample(ctx, i, s); err != nil {
			return err
		}
		if s.Size > 1<<20 {
			r.structErr = &finding{Where{File: t.file}, fmt.Sprintf("text sample %d of %d bytes is implausible", i+1, s.Size)}
			break
		}
		b := make([]byte, s.Size)
		if _, err := of.f.ReadAt(b, int64(s.Offset)); err != nil {
			r.structErr = &finding{Where{File: t.file},
				fmt.Sprintf("sample %d cannot be read: %v (the file is truncated)", i+1, err)}
			break
		}
		v.textSample(r, b, s.DecodeTime, s.Dur, Where{File: t.file, At: "moov/trak/mdia/minf/stbl"})
	}
	v.finish(r)
	return nil
}

type auxInfo struct {
	iv   []byte
	subs []mp4.SubSamplePattern
}

// readAux reads per-sample IVs and subsample maps located by stbl saiz/saio.
func readAux(r io.ReaderAt, stbl *mp4.StblBox, n, ivSize int) ([]auxInfo, error) {
	if stbl.Saiz == nil || stbl.Saio == nil || len(stbl.Saio.Offset) == 0 {
		if ivSize == 0 {
			return make([]auxInfo, n), nil
		}
		return nil, errors.New("no saiz/saio in the sample table")
	}
	if int(stbl.Saiz.SampleCount) != n {
		return nil, fmt.Errorf("saiz covers %d samples, the track has %d", stbl.Saiz.SampleCount, n)
	}
	sizeOf := func(i int) int {
		if stbl.Saiz.DefaultSampleInfoSize != 0 {
			return int(stbl.Saiz.DefaultSampleInfoSize)
		}
		if i >= len(stbl.Saiz.SampleInfo) {
			return 0
		}
		return int(stbl.Saiz.SampleInfo[i])
	}
	total := 0
	for i := 0; i < n; i++ {
		total += sizeOf(i)
	}
	if len(stbl.Saio.Offset) != 1 {
		return nil, fmt.Errorf("saio has %d offsets; only one contiguous block is supported", len(stbl.Saio.Offset))
	}
	if total > 64<<20 {
		return nil, fmt.Errorf("auxiliary information of %d bytes is implausible", total)
	}
	buf := make([]byte, total)
	if _, err := r.ReadAt(buf, stbl.Saio.Offset[0]); err != nil {
		return nil, fmt.Errorf("read at saio offset %d: %w", stbl.Saio.Offset[0], err)
	}
	out := make([]auxInfo, n)
	pos := 0
	for i := 0; i < n; i++ {
		sz := sizeOf(i)
		rec := buf[pos : pos+sz]
		pos += sz
		if sz < ivSize {
			return nil, fmt.Errorf("sample %d: aux info of %d bytes is shorter than the %d-byte IV", i+1, sz, ivSize)
		}
		out[i].iv = rec[:ivSize]
		rest := rec[ivSize:]
		if len(rest) >= 2 {
			cnt := int(binary.BigEndian.Uint16(rest))
			rest = rest[2:]
			if len(rest) < 6*cnt {
				return nil, fmt.Errorf("sample %d: %d subsamples do not fit", i+1, cnt)
			}
			for j := 0; j < cnt; j++ {
				out[i].subs = append(out[i].subs, mp4.SubSamplePattern{BytesOfClearData: binary.BigEndian.Uint16(rest[6*j:]),
					BytesOfProtectedData: binary.BigEndian.Uint32(rest[6*j+2:])})
			}
		}
	}
	return out, nil
}

// progressiveSample does the bookkeeping of sample i of a non-fragmented track before it is
// read: every 256 samples a cancelled ctx aborts the run; the first sample sets the start time;
// every sample adds its duration.
func (r *trackRun) progressiveSample(ctx context.Context, i int, s probe.Sample) error {
	if i%256 == 0 {
		if err := ctx.Err(); err != nil {
			r.abort()
			return err
		}
	}
	if i == 0 {
		r.start, r.started = s.DecodeTime, true
	}
	r.total += uint64(s.Dur)
	return nil
}
