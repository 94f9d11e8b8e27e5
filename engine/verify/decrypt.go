package verify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"sort"
	"strings"

	"github.com/Eyevinn/mp4ff/mp4"

	"satchel/engine/cenc"
	"satchel/engine/decode"
	"satchel/engine/drm"
	"satchel/engine/media"
	"satchel/engine/subtitle"
	"satchel/internal/mp4safe"
)

// trackRun is the state of one track while its fragments stream through: at most one
// fragment's media is held at a time.
type trackRun struct {
	t         *trackInfo
	dec       *decode.Decoder
	decErr    string
	keys      map[drm.KID][16]byte
	kidsUsed  map[drm.KID]bool
	fragments int
	samples   int
	clearFrag int
	// nonSync counts the samples that are not sync samples; firstNonSync is the first (1-based).
	nonSync, firstNonSync int
	forms                 map[string]bool // clear lead forms and aux info layouts seen
	// PIFF boxes beside CENC: fragments compared, fragments without a PIFF box, first mismatch
	piffFrags, piffMissing int
	piffErr                *finding
	structErr              *finding
	cryptErr               *finding
	nalErr                 string
	missing                *drm.KID
	// timing
	start   uint64 // first decode time
	started bool
	total   uint64 // sum of sample durations
	segDurs []float64
	// bit-exact comparison: a hash and the size of every decrypted sample
	hashes []uint64
	sizes  []uint32
	// subtitles: the cues parsed (up to maxCuesKept, then counted), the first sample that
	// did not parse, and whether any sample was parsed
	cues       []subtitle.Cue
	extraCues  int
	textErr    *finding
	textParsed bool
}

type finding struct {
	where Where
	msg   string
}

var hashSeed = maphash.MakeSeed()

func (v *verifier) newRun(ctx context.Context, t *trackInfo) *trackRun {
	r := &trackRun{t: t, keys: map[drm.KID][16]byte{}, kidsUsed: map[drm.KID]bool{}, forms: map[string]bool{}}
	for _, k := range v.keys {
		if _, ok := r.keys[k.KID]; !ok {
			r.keys[k.KID] = k.Key
		}
	}
	if t.stream == nil || v.noDecode {
		r.decErr = t.streamErr
		return r
	}
	d, err := decode.Start(ctx, *t.stream)
	if err != nil {
		r.decErr = err.Error()
		return r
	}
	r.dec = d
	return r
}

// decodeAll says whether every sample is decoded (Full), else sync samples and the first
// fragment.
func (v *verifier) wantDecode(r *trackRun, sync bool) bool {
	return v.in.Full || sync || r.fragments <= 1
}

// fragment decrypts, hashes and feeds one track fragment. It never returns an error for bad
// content (that becomes the run's finding); only cancellation stops it.
func (v *verifier) fragment(ctx context.Context, r *trackRun, f *mp4.Fragment, traf *mp4.TrafBox, file string) {
	t := r.t
	r.fragments++
	at := fmt.Sprintf("moof[%d]/traf", r.fragments)
	if f.Moof != nil && f.Moof.Mfhd != nil {
		at = fmt.Sprintf("moof[seq %d]/traf", f.Moof.Mfhd.SequenceNumber)
	}
	if t.kind != media.Text {
		v.moofSignals(t, f, file)
	}
	var n int
	for _, tr := range traf.Truns {
		n += int(tr.SampleCount())
	}
	var samples []mp4.FullSample
	if err := mp4safe.Do(func() error {
		var err error
		samples, err = f.GetFullSamples(t.trex)
		return err
	}); err != nil || len(samples) != n {
		if r.structErr == nil {
			msg := fmt.Sprintf("trun lists %d samples but %d could be read from the mdat", n, len(samples))
			if err != nil {
				msg = "samples cannot be read: " + err.Error()
			}
			r.structErr = &finding{Where{File: file, At: at + "/trun"}, msg}
		}
		return
	}
	if t.kind == media.Text {
		v.timing(r, traf, samples)
		for i := range samples {
			s := &samples[i]
			v.textSample(r, s.Data, s.DecodeTime, s.Dur, Where{File: file, At: at + "/trun"})
		}
		return
	}
	var fi *cenc.FragmentInfo
	if t.encrypted() {
		var err error
		if fi, err = cenc.InspectFragment(t.tp, t.trex, traf, n); err != nil {
			if r.structErr == nil {
				r.structErr = &finding{Where{File: file, At: at + "/senc"}, err.Error()}
			}
			return
		}
		v.noteForms(r, fi, traf)
		if t.piffDual && traf.Senc != nil {
			v.comparePIFFSenc(r, traf, fi, n, file, at)
		}
		if msg := checkSaio(f, traf); msg != "" && r.structErr == nil {
			r.structErr = &finding{Where{File: file, At: at + "/saio"}, msg}
		}
	}
	v.timing(r, traf, samples)
	for i := range samples {
		s := &samples[i]
		if fi != nil {
			v.decryptOne(r, &fi.Samples[i], s.Data, file, at, r.samples+1)
		}
		if !isSync(s.Flags) {
			if r.nonSync++; r.firstNonSync == 0 {
				r.firstNonSync = r.samples + 1
			}
		}
		v.consume(r, s.Data, isSync(s.Flags))
	}
}

