package verify

import (
	"bytes"
	"context"
	"fmt"
	"os"

	"github.com/Eyevinn/mp4ff/mp4"

	"satchel/engine/cenc"
	"satchel/engine/decode"
	"satchel/engine/drm"
	"satchel/engine/media"
	"satchel/internal/mp4safe"
)

// trackInfo is one audio or video track read from an init segment or a single file.
type trackInfo struct {
	ref       *mediaRef
	subject   string
	file      string // where its init is (for findings)
	init      *mp4.InitSegment
	trak      *mp4.TrakBox
	trex      *mp4.TrexBox
	trackID   uint32
	kind      media.Kind
	codec     string // clear format (frma for protected entries)
	tp        *cenc.TrackProtection
	prot      *cenc.EntryProtection // the first protected description; nil for a clear track
	stream    *decode.Stream        // nil when the codec cannot be decoded here
	streamErr string
	timescale uint32
	elstShift float64 // seconds the edit list moves the start (media_time)
	fact      int     // index into Inventory.Tracks
	sub       int     // index into Inventory.Subtitles for a text track (-1: none)
	// orig is the track this one shares its media with (nil: itself).
	orig *trackInfo
	// Results of the decryption pass.
	samples      int
	segDurs      []float64
	moofPSSHSeen bool
	// nonSync counts the samples that are not sync samples; firstNonSync is the first (1-based).
	nonSync, firstNonSync int
	// piffDual marks a CENC track that also carries PIFF 1.1 boxes; piffBad that its init's
	// PIFF boxes disagree with the CENC ones (reported).
	piffDual, piffBad bool
}

// origin returns the track whose media was decrypted (itself unless shared).
func (t *trackInfo) origin() *trackInfo {
	if t.orig != nil {
		return t.orig
	}
	return t
}

func (t *trackInfo) encrypted() bool { return t.prot != nil }

// encryptedText reports whether a text track is protected: a sinf, or an encrypted text
// sample entry (enct, encs) that carries one.
func (t *trackInfo) encryptedText() bool {
	return t.prot != nil || t.codec == "enct" || t.codec == "encs"
}

// openFile is a single-file MP4 kept open from reading to decryption.
type openFile struct {
	f       *os.File
	mf      *mp4.File
	cleanup func()
	size    int64
}

// readMedia reads the init segment (or the single file) of m and describes its tracks.
func (v *verifier) readMedia(ctx context.Context, m *mediaRef) {
	name := v.fetch.rel(m.init)
	v.referenced[m.init] = true
	for _, s := range m.segments {
		v.referenced[s] = true
	}
	var mf *mp4.File
	var err error
	if m.single {
		mf, err = v.openSingle(ctx, m)
	} else {
		v.checkHTTP(ctx, m.init, "video/mp4")
		var b []byte
		if b, err = v.fetch.get(ctx, m.init, v.limits.MaxResponseBytes); err == nil {
			mf, err = mp4safe.DecodeBytes(ctx, b)
		}
	}
	if err != nil {
		if !v.limitOrRefused(Where{File: name}, m.subject, err) {
			v.rep.failAt(Where{File: name}, CatStructure, m.subject, "does not parse: "+err.Error(),
				"re-package or re-download it; a truncated download is the usual cause")
		}
		return
	}
	init := mf.Init
	if init == nil && mf.Moov != nil {
		init = &mp4.InitSegment{Moov: mf.Moov, Ftyp: mf.Ftyp}
	}
	if init == nil || init.Moov == nil {
		v.rep.failAt(Where{File: name}, CatStructure, m.subject, "no moov box: this is not an init segment or a complete MP4",
			"point the checker at the init segment, the manifest or the folder")
		return
	}
	v.rep.passAt(Where{File: name, At: "moov"}, CatStructure, m.subject, "boxes parse (%d tracks)", len(init.Moov.Traks))
	v.initSignals(m, name, init)
	for i, trak := range init.Moov.Traks {
		if t := v.describe(m, name, init, i, trak); t != nil {
			m.tracks = append(m.tracks, t)
		}
	}
	v.checkPIFFInit(m)
	if m.single {
		v.downloadFact(m, name)
		if m.file.mf.IsFragmented() {
			v.checkDownloadIndex(m, name)
		}
	}
}

func (v *verifier) openSingle(ctx context.Context, m *mediaRef) (*mp4.File, error) {
	v.checkHTTP(ctx, m.init, "video/mp4")
	f, cleanup, err := v.fetch.open(ctx, m.init)
	if err != nil {
		return nil, err
	}
	mf, err := mp4safe.DecodeFile(ctx, f, mp4safe.Lazy)
	if err != nil {
		cleanup()
		return nil, err
	}
	st, _ := f.Stat()
	m.file = &openFile{f: f, mf: mf, cleanup: cleanup}
	if st != nil {
		m.file.size = st.Size()
	}
	return mf, nil
}

