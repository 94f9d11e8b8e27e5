package cenc

import (
	"bytes"
	"testing"

	"github.com/Eyevinn/mp4ff/mp4"

	"satchel/engine/drm"
	"satchel/internal/mp4safe"
)

// TestPIFFBoxesRoundTrip adds the PIFF boxes to a protected init segment, encodes and decodes
// it, and reads them back: the PIFF track encryption box matches tenc, the PIFF pssh boxes
// carry the PlayReady and Widevine data (the v1 common pssh has no PIFF form).
func TestPIFFBoxesRoundTrip(t *testing.T) {
	init := mp4.CreateEmptyInit()
	init.AddEmptyTrack(48000, "audio", "en")
	if err := init.Moov.Trak.SetAACDescriptor(0x02, 48000); err != nil {
		t.Fatal(err)
	}
	key := drm.ContentKey{TrackType: drm.TrackAll, KID: drm.KID{1, 2, 3}, Key: [16]byte{4}}
	sig := drm.Signalling{Scheme: drm.SchemeCENC, Keys: []drm.ContentKey{key}, Systems: drm.AllSystems}
	psshs, err := drm.PSSHBoxes(sig)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ProtectInit(init, key, drm.SchemeCENC, psshs); err != nil {
		t.Fatal(err)
	}
	if err := AddPIFFInit(init, psshs); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := init.Encode(&b); err != nil {
		t.Fatal(err)
	}
	f, err := mp4.DecodeFile(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var systems []drm.System
	for _, c := range f.Init.Moov.Children {
		if u, ok := c.(*mp4.UUIDBox); ok {
			p, ok := PIFFPssh(u)
			if !ok {
				t.Fatalf("uuid %s is not a PIFF pssh", u.UUID())
			}
			sys, _ := drm.SystemForID(p.SystemID)
			systems = append(systems, sys)
		}
	}
	if len(systems) != 2 || systems[0] != drm.Widevine || systems[1] != drm.PlayReady {
		t.Errorf("PIFF pssh systems %v, want Widevine and PlayReady", systems)
	}
	sinf := f.Init.Moov.Trak.Mdia.Minf.Stbl.Stsd.Children[0].(*mp4.AudioSampleEntryBox).Sinf
	var piff *mp4.PiffTencData
	for _, c := range sinf.Schi.Children {
		if u, ok := c.(*mp4.UUIDBox); ok {
			piff = u.PiffTenc
		}
	}
	if piff == nil || piff.AlgorithmID != 1 || piff.IVSize != 8 || drm.KID(piff.KID) != key.KID {
		t.Fatalf("PIFF tenc %+v", piff)
	}
}

// FuzzPIFFPssh feeds arbitrary uuid box payloads to PIFFPssh: it must never panic, and what it
// accepts must describe exactly the bytes given.
func FuzzPIFFPssh(f *testing.F) {
	f.Add(append(append(make([]byte, 4), drm.PlayReady.SystemID()...), 0, 0, 0, 2, 'h', 'i'))
	f.Add([]byte{0, 0, 0})
	f.Fuzz(func(t *testing.T, payload []byte) {
		raw := append([]byte{0, 0, 0, 0, 'u', 'u', 'i', 'd'}, mustUUID(PIFFPsshUUID)...)
		raw = append(raw, payload...)
		size := len(raw)
		raw[0], raw[1], raw[2], raw[3] = byte(size>>24), byte(size>>16), byte(size>>8), byte(size)
		box, err := mp4safe.DecodeBox(raw)
		if err != nil {
			return
		}
		u, ok := box.(*mp4.UUIDBox)
		if !ok {
			return
		}
		if p, ok := PIFFPssh(u); ok && 24+len(p.Data) != len(payload) {
			t.Fatalf("accepted %d data bytes from a %d-byte payload", len(p.Data), len(payload))
		}
	})
}

func mustUUID(s string) []byte {
	u, err := mp4.NewUUIDFromString(s)
	if err != nil {
		panic(err)
	}
	return u
}
