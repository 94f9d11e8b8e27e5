package drm

import (
	"encoding/base64"
	"strings"
	"testing"

	"satchel/internal/golden"
)

func TestFairPlaySKD(t *testing.T) {
	k, _ := ParseKID("10203040-5060-7080-90a0-b0c0d0e0f001")
	for base, want := range map[string]string{
		"skd://keys.example.com/": "skd://keys.example.com/102030405060708090a0b0c0d0e0f001",
		"skd://keys.example.com":  "skd://keys.example.com/102030405060708090a0b0c0d0e0f001",
		"":                        "skd://satchel/102030405060708090a0b0c0d0e0f001",
	} {
		if got := FairPlaySKD(base, k); got != want {
			t.Errorf("FairPlaySKD(%q) = %s, want %s", base, got, want)
		}
	}
	// A standard-base64 KID that contains '/' (KID bytes chosen so that it does).
	slash := KID{0xff, 0xff, 0xff, 0xff, 0xfc, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01}
	if !strings.Contains(slash.Base64(), "/") {
		t.Fatalf("test KID base64 %s has no '/'", slash.Base64())
	}
	ok := []struct {
		uri string
		kid KID
	}{
		{FairPlaySKD("skd://keys.example.com", k), k},
		{"skd://10203040-5060-7080-90a0-b0c0d0e0f001", k},
		{"SKD://102030405060708090A0B0C0D0E0F001", k},
		{"skd://host?id=102030405060708090a0b0c0d0e0f001", k},
		{"skd://host?102030405060708090a0b0c0d0e0f001", k},
		{"skd://host/path/" + k.Base64URL(), k},
		{"skd://host/" + slash.Base64(), slash},
	}
	for _, c := range ok {
		got, err := ParseFairPlaySKD(c.uri)
		if err != nil || got != c.kid {
			t.Errorf("ParseFairPlaySKD(%s) = %s, %v; want %s", c.uri, got, err, c.kid)
		}
	}
	for _, bad := range []string{"", "https://x/102030405060708090a0b0c0d0e0f001", "skd://", "skd://host", "skd://host/1234", "skd://host?id=zz"} {
		if got, err := ParseFairPlaySKD(bad); err == nil {
			t.Errorf("ParseFairPlaySKD(%q) = %s, want an error", bad, got)
		}
	}
}

func TestHLSKeys(t *testing.T) {
	cases := []struct {
		scheme, method string
		systems        []System
	}{
		{"cbcs", "SAMPLE-AES", []System{Widevine, PlayReady, FairPlay, ClearKey}},
		{"cenc", "SAMPLE-AES-CTR", []System{Widevine, PlayReady, ClearKey}}, // FairPlay needs cbcs
	}
	for _, c := range cases {
		t.Run(c.scheme, func(t *testing.T) {
			sig := testSignalling(t, c.scheme, 3)
			kid := sig.Keys[2].KID
			keys, err := HLSKeys(sig, kid)
			if err != nil {
				t.Fatal(err)
			}
			if len(keys) != len(c.systems) {
				t.Fatalf("%d keys, want %d", len(keys), len(c.systems))
			}
			var lines strings.Builder
			for i, h := range keys {
				if h.System != c.systems[i] || h.Method != c.method || h.KeyFormatVersions != "1" || h.IV != "" {
					t.Errorf("key %d: %+v", i, h)
				}
				lines.WriteString("#EXT-X-KEY:" + h.Attributes() + "\n")
				switch h.System {
				case FairPlay:
					if h.KeyFormat != KeyFormatFairPlay || h.URI != "skd://keys.example.com/"+kid.Hex() {
						t.Errorf("fairplay %+v", h)
					}
				case Widevine, ClearKey:
					raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(h.URI, "data:text/plain;base64,"))
					if err != nil {
						t.Fatalf("%s URI %s", h.System, h.URI)
					}
					box, err := DecodePSSHBytes(raw)
					if err != nil {
						t.Fatal(err)
					}
					info, err := DecodePSSH(box)
					if err != nil || info.System != h.System || len(info.KIDs) != 1 || info.KIDs[0] != kid {
						t.Errorf("%s pssh in URI: %+v, %v", h.System, info, err)
					}
				case PlayReady:
					raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(h.URI, "data:text/plain;charset=UTF-16;base64,"))
					if err != nil || h.KeyFormat != KeyFormatPlayReady {
						t.Fatalf("playready %+v", h)
					}
					ph, err := ParsePlayReadyObject(raw)
					if err != nil || len(ph.KIDs) != 1 || ph.KIDs[0] != kid {
						t.Errorf("PRO in URI: %+v, %v", ph, err)
					}
				}
			}
			golden.Check(t, "hls_keys_"+c.scheme+".m3u8", []byte(lines.String()))
		})
	}
	sig := testSignalling(t, "cbcs", 1)
	if _, err := HLSKeys(sig, KID{1}); err == nil {
		t.Error("HLSKeys accepted a KID that is not among the keys")
	}
	if got := (HLSKey{Method: "SAMPLE-AES", URI: "skd://x/1", IV: "0x01", KeyFormat: KeyFormatFairPlay, KeyFormatVersions: "1"}).Attributes(); got != `METHOD=SAMPLE-AES,URI="skd://x/1",IV=0x01,KEYFORMAT="com.apple.streamingkeydelivery",KEYFORMATVERSIONS="1"` {
		t.Errorf("Attributes() = %s", got)
	}
}