// checkSaio checks that a saio with one offset (relative to the moof, the CMAF layout) points
// at the first IV in senc, where players look for it.
func checkSaio(f *mp4.Fragment, traf *mp4.TrafBox) string {
	if traf.Saio == nil || len(traf.Saio.Offset) != 1 || traf.Tfhd == nil || !traf.Tfhd.DefaultBaseIfMoof() ||
		traf.Tfhd.HasBaseDataOffset() {
		return ""
	}
	off := uint64(8) // moof header
	for _, c := range f.Moof.Children {
		if c != traf {
			off += c.Size()
			continue
		}
		off += 8 // traf header
		for _, tc := range traf.Children {
			switch b := tc.(type) {
			case *mp4.SencBox:
				return saioMismatch(traf, off+16)
			case *mp4.UUIDBox:
				if b.Senc != nil {
					return saioMismatch(traf, off+32)
				}
			}
			off += tc.Size()
		}
	}
	return ""
}

func saioMismatch(traf *mp4.TrafBox, want uint64) string {
	if got := traf.Saio.Offset[0]; got != int64(want) {
		return fmt.Sprintf("saio points at byte %d of the moof but the senc data starts at byte %d", got, want)
	}
	return ""
}

// isSync reads sample_is_non_sync_sample (ISO/IEC 14496-12 §8.8.3.1): a sample is a sync
// sample unless that bit is set, whatever sample_depends_on says.
func isSync(flags uint32) bool { return flags&0x00010000 == 0 }

func (v *verifier) noteForms(r *trackRun, fi *cenc.FragmentInfo, traf *mp4.TrafBox) {
	if fi.ClearSamples == len(fi.Samples) && len(fi.Samples) > 0 {
		r.clearFrag++
	}
	if fi.ClearDescription {
		r.forms["sample-description"] = true
	}
	if fi.SeigGroups && fi.ClearSamples > 0 {
		r.forms["seig"] = true
	}
	if fi.SaizZeroCount {
		r.forms["saiz-zero-count"] = true
	}
	if fi.Senc == "uuid-senc" {
		r.forms["piff-senc"] = true
	}
	if fi.NoSencClear {
		r.forms["no-senc"] = true
	}
	_ = traf
}

func (v *verifier) decryptOne(r *trackRun, sc *cenc.SampleCrypto, data []byte, file, at string, nr int) {
	if !sc.Protected || r.cryptErr != nil || r.missing != nil {
		return
	}
	key, ok := r.keys[sc.KID]
	if !ok {
		kid := sc.KID
		r.missing = &kid
		return
	}
	r.kidsUsed[sc.KID] = true
	if err := cenc.DecryptSample(sc, key, data); err != nil {
		r.cryptErr = &finding{Where{File: file, At: at + "/senc"}, fmt.Sprintf("sample %d: %v", nr, err)}
	}
}

// consume hashes a decrypted sample and feeds it to the decoder when it is to be decoded.
func (v *verifier) consume(r *trackRun, data []byte, sync bool) {
	r.samples++
	v.rep.Samples++
	v.rep.Bytes += int64(len(data))
	if len(v.sources) > 0 {
		r.hashes = append(r.hashes, maphash.Bytes(hashSeed, data))
		r.sizes = append(r.sizes, uint32(len(data)))
	}
	if r.t.stream != nil && (r.t.stream.Format == decode.H264 || r.t.stream.Format == decode.HEVC) && r.nalErr == "" {
		if msg := checkNALUs(data, r.t.stream.NALLength, r.t.stream.Format == decode.H264); msg != "" {
			r.nalErr = fmt.Sprintf("sample %d: %s", r.samples, msg)
		}
	}
	if r.dec != nil && v.wantDecode(r, sync) {
		_ = r.dec.Write(data, sync)
	}
}

