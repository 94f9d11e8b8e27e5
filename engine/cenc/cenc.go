// Package cenc applies Common Encryption (ISO/IEC 23001-7) to CMAF tracks through mp4ff: the
// IV policy (cenc: a random 8-byte IV per fragment, incremented per sample as CTR mode
// requires; cbcs: one random 16-byte constant IV per track with the 1:9 video pattern and
// whole-block audio), and decryption with keys looked up by KID for the checker.
package cenc

import (
	"crypto/rand"
	"fmt"

	"github.com/Eyevinn/mp4ff/mp4"

	"satchel/engine/drm"
	"satchel/internal/mp4safe"
)

// Protector encrypts the fragments of one track.
type Protector struct {
	Scheme drm.Scheme
	Key    drm.ContentKey
	ipd    *mp4.InitProtectData
	iv     []byte // cbcs constant IV
}

// ProtectInit turns the single-track init segment into a protected one (encv/enca with
// sinf/frma/schm/tenc and the given pssh boxes) and returns the track's Protector.
func ProtectInit(init *mp4.InitSegment, key drm.ContentKey, scheme drm.Scheme, psshs []*mp4.PsshBox) (*Protector, error) {
	var iv []byte
	switch scheme {
	case drm.SchemeCENC:
		iv = make([]byte, 8) // tenc per-sample IV size 8, as CMAF requires for cenc
	case drm.SchemeCBCS:
		iv = make([]byte, 16)
		if _, err := rand.Read(iv); err != nil {
			return nil, fmt.Errorf("generate constant IV: %w", err)
		}
	default:
		return nil, fmt.Errorf("encryption scheme %q: use cenc or cbcs", scheme)
	}
	ipd, err := mp4.InitProtect(init, key.Key[:], iv, string(scheme), mp4.UUID(key.KID[:]), psshs)
	if err != nil {
		return nil, fmt.Errorf("protect init (%s, KID %s): %w", scheme, key.KID, err)
	}
	return &Protector{Scheme: scheme, Key: key, ipd: ipd, iv: iv}, nil
}

// EncryptFragment encrypts one single-track fragment in place. Each fragment starts a new
// decode sequence (CMAF fragments start with a sync sample); cenc fragments get a fresh random
// 8-byte IV so that IVs never repeat under one key across fragments, renditions or runs.
func (p *Protector) EncryptFragment(f *mp4.Fragment) error {
	iv := p.iv
	if p.Scheme == drm.SchemeCENC {
		iv = make([]byte, 8)
		if _, err := rand.Read(iv); err != nil {
			return fmt.Errorf("generate IV: %w", err)
		}
	}
	enc, err := p.ipd.NewFragmentEncryptor(p.Key.Key[:], iv)
	if err != nil {
		return fmt.Errorf("encrypt fragment: %w", err)
	}
	if err := enc.EncryptFragment(f); err != nil {
		return fmt.Errorf("encrypt fragment (%s, KID %s): %w", p.Scheme, p.Key.KID, err)
	}
	return addEmptyAuxInfo(f)
}

// addEmptyAuxInfo gives an encrypted fragment whose samples carry no auxiliary information —
// cbcs full-sample encryption with the constant IV, as for audio — its senc, saiz and saio
// boxes anyway: a senc with the sample count and no per-sample data, a saiz of zero-size
// entries and a saio pointing where the data would be. mp4ff omits them (CMAF allows it),
// but Bento4's mp4decrypt and the players built on it (Kodi's inputstream.adaptive) then
// pass the audio through still encrypted (Bento4 #944); Shaka Packager writes the senc.
func addEmptyAuxInfo(f *mp4.Fragment) error {
	traf := f.Moof.Traf
	if ok, _ := traf.ContainsSencBox(); ok {
		return nil
	}
	var n uint32
	for _, tr := range traf.Truns {
		n += tr.SampleCount()
	}
	saiz := &mp4.SaizBox{SampleCount: n, SampleInfo: make([]byte, n)} // default size 0: one (zero) size per sample
	saio := mp4.NewSaioBox()
	senc := mp4.NewSencBox(0, 0)
	for i := uint32(0); i < n; i++ {
		if err := senc.AddSample(mp4.SencSample{}); err != nil {
			return fmt.Errorf("senc: %w", err)
		}
	}
	for _, b := range []mp4.Box{saiz, saio, senc} {
		if err := traf.AddChild(b); err != nil {
			return fmt.Errorf("add %s: %w", b.Type(), err)
		}
	}
	// saio counts from the start of the moof (default-base-is-moof): find the senc payload.
	offset := uint64(8)
	for _, c := range f.Moof.Children {
		if c != traf {
			offset += c.Size()
			continue
		}
		offset += 8
		for _, tc := range traf.Children {
			if tc == senc {
				saio.SetOffset(int64(offset + 16)) // header 8, version+flags 4, sample_count 4
				return nil
			}
			offset += tc.Size()
		}
	}
	return fmt.Errorf("senc box not found in its own fragment")
}

