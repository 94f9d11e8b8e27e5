package cenc

import (
	"fmt"

	"github.com/Eyevinn/mp4ff/mp4"

	"satchel/engine/drm"
)

// EntryProtection is how one sample description (one stsd entry) of a track is protected, as
// its sinf box says: the scheme and the track defaults of its tenc.
type EntryProtection struct {
	Scheme      drm.Scheme // cenc, cbcs, cens or cbc1; PIFF is mapped to cenc (CTR) or cbc1 (CBC)
	PIFF        bool       // the entry is PIFF 1.1 (schm 'piff', uuid tenc)
	SchemeType  string     // the 'schm' four-character code as written
	Format      string     // the clear sample entry type from 'frma' (avc1, mp4a, …)
	KID         drm.KID    // default KID
	IsProtected bool       // default_isProtected
	IVSize      int        // default per-sample IV size: 0 (constant IV), 8 or 16
	ConstantIV  []byte     // default constant IV when IVSize is 0
	Crypt, Skip int        // default pattern in 16-byte blocks (0:0 = no pattern)
}

// TrackProtection is the protection of every sample description of a track, plus the
// track-level 'seig' sample group descriptions that fragments may refer to.
type TrackProtection struct {
	TrackID uint32
	// Entries has one element per stsd entry, in order; nil for an entry in the clear (for
	// example the clear-lead description Shaka Packager adds after the encrypted one).
	Entries []*EntryProtection
	// Groups are the 'seig' entries of the track's stbl sgpd (indices 1…65536 of a sbgp).
	Groups []*mp4.SeigSampleGroupEntry
}

// Encrypted reports whether any sample description is protected.
func (tp *TrackProtection) Encrypted() bool {
	for _, e := range tp.Entries {
		if e != nil {
			return true
		}
	}
	return false
}

// First returns the first protected sample description, or nil.
func (tp *TrackProtection) First() *EntryProtection {
	for _, e := range tp.Entries {
		if e != nil {
			return e
		}
	}
	return nil
}

// UnsupportedSchemeError says that a sample description uses a protection scheme that is not
// common encryption (for example OMA or Marlin).
type UnsupportedSchemeError struct{ Scheme string }

func (e *UnsupportedSchemeError) Error() string {
	return fmt.Sprintf("protection scheme %q is not a common encryption scheme (cenc, cbcs, cens, cbc1, piff)", e.Scheme)
}

// ProtectionOf reads the protection of every sample description of trak. It never fails on
// a clear track (all entries nil); it returns an error for a protected entry whose sinf lacks
// schm or tenc, or uses a scheme that is not common encryption.
func ProtectionOf(trak *mp4.TrakBox) (*TrackProtection, error) {
	if trak == nil || trak.Tkhd == nil || trak.Mdia == nil || trak.Mdia.Minf == nil || trak.Mdia.Minf.Stbl == nil ||
		trak.Mdia.Minf.Stbl.Stsd == nil {
		return nil, fmt.Errorf("track without a sample description (stsd)")
	}
	tp := &TrackProtection{TrackID: trak.Tkhd.TrackID}
	stbl := trak.Mdia.Minf.Stbl
	for _, c := range stbl.Stsd.Children {
		sinf := SampleEntrySinf(c)
		if sinf == nil {
			tp.Entries = append(tp.Entries, nil)
			continue
		}
		ep, err := entryProtection(sinf)
		if err != nil {
			return nil, fmt.Errorf("track %d: %w", tp.TrackID, err)
		}
		tp.Entries = append(tp.Entries, ep)
	}
	for _, sgpd := range stbl.Sgpds {
		if sgpd == nil || sgpd.GroupingType != "seig" {
			continue
		}
		for _, e := range sgpd.SampleGroupEntries {
			seig, _ := e.(*mp4.SeigSampleGroupEntry)
			tp.Groups = append(tp.Groups, seig) // nil keeps the index of an undecodable entry
		}
	}
	return tp, nil
}

func entryProtection(sinf *mp4.SinfBox) (*EntryProtection, error) {
	if sinf.Schm == nil {
		return nil, fmt.Errorf("protected sample entry without a schm box")
	}
	if sinf.Schi == nil || sinf.Schi.Tenc == nil {
		return nil, fmt.Errorf("protected sample entry (%s) without a tenc box", sinf.Schm.SchemeType)
	}
	tenc := sinf.Schi.Tenc
	ep := &EntryProtection{
		SchemeType:  sinf.Schm.SchemeType,
		IsProtected: tenc.DefaultIsProtected != 0,
		IVSize:      int(tenc.DefaultPerSampleIVSize),
		ConstantIV:  tenc.DefaultConstantIV,
		Crypt:       int(tenc.DefaultCryptByteBlock),
		Skip:        int(tenc.DefaultSkipByteBlock),
	}
	if sinf.Frma != nil {
		ep.Format = sinf.Frma.DataFormat
	}
	if len(tenc.DefaultKID) != 16 {
		return nil, fmt.Errorf("tenc default KID has %d bytes, not 16", len(tenc.DefaultKID))
	}
	copy(ep.KID[:], tenc.DefaultKID)
	switch sinf.Schm.SchemeType {
	case "cenc", "cbcs", "cens", "cbc1":
		ep.Scheme = drm.Scheme(sinf.Schm.SchemeType)
	case "piff":
		ep.PIFF = true
		alg := piffAlgorithm(sinf.Schi)
		switch alg {
		case 1:
			ep.Scheme = drm.SchemeCENC
		case 2:
			ep.Scheme = drm.SchemeCBC1
		case 0:
			ep.IsProtected = false
			ep.Scheme = drm.SchemeCENC
		default:
			return nil, fmt.Errorf("PIFF AlgorithmID %d is not 1 (AES-CTR) or 2 (AES-CBC)", alg)
		}
		ep.Crypt, ep.Skip = 0, 0
	default:
		return nil, &UnsupportedSchemeError{Scheme: sinf.Schm.SchemeType}
	}
	if ep.IsProtected {
		switch ep.IVSize {
		case 0:
			if len(ep.ConstantIV) != 8 && len(ep.ConstantIV) != 16 {
				return nil, fmt.Errorf("%s: per-sample IV size 0 needs an 8- or 16-byte constant IV, tenc has %d bytes",
					ep.SchemeType, len(ep.ConstantIV))
			}
		case 8, 16:
		default:
			return nil, fmt.Errorf("%s: per-sample IV size %d is not 0, 8 or 16", ep.SchemeType, ep.IVSize)
		}
	}
	return ep, nil
}

// piffAlgorithm returns the default_AlgorithmID of a PIFF uuid tenc in schi (0 when absent).
func piffAlgorithm(schi *mp4.SchiBox) uint32 {
	for _, c := range schi.Children {
		if u, ok := c.(*mp4.UUIDBox); ok && u.PiffTenc != nil {
			return u.PiffTenc.AlgorithmID
		}
	}
	if schi.Tenc != nil && schi.Tenc.DefaultIsProtected != 0 {
		return 1
	}
	return 0
}

// SampleEntrySinf returns the protection scheme information (sinf) of a visual or audio sample
// entry, or nil when the entry is clear or of another kind.
func SampleEntrySinf(entry mp4.Box) *mp4.SinfBox {
	switch se := entry.(type) {
	case *mp4.VisualSampleEntryBox:
		return se.Sinf
	case *mp4.AudioSampleEntryBox:
		return se.Sinf
	}
	return nil
}
