package cenc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/Eyevinn/mp4ff/bits"
	"github.com/Eyevinn/mp4ff/mp4"

	"satchel/engine/drm"
)

// FragmentInfo says how the samples of one track fragment are protected, and which form of
// clear lead or auxiliary information the packager used.
type FragmentInfo struct {
	Samples []SampleCrypto
	// DescriptionIndex is the 1-based stsd entry the fragment uses.
	DescriptionIndex int
	// ClearDescription is set when that entry is in the clear (a clear lead signalled by an
	// unencrypted sample description, as Shaka Packager writes).
	ClearDescription bool
	// ClearSamples counts samples marked unprotected (by the description or a 'seig' group).
	ClearSamples int
	// SeigGroups is set when a 'seig' sample group applies to some samples.
	SeigGroups bool
	// Senc is where the sample encryption data was found: "senc", "uuid-senc" (PIFF) or "".
	Senc string
	// SaizZeroCount is set when saiz lists no samples although the fragment has protected
	// samples (Bento4 writes this for constant-IV cbcs); the senc box then carries the data.
	SaizZeroCount bool
	// NoSencClear is set when a fragment of a protected description that needs per-sample IVs
	// carries no senc, saiz or saio at all: some packagers leave clear-lead fragments so. Its
	// samples are taken as clear; only decoding them can confirm it.
	NoSencClear bool
}

// ErrNoSampleEncryption says that a fragment with protected samples that need per-sample IVs
// carries no senc box although saiz/saio say it has auxiliary information (stored elsewhere,
// which is not supported).
var ErrNoSampleEncryption = errors.New("no senc box: the per-sample IVs are not in the fragment's senc")

// InspectFragment resolves the protection of each of the n samples of traf (n from its truns)
// from the track's sample descriptions, 'seig' groups and the senc box.
func InspectFragment(tp *TrackProtection, trex *mp4.TrexBox, traf *mp4.TrafBox, n int) (*FragmentInfo, error) {
	fi := &FragmentInfo{Samples: make([]SampleCrypto, n), DescriptionIndex: 1}
	if trex != nil && trex.DefaultSampleDescriptionIndex > 0 {
		fi.DescriptionIndex = int(trex.DefaultSampleDescriptionIndex)
	}
	if traf.Tfhd != nil && traf.Tfhd.HasSampleDescriptionIndex() {
		fi.DescriptionIndex = int(traf.Tfhd.SampleDescriptionIndex)
	}
	if fi.DescriptionIndex < 1 || fi.DescriptionIndex > len(tp.Entries) {
		return nil, fmt.Errorf("sample description index %d, but stsd has %d entries", fi.DescriptionIndex, len(tp.Entries))
	}
	ep := tp.Entries[fi.DescriptionIndex-1]
	if ep == nil {
		fi.ClearDescription = true
		fi.ClearSamples = n
		return fi, nil
	}
	groups, err := sampleGroups(tp, traf, n)
	if err != nil {
		return nil, err
	}
	ivSizes := make([]int, n)
	for i := range fi.Samples {
		sc := &fi.Samples[i]
		sc.Scheme, sc.KID, sc.Protected, sc.Crypt, sc.Skip = ep.Scheme, ep.KID, ep.IsProtected, ep.Crypt, ep.Skip
		ivSizes[i] = ep.IVSize
		constIV := ep.ConstantIV
		if g := groups[i]; g != nil {
			fi.SeigGroups = true
			sc.Protected = g.IsProtected != 0
			sc.Crypt, sc.Skip = int(g.CryptByteBlock), int(g.SkipByteBlock)
			ivSizes[i] = int(g.PerSampleIVSize)
			constIV = g.ConstantIV
			if len(g.KID) == 16 {
				copy(sc.KID[:], g.KID)
			}
		}
		if !sc.Protected {
			ivSizes[i] = 0
			fi.ClearSamples++
			continue
		}
		if ivSizes[i] == 0 {
			copy(sc.IV[:], constIV)
		}
	}
	if err := fi.readSenc(traf, ivSizes, n); err != nil {
		return nil, err
	}
	if traf.Saiz != nil && traf.Saiz.SampleCount == 0 && fi.ClearSamples < n {
		fi.SaizZeroCount = true
	}
	return fi, nil
}

// sampleGroups returns the 'seig' group entry of each sample (nil: the track default).
func sampleGroups(tp *TrackProtection, traf *mp4.TrafBox, n int) ([]*mp4.SeigSampleGroupEntry, error) {
	out := make([]*mp4.SeigSampleGroupEntry, n)
	var sbgp *mp4.SbgpBox
	var local []*mp4.SeigSampleGroupEntry
	for _, c := range traf.Children {
		switch b := c.(type) {
		case *mp4.SbgpBox:
			if b.GroupingType == "seig" {
				sbgp = b
			}
		case *mp4.SgpdBox:
			if b.GroupingType == "seig" {
				for _, e := range b.SampleGroupEntries {
					seig, _ := e.(*mp4.SeigSampleGroupEntry)
					local = append(local, seig)
				}
			}
		}
	}
	if sbgp == nil {
		return out, nil
	}
	i := 0
	for j, idx := range sbgp.GroupDescriptionIndices {
		var g *mp4.SeigSampleGroupEntry
		switch {
		case idx == 0:
		case idx > 0x10000 && int(idx-0x10000) <= len(local):
			g = local[idx-0x10001]
		case idx <= 0x10000 && int(idx) <= len(tp.Groups):
			g = tp.Groups[idx-1]
		default:
			return nil, fmt.Errorf("sbgp 'seig' refers to group description %d, which does not exist", idx)
		}
		if idx != 0 && g == nil {
			return nil, fmt.Errorf("sgpd 'seig' entry %d does not decode", idx)
		}
		for k := uint32(0); k < sbgp.SampleCounts[j] && i < n; k++ {
			out[i] = g
			i++
		}
	}
	return out, nil
}

