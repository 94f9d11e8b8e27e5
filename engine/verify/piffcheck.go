package verify

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/Eyevinn/mp4ff/mp4"

	"satchel/engine/cenc"
	"satchel/engine/drm"
)

// PIFF 1.1 boxes written beside the CENC boxes (Satchel's --piff, AMS's PlayReady offline
// file): the uuid tenc must name the tenc's KID and IV size, each uuid sample encryption box
// must hold the senc's IVs and subsamples, and each PIFF pssh the CENC pssh's data of its
// system. Older PlayReady clients read only the PIFF boxes; CENC clients only the others.

// piffAlgorithms maps a PIFF AlgorithmID to the schemes it is the same cipher as.
var piffAlgorithms = map[uint32][]drm.Scheme{1: {drm.SchemeCENC, drm.SchemeCENS}, 2: {drm.SchemeCBC1, drm.SchemeCBCS}}

// checkPIFFInit compares the PIFF boxes of an init segment or file with its CENC boxes: per
// protected sample description the uuid tenc against tenc, and each PIFF pssh against the
// pssh of its system. Mismatches fail; agreement is reported once the fragments agree too.
func (v *verifier) checkPIFFInit(m *mediaRef) {
	dual := false
	for _, t := range m.tracks {
		if t.prot == nil || t.prot.PIFF {
			continue // clear, or pure PIFF (schm 'piff'): nothing to agree with
		}
		for i, se := range t.trak.Mdia.Minf.Stbl.Stsd.Children {
			sinf := sinfOf(se)
			if sinf == nil || sinf.Schi == nil || sinf.Schi.Tenc == nil {
				continue
			}
			for _, c := range sinf.Schi.Children {
				if u, ok := c.(*mp4.UUIDBox); ok && u.PiffTenc != nil {
					dual, t.piffDual = true, true
					v.rep.Inventory.Tracks[t.fact].PIFF = true
					w := Where{File: t.file, At: fmt.Sprintf("moov/trak/mdia/minf/stbl/stsd[%d]/sinf/schi/uuid[piff-tenc]", i)}
					if msg := piffTencMismatch(sinf.Schi.Tenc, u.PiffTenc, t.tp.Entries[i]); msg != "" {
						t.piffBad = true
						v.rep.failAt(w, CatEncryption, t.subject, "the PIFF track encryption box disagrees with tenc: "+msg+
							": PIFF clients would decrypt with other parameters", "re-package: write the PIFF boxes from the CENC ones")
					}
				}
			}
		}
	}
	if dual {
		v.checkPIFFPssh(m)
	}
}

func sinfOf(se mp4.Box) *mp4.SinfBox {
	switch e := se.(type) {
	case *mp4.VisualSampleEntryBox:
		return e.Sinf
	case *mp4.AudioSampleEntryBox:
		return e.Sinf
	}
	return nil
}

func piffTencMismatch(tenc *mp4.TencBox, p *mp4.PiffTencData, ep *cenc.EntryProtection) string {
	switch {
	case !bytes.Equal(p.KID, tenc.DefaultKID):
		return fmt.Sprintf("default KID %s, tenc %s", p.KID, mp4.UUID(tenc.DefaultKID))
	case p.IVSize != tenc.DefaultPerSampleIVSize:
		return fmt.Sprintf("IV size %d, tenc %d", p.IVSize, tenc.DefaultPerSampleIVSize)
	case ep != nil && p.AlgorithmID == 0 && tenc.DefaultIsProtected != 0:
		return "AlgorithmID 0 (not encrypted), tenc says protected"
	case ep != nil && p.AlgorithmID != 0 && !slices.Contains(piffAlgorithms[p.AlgorithmID], ep.Scheme):
		return fmt.Sprintf("AlgorithmID %d, the scheme is %s", p.AlgorithmID, ep.Scheme)
	}
	return ""
}

