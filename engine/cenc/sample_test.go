package cenc

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"github.com/Eyevinn/mp4ff/mp4"

	"satchel/engine/drm"
	"satchel/internal/mp4safe"
)

// katVector is one encrypted sample with its clear original. testdata/shaka_kat.json was
// extracted from Shaka Packager v3.4.2 output (npm shaka-packager; --protection_scheme
// cenc|cbcs|cens|cbc1 --clear_lead 0, raw key 00112233445566778899aabbccddeeff) of
// testdata/media/ladder_240p.mp4: the 4th video sample and the 6th AAC frame of the first
// segment, with their IV, pattern and subsample map, and the same samples from the source.
type katVector struct {
	Scheme     string   `json:"scheme"`
	Track      string   `json:"track"`
	Sample     int      `json:"sample"`
	Key        string   `json:"key"`
	IV         string   `json:"iv"`
	Crypt      int      `json:"crypt"`
	Skip       int      `json:"skip"`
	Subsamples [][2]int `json:"subsamples"`
	Cipher     string   `json:"ciphertext"`
	Plain      string   `json:"plaintext"`
}

func loadKAT(t *testing.T) []katVector {
	t.Helper()
	b, err := os.ReadFile("testdata/shaka_kat.json")
	if err != nil {
		t.Fatal(err)
	}
	var vs []katVector
	if err := json.Unmarshal(b, &vs); err != nil {
		t.Fatal(err)
	}
	return vs
}

func (v katVector) crypto(t *testing.T) (*SampleCrypto, [16]byte, []byte, []byte) {
	t.Helper()
	sc := &SampleCrypto{Protected: true, Scheme: drm.Scheme(v.Scheme), Crypt: v.Crypt, Skip: v.Skip}
	iv, _ := hex.DecodeString(v.IV)
	copy(sc.IV[:], iv)
	for _, s := range v.Subsamples {
		sc.Subsamples = append(sc.Subsamples, mp4.SubSamplePattern{BytesOfClearData: uint16(s[0]), BytesOfProtectedData: uint32(s[1])})
	}
	var key [16]byte
	k, _ := hex.DecodeString(v.Key)
	copy(key[:], k)
	ct, _ := hex.DecodeString(v.Cipher)
	pt, _ := hex.DecodeString(v.Plain)
	return sc, key, ct, pt
}

func TestDecryptSampleKnownAnswers(t *testing.T) {
	for _, v := range loadKAT(t) {
		t.Run(v.Scheme+"/"+v.Track, func(t *testing.T) {
			sc, key, ct, pt := v.crypto(t)
			if bytes.Equal(ct, pt) {
				t.Fatal("vector is not encrypted")
			}
			if err := DecryptSample(sc, key, ct); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(ct, pt) {
				t.Fatalf("%s %s sample %d: decryption differs from the source", v.Scheme, v.Track, v.Sample)
			}
		})
	}
}

func TestDecryptSampleWrongKeyDiffers(t *testing.T) {
	for _, v := range loadKAT(t) {
		sc, key, ct, pt := v.crypto(t)
		key[0] ^= 1
		if err := DecryptSample(sc, key, ct); err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(ct, pt) {
			t.Fatalf("%s %s: a wrong key gave the clear sample", v.Scheme, v.Track)
		}
	}
}

func TestDecryptSampleRejectsBadSubsamples(t *testing.T) {
	sc := &SampleCrypto{Protected: true, Scheme: drm.SchemeCENC,
		Subsamples: []mp4.SubSamplePattern{{BytesOfClearData: 10, BytesOfProtectedData: 100}}}
	if err := DecryptSample(sc, [16]byte{}, make([]byte, 50)); err == nil {
		t.Fatal("subsamples longer than the sample accepted")
	}
	if err := DecryptSample(&SampleCrypto{}, [16]byte{}, make([]byte, 5)); err != nil {
		t.Fatalf("clear sample: %v", err)
	}
}

// fragmentWith builds a one-track traf of n samples with the given children.
func fragmentWith(n int, children ...mp4.Box) *mp4.TrafBox {
	traf := &mp4.TrafBox{}
	tfhd := mp4.CreateTfhd(1)
	_ = traf.AddChild(tfhd)
	trun := mp4.CreateTrun(0)
	for i := 0; i < n; i++ {
		trun.AddSample(mp4.NewSample(0, 1024, 10, 0))
	}
	_ = traf.AddChild(trun)
	for _, c := range children {
		_ = traf.AddChild(c)
	}
	return traf
}

