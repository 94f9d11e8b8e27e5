package verify

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/Eyevinn/mp4ff/mp4"

	"satchel/engine/cenc"
	"satchel/engine/drm"
	"satchel/engine/probe"
)

// sourceTrack is a clear source track for the bit-exact comparison.
type sourceTrack struct {
	path    string
	file    *probe.File
	kind    string
	samples []probe.Sample
}

func (v *verifier) loadSources() error {
	for _, p := range v.in.SourceFiles {
		f, err := probe.Open(context.Background(), p)
		if err != nil {
			return fmt.Errorf("source: %w", err)
		}
		a, err := f.Asset(context.Background())
		if err != nil {
			f.Close()
			return fmt.Errorf("source: %w", err)
		}
		for _, t := range a.Tracks {
			ss, err := f.Samples(t.ID)
			if err != nil {
				return fmt.Errorf("source %s: %w", p, err)
			}
			v.sources = append(v.sources, &sourceTrack{path: p, file: f, kind: string(t.Kind), samples: ss})
		}
	}
	return nil
}

// matchSource finds the source track whose sample sizes equal the decrypted track's
// (encryption never changes sample sizes).
func (v *verifier) matchSource(kind string, sizes []int) *sourceTrack {
	for _, s := range v.sources {
		if s.kind != kind || len(s.samples) != len(sizes) {
			continue
		}
		same := true
		for i, x := range s.samples {
			if int(x.Size) != sizes[i] {
				same = false
				break
			}
		}
		if same {
			return s
		}
	}
	return nil
}