// readSenc fills the IVs and subsample maps of the protected samples from senc (or a PIFF
// uuid senc), parsing it with each sample's own IV size.
func (fi *FragmentInfo) readSenc(traf *mp4.TrafBox, ivSizes []int, n int) error {
	needed := false
	for i := range fi.Samples {
		if fi.Samples[i].Protected && ivSizes[i] > 0 {
			needed = true
		}
	}
	var senc *mp4.SencBox
	switch {
	case traf.Senc != nil:
		senc, fi.Senc = traf.Senc, "senc"
	case traf.UUIDSenc != nil && traf.UUIDSenc.Senc != nil:
		senc, fi.Senc = traf.UUIDSenc.Senc, "uuid-senc"
	}
	if senc == nil {
		if !needed {
			return nil
		}
		if traf.Saiz != nil || traf.Saio != nil {
			return ErrNoSampleEncryption // the data is elsewhere (saio into the mdat): not supported
		}
		fi.NoSencClear = true
		for i := range fi.Samples {
			if fi.Samples[i].Protected {
				fi.Samples[i].Protected = false
				fi.ClearSamples++
			}
		}
		return nil
	}
	if uint64(senc.SampleCount) != uint64(n) {
		// Checked first: re-encoding a senc that claims millions of samples would loop over them.
		return fmt.Errorf("senc lists %d samples, trun has %d", senc.SampleCount, n)
	}
	raw, err := sencPayload(senc)
	if err != nil {
		return err
	}
	return fi.parseSenc(raw, ivSizes, n)
}

// sencPayload returns the senc payload after version, flags and sample_count. mp4ff keeps the
// raw bytes until told the IV size, and a successful earlier parse consumed exactly those
// bytes, so encoding it again gives them back either way.
func sencPayload(senc *mp4.SencBox) ([]byte, error) {
	sw := bits.NewFixedSliceWriter(int(senc.Size()) + 64)
	if err := senc.EncodeSWNoHdr(sw); err != nil {
		return nil, fmt.Errorf("read senc: %w", err)
	}
	b := sw.Bytes()
	if len(b) < 8 {
		return nil, fmt.Errorf("senc is truncated")
	}
	return b, nil
}

func (fi *FragmentInfo) parseSenc(raw []byte, ivSizes []int, n int) error {
	flags := binary.BigEndian.Uint32(raw) & 0xffffff
	count := int(binary.BigEndian.Uint32(raw[4:]))
	if count != n {
		return fmt.Errorf("senc lists %d samples, trun has %d", count, n)
	}
	r := bytes.NewReader(raw[8:])
	for i := 0; i < n; i++ {
		sc := &fi.Samples[i]
		if ivSizes[i] > 0 {
			iv := make([]byte, ivSizes[i])
			if _, err := r.Read(iv); err != nil || len(iv) != ivSizes[i] {
				return fmt.Errorf("senc ends inside the IV of sample %d", i+1)
			}
			copy(sc.IV[:], iv)
		}
		if flags&0x2 == 0 {
			continue
		}
		var cnt uint16
		if err := binary.Read(r, binary.BigEndian, &cnt); err != nil {
			return fmt.Errorf("senc ends before the subsample count of sample %d", i+1)
		}
		if r.Len() < 6*int(cnt) {
			return fmt.Errorf("senc ends inside the %d subsamples of sample %d", cnt, i+1)
		}
		subs := make([]mp4.SubSamplePattern, cnt)
		for j := range subs {
			var e [6]byte
			_, _ = r.Read(e[:])
			subs[j] = mp4.SubSamplePattern{BytesOfClearData: binary.BigEndian.Uint16(e[:]), BytesOfProtectedData: binary.BigEndian.Uint32(e[2:])}
		}
		if sc.Protected {
			sc.Subsamples = subs
		}
	}
	if r.Len() != 0 {
		return fmt.Errorf("senc has %d bytes left after %d samples: its IV size does not match tenc/seig", r.Len(), n)
	}
	return nil
}

// KeyFor returns the key for kid among keys, or a *MissingKeyError.
func KeyFor(keys []drm.ContentKey, kid drm.KID) ([16]byte, error) {
	k, ok := drm.KeyByKID(keys, kid)
	if !ok {
		return [16]byte{}, &MissingKeyError{KID: kid}
	}
	return k.Key, nil
}
