package drm

import (
	"strings"
	"testing"

	"satchel/engine/media"
)

func TestParseKIDForms(t *testing.T) {
	want := "10203040-5060-7080-90a0-b0c0d0e0f001"
	for _, in := range []string{
		want,
		"102030405060708090a0b0c0d0e0f001",
		"{10203040-5060-7080-90A0-B0C0D0E0F001}",
		"0x102030405060708090a0b0c0d0e0f001",
		"ECAwQFBgcICQoLDA0ODwAQ==",
		"ECAwQFBgcICQoLDA0ODwAQ",
	} {
		k, err := ParseKID(in)
		if err != nil {
			t.Fatalf("ParseKID(%q): %v", in, err)
		}
		if k.String() != want {
			t.Errorf("ParseKID(%q) = %s, want %s", in, k, want)
		}
	}
	for _, bad := range []string{"", "xyz", "1020", "ECAwQFBgcICQoLDA0ODw=="} {
		if _, err := ParseKID(bad); err == nil {
			t.Errorf("ParseKID(%q) succeeded, want error", bad)
		}
	}
}

func TestPlayReadyLE(t *testing.T) {
	k, _ := ParseKID("10203040-5060-7080-90a0-b0c0d0e0f001")
	le := k.PlayReadyLE()
	want := []byte{0x40, 0x30, 0x20, 0x10, 0x60, 0x50, 0x80, 0x70, 0x90, 0xa0, 0xb0, 0xc0, 0xd0, 0xe0, 0xf0, 0x01}
	if string(le[:]) != string(want) {
		t.Fatalf("PlayReadyLE = %x, want %x", le, want)
	}
	if KIDFromPlayReadyLE(le) != k {
		t.Fatal("KIDFromPlayReadyLE does not invert PlayReadyLE")
	}
}

func TestParseKeySpec(t *testing.T) {
	ck, err := ParseKeySpec("hd=10203040-5060-7080-90a0-b0c0d0e0f001:00112233445566778899aabbccddeeff")
	if err != nil {
		t.Fatal(err)
	}
	if ck.TrackType != "HD" || ck.KeyHex() != "00112233445566778899aabbccddeeff" {
		t.Fatalf("got %+v", ck)
	}
	if ck, err := ParseKeySpec("ECAwQFBgcICQoLDA0ODwAQ==:ABEiM0RVZneImaq7zN3u/w=="); err != nil || ck.TrackType != "" {
		t.Fatalf("base64 KID:KEY: %+v %v", ck, err)
	}
	for _, bad := range []string{"HD=nothex:00", "XX=10203040506070809 0a0b0c0d0e0f001:00", "10203040-5060-7080-90a0-b0c0d0e0f001"} {
		if _, err := ParseKeySpec(bad); err == nil {
			t.Errorf("ParseKeySpec(%q) succeeded", bad)
		}
	}
	if _, err := ParseKeySpec("XX=102030405060708090a0b0c0d0e0f001:00112233445566778899aabbccddeeff"); err == nil || !strings.Contains(err.Error(), "AUDIO, SD, HD, UHD") {
		t.Errorf("bad track type error = %v", err)
	}
}

func TestTrackTypeAndDuplicates(t *testing.T) {
	cases := []struct {
		kind media.Kind
		h    int
		want string
	}{{media.Audio, 0, TrackAudio}, {media.Video, 240, TrackSD}, {media.Video, 576, TrackSD}, {media.Video, 720, TrackHD},
		{media.Video, 1088, TrackHD}, {media.Video, 2160, TrackUHD}}
	for _, c := range cases {
		if got := TrackTypeFor(c.kind, 0, c.h); got != c.want {
			t.Errorf("TrackTypeFor(%s,%d) = %s, want %s", c.kind, c.h, got, c.want)
		}
	}
	a, _ := RandomContentKey(TrackSD)
	b := a
	b.TrackType = TrackHD
	if err := CheckKeys([]ContentKey{a, b}); err == nil {
		t.Fatal("duplicate KID accepted")
	}
	c, _ := RandomContentKey(TrackHD)
	if err := CheckKeys([]ContentKey{a, c}); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseSystems("widevine, PlayReady,bogus"); err == nil {
		t.Fatal("bogus system accepted")
	}
	if s, _ := ParseSystems("all"); len(s) != 4 {
		t.Fatalf("all = %v", s)
	}
}