func (v *verifier) downloadFact(m *mediaRef, name string) {
	d := DownloadFact{File: name, Fragmented: m.file.mf.IsFragmented(), Tracks: len(m.tracks), Size: m.file.size}
	for _, t := range m.tracks {
		if t.prot != nil {
			d.Schemes = appendScheme(d.Schemes, t.prot.Scheme)
			d.PIFF = d.PIFF || t.prot.PIFF || t.piffDual
		}
	}
	v.rep.Inventory.Downloads = append(v.rep.Inventory.Downloads, d)
}

// describe reads one track; nil for tracks that are not audio or video (or are broken, with a
// finding).
func (v *verifier) describe(m *mediaRef, file string, init *mp4.InitSegment, idx int, trak *mp4.TrakBox) *trackInfo {
	if trak == nil || trak.Tkhd == nil || trak.Mdia == nil || trak.Mdia.Hdlr == nil || trak.Mdia.Mdhd == nil {
		v.rep.failAt(Where{File: file, At: fmt.Sprintf("moov/trak[%d]", idx)}, CatStructure, m.subject,
			"a track lacks tkhd, mdia, hdlr or mdhd", "re-package the content")
		return nil
	}
	kind, ok := media.KindForHandler(trak.Mdia.Hdlr.HandlerType)
	if !ok {
		return nil
	}
	t := &trackInfo{ref: m, file: file, init: init, trak: trak, trackID: trak.Tkhd.TrackID, kind: kind,
		timescale: trak.Mdia.Mdhd.Timescale, subject: m.subject, sub: -1}
	if len(init.Moov.Traks) > 1 {
		t.subject = fmt.Sprintf("%s track %d (%s)", m.subject, t.trackID, kind)
	}
	t.trex = trexFor(init, t.trackID)
	stsdAt := Where{File: file, At: "moov/trak/mdia/minf/stbl/stsd"}
	tp, err := cenc.ProtectionOf(trak)
	if err != nil {
		v.rep.failAt(stsdAt, CatEncryption, t.subject, err.Error(), "re-package: the track cannot be decrypted without them")
		return nil
	}
	t.tp, t.prot = tp, tp.First()
	if len(trak.Mdia.Minf.Stbl.Stsd.Children) == 0 {
		v.rep.failAt(stsdAt, CatStructure, t.subject, "the track has no sample description", "re-package the content")
		return nil
	}
	entry := trak.Mdia.Minf.Stbl.Stsd.Children[0]
	t.codec = entry.Type()
	if t.prot != nil && t.prot.Format != "" {
		t.codec = t.prot.Format
	}
	if s, err := decode.StreamFor(entry, t.codec); err == nil {
		t.stream = &s
	} else {
		t.streamErr = err.Error()
	}
	t.elstShift = editShift(trak, init.Moov)
	v.signalTrack(t)
	fact := TrackFact{Entry: m.entry.name, File: file, TrackID: t.trackID, Kind: kind, Codec: t.codec,
		Language: trak.Mdia.Mdhd.GetLanguage(), Trick: m.trick != nil}
	v.countFileTrack(m, kind)
	if kind == media.Text {
		v.textFact(t, fact.Language)
	}
	if t.prot != nil {
		kid := t.prot.KID
		fact.Scheme, fact.PIFF, fact.KID = t.prot.Scheme, t.prot.PIFF, &kid
		ef := &v.rep.Inventory.Manifests[m.entry.fact]
		ef.Schemes = appendScheme(ef.Schemes, t.prot.Scheme)
	}
	t.fact = len(v.rep.Inventory.Tracks)
	v.rep.Inventory.Tracks = append(v.rep.Inventory.Tracks, fact)
	return t
}

// editShift is the start offset (seconds) an edit list gives the track: media_time of the
// first non-empty edit, minus empty edits (a positive value moves the media earlier).
func editShift(trak *mp4.TrakBox, moov *mp4.MoovBox) float64 {
	if trak.Edts == nil || len(trak.Edts.Elst) == 0 || trak.Mdia.Mdhd.Timescale == 0 {
		return 0
	}
	var shift float64
	mvTS := float64(1000)
	if moov.Mvhd != nil && moov.Mvhd.Timescale > 0 {
		mvTS = float64(moov.Mvhd.Timescale)
	}
	for _, e := range trak.Edts.Elst[0].Entries {
		if e.MediaTime < 0 {
			shift -= float64(e.SegmentDuration) / mvTS
			continue
		}
		shift += float64(e.MediaTime) / float64(trak.Mdia.Mdhd.Timescale)
		break
	}
	return shift
}