// fragments yields each fragment of the track with its media data loaded.
func (v *verifier) fragments(t *checkedTrack, yield func(*mp4.Fragment) error) error {
	if t.ref.single {
		for _, seg := range t.file.Segments {
			for _, f := range seg.Fragments {
				if trafFor(f, t.trackID) == nil {
					continue
				}
				var lazy uint64
				if t.local != nil && f.Mdat != nil && f.Mdat.IsLazy() {
					lazy = f.Mdat.GetLazyDataSize()
					buf := make([]byte, lazy)
					if _, err := t.local.ReadAt(buf, int64(f.Mdat.PayloadAbsoluteOffset())); err != nil {
						return fmt.Errorf("read mdat: %w", err)
					}
					f.Mdat.SetData(buf)
				}
				err := yield(f)
				if lazy > 0 {
					// Free the data; a later pass over another track reloads it.
					f.Mdat.SetData(nil)
					f.Mdat.SetLazyDataSize(lazy)
				}
				if err != nil {
					return err
				}
			}
		}
		return nil
	}
	for _, loc := range t.ref.segments {
		b, err := v.fetch.get(loc)
		if err != nil {
			return err
		}
		mf, err := decodeSafe(bytes.NewReader(b), false)
		if err != nil {
			return fmt.Errorf("segment %s does not parse: %w", displayName(loc), err)
		}
		for _, seg := range mf.Segments {
			for _, f := range seg.Fragments {
				if err := yield(f); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// decryptTrack decrypts every sample and checks the result.
func (v *verifier) decryptTrack(t *checkedTrack) {
	defer func() {
		if p := recover(); p != nil {
			v.rep.fail(CatStructure, t.subject, fmt.Sprintf("malformed fragment data (%v)", p), "re-package or re-download the content")
		}
	}()
	if t.file != nil && t.ref.single && !t.file.IsFragmented() {
		v.decryptProgressive(t)
		return
	}
	var di mp4.DecryptInfo
	if t.encrypted {
		if _, ok := drm.KeyByKID(v.keys, t.kid); !ok {
			v.rep.fail(CatDecryption, t.subject, fmt.Sprintf("no key for KID %s: samples cannot be decrypted", t.kid), "pass the key with --keys CPIX or --key KID:KEY, or fix the license server")
			return
		}
		var err error
		if di, err = mp4.DecryptInit(cloneInit(t.init)); err != nil {
			v.rep.fail(CatDecryption, t.subject, "init cannot be prepared for decryption: "+err.Error(), "re-package the content")
			return
		}
	}
	trex := trexFor(t.init, t.trackID)
	var sizes []int
	var samples [][]byte
	integrityErr := ""
	structureErr := ""
	nfrag, clear := 0, 0
	err := v.fragments(t, func(f *mp4.Fragment) error {
		traf := trafFor(f, t.trackID)
		if traf == nil {
			return nil
		}
		nfrag++
		if t.encrypted && cenc.IsClear(traf) {
			clear++
		}
		if msg := checkAuxInfo(f, traf, t); msg != "" && structureErr == "" {
			structureErr = msg
		}
		if t.encrypted {
			if err := cenc.DecryptFragment(f, di, v.keys); err != nil {
				return err
			}
		}
		fs, err := f.GetFullSamples(trex)
		if err != nil {
			return fmt.Errorf("samples: %w", err)
		}
		for _, s := range fs {
			sizes = append(sizes, len(s.Data))
			if integrityErr == "" {
				if msg := checkSample(t, s.Data); msg != "" {
					integrityErr = fmt.Sprintf("sample %d: %s", len(sizes), msg)
				}
			}
			if len(v.sources) > 0 {
				samples = append(samples, append([]byte(nil), s.Data...))
			}
		}
		return nil
	})
	if err != nil {
		var mk *cenc.MissingKeyError
		if errors.As(err, &mk) {
			v.rep.fail(CatDecryption, t.subject, err.Error(), "give the key for that KID")
		} else {
			v.rep.fail(CatDecryption, t.subject, "decryption failed: "+err.Error(), "check the keys and re-download the content")
		}
		return
	}
	if clear > 0 {
		v.rep.pass(CatEncryption, t.subject, "%d of %d fragments are a clear lead (seig isProtected=0): playback starts before the license", clear, nfrag)
	}
	v.finishTrack(t, nfrag, sizes, samples, structureErr, integrityErr)
}

func (v *verifier) finishTrack(t *checkedTrack, nfrag int, sizes []int, samples [][]byte, structureErr, integrityErr string) {
	if structureErr != "" {
		v.rep.fail(CatStructure, t.subject, structureErr, "re-package: players locate IVs through saio/saiz/senc")
	} else if nfrag > 0 {
		v.rep.pass(CatStructure, t.subject, "%d fragments: trun, senc, saiz and saio consistent", nfrag)
	}
	if len(sizes) == 0 {
		v.rep.fail(CatStructure, t.subject, "no samples found", "check that the segments belong to this init segment")
		return
	}
	v.rep.Samples += len(sizes)
	if t.encrypted {
		v.rep.pass(CatDecryption, t.subject, "%d samples decrypted with the key for KID %s", len(sizes), t.kid)
	}
	if integrityErr != "" {
		msg := "decrypted media does not parse (" + integrityErr + ")"
		fix := "re-download the content"
		if t.encrypted {
			msg += fmt.Sprintf(": the key for KID %s is wrong or the data is corrupt", t.kid)
			fix = "use the content key the package was made with (KID " + t.kid.String() + ")"
		}
		v.rep.fail(CatIntegrity, t.subject, msg, fix)
	} else {
		v.rep.pass(CatIntegrity, t.subject, "all %d samples parse as %s", len(sizes), t.codec)
	}
	if len(v.sources) == 0 {
		return
	}
	src := v.matchSource(t.kind, sizes)
	if src == nil {
		v.rep.warn(CatIntegrity, t.subject, "no source file has this track's samples; bit-exact comparison skipped", "pass the rendition's source with --source FILE")
		return
	}
	for i, s := range src.samples {
		want := make([]byte, s.Size)
		if _, err := src.file.F.ReadAt(want, int64(s.Offset)); err != nil {
			v.rep.fail(CatIntegrity, t.subject, "reading the source failed: "+err.Error(), "")
			return
		}
		if !bytes.Equal(want, samples[i]) {
			v.rep.fail(CatIntegrity, t.subject, fmt.Sprintf("sample %d differs from the source %s after decryption", i+1, displayName(src.path)), "the package is corrupt: re-package or re-download it")
			return
		}
	}
	v.rep.pass(CatIntegrity, t.subject, "bit-exact with the source %s (%d samples)", displayName(src.path), len(samples))
}

func cloneInit(in *mp4.InitSegment) *mp4.InitSegment {
	var b bytes.Buffer
	if err := in.Encode(&b); err != nil {
		return in
	}
	mf, err := mp4.DecodeFile(&b)
	if err != nil || mf.Init == nil {
		return in
	}
	return mf.Init
}

func trexFor(init *mp4.InitSegment, id uint32) *mp4.TrexBox {
	if init.Moov.Mvex != nil {
		for _, t := range init.Moov.Mvex.Trexs {
			if t.TrackID == id {
				return t
			}
		}
	}
	return &mp4.TrexBox{TrackID: id}
}

func trafFor(f *mp4.Fragment, id uint32) *mp4.TrafBox {
	if f.Moof == nil {
		return nil
	}
	for _, t := range f.Moof.Trafs {
		if t.Tfhd != nil && t.Tfhd.TrackID == id {
			return t
		}
	}
	return nil
}

// checkAuxInfo checks senc/saiz/saio against trun: sample counts, and that saio points at
// the senc data.
func checkAuxInfo(f *mp4.Fragment, traf *mp4.TrafBox, t *checkedTrack) string {
	if !t.encrypted {
		return ""
	}
	var n uint32
	for _, tr := range traf.Truns {
		n += tr.SampleCount()
	}
	if cenc.IsClear(traf) {
		return "" // clear lead, signalled by a 'seig' group with isProtected = 0
	}
	has, _ := traf.ContainsSencBox()
	if !has {
		if t.scheme == "cbcs" && t.kind == "audio" || t.scheme == "cbcs" {
			return "" // constant IV, full-sample: CMAF allows omitting senc/saiz/saio
		}
		return fmt.Sprintf("fragment %d has no senc box", f.Moof.Mfhd.SequenceNumber)
	}
	if traf.Saiz != nil && traf.Saiz.SampleCount != n {
		return fmt.Sprintf("fragment %d: saiz covers %d samples, trun has %d", f.Moof.Mfhd.SequenceNumber, traf.Saiz.SampleCount, n)
	}
	if traf.Senc != nil && traf.Senc.SampleCount != n {
		return fmt.Sprintf("fragment %d: senc covers %d samples, trun has %d", f.Moof.Mfhd.SequenceNumber, traf.Senc.SampleCount, n)
	}
	if traf.Saio != nil && len(traf.Saio.Offset) == 1 && traf.Tfhd.DefaultBaseIfMoof() {
		off := uint64(8)
		found := false
		for _, c := range f.Moof.Children {
			if c != traf {
				off += c.Size()
				continue
			}
			off += 8
			for _, tc := range traf.Children {
				if tc.Type() == "senc" {
					found = true
					off += 16
					if traf.Senc != nil && traf.Senc.Flags&0x01 != 0 {
						off += 20 // override TrackEncryptionBox parameters
					}
					break
				}
				off += tc.Size()
			}
			break
		}
		if found && uint64(traf.Saio.Offset[0]) != off {
			return fmt.Sprintf("fragment %d: saio points at byte %d of the moof but the senc data starts at %d", f.Moof.Mfhd.SequenceNumber, traf.Saio.Offset[0], off)
		}
	}
	return ""
}

// checkSample checks that a decrypted sample is well-formed media: length-prefixed NAL units
// covering the sample exactly (AVC/HEVC), or a plausible raw audio frame.
func checkSample(t *checkedTrack, b []byte) string {
	switch t.codec {
	case "avc1", "avc3", "hvc1", "hev1":
		if msg := checkNALUs(b, t.nalLen, t.codec == "avc1" || t.codec == "avc3"); msg != "" {
			return msg
		}
		return checkSliceHeaders(b, t.nalLen, t.codec == "avc1" || t.codec == "avc3", t.ppsIDs)
	case "mp4a":
		if len(b) == 0 {
			return "empty AAC frame"
		}
		if len(b) > 1 && b[0] == 0xFF && b[1]&0xF0 == 0xF0 {
			return "AAC frame with an ADTS header (MP4 needs raw frames)"
		}
	}
	return ""
}

func checkNALUs(b []byte, lenSize int, avc bool) string {
	if lenSize < 1 || lenSize > 4 {
		lenSize = 4
	}
	pos := 0
	count := 0
	for pos < len(b) {
		if pos+lenSize > len(b) {
			return fmt.Sprintf("a NAL length field is cut at byte %d of %d", pos, len(b))
		}
		var n uint32
		for i := 0; i < lenSize; i++ {
			n = n<<8 | uint32(b[pos+i])
		}
		pos += lenSize
		if n == 0 || int(n) > len(b)-pos {
			return fmt.Sprintf("NAL unit %d claims %d bytes but %d remain", count+1, n, len(b)-pos)
		}
		h := b[pos]
		if h&0x80 != 0 {
			return fmt.Sprintf("NAL unit %d has the forbidden bit set", count+1)
		}
		if avc {
			if typ := h & 0x1f; typ == 0 || (typ >= 24) {
				return fmt.Sprintf("NAL unit %d has the invalid H.264 type %d", count+1, typ)
			}
		} else {
			if typ := (h >> 1) & 0x3f; typ > 40 && typ < 48 || typ >= 48 {
				return fmt.Sprintf("NAL unit %d has the reserved HEVC type %d", count+1, typ)
			}
			if pos+1 < len(b) && b[pos+1]&0x07 == 0 {
				return fmt.Sprintf("NAL unit %d has temporal id 0 (nuh_temporal_id_plus1 must be ≥ 1)", count+1)
			}
		}
		pos += int(n)
		count++
	}
	return ""
}

// decryptProgressive handles non-fragmented encrypted MP4s (as ffmpeg writes with
// -encryption_scheme cenc-aes-ctr): sample aux info through stbl saiz/saio.
func (v *verifier) decryptProgressive(t *checkedTrack) {
	trak := t.file.Moov.Traks[0]
	for _, tr := range t.file.Moov.Traks {
		if tr.Tkhd.TrackID == t.trackID {
			trak = tr
		}
	}
	var r io.ReaderAt = t.local
	if r == nil {
		r = bytes.NewReader(t.raw)
	}
	pf := &probe.File{MP4: t.file}
	samples, err := pf.Samples(t.trackID)
	if err != nil {
		v.rep.fail(CatStructure, t.subject, "sample table: "+err.Error(), "re-package the file")
		return
	}
	var key drm.ContentKey
	var tenc *mp4.TencBox
	var ivSize int
	var aux []auxInfo
	if t.encrypted {
		var ok bool
		if key, ok = drm.KeyByKID(v.keys, t.kid); !ok {
			v.rep.fail(CatDecryption, t.subject, fmt.Sprintf("no key for KID %s: samples cannot be decrypted", t.kid), "pass the key with --keys CPIX or --key KID:KEY")
			return
		}
		se := trak.Mdia.Minf.Stbl.Stsd.Children[0]
		switch e := se.(type) {
		case *mp4.VisualSampleEntryBox:
			tenc = e.Sinf.Schi.Tenc
		case *mp4.AudioSampleEntryBox:
			tenc = e.Sinf.Schi.Tenc
		}
		ivSize = int(tenc.DefaultPerSampleIVSize)
		if aux, err = readAux(r, trak.Mdia.Minf.Stbl, len(samples), ivSize); err != nil {
			v.rep.fail(CatStructure, t.subject, "sample auxiliary information (saiz/saio): "+err.Error(), "re-package the file")
			return
		}
		v.rep.pass(CatStructure, t.subject, "saiz/saio describe %d samples", len(aux))
	}
	var sizes []int
	var kept [][]byte
	integrityErr := ""
	for i, s := range samples {
		b := make([]byte, s.Size)
		if _, err := r.ReadAt(b, int64(s.Offset)); err != nil {
			v.rep.fail(CatStructure, t.subject, fmt.Sprintf("sample %d cannot be read: %v", i+1, err), "the file is truncated; re-download it")
			return
		}
		if t.encrypted {
			var err error
			switch t.scheme {
			case "cenc":
				iv := make([]byte, 16)
				copy(iv, aux[i].iv)
				err = mp4.CryptSampleCenc(b, key.Key[:], iv, aux[i].subs)
			case "cbcs":
				iv := aux[i].iv
				if len(iv) == 0 {
					iv = tenc.DefaultConstantIV
				}
				err = mp4.DecryptSampleCbcs(b, key.Key[:], iv, aux[i].subs, tenc)
			}
			if err != nil {
				v.rep.fail(CatDecryption, t.subject, fmt.Sprintf("sample %d: %v", i+1, err), "check the key and the file")
				return
			}
		}
		sizes = append(sizes, len(b))
		if integrityErr == "" {
			if msg := checkSample(t, b); msg != "" {
				integrityErr = fmt.Sprintf("sample %d: %s", i+1, msg)
			}
		}
		if len(v.sources) > 0 {
			kept = append(kept, b)
		}
	}
	v.finishTrack(t, 0, sizes, kept, "", integrityErr)
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
				out[i].subs = append(out[i].subs, mp4.SubSamplePattern{BytesOfClearData: binary.BigEndian.Uint16(rest[6*j:]), BytesOfProtectedData: binary.BigEndian.Uint32(rest[6*j+2:])})
			}
		}
	}
	return out, nil
}