// checkPIFFPssh compares each PIFF pssh with the CENC pssh of the same system, and reports a
// PlayReady CENC pssh without a PIFF copy (PIFF clients find no PlayReady header then).
func (v *verifier) checkPIFFPssh(m *mediaRef) {
	var cencs, piffs []psshSource
	for _, s := range m.psshs {
		switch s.src {
		case SourceInitPSSH:
			cencs = append(cencs, s)
		case SourcePIFFPSSH:
			piffs = append(piffs, s)
		}
	}
	for _, p := range piffs {
		for _, c := range cencs {
			if !bytes.Equal(p.box.SystemID, c.box.SystemID) {
				continue
			}
			if !bytes.Equal(p.box.Data, c.box.Data) {
				m.piffBad = true
				v.rep.failAt(p.where, CatDRM, m.subject, fmt.Sprintf("the PIFF pssh of system %s carries other data than the "+
					"CENC pssh at %s: PIFF and CENC clients would request different licenses", p.box.SystemID, c.where.At),
					"re-package: write the PIFF pssh from the CENC pssh")
			}
		}
	}
	pr := drm.PlayReady.SystemID().String()
	hasPR := func(list []psshSource) bool {
		return slices.ContainsFunc(list, func(s psshSource) bool { return s.box.SystemID.String() == pr })
	}
	if hasPR(cencs) && !hasPR(piffs) {
		m.piffBad = true
		v.rep.warnAt(Where{File: v.fetch.rel(m.init), At: "moov"}, CatDRM, m.subject, "the file has PIFF track encryption "+
			"boxes but no PIFF pssh for PlayReady: PIFF clients find no PlayReady header", "add the PlayReady pssh as a PIFF uuid pssh")
	}
}

// comparePIFFSenc checks, for a fragment with both a senc and a PIFF sample encryption box,
// that they hold the same IVs and subsamples (read with the track's own parameters).
func (v *verifier) comparePIFFSenc(r *trackRun, traf *mp4.TrafBox, fi *cenc.FragmentInfo, n int, file, at string) {
	w := Where{File: file, At: at + "/uuid[piff-senc]"}
	if traf.UUIDSenc == nil || traf.UUIDSenc.Senc == nil {
		r.piffMissing++
		return
	}
	r.piffFrags++
	if r.piffErr != nil {
		return
	}
	only := *traf
	only.Senc = nil
	pf, err := cenc.InspectFragment(r.t.tp, r.t.trex, &only, n)
	if err != nil {
		r.piffErr = &finding{w, "the PIFF sample encryption box does not read: " + err.Error()}
		return
	}
	for i := range fi.Samples {
		a, b := &fi.Samples[i], &pf.Samples[i]
		if !a.Protected {
			continue
		}
		if a.IV != b.IV {
			r.piffErr = &finding{w, fmt.Sprintf("sample %d: IV %x in senc, %x in the PIFF box", r.samples+i+1, a.IV, b.IV)}
			return
		}
		if !slices.Equal(a.Subsamples, b.Subsamples) {
			r.piffErr = &finding{w, fmt.Sprintf("sample %d: subsamples %v in senc, %v in the PIFF box", r.samples+i+1,
				a.Subsamples, b.Subsamples)}
			return
		}
	}
}

// reportPIFF reports whether a track's PIFF boxes agree with its CENC boxes over every
// fragment: "PIFF 1.1 compatible", or the first disagreement.
func (v *verifier) reportPIFF(r *trackRun) {
	t := r.t
	if !t.piffDual {
		return
	}
	w := Where{File: t.file}
	switch {
	case r.piffErr != nil:
		v.rep.failAt(r.piffErr.where, CatEncryption, t.subject, "the PIFF sample encryption box disagrees with senc: "+
			r.piffErr.msg+": PIFF clients would decrypt garbage", "re-package: write the PIFF boxes from the CENC ones")
	case r.piffMissing > 0:
		v.rep.failAt(w, CatEncryption, t.subject, fmt.Sprintf("%d encrypted fragments have a senc but no PIFF sample "+
			"encryption box: PIFF clients cannot decrypt them", r.piffMissing),
			"re-package with a PIFF sample encryption box beside every senc")
	case !t.piffBad && !t.ref.piffBad:
		v.rep.passAt(w, CatEncryption, t.subject, "PIFF 1.1 compatible: uuid tenc (KID %s, %d-byte IVs), uuid sample "+
			"encryption (%d fragments) and PIFF pssh agree with tenc, senc and pssh", t.prot.KID, t.prot.IVSize, r.piffFrags)
	}
}