// countFileTrack counts a track of a single-file entry into its manifest fact.
func (v *verifier) countFileTrack(m *mediaRef, kind media.Kind) {
	if m.entry.kind != KindFile {
		return
	}
	f := &v.rep.Inventory.Manifests[m.entry.fact]
	switch kind {
	case media.Video:
		f.VideoRenditions++
	case media.Audio:
		f.AudioRenditions++
		f.AudioTracks++
	case media.Text:
		f.TextRenditions++
	}
}

// signalTrack reports the track's protection (scheme, IVs, pattern) as findings.
func (v *verifier) signalTrack(t *trackInfo) {
	w := Where{File: t.file, At: "moov/trak/mdia/minf/stbl/stsd/" + t.codec}
	if t.kind == media.Text {
		v.signalText(t, w)
		return
	}
	if t.prot == nil {
		v.rep.warnAt(w, CatEncryption, t.subject, "the track is not encrypted (clear "+t.codec+")",
			"package it with Satchel to protect it; clear tracks can be copied")
		return
	}
	p := t.prot
	w.At = "moov/trak/mdia/minf/stbl/stsd/enc?/sinf/schi/tenc"
	if t.kind == media.Video {
		w.At = "moov/trak/mdia/minf/stbl/stsd/encv/sinf/schi/tenc"
	} else {
		w.At = "moov/trak/mdia/minf/stbl/stsd/enca/sinf/schi/tenc"
	}
	if p.PIFF {
		w.At = "moov/trak/mdia/minf/stbl/stsd/sinf/schi/uuid[piff-tenc]"
	}
	name := string(p.Scheme)
	if p.PIFF {
		name = "PIFF 1.1 (" + string(p.Scheme) + ")"
	}
	iv := fmt.Sprintf("%d-byte per-sample IVs", p.IVSize)
	if p.IVSize == 0 {
		iv = fmt.Sprintf("%d-byte constant IV", len(p.ConstantIV))
	}
	pattern := ""
	if p.Crypt+p.Skip > 0 {
		pattern = fmt.Sprintf(", pattern %d:%d", p.Crypt, p.Skip)
	}
	v.rep.passAt(w, CatEncryption, t.subject, "scheme %s, %s %s, default KID %s, %s%s", name, t.kind, t.codec, p.KID, iv, pattern)
	switch {
	case p.Scheme == drm.SchemeCBCS && p.IVSize != 0:
		v.rep.warnAt(w, CatEncryption, t.subject, "cbcs with per-sample IVs: FairPlay and CMAF expect a constant IV",
			"use a 16-byte constant IV for cbcs")
	case p.Scheme == drm.SchemeCBCS && t.kind == media.Video && (p.Crypt != 1 || p.Skip != 9):
		v.rep.warnAt(w, CatEncryption, t.subject, fmt.Sprintf("cbcs video pattern is %d:%d, not the usual 1:9", p.Crypt, p.Skip),
			"use the 1:9 pattern for video (Apple and CMAF)")
	case p.Scheme == drm.SchemeCENS || p.Scheme == drm.SchemeCBC1:
		v.rep.warnAt(w, CatEncryption, t.subject, "scheme "+string(p.Scheme)+" is rarely supported by players (most support only cenc and cbcs)",
			"package with cenc (DASH) or cbcs (HLS/FairPlay) for offline devices")
	case p.PIFF:
		v.rep.warnAt(w, CatEncryption, t.subject, "PIFF 1.1 boxes: only legacy PlayReady (Smooth) clients read them",
			"use CMAF with cenc for new devices; keep PIFF only for the legacy PlayReady offline flow")
	}
	v.kids[p.KID] = true
	for _, e := range t.tp.Entries {
		if e != nil {
			v.kids[e.KID] = true
		}
	}
	for _, g := range t.tp.Groups {
		if g != nil && g.IsProtected != 0 && len(g.KID) == 16 {
			v.kids[drm.KID(g.KID)] = true
		}
	}
}

func trexFor(init *mp4.InitSegment, id uint32) *mp4.TrexBox {
	if init.Moov.Mvex != nil {
		for _, t := range init.Moov.Mvex.Trexs {
			if t.TrackID == id {
				return t
			}
		}
	}
	return &mp4.TrexBox{TrackID: id, DefaultSampleDescriptionIndex: 1}
}

// decodeSafeBytes decodes a fetched segment through the safe door.
func decodeSafeBytes(ctx context.Context, b []byte) (*mp4.File, error) {
	return mp4safe.DecodeFile(ctx, bytes.NewReader(b), mp4safe.Full)
}
