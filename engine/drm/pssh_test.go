package drm

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"testing"
)

// Published test vectors.
const (
	// The "mp4-basic" init data of the W3C web-platform-tests for EME: a Widevine pssh
	// (algorithm AESCTR, key_id, provider castlabs, content_id, policy "default") followed
	// by a PlayReady pssh (WRMHEADER 4.0.0.0) for KID ad13f9ea-2be6-98b8-75f5-04a8e3ccea64 with
	// key be7df8a3667a6a8fd564d0ed81339a95.
	// https://github.com/web-platform-tests/wpt/blob/master/encrypted-media/content/content-metadata.js
	wptInitData = "AAAAcXBzc2gAAAAA7e+LqXnWSs6jyCfc1R0h7QAAAFEIARIQrRP56ivmmLh19QSo48zqZBoIY2FzdGxhYnMiKGV5SmhjM05sZEVsa0lqb2laVzFsTFhSbGMzUXRjMmx1WjJ4bEluMD0yB2RlZmF1bHQAAAMacHNzaAAAAACaBPB5mEBChquS5lvgiF+VAAAC+voCAAABAAEA8AI8AFcAUgBNAEgARQBBAEQARQBSACAAeABtAGwAbgBzAD0AIgBoAHQAdABwADoALwAvAHMAYwBoAGUAbQBhAHMALgBtAGkAYwByAG8AcwBvAGYAdAAuAGMAbwBtAC8ARABSAE0ALwAyADAAMAA3AC8AMAAzAC8AUABsAGEAeQBSAGUAYQBkAHkASABlAGEAZABlAHIAIgAgAHYAZQByAHMAaQBvAG4APQAiADQALgAwAC4AMAAuADAAIgA+ADwARABBAFQAQQA+ADwAUABSAE8AVABFAEMAVABJAE4ARgBPAD4APABLAEUAWQBMAEUATgA+ADEANgA8AC8ASwBFAFkATABFAE4APgA8AEEATABHAEkARAA+AEEARQBTAEMAVABSADwALwBBAEwARwBJAEQAPgA8AC8AUABSAE8AVABFAEMAVABJAE4ARgBPAD4APABLAEkARAA+ADYAdgBrAFQAcgBlAFkAcgB1AEoAaAAxADkAUQBTAG8ANAA4AHoAcQBaAEEAPQA9ADwALwBLAEkARAA+ADwAQwBIAEUAQwBLAFMAVQBNAD4AagBZAEYATgBmADAAeQBmADQAaQBzAD0APAAvAEMASABFAEMASwBTAFUATQA+ADwATABBAF8AVQBSAEwAPgBoAHQAdABwADoALwAvAHAAbABhAHkAcgBlAGEAZAB5AC4AZABpAHIAZQBjAHQAdABhAHAAcwAuAG4AZQB0AC8AcAByAC8AcwB2AGMALwByAGkAZwBoAHQAcwBtAGEAbgBhAGcAZQByAC4AYQBzAG0AeAA/AFAAbABhAHkAUgBpAGcAaAB0AD0AMQAmAGEAbQBwADsAVQBzAGUAUwBpAG0AcABsAGUATgBvAG4AUABlAHIAcwBpAHMAdABlAG4AdABMAGkAYwBlAG4AcwBlAD0AMQA8AC8ATABBAF8AVQBSAEwAPgA8AC8ARABBAFQAQQA+ADwALwBXAFIATQBIAEUAQQBEAEUAUgA+AA=="
	wptKID      = "ad13f9ea2be698b875f504a8e3ccea64"
	wptKey      = "be7df8a3667a6a8fd564d0ed81339a95"
	wptWVBytes  = 0x71 // size of the first (Widevine) box

	// The Widevine pssh in the pssh-tools tests (key_id, provider "intertrust", content_id "*").
	// https://github.com/feedsbrain/pssh-tools/blob/master/test/pssh.ts (PSSH_TEST)
	psshToolsWidevine = "AAAAQXBzc2gAAAAA7e+LqXnWSs6jyCfc1R0h7QAAACESEJjp6TNjifjKjuoDBeg+VrUaCmludGVydHJ1c3QiASo="
)

