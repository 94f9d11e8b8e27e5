package drm

import (
	"bytes"
	"strings"
	"testing"
)

// TestKeyForAllTracks: one ALL key serves every track type; next to per-type keys it covers
// the types they leave out, and CPIX usage rules stay unambiguous and read back the same.
func TestKeyForAllTracks(t *testing.T) {
	all, err := ParseKeySpec("all=00112233445566778899aabbccddeeff:0123456789abcdef0123456789abcdef")
	if err != nil || all.TrackType != TrackAll {
		t.Fatalf("ParseKeySpec ALL: %+v %v", all, err)
	}
	hd := ContentKey{TrackType: TrackHD, KID: KID{1}, Key: [16]byte{2}}
	for _, c := range []struct {
		name  string
		keys  []ContentKey
		rules []string // intendedTrackType of the ALL key's rules
	}{
		{"alone", []ContentKey{all}, []string{`intendedTrackType="ALL"></ContentKeyUsageRule>`}},
		{"with HD", []ContentKey{hd, all}, []string{`intendedTrackType="ALL"><AudioFilter/>`,
			`intendedTrackType="ALL"><VideoFilter maxPixels="921599"/>`, `intendedTrackType="ALL"><VideoFilter minPixels="2088961"/>`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := CheckKeys(c.keys); err != nil {
				t.Fatal(err)
			}
			for _, tt := range TrackTypes {
				k, ok := KeyFor(c.keys, tt)
				want := all
				if tt == TrackHD && len(c.keys) > 1 {
					want = hd
				}
				if !ok || k != want {
					t.Errorf("KeyFor %s = %+v", tt, k)
				}
			}
			var b bytes.Buffer
			if err := WriteCPIX(&b, &CPIXDocument{ContentID: "title", Keys: c.keys}); err != nil {
				t.Fatal(err)
			}
			for _, r := range c.rules {
				if !strings.Contains(b.String(), `kid="`+all.KID.String()+`" `+r) {
					t.Errorf("CPIX lacks rule %s:\n%s", r, b.String())
				}
			}
			if len(c.keys) > 1 && strings.Contains(b.String(), `kid="`+all.KID.String()+`" intendedTrackType="ALL"><VideoFilter minPixels="921600"`) {
				t.Errorf("the ALL key's rules overlap the HD key's:\n%s", b.String())
			}
			doc, err := ReadCPIX(&b)
			if err != nil {
				t.Fatal(err)
			}
			if k, _ := KeyByKID(doc.Keys, all.KID); k.TrackType != TrackAll {
				t.Errorf("read back the ALL key as %q", k.TrackType)
			}
		})
	}
}

// TestInitDataListsEveryKey: with AllKeys, the Widevine PSSH (with content_id), the PlayReady
// header and the common PSSH of one track name every key, in the MPD's and HLS's signalling
// alike; without it, only the track's key.
func TestInitDataListsEveryKey(t *testing.T) {
	keys := []ContentKey{{TrackType: TrackAudio, KID: KID{1}}, {TrackType: TrackSD, KID: KID{2}}, {TrackType: TrackHD, KID: KID{3}}}
	for _, allKeys := range []bool{true, false} {
		sig := Signalling{Scheme: SchemeCENC, Keys: keys, Systems: AllSystems, AllKeys: allKeys,
			WidevineContentID: []byte("title")}
		want := 1
		if allKeys {
			want = 3
		}
		hls, err := HLSKeys(sig, KID{2})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hls {
			if h.System == FairPlay {
				continue
			}
			raw := h.URI[strings.Index(h.URI, "base64,")+7:]
			var info *PSSHInfo
			if h.System == PlayReady {
				pro := mustB64(t, raw)
				ph, err := ParsePlayReadyObject(pro)
				if err != nil {
					t.Fatal(err)
				}
				info = &PSSHInfo{KIDs: ph.KIDs}
				if allKeys && ph.Version != PlayReadyHeaderV42 {
					t.Errorf("PlayReady header %s for several cenc keys", ph.Version)
				}
			} else {
				box, err := DecodePSSHBytes(mustB64(t, raw))
				if err != nil {
					t.Fatal(err)
				}
				if info, err = DecodePSSH(box); err != nil {
					t.Fatal(err)
				}
				if h.System == Widevine && string(info.Widevine.ContentID) != "title" {
					t.Errorf("Widevine content_id %q", info.Widevine.ContentID)
				}
			}
			if len(info.KIDs) != want {
				t.Errorf("AllKeys=%v: %s init data lists %d KIDs, want %d", allKeys, h.System, len(info.KIDs), want)
			}
		}
	}
}
