package drm

import (
	"encoding/base64"
	"encoding/hex"
	"testing"
)

// mustKey builds a content key from a KID in any ParseKID form and a hex key.
func mustKey(t testing.TB, trackType, kid, key string) ContentKey {
	t.Helper()
	k, err := ParseKID(kid)
	if err != nil {
		t.Fatal(err)
	}
	ck := ContentKey{TrackType: trackType, KID: k}
	b, err := hex.DecodeString(key)
	if err != nil || len(b) != 16 {
		t.Fatalf("bad test key %q", key)
	}
	copy(ck.Key[:], b)
	return ck
}

// mustB64 decodes a published base64 test vector.
func mustB64(t testing.TB, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("bad base64 test vector: %v", err)
	}
	return b
}

// testSignalling is a three-key presentation (AUDIO, SD, HD) whose keys come from the published
// vectors used below, signalled for every system.
func testSignalling(t testing.TB, scheme string, n int) Signalling {
	keys := []ContentKey{
		mustKey(t, TrackAudio, "6f651ae1-dbe4-4434-bcb4-690d1564c41c", "88da852ae4fa2e1e36aeb2d5c94997b1"),
		mustKey(t, TrackSD, "8ba94ade-6eb9-449d-b44f-a5beefaf43b0", "dbfd6922c321c4bb486f4a1c44097ed6"),
		mustKey(t, TrackHD, "10203040-5060-7080-90a0-b0c0d0e0f001", "00112233445566778899aabbccddeeff"),
	}
	return Signalling{Scheme: Scheme(scheme), Keys: keys[:n], Systems: AllSystems,
		PlayReadyLAURL: "https://license.example.com/playready?a=1&b=2", ClearKeyLAURL: "http://127.0.0.1:8787/clearkey",
		WidevineProvider: "satchel", FairPlayKeyURI: "skd://keys.example.com"}
}