// TestCommonPSSHKAT checks the W3C common-format pssh against the byte-level example of the
// "cenc" Initialization Data Format, section "Common SystemID and PSSH Box Format":
// https://w3c.github.io/encrypted-media/format-registry/initdata/cenc.html#common-system
// (two KIDs, the ASCII strings "0123456789012345" and "ABCDEFGHIJKLMNOP"). Erratum: the
// example's size field reads 0x4c (76) although the bytes it lists add up to 68 (0x44):
// 8 header + 4 version/flags + 16 SystemID + 4 KID_count + 2x16 KIDs + 4 DataSize. Every other
// byte is compared as published.
func TestCommonPSSHKAT(t *testing.T) {
	want, _ := hex.DecodeString("00000044" + "70737368" + "01000000" +
		"1077efecc0b24d02ace33c1e52e2fb4b" + "00000002" +
		"30313233343536373839303132333435" + "4142434445464748494a4b4c4d4e4f50" + "00000000")
	k1, k2 := KID([]byte("0123456789012345")), KID([]byte("ABCDEFGHIJKLMNOP"))
	got, err := BoxBytes(CommonPSSH([]KID{k1, k2}))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("common pssh:\n got %x\nwant %x", got, want)
	}
	box, err := DecodePSSHBytes(want)
	if err != nil {
		t.Fatal(err)
	}
	info, err := DecodePSSH(box)
	if err != nil {
		t.Fatal(err)
	}
	if info.System != ClearKey || info.Version != 1 || len(info.KIDs) != 2 || info.KIDs[0] != k1 || info.KIDs[1] != k2 {
		t.Fatalf("decoded %+v", info)
	}
}

func TestWidevinePSSHKAT(t *testing.T) {
	cases := []struct {
		name      string
		box       string
		kid       string
		algorithm int
		provider  string
		contentID string
		policy    string
	}{
		{"wpt mp4-basic", wptInitData, wptKID, 1, "castlabs", "eyJhc3NldElkIjoiZW1lLXRlc3Qtc2luZ2xlIn0=", "default"},
		{"pssh-tools", psshToolsWidevine, "98e9e9336389f8ca8eea0305e83e56b5", 0, "intertrust", "*", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			raw := mustB64(t, c.box)
			n := int(binary.BigEndian.Uint32(raw)) // first box only
			raw = raw[:n]
			box, err := DecodePSSHBytes(raw)
			if err != nil {
				t.Fatal(err)
			}
			info, err := DecodePSSH(box)
			if err != nil {
				t.Fatal(err)
			}
			wv := info.Widevine
			if info.System != Widevine || wv == nil || len(info.KIDs) != 1 || info.KIDs[0].Hex() != c.kid {
				t.Fatalf("decoded %+v", info)
			}
			if wv.Algorithm != c.algorithm || wv.Provider != c.provider || string(wv.ContentID) != c.contentID || wv.Policy != c.policy {
				t.Fatalf("WidevinePsshData %+v", wv)
			}
			// Writing the decoded message again reproduces the published box byte for byte.
			data, err := MarshalWidevinePSSHData(wv)
			if err != nil {
				t.Fatal(err)
			}
			box.Data = data
			again, err := BoxBytes(box)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again, raw) {
				t.Fatalf("re-encoded box differs:\n got %x\nwant %x", again, raw)
			}
		})
	}
}

// TestWidevinePSSHWriter pins the bytes of our own boxes. The expected bytes are spelled out
// from widevine_pssh_data.proto: field 1 varint (08), field 2 bytes (12 10 <kid>), field 3
// string (1a len), field 9 varint protection_scheme = big-endian fourcc as a varint
// ('cenc' 0x63656e63 = e3 dc 95 9b 06, 'cbcs' 0x63626373 = f3 c6 89 9b 06).
func TestWidevinePSSHWriter(t *testing.T) {
	kid, _ := ParseKID(wptKID)
	cases := []struct{ scheme, provider, data string }{
		{"cbcs", "", "1210" + wptKID + "48f3c6899b06"},
		{"cenc", "satchel", "0801" + "1210" + wptKID + "1a07" + hex.EncodeToString([]byte("satchel")) + "48e3dc959b06"},
	}
	for _, c := range cases {
		b, err := WidevinePSSH([]KID{kid}, Scheme(c.scheme), c.provider, nil)
		if err != nil {
			t.Fatal(err)
		}
		if b.Version != 0 || KID(b.SystemID).String() != WidevineSystemID {
			t.Errorf("%s: version %d system %x", c.scheme, b.Version, b.SystemID)
		}
		if got := hex.EncodeToString(b.Data); got != c.data {
			t.Errorf("%s: data\n got %s\nwant %s", c.scheme, got, c.data)
		}
		d, err := ParseWidevinePSSHData(b.Data)
		if err != nil || d.ProtectionScheme != c.scheme || d.Provider != c.provider {
			t.Errorf("%s: parsed back %+v, %v", c.scheme, d, err)
		}
	}
	if _, err := WidevinePSSH(nil, "cenc", "", nil); err == nil {
		t.Error("WidevinePSSH without KIDs succeeded")
	}
	if _, err := WidevinePSSH([]KID{kid}, "ctr", "", nil); err == nil {
		t.Error("WidevinePSSH accepted a 3-character scheme")
	}
}

