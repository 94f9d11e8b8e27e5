package cenc

import (
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