func protectedTrack() *TrackProtection {
	return &TrackProtection{TrackID: 1, Entries: []*EntryProtection{
		{Scheme: drm.SchemeCBCS, IsProtected: true, IVSize: 0, ConstantIV: make([]byte, 16), Crypt: 1, Skip: 9},
		nil, // a clear second description (Shaka Packager's clear lead)
	}}
}

func TestInspectFragmentClearLeadForms(t *testing.T) {
	tp := protectedTrack()
	t.Run("clear sample description", func(t *testing.T) {
		traf := fragmentWith(3)
		traf.Tfhd.Flags |= mp4.TfhdSampleDescriptionIndexPresentFlag
		traf.Tfhd.SampleDescriptionIndex = 2
		fi, err := InspectFragment(tp, nil, traf, 3)
		if err != nil || !fi.ClearDescription || fi.ClearSamples != 3 {
			t.Fatalf("%+v %v", fi, err)
		}
	})
	t.Run("seig group", func(t *testing.T) {
		sbgp := &mp4.SbgpBox{GroupingType: "seig", SampleCounts: []uint32{2, 1}, GroupDescriptionIndices: []uint32{65537, 0}}
		sgpd := &mp4.SgpdBox{Version: 1, GroupingType: "seig", DefaultLength: 20,
			SampleGroupEntries: []mp4.SampleGroupEntry{&mp4.SeigSampleGroupEntry{IsProtected: 0, KID: make(mp4.UUID, 16)}}}
		fi, err := InspectFragment(tp, nil, fragmentWith(3, sbgp, sgpd), 3)
		if err != nil || !fi.SeigGroups || fi.ClearSamples != 2 || fi.Samples[0].Protected || !fi.Samples[2].Protected {
			t.Fatalf("%+v %v", fi, err)
		}
	})
	t.Run("constant IV without senc", func(t *testing.T) {
		fi, err := InspectFragment(tp, nil, fragmentWith(2), 2)
		if err != nil || fi.Senc != "" || !fi.Samples[1].Protected {
			t.Fatalf("%+v %v", fi, err)
		}
	})
	t.Run("no senc at all: a clear fragment", func(t *testing.T) {
		tp := &TrackProtection{Entries: []*EntryProtection{{Scheme: drm.SchemeCENC, IsProtected: true, IVSize: 8}}}
		fi, err := InspectFragment(tp, nil, fragmentWith(2), 2)
		if err != nil || !fi.NoSencClear || fi.ClearSamples != 2 {
			t.Fatalf("%+v %v", fi, err)
		}
	})
	t.Run("saiz without senc", func(t *testing.T) {
		tp := &TrackProtection{Entries: []*EntryProtection{{Scheme: drm.SchemeCENC, IsProtected: true, IVSize: 8}}}
		if _, err := InspectFragment(tp, nil, fragmentWith(2, &mp4.SaizBox{DefaultSampleInfoSize: 8, SampleCount: 2}), 2); err != ErrNoSampleEncryption {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("bad description index", func(t *testing.T) {
		traf := fragmentWith(1)
		traf.Tfhd.Flags |= mp4.TfhdSampleDescriptionIndexPresentFlag
		traf.Tfhd.SampleDescriptionIndex = 7
		if _, err := InspectFragment(tp, nil, traf, 1); err == nil {
			t.Fatal("index 7 of 2 accepted")
		}
	})
}

// FuzzInspectFragment parses arbitrary senc payloads (with every IV size) and decrypts with
// the result: errors are fine, panics are not.
func FuzzInspectFragment(f *testing.F) {
	f.Add(byte(2), byte(8), []byte{0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0, 4, 0, 0, 0, 6, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0})
	f.Add(byte(1), byte(16), []byte{0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	f.Fuzz(func(t *testing.T, n, ivSize byte, payload []byte) {
		box := append([]byte{0, 0, 0, 0, 's', 'e', 'n', 'c'}, payload...)
		binary.BigEndian.PutUint32(box, uint32(len(box)))
		b, err := mp4safe.DecodeBox(box)
		if err != nil {
			return
		}
		senc, ok := b.(*mp4.SencBox)
		if !ok {
			return
		}
		tp := &TrackProtection{Entries: []*EntryProtection{{Scheme: drm.SchemeCENC, IsProtected: true, IVSize: int(ivSize % 17)}}}
		traf := fragmentWith(int(n%8), senc)
		fi, err := InspectFragment(tp, nil, traf, int(n%8))
		if err != nil {
			return
		}
		for i := range fi.Samples {
			_ = DecryptSample(&fi.Samples[i], [16]byte{}, make([]byte, 10))
		}
	})
}
