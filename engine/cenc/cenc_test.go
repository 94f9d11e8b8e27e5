package cenc

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/Eyevinn/mp4ff/mp4"

	"satchel/engine/drm"
)

func TestProtectInitSchemesAndErrors(t *testing.T) {
	key, _ := drm.RandomContentKey(drm.TrackSD)
	for _, scheme := range []string{"cenc", "cbcs"} {
		init := mp4.CreateEmptyInit()
		trak := init.AddEmptyTrack(48000, "audio", "und")
		trak.Mdia.Minf.Stbl.Stsd.AddChild(mp4.CreateAudioSampleEntryBox("mp4a", 2, 16, 48000, mp4.CreateEsdsBox([]byte{0x11, 0x90})))
		p, err := ProtectInit(init, key, drm.Scheme(scheme), []*mp4.PsshBox{drm.CommonPSSH([]drm.KID{key.KID})})
		if err != nil {
			t.Fatalf("%s: %v", scheme, err)
		}
		kid, got, ok := TrackKID(init, 1)
		if !ok || kid != key.KID || got != scheme || p.Scheme != drm.Scheme(scheme) {
			t.Fatalf("%s: TrackKID = %s %s %v", scheme, kid, got, ok)
		}
	}
	init := mp4.CreateEmptyInit()
	init.AddEmptyTrack(48000, "audio", "und").Mdia.Minf.Stbl.Stsd.AddChild(mp4.CreateAudioSampleEntryBox("mp4a", 2, 16, 48000, mp4.CreateEsdsBox([]byte{0x11, 0x90})))
	if _, err := ProtectInit(init, key, "cens", nil); err == nil || !strings.Contains(err.Error(), "cenc or cbcs") {
		t.Fatalf("unsupported scheme: %v", err)
	}
	m := KeyMap([]drm.ContentKey{key})
	if string(m[key.KID.Hex()]) != string(key.Key[:]) {
		t.Fatal("KeyMap is not indexed by KID hex")
	}
	if (&MissingKeyError{KID: key.KID}).Error() == "" || !strings.Contains((&MissingKeyError{KID: key.KID}).Error(), key.KID.String()) {
		t.Fatal("MissingKeyError does not name the KID")
	}
}

// TestCBCSAudioCarriesAuxInfo checks that cbcs audio fragments (constant IV, no subsamples:
// no auxiliary data) still carry senc, saiz and saio, and that saio points into the senc.
func TestCBCSAudioCarriesAuxInfo(t *testing.T) {
	key, _ := drm.RandomContentKey(drm.TrackAudio)
	for _, scheme := range []drm.Scheme{drm.SchemeCBCS, drm.SchemeCENC} {
		init := mp4.CreateEmptyInit()
		init.AddEmptyTrack(48000, "audio", "und").Mdia.Minf.Stbl.Stsd.AddChild(
			mp4.CreateAudioSampleEntryBox("mp4a", 2, 16, 48000, mp4.CreateEsdsBox([]byte{0x11, 0x90})))
		p, err := ProtectInit(init, key, scheme, nil)
		if err != nil {
			t.Fatal(err)
		}
		frag, _ := mp4.CreateFragment(1, 1)
		data := make([]byte, 0, 3*100)
		for i := 0; i < 3; i++ {
			frag.AddSample(mp4.Sample{Flags: mp4.SyncSampleFlags, Dur: 1024, Size: 100}, 0)
			data = append(data, make([]byte, 100)...)
		}
		frag.Mdat.SetData(data)
		if err := p.EncryptFragment(frag); err != nil {
			t.Fatal(err)
		}
		traf := frag.Moof.Traf
		if traf.Saiz == nil || traf.Saio == nil || traf.Senc == nil || traf.Senc.SampleCount != 3 || traf.Saiz.SampleCount != 3 {
			t.Fatalf("%s: saiz %v saio %v senc %v", scheme, traf.Saiz, traf.Saio, traf.Senc)
		}
		var buf bytes.Buffer
		if err := frag.Encode(&buf); err != nil {
			t.Fatal(err)
		}
		// saio's offset (from the moof start) lands just after senc's sample count.
		b := buf.Bytes()
		off := int(traf.Saio.Offset[0])
		if string(b[off-12:off-8]) != "senc" || binary.BigEndian.Uint32(b[off-4:]) != 3 {
			t.Fatalf("%s: saio offset %d does not point at the senc payload", scheme, off)
		}
		// And the fragment still decrypts (mp4ff reads the empty senc).
		back, err := mp4.DecodeFile(bytes.NewReader(append(encodeInit(t, init), b...)))
		if err != nil {
			t.Fatal(err)
		}
		di, err := mp4.DecryptInit(back.Init)
		if err != nil {
			t.Fatal(err)
		}
		if err := DecryptFragment(back.Segments[0].Fragments[0], di, []drm.ContentKey{key}); err != nil {
			t.Fatal(err)
		}
		fs, _ := back.Segments[0].Fragments[0].GetFullSamples(nil)
		if !bytes.Equal(fs[0].Data, make([]byte, 100)) {
			t.Fatalf("%s: decrypted sample differs", scheme)
		}
	}
}

func encodeInit(t *testing.T, init *mp4.InitSegment) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := init.Encode(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
