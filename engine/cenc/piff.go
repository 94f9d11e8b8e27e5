package cenc

import (
	"encoding/binary"
	"fmt"

	"github.com/Eyevinn/mp4ff/mp4"
)

// The PIFF 1.1 uuid box types (Protected Interoperable File Format 1.1, §5.3).
const (
	// PIFFTrackEncryptionUUID is the PIFF TrackEncryptionBox, in schi beside tenc.
	PIFFTrackEncryptionUUID = mp4.UUIDPiffTenc
	// PIFFSampleEncryptionUUID is the PIFF SampleEncryptionBox, in traf beside senc.
	PIFFSampleEncryptionUUID = mp4.UUIDPiffSenc
	// PIFFPsshUUID is the PIFF ProtectionSystemSpecificHeaderBox, in moov beside pssh.
	PIFFPsshUUID = "d08a4f18-10f3-4a82-b6c8-32d8aba183d3"
)

// piffAlgorithmCTR is the PIFF AlgorithmID of AES-128 CTR, the only one cenc maps to.
const piffAlgorithmCTR = 1

// AddPIFFInit makes a cenc init segment readable by PIFF 1.1 clients (older PlayReady clients,
// Smooth Streaming players) without changing what CENC clients read: beside the tenc of each
// protected track a PIFF TrackEncryptionBox with the same KID and IV size, and beside each
// version-0 pssh box with system data (PlayReady, Widevine) a PIFF pssh box with the same
// system ID and data (the PIFF box has no KID list, so a W3C common pssh has no PIFF form).
// The scheme stays cenc, which CENC clients require and PIFF 1.3 adopted.
func AddPIFFInit(init *mp4.InitSegment, psshs []*mp4.PsshBox) error {
	for _, trak := range init.Moov.Traks {
		for _, c := range trak.Mdia.Minf.Stbl.Stsd.Children {
			sinf := SampleEntrySinf(c)
			if sinf == nil || sinf.Schi == nil || sinf.Schi.Tenc == nil {
				continue
			}
			if sinf.Schm == nil || sinf.Schm.SchemeType != "cenc" {
				return fmt.Errorf("piff: track %d is not cenc-encrypted; PIFF 1.1 is AES-CTR only", trak.Tkhd.TrackID)
			}
			tenc := sinf.Schi.Tenc
			box := &mp4.UUIDBox{PiffTenc: &mp4.PiffTencData{AlgorithmID: piffAlgorithmCTR,
				IVSize: tenc.DefaultPerSampleIVSize, KID: tenc.DefaultKID}}
			if err := box.SetUUID(PIFFTrackEncryptionUUID); err != nil {
				return err
			}
			sinf.Schi.AddChild(box)
		}
	}
	for _, p := range psshs {
		if p.Version != 0 || len(p.Data) == 0 {
			continue
		}
		payload := make([]byte, 4, 4+16+4+len(p.Data)) // version 0, flags 0
		payload = append(payload, p.SystemID...)
		payload = binary.BigEndian.AppendUint32(payload, uint32(len(p.Data)))
		box := &mp4.UUIDBox{UnknownPayload: append(payload, p.Data...)}
		if err := box.SetUUID(PIFFPsshUUID); err != nil {
			return err
		}
		init.Moov.AddChild(box)
	}
	return nil
}

// AddPIFFFragment adds a PIFF SampleEncryptionBox after the senc of an encrypted fragment,
// holding the same IVs and subsample entries (flag 0x2 when subsamples are used, as in senc).
// Boxes after senc do not move the data saio points to; trun offsets are set when the
// fragment is encoded. A fragment without senc (a clear-lead fragment) is left as it is.
func AddPIFFFragment(f *mp4.Fragment) error {
	traf := f.Moof.Traf
	if traf.Senc == nil {
		return nil
	}
	box := &mp4.UUIDBox{Senc: traf.Senc}
	if err := box.SetUUID(PIFFSampleEncryptionUUID); err != nil {
		return err
	}
	if err := traf.AddChild(box); err != nil {
		return fmt.Errorf("piff: %w", err)
	}
	return nil
}

// PIFFPssh returns the pssh box a PIFF ProtectionSystemSpecificHeaderBox carries (as a
// version-0 pssh: PIFF has no KID list), or false when b is not a well-formed PIFF pssh box.
// The payload is untrusted: its DataSize must match the bytes present.
func PIFFPssh(b *mp4.UUIDBox) (*mp4.PsshBox, bool) {
	if b == nil || b.UUID() != PIFFPsshUUID {
		return nil, false
	}
	p := b.UnknownPayload
	if len(p) < 4+16+4 {
		return nil, false
	}
	n := binary.BigEndian.Uint32(p[20:24])
	if uint64(n) != uint64(len(p)-24) {
		return nil, false
	}
	return &mp4.PsshBox{Version: 0, SystemID: mp4.UUID(append([]byte(nil), p[4:20]...)),
		Data: append([]byte(nil), p[24:]...)}, true
}