// TestSplitPSSHInitData decodes the published multi-system init data and checks the PlayReady
// CHECKSUM against the published key (a known answer for CheckKey).
func TestSplitPSSHInitData(t *testing.T) {
	raw := mustB64(t, wptInitData)
	boxes, err := SplitPSSH(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(boxes) != 2 {
		t.Fatalf("%d boxes, want 2", len(boxes))
	}
	want := []System{Widevine, PlayReady}
	key := mustKey(t, "", wptKID, wptKey)
	for i, b := range boxes {
		info, err := DecodePSSH(b)
		if err != nil {
			t.Fatal(err)
		}
		if info.System != want[i] || len(info.KIDs) != 1 || info.KIDs[0] != key.KID {
			t.Fatalf("box %d: %+v", i, info)
		}
		if info.PlayReady != nil {
			h := info.PlayReady
			if h.Version != PlayReadyHeaderV40 || h.AlgID != "AESCTR" || h.Checksums[key.KID.String()] != "jYFNf0yf4is=" ||
				h.LAURL != "http://playready.directtaps.net/pr/svc/rightsmanager.asmx?PlayRight=1&UseSimpleNonPersistentLicense=1" {
				t.Fatalf("PlayReady header %+v", h)
			}
			if err := h.CheckKey(key); err != nil {
				t.Errorf("published key rejected: %v", err)
			}
			bad := key
			bad.Key[15] ^= 0x80
			if err := h.CheckKey(bad); err == nil {
				t.Error("CheckKey accepted a wrong key")
			}
			if !strings.Contains(info.Summary, "WRMHEADER 4.0.0.0") {
				t.Errorf("summary %q", info.Summary)
			}
		}
	}
	// The first box alone is not the whole init data.
	if _, err := DecodePSSHBytes(raw); err == nil {
		t.Error("DecodePSSHBytes accepted two concatenated boxes")
	}
	if _, err := SplitPSSH(raw[:wptWVBytes+40]); err == nil {
		t.Error("SplitPSSH accepted a truncated second box")
	}
}

func TestPSSHBoxesRoundTrip(t *testing.T) {
	for _, scheme := range []string{"cenc", "cbcs"} {
		sig := testSignalling(t, scheme, 3)
		boxes, err := PSSHBoxes(sig)
		if err != nil {
			t.Fatal(err)
		}
		if len(boxes) != 3 { // Widevine, PlayReady, ClearKey; FairPlay has no pssh
			t.Fatalf("%s: %d boxes, want 3", scheme, len(boxes))
		}
		var all []byte
		for i, b := range boxes {
			raw, err := BoxBytes(b)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, raw...)
			back, err := DecodePSSHBytes(raw)
			if err != nil {
				t.Fatal(err)
			}
			info, err := DecodePSSH(back)
			if err != nil {
				t.Fatal(err)
			}
			if info.System != []System{Widevine, PlayReady, ClearKey}[i] {
				t.Errorf("%s: box %d is %s", scheme, i, info.System)
			}
			if len(info.KIDs) != 3 {
				t.Errorf("%s %s: %d KIDs", scheme, info.System, len(info.KIDs))
			}
			for j, k := range sig.Keys {
				if info.KIDs[j] != k.KID {
					t.Errorf("%s %s: KID %d = %s, want %s", scheme, info.System, j, info.KIDs[j], k.KID)
				}
			}
			if info.Widevine != nil && (info.Widevine.ProtectionScheme != scheme || info.Widevine.Provider != "satchel") {
				t.Errorf("widevine data %+v", info.Widevine)
			}
			if !strings.Contains(info.Summary, sig.Keys[1].KID.String()) {
				t.Errorf("summary lacks KID: %s", info.Summary)
			}
		}
		split, err := SplitPSSH(all)
		if err != nil || len(split) != 3 {
			t.Errorf("SplitPSSH of the three boxes: %d, %v", len(split), err)
		}
	}
	bad := testSignalling(t, "cenc", 1)
	bad.Systems = []System{"marlin"}
	if _, err := PSSHBoxes(bad); err == nil {
		t.Error("PSSHBoxes accepted an unknown system")
	}
}

func TestDecodePSSHBytesRejects(t *testing.T) {
	wv := mustB64(t, psshToolsWidevine)
	huge := append([]byte(nil), wv...)
	binary.BigEndian.PutUint32(huge, 0xffffffff)
	kidBomb := append([]byte(nil), wv...)
	kidBomb[8] = 1 // version 1: the data size field is now read as a huge KID count
	wrongType := append([]byte(nil), wv...)
	copy(wrongType[4:], "free")
	cases := map[string][]byte{
		"empty":          nil,
		"short":          wv[:7],
		"wrong type":     wrongType,
		"size too large": huge,
		"truncated":      wv[:40],
		"trailing bytes": append(append([]byte(nil), wv...), 0, 0, 0, 0),
		"kid count bomb": kidBomb,
	}
	for name, b := range cases {
		if box, err := DecodePSSHBytes(b); err == nil {
			t.Errorf("%s: decoded %+v", name, box)
		}
	}
	if _, err := SplitPSSH(nil); err == nil {
		t.Error("SplitPSSH(nil) succeeded")
	}
	if _, err := DecodePSSH(nil); err == nil {
		t.Error("DecodePSSH(nil) succeeded")
	}
}