func (v *verifier) timing(r *trackRun, traf *mp4.TrafBox, samples []mp4.FullSample) {
	if len(samples) == 0 {
		return
	}
	if !r.started {
		// The first sample's presentation time (an I-frame comes first in decode order).
		pt := int64(samples[0].DecodeTime) + int64(samples[0].CompositionTimeOffset)
		if pt < 0 {
			pt = 0
		}
		r.start, r.started = uint64(pt), true
	}
	var d uint64
	for _, s := range samples {
		d += uint64(s.Dur)
	}
	r.total += d
	if r.t.timescale > 0 {
		r.segDurs = append(r.segDurs, float64(d)/float64(r.t.timescale))
	}
	_ = traf
}

// finish closes the decoder and reports the track's structure, decryption, decode and
// bit-exact findings.
func (v *verifier) finish(r *trackRun) {
	t := r.t
	t.samples, t.segDurs = r.samples, r.segDurs
	t.nonSync, t.firstNonSync = r.nonSync, r.firstNonSync
	fact := &v.rep.Inventory.Tracks[t.fact]
	fact.Samples = r.samples
	if t.timescale > 0 {
		fact.Duration = float64(r.total) / float64(t.timescale)
		fact.Start = float64(r.start)/float64(t.timescale) - t.elstShift
	}
	var res *decode.Result
	if r.dec != nil {
		rr, err := r.dec.Close()
		if err != nil {
			r.decErr = err.Error()
		} else {
			res = &rr
			fact.Decode = &rr
		}
	}
	for form := range r.forms {
		if form == "sample-description" || form == "seig" || form == "no-senc" {
			fact.ClearLead = append(fact.ClearLead, form)
		}
	}
	sort.Strings(fact.ClearLead)
	w := Where{File: t.file}
	if r.samples == 0 {
		v.rep.failAt(w, CatStructure, t.subject, "no samples found", "check that the segments belong to this init segment")
		return
	}
	v.reportStructure(r)
	if t.kind == media.Text {
		v.finishText(r)
		return
	}
	v.reportPIFF(r)
	if v.reportDecryption(r) {
		v.reportDecode(r, res)
	}
	v.compareSource(r)
}

func (v *verifier) reportStructure(r *trackRun) {
	t := r.t
	if r.structErr != nil {
		v.rep.failAt(r.structErr.where, CatStructure, t.subject, r.structErr.msg,
			"re-package: players locate samples and IVs through trun, saiz/saio and senc")
	} else if t.encrypted() {
		v.rep.passAt(Where{File: t.file}, CatStructure, t.subject, "%d fragments, %d samples: trun, senc and sample groups consistent",
			r.fragments, r.samples)
	} else {
		v.rep.passAt(Where{File: t.file}, CatStructure, t.subject, "%d fragments, %d samples: trun consistent",
			r.fragments, r.samples)
	}
	if r.forms["saiz-zero-count"] {
		v.rep.passAt(Where{File: t.file, At: "moof/traf/saiz"}, CatStructure, t.subject,
			"saiz lists 0 samples (as Bento4 writes for constant-IV cbcs); the IVs and subsamples come from senc")
	}
	if r.forms["no-senc"] {
		v.rep.warnAt(Where{File: t.file, At: "moof/traf"}, CatEncryption, t.subject,
			"fragments of an encrypted track carry no senc: taken as a clear lead (decoding confirms they are clear)",
			"signal clear fragments with a clear sample description or a 'seig' group: some players try to decrypt them")
	}
	if r.forms["piff-senc"] {
		v.rep.passAt(Where{File: t.file, At: "moof/traf/uuid[piff-senc]"}, CatStructure, t.subject,
			"sample encryption in PIFF uuid senc boxes")
	}
	if r.clearFrag > 0 {
		var forms []string
		for f := range r.forms {
			if f == "sample-description" || f == "seig" || f == "no-senc" {
				forms = append(forms, f)
			}
		}
		sort.Strings(forms)
		how := strings.Join(forms, ", ")
		if how == "" {
			how = "no protected samples"
		}
		v.rep.passAt(Where{File: t.file}, CatEncryption, t.subject, "%d of %d fragments are a clear lead (%s): playback starts before the license",
			r.clearFrag, r.fragments, how)
	}
}