// KeyMap returns keys indexed the way mp4ff's decryption expects (KID as 32 lowercase hex).
func KeyMap(keys []drm.ContentKey) map[string][]byte {
	m := make(map[string][]byte, len(keys))
	for _, k := range keys {
		m[k.KID.Hex()] = append([]byte(nil), k.Key[:]...)
	}
	return m
}

// TrackKID returns the default KID of a protected track in an init segment.
func TrackKID(init *mp4.InitSegment, trackID uint32) (drm.KID, string, bool) {
	for _, trak := range init.Moov.Traks {
		if trak.Tkhd.TrackID != trackID {
			continue
		}
		stsd := trak.Mdia.Minf.Stbl.Stsd
		for _, c := range stsd.Children {
			sinf := SampleEntrySinf(c)
			if sinf != nil && sinf.Schi != nil && sinf.Schi.Tenc != nil && len(sinf.Schi.Tenc.DefaultKID) == 16 {
				scheme := ""
				if sinf.Schm != nil {
					scheme = sinf.Schm.SchemeType
				}
				return drm.KID(sinf.Schi.Tenc.DefaultKID), scheme, true
			}
		}
	}
	return drm.KID{}, "", false
}

// DecryptSegment decrypts every fragment of seg in place with the key for the track's KID.
// di comes from mp4.DecryptInit on the segment's init. A missing key is an error naming the
// KID.
func DecryptSegment(seg *mp4.MediaSegment, di mp4.DecryptInfo, keys []drm.ContentKey) error {
	for _, f := range seg.Fragments {
		if err := DecryptFragment(f, di, keys); err != nil {
			return err
		}
	}
	return nil
}

// DecryptFragment decrypts one fragment in place. A missing key is a *MissingKeyError;
// malformed encryption data is an error (through mp4safe), never a panic.
func DecryptFragment(f *mp4.Fragment, di mp4.DecryptInfo, keys []drm.ContentKey) error {
	for _, traf := range f.Moof.Trafs {
		for _, ti := range di.TrackInfos {
			if ti.TrackID != traf.Tfhd.TrackID || ti.Sinf == nil || ti.Sinf.Schi == nil || ti.Sinf.Schi.Tenc == nil {
				continue
			}
			kid := drm.KID(ti.Sinf.Schi.Tenc.DefaultKID)
			if _, ok := drm.KeyByKID(keys, kid); !ok {
				return &MissingKeyError{KID: kid}
			}
		}
	}
	if len(f.Moof.Trafs) == 1 && IsClear(f.Moof.Traf) {
		return nil // clear lead: nothing to decrypt
	}
	err := mp4safe.Do(func() error { return mp4.DecryptFragmentWithKeys(f, di, nil, KeyMap(keys), true) })
	if err != nil {
		return fmt.Errorf("decrypt fragment: %w", err)
	}
	return nil
}

// MissingKeyError says that no key was given for a KID used by the content.
type MissingKeyError struct{ KID drm.KID }

func (e *MissingKeyError) Error() string {
	return fmt.Sprintf("no key for KID %s", e.KID)
}

// MarkClear signals a fragment left unencrypted inside a protected track (a clear lead): a
// fragment-local 'seig' sample group (ISO/IEC 23001-7 §6) with isProtected = 0 covering all
// its samples, so players decode it without a key while the track stays encv/enca.
func MarkClear(f *mp4.Fragment) error {
	traf := f.Moof.Traf
	var n uint32
	for _, tr := range traf.Truns {
		n += tr.SampleCount()
	}
	sbgp := &mp4.SbgpBox{GroupingType: "seig", SampleCounts: []uint32{n}, GroupDescriptionIndices: []uint32{65537}}
	sgpd := &mp4.SgpdBox{Version: 1, GroupingType: "seig", DefaultLength: 20,
		SampleGroupEntries: []mp4.SampleGroupEntry{&mp4.SeigSampleGroupEntry{IsProtected: 0, PerSampleIVSize: 0, KID: make(mp4.UUID, 16)}}}
	if err := traf.AddChild(sbgp); err != nil {
		return err
	}
	return traf.AddChild(sgpd)
}

// IsClear reports whether every sample of the track's fragment is marked unprotected by a
// 'seig' sample group (a clear lead).
func IsClear(traf *mp4.TrafBox) bool {
	if traf.Sbgp == nil || traf.Sgpd == nil || traf.Sbgp.GroupingType != "seig" || traf.Sgpd.GroupingType != "seig" {
		return false
	}
	for i, idx := range traf.Sbgp.GroupDescriptionIndices {
		if idx == 0 {
			continue // not in a group: the track default (protected) applies
		}
		if idx < 65537 || int(idx-65537) >= len(traf.Sgpd.SampleGroupEntries) {
			return false
		}
		seig, ok := traf.Sgpd.SampleGroupEntries[idx-65537].(*mp4.SeigSampleGroupEntry)
		if !ok || seig.IsProtected != 0 || traf.Sbgp.SampleCounts[i] == 0 {
			return false
		}
	}
	return len(traf.Sbgp.GroupDescriptionIndices) > 0
}