// reportDecryption reports missing keys and decryption errors; false when decoding cannot say
// anything more.
func (v *verifier) reportDecryption(r *trackRun) bool {
	t := r.t
	w := Where{File: t.file}
	switch {
	case r.missing != nil:
		v.rep.failAt(w, CatDecryption, t.subject, fmt.Sprintf("no key for KID %s: samples cannot be decrypted", *r.missing),
			"give the key for that KID (a CPIX document or KID:KEY), or fix the license server")
		return false
	case r.cryptErr != nil:
		v.rep.failAt(r.cryptErr.where, CatDecryption, t.subject, "decryption failed: "+r.cryptErr.msg,
			"re-package: the sample encryption data does not fit the samples")
		return false
	}
	if t.encrypted() {
		v.rep.passAt(w, CatDecryption, t.subject, "%d samples decrypted (%s) with the key for KID %s", r.samples, t.prot.Scheme, kidList(r))
	}
	return true
}

func kidList(r *trackRun) string {
	var out []string
	for k := range r.kidsUsed {
		out = append(out, k.String())
	}
	if len(out) == 0 && r.t.prot != nil {
		out = append(out, r.t.prot.KID.String())
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

func (v *verifier) reportDecode(r *trackRun, res *decode.Result) {
	t := r.t
	w := Where{File: t.file}
	wrong := ""
	if t.encrypted() {
		wrong = fmt.Sprintf(": the key for KID %s is wrong or the media is corrupt", kidList(r))
	}
	switch {
	case res == nil:
		v.rep.warnAt(w, CatIntegrity, t.subject, "decryption not proven by decoding: "+r.decErr,
			"install ffmpeg (ffprobe) to decode the media")
		if r.nalErr != "" {
			v.rep.failAt(w, CatIntegrity, t.subject, "decrypted media does not parse ("+r.nalErr+")"+wrong, fixKey(t))
		}
	case res.OK():
		scope := "every sync sample and the first fragment"
		if v.in.Full {
			scope = "every sample"
		}
		v.rep.passAt(w, CatIntegrity, t.subject, "decoded %s: %d of %d frames, no decoder errors (%s)", scope, res.Decoded, res.Fed, t.codec)
	default:
		v.rep.failAt(w, CatIntegrity, t.subject, "the decoder rejects the decrypted media: "+res.String()+wrong, fixKey(t))
	}
	if res != nil && res.OK() && r.nalErr != "" {
		v.rep.failAt(w, CatIntegrity, t.subject, "decrypted media does not parse ("+r.nalErr+")"+wrong, fixKey(t))
	}
}

func fixKey(t *trackInfo) string {
	if t.encrypted() {
		return "use the content key the package was made with (KID " + t.prot.KID.String() + "), or re-download the content"
	}
	return "re-download or re-package the content"
}

// compareSource compares the decrypted samples with the clear source bit for bit (through
// per-sample hashes: the samples themselves are not kept).
func (v *verifier) compareSource(r *trackRun) {
	if len(v.sources) == 0 {
		return
	}
	t := r.t
	w := Where{File: t.file}
	src := v.matchSource(string(t.kind), r.sizes)
	if src == nil {
		v.rep.warnAt(w, CatIntegrity, t.subject, "no source file has this track's samples; bit-exact comparison skipped",
			"give the rendition's source file")
		return
	}
	buf := make([]byte, 0, 1<<20)
	for i, s := range src.samples {
		if cap(buf) < int(s.Size) {
			buf = make([]byte, s.Size)
		}
		b := buf[:s.Size]
		if _, err := src.file.F.ReadAt(b, int64(s.Offset)); err != nil {
			v.rep.failAt(w, CatIntegrity, t.subject, "reading the source failed: "+err.Error(), "")
			return
		}
		if maphash.Bytes(hashSeed, b) != r.hashes[i] {
			v.rep.failAt(w, CatIntegrity, t.subject, fmt.Sprintf("sample %d differs from the source %s after decryption", i+1,
				displayName(src.path)), "the package is corrupt: re-package or re-download it")
			return
		}
	}
	v.rep.passAt(w, CatIntegrity, t.subject, "bit-exact with the source %s (%d samples)", displayName(src.path), len(src.samples))
}

// decryptMedia streams the fragments of m (its segments, or the single file's fragments) once,
// feeding each track's run.
func (v *verifier) decryptMedia(ctx context.Context, m *mediaRef) error {
	if len(m.tracks) == 0 {
		return nil
	}
	if m.single && m.file != nil && !m.file.mf.IsFragmented() {
		for _, t := range m.tracks {
			if err := v.decryptProgressive(ctx, t); err != nil {
				return err
			}
		}
		return nil
	}
	runs := map[uint32]*trackRun{}
	for _, t := range m.tracks {
		runs[t.trackID] = v.newRun(ctx, t)
	}
	err := v.fragments(ctx, m, func(f *mp4.Fragment, file string) {
		if f.Moof == nil {
			return
		}
		for _, traf := range f.Moof.Trafs {
			if traf.Tfhd == nil {
				continue
			}
			if r := runs[traf.Tfhd.TrackID]; r != nil {
				// mp4ff walks the fragment's tables; a panic on crafted data is a finding.
				err := mp4safe.Do(func() error { v.fragment(ctx, r, f, traf, file); return nil })
				if err != nil && r.structErr == nil {
					r.structErr = &finding{Where{File: file, At: "moof/traf"}, err.Error()}
				}
			}
		}
	})
	for _, t := range m.tracks {
		v.finish(runs[t.trackID])
	}
	return err
}

// fragments calls fn for each fragment of m with its media data loaded, one at a time.
func (v *verifier) fragments(ctx context.Context, m *mediaRef, fn func(*mp4.Fragment, string)) error {
	if m.single {
		return v.fileFragments(ctx, m, fn)
	}
	var buf []byte
	for i, loc := range m.segments {
		if err := ctx.Err(); err != nil {
			return err
		}
		name := v.fetch.rel(loc)
		b, err := v.fetch.getInto(ctx, loc, v.limits.MaxResponseBytes, buf)
		if err != nil {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return err
			}
			v.segmentError(m, name, i, len(m.segments), err)
			return nil
		}
		buf = b
		// Lazy decoding leaves the mdat payloads in b: no second copy of the segment.
		mf, err := mp4safe.DecodeFile(ctx, bytes.NewReader(b), mp4safe.Lazy)
		if err != nil {
			v.rep.failAt(Where{File: name}, CatStructure, m.subject, "segment does not parse: "+err.Error(),
				"re-package or re-download the segment")
			continue
		}
		for _, seg := range mf.Segments {
			for _, f := range seg.Fragments {
				if f.Mdat != nil && f.Mdat.IsLazy() {
					start, n := f.Mdat.PayloadAbsoluteOffset(), f.Mdat.GetLazyDataSize()
					if start+n > uint64(len(b)) {
						v.rep.failAt(Where{File: name, At: "mdat"}, CatStructure, m.subject, "the mdat runs past the end of the segment",
							"re-download the segment")
						continue
					}
					f.Mdat.SetData(b[start : start+n])
				}
				fn(f, name)
			}
		}
	}
	return nil
}

func (v *verifier) segmentError(m *mediaRef, name string, i, n int, err error) {
	if v.limitOrRefused(Where{File: name}, m.subject, err) {
		if n-i-1 > 0 {
			v.rep.Inventory.notChecked(m.subject, fmt.Sprintf("%d later segments", n-i-1))
		}
		return
	}
	v.rep.failAt(Where{File: name}, CatStructure, m.subject, "segment cannot be read: "+err.Error(),
		"re-download or re-publish the segment")
}

func (v *verifier) fileFragments(ctx context.Context, m *mediaRef, fn func(*mp4.Fragment, string)) error {
	of := m.file
	name := v.fetch.rel(m.init)
	var buf []byte // one mdat at a time, reused
	for _, seg := range of.mf.Segments {
		for _, f := range seg.Fragments {
			if err := ctx.Err(); err != nil {
				return err
			}
			var lazy uint64
			if f.Mdat != nil && f.Mdat.IsLazy() {
				lazy = f.Mdat.GetLazyDataSize()
				if lazy > uint64(v.limits.MaxResponseBytes) {
					v.hitLimit(Where{File: name, At: "mdat"}, m.subject, fmt.Sprintf("an mdat of %d bytes is over the %d-byte limit",
						lazy, v.limits.MaxResponseBytes))
					return nil
				}
				if uint64(cap(buf)) < lazy {
					buf = make([]byte, lazy)
				}
				buf = buf[:lazy]
				if _, err := of.f.ReadAt(buf, int64(f.Mdat.PayloadAbsoluteOffset())); err != nil {
					v.rep.failAt(Where{File: name, At: "mdat"}, CatStructure, m.subject, "the file is truncated: "+err.Error(),
						"re-download the file")
					return nil
				}
				f.Mdat.SetData(buf)
			}
			fn(f, name)
			if lazy > 0 {
				f.Mdat.SetData(nil)
				f.Mdat.SetLazyDataSize(lazy)
			}
		}
	}
	return nil
}
