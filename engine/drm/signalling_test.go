package drm

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

func mustKey(t testing.TB, tt, kid, key string) ContentKey {
	t.Helper()
	k, err := ParseKID(kid)
	if err != nil {
		t.Fatal(err)
	}
	ck := ContentKey{TrackType: tt, KID: k}
	b, err := hex.DecodeString(key)
	if err != nil || len(b) != 16 {
		t.Fatalf("bad key %s", key)
	}
	copy(ck.Key[:], b)
	return ck
}

// Published CHECKSUM examples:
//   - Microsoft PlayReady Header Specification v4.0 example: KID 4Rplb+TbNES8tGkNFWTEHA==,
//     CHECKSUM KLj3QzQP/NA= (https://learn.microsoft.com/playready/specifications/playready-header-specification),
//     whose key 88da852ae4fa2e1e36aeb2d5c94997b1 is the one in the npm "pssh" package tests;
//   - the same package: key 2a85da88fae41e2e36aeb2d5c94997b1 → f8Acn4I4wU0=;
//   - pycpix tests (playready.checksum): KID 8ba94ade-6eb9-449d-b44f-a5beefaf43b0,
//     key DBFD6922C321C4BB486F4A1C44097ED6 → Me48z71nuqY=.
func TestPlayReadyChecksumKAT(t *testing.T) {
	cases := []struct{ kid, key, want string }{
		{"6f651ae1-dbe4-4434-bcb4-690d1564c41c", "88da852ae4fa2e1e36aeb2d5c94997b1", "KLj3QzQP/NA="},
		{"6f651ae1-dbe4-4434-bcb4-690d1564c41c", "2a85da88fae41e2e36aeb2d5c94997b1", "f8Acn4I4wU0="},
		{"8ba94ade-6eb9-449d-b44f-a5beefaf43b0", "dbfd6922c321c4bb486f4a1c44097ed6", "Me48z71nuqY="},
	}
	for _, c := range cases {
		k := mustKey(t, "", c.kid, c.key)
		if got := PlayReadyChecksum(k.Key, k.KID); got != c.want {
			t.Errorf("checksum(%s) = %s, want %s", c.kid, got, c.want)
		}
	}
	k := mustKey(t, "", "6f651ae1-dbe4-4434-bcb4-690d1564c41c", "88da852ae4fa2e1e36aeb2d5c94997b1")
	if got := k.KID.PlayReadyBase64(); got != "4Rplb+TbNES8tGkNFWTEHA==" {
		t.Errorf("little-endian KID = %s, want 4Rplb+TbNES8tGkNFWTEHA== (PlayReady header spec example)", got)
	}
}

// The Widevine pssh of the W3C web-platform-tests "mp4-basic" content
// (encrypted-media/content/content-metadata.js): algorithm AESCTR, key_id, provider
// castlabs, content_id, policy "default".
const wptWidevinePSSH = "AAAAcXBzc2gAAAAA7e+LqXnWSs6jyCfc1R0h7QAAAFEIARIQrRP56ivmmLh19QSo48zqZBoIY2FzdGxhYnMiKGV5SmhjM05sZEVsa0lqb2laVzFsTFhSbGMzUXRjMmx1WjJ4bEluMD0yB2RlZmF1bHQ="

func TestWidevinePSSHKAT(t *testing.T) {
	raw, _ := base64.StdEncoding.DecodeString(wptWidevinePSSH)
	box, err := DecodePSSHBytes(raw)
	if err != nil {
		t.Fatal(err)
	}
	info, err := DecodePSSH(box)
	if err != nil {
		t.Fatal(err)
	}
	if info.System != Widevine || len(info.KIDs) != 1 || info.KIDs[0].Hex() != "ad13f9ea2be698b875f504a8e3ccea64" {
		t.Fatalf("decoded %+v", info)
	}
	wv := info.Widevine
	if wv.Provider != "castlabs" || wv.Policy != "default" || wv.Algorithm != 1 || !strings.HasPrefix(string(wv.ContentID), "eyJhc3NldElk") {
		t.Fatalf("widevine data %+v", wv)
	}
	// Re-encoding the decoded message gives the published bytes back (field order 1,2,3,4,6).
	data, err := MarshalWidevinePSSHData(wv)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, box.Data) {
		t.Fatalf("re-encoded WidevinePsshData differs:\n got %x\nwant %x", data, box.Data)
	}

	// Our own box: v0, key_id + protection_scheme 'cbcs' = 0x63626373 (varint f3 c6 89 9b 06).
	k, _ := ParseKID("ad13f9ea-2be6-98b8-75f5-04a8e3ccea64")
	b, err := WidevinePSSH([]KID{k}, "cbcs", "")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := hex.DecodeString("1210ad13f9ea2be698b875f504a8e3ccea6448f3c6899b06")
	if !bytes.Equal(b.Data, want) {
		t.Fatalf("widevine cbcs data = %x, want %x", b.Data, want)
	}
}

// W3C "cenc" Initialization Data Format (w3c/encrypted-media format-registry/initdata/cenc):
// a version-1 common pssh listing KID 0x0123456789abcdef0123456789abcdef and DataSize 0 is
// exactly these 52 bytes.
func TestCommonPSSHKAT(t *testing.T) {
	k, _ := ParseKID("0123456789abcdef0123456789abcdef")
	got, err := BoxBytes(CommonPSSH([]KID{k}))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := hex.DecodeString("00000034" + "70737368" + "01000000" + "1077efecc0b24d02ace33c1e52e2fb4b" + "00000001" + "0123456789abcdef0123456789abcdef" + "00000000")
	if !bytes.Equal(got, want) {
		t.Fatalf("common pssh:\n got %x\nwant %x", got, want)
	}
}

func testSignalling(t testing.TB, scheme string, n int) Signalling {
	keys := []ContentKey{
		mustKey(t, TrackAudio, "6f651ae1-dbe4-4434-bcb4-690d1564c41c", "88da852ae4fa2e1e36aeb2d5c94997b1"),
		mustKey(t, TrackSD, "8ba94ade-6eb9-449d-b44f-a5beefaf43b0", "dbfd6922c321c4bb486f4a1c44097ed6"),
		mustKey(t, TrackHD, "10203040-5060-7080-90a0-b0c0d0e0f001", "00112233445566778899aabbccddeeff"),
	}
	return Signalling{Scheme: scheme, Keys: keys[:n], Systems: AllSystems,
		PlayReadyLAURL: "https://license.example.com/playready?a=1&b=2", ClearKeyLAURL: "http://127.0.0.1:8787/clearkey"}
}

func TestPlayReadyObjectVersions(t *testing.T) {
	cases := []struct {
		scheme  string
		n       int
		version string
		alg     string
	}{{"cenc", 1, "4.0.0.0", "AESCTR"}, {"cenc", 3, "4.2.0.0", "AESCTR"}, {"cbcs", 1, "4.3.0.0", "AESCBC"}, {"cbcs", 3, "4.3.0.0", "AESCBC"}}
	for _, c := range cases {
		sig := testSignalling(t, c.scheme, c.n)
		pro, err := PlayReadyObject(sig.Keys, c.scheme, sig.PlayReadyLAURL)
		if err != nil {
			t.Fatal(err)
		}
		h, err := ParsePlayReadyObject(pro)
		if err != nil {
			t.Fatalf("%s/%d: %v", c.scheme, c.n, err)
		}
		if h.Version != c.version || h.AlgID != c.alg || len(h.KIDs) != c.n || h.LAURL != sig.PlayReadyLAURL {
			t.Errorf("%s/%d: header %+v", c.scheme, c.n, h)
		}
		for i, k := range sig.Keys {
			if h.KIDs[i] != k.KID {
				t.Errorf("%s: KID %d = %s, want %s", c.scheme, i, h.KIDs[i], k.KID)
			}
			if err := h.CheckKey(k); err != nil {
				t.Error(err)
			}
		}
		if c.scheme == "cenc" {
			wrong := sig.Keys[0]
			wrong.Key[0] ^= 1
			if err := h.CheckKey(wrong); err == nil {
				t.Error("CHECKSUM accepted a wrong key")
			}
		}
		golden(t, filepath.Join("testdata", fmt.Sprintf("pro_%s_%dkeys_%s.xml", c.scheme, c.n, c.version)), []byte(h.XML))
	}
	// 4.0 single-key layout, exactly as the header specification example (attribute-free).
	sig := testSignalling(t, "cenc", 1)
	pro, _ := PlayReadyObject(sig.Keys, "cenc", "")
	h, _ := ParsePlayReadyObject(pro)
	want := `<WRMHEADER xmlns="http://schemas.microsoft.com/DRM/2007/03/PlayReadyHeader" version="4.0.0.0"><DATA><PROTECTINFO><KEYLEN>16</KEYLEN><ALGID>AESCTR</ALGID></PROTECTINFO><KID>4Rplb+TbNES8tGkNFWTEHA==</KID><CHECKSUM>KLj3QzQP/NA=</CHECKSUM></DATA></WRMHEADER>`
	if h.XML != want {
		t.Fatalf("4.0 header:\n got %s\nwant %s", h.XML, want)
	}
	if len(pro) != 10+2*len(want) {
		t.Fatalf("PRO length %d, want %d (10-byte header + UTF-16LE)", len(pro), 10+2*len(want))
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden %s: %v (run go test -update)", path, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden (run go test -update if intended):\n got %s\nwant %s", path, got, want)
	}
}

func TestPSSHBoxesAndDecode(t *testing.T) {
	for _, scheme := range []string{"cenc", "cbcs"} {
		sig := testSignalling(t, scheme, 3)
		boxes, err := PSSHBoxes(sig)
		if err != nil {
			t.Fatal(err)
		}
		if len(boxes) != 3 { // FairPlay has no pssh
			t.Fatalf("%d boxes, want 3", len(boxes))
		}
		for _, b := range boxes {
			raw, err := BoxBytes(b)
			if err != nil {
				t.Fatal(err)
			}
			back, err := DecodePSSHBytes(raw)
			if err != nil {
				t.Fatal(err)
			}
			info, err := DecodePSSH(back)
			if err != nil {
				t.Fatal(err)
			}
			if len(info.KIDs) != 3 {
				t.Errorf("%s %s: %d KIDs", scheme, info.System, len(info.KIDs))
			}
			if info.Widevine != nil && info.Widevine.ProtectionScheme != scheme {
				t.Errorf("widevine protection_scheme %q, want %q", info.Widevine.ProtectionScheme, scheme)
			}
			if !strings.Contains(info.Summary, sig.Keys[1].KID.String()) {
				t.Errorf("summary lacks KID: %s", info.Summary)
			}
		}
	}
}

func TestFairPlayAndHLSKeys(t *testing.T) {
	k, _ := ParseKID("10203040-5060-7080-90a0-b0c0d0e0f001")
	uri := FairPlaySKD("skd://keys.example.com/", k)
	if uri != "skd://keys.example.com/102030405060708090a0b0c0d0e0f001" {
		t.Fatalf("skd = %s", uri)
	}
	for _, in := range []string{uri, "skd://10203040-5060-7080-90a0-b0c0d0e0f001", "skd://host?id=102030405060708090a0b0c0d0e0f001"} {
		got, err := ParseFairPlaySKD(in)
		if err != nil || got != k {
			t.Errorf("ParseFairPlaySKD(%s) = %s, %v", in, got, err)
		}
	}
	if _, err := ParseFairPlaySKD("https://x/y"); err == nil {
		t.Error("https URI accepted as skd")
	}
	sig := testSignalling(t, "cbcs", 3)
	keys, err := HLSKeys(sig, sig.Keys[2].KID)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 4 || keys[1].KeyFormat != KeyFormatFairPlay && keys[2].KeyFormat != KeyFormatFairPlay {
		var kf []string
		for _, k := range keys {
			kf = append(kf, k.KeyFormat)
		}
		t.Fatalf("cbcs keys: %v", kf)
	}
	for _, h := range keys {
		if h.Method != "SAMPLE-AES" {
			t.Errorf("%s method %s", h.System, h.Method)
		}
		if h.System == FairPlay && !strings.HasSuffix(h.URI, sig.Keys[2].KID.Hex()) {
			t.Errorf("fairplay URI %s", h.URI)
		}
	}
	cenc := testSignalling(t, "cenc", 1)
	keys, _ = HLSKeys(cenc, cenc.Keys[0].KID)
	for _, h := range keys {
		if h.System == FairPlay {
			t.Error("FairPlay signalled for cenc; FairPlay needs cbcs")
		}
		if h.Method != "SAMPLE-AES-CTR" {
			t.Errorf("cenc method %s", h.Method)
		}
	}
}

func TestCPIXRoundTrip(t *testing.T) {
	sig := testSignalling(t, "cbcs", 3)
	doc, err := NewCPIX(sig, "demo & test")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteCPIX(&buf, doc); err != nil {
		t.Fatal(err)
	}
	golden(t, filepath.Join("testdata", "keys.cpix.xml"), buf.Bytes())
	back, err := ReadCPIX(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if back.ContentID != "demo & test" || len(back.Keys) != 3 || len(back.DRMSystems) != 12 {
		t.Fatalf("read back %q, %d keys, %d systems", back.ContentID, len(back.Keys), len(back.DRMSystems))
	}
	for i, k := range sig.Keys {
		if back.Keys[i] != k {
			t.Errorf("key %d: %+v, want %+v", i, back.Keys[i], k)
		}
		if back.Schemes[k.KID] != "cbcs" {
			t.Errorf("scheme of %s = %q", k.KID, back.Schemes[k.KID])
		}
	}
	for _, d := range back.DRMSystems {
		if d.SystemID == FairPlaySystemID {
			if !strings.Contains(d.HLSSignalingMedia, "skd://") || len(d.PSSH) != 0 {
				t.Errorf("fairplay DRMSystem %+v", d)
			}
			continue
		}
		box, err := DecodePSSHBytes(d.PSSH)
		if err != nil {
			t.Fatal(err)
		}
		info, err := DecodePSSH(box)
		if err != nil || len(info.KIDs) != 1 || info.KIDs[0] != d.KID {
			t.Errorf("DRMSystem %s pssh KIDs %v (want %s): %v", d.SystemID, info.KIDs, d.KID, err)
		}
	}
}

// A CPIX from another vendor: prefixed namespaces, extra elements, no usage rules.
func TestReadForeignCPIX(t *testing.T) {
	doc := `<?xml version="1.0"?>
<cpix:CPIX xmlns:cpix="urn:dashif:org:cpix" xmlns:pskc="urn:ietf:params:xml:ns:keyprov:pskc" id="x">
 <cpix:DeliveryDataList/>
 <cpix:ContentKeyList>
  <cpix:ContentKey kid="8ba94ade-6eb9-449d-b44f-a5beefaf43b0" explicitIV="AAAAAAAAAAAAAAAAAAAAAA==">
   <cpix:Data><pskc:Secret><pskc:PlainValue>2/1pIsMhxLtIb0ocRAl+1g==</pskc:PlainValue></pskc:Secret></cpix:Data>
  </cpix:ContentKey>
 </cpix:ContentKeyList>
 <cpix:Vendor>ignored</cpix:Vendor>
</cpix:CPIX>`
	d, err := ReadCPIX(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Keys) != 1 || d.Keys[0].KeyHex() != "dbfd6922c321c4bb486f4a1c44097ed6" {
		t.Fatalf("keys %+v", d.Keys)
	}
	for _, bad := range []string{"", "<html/>", "<CPIX><ContentKeyList><ContentKey kid=\"zz\"/></ContentKeyList></CPIX>",
		`<CPIX><ContentKeyList><ContentKey kid="8ba94ade-6eb9-449d-b44f-a5beefaf43b0"><Data><Secret><EncryptedValue><CipherData><CipherValue>AA==</CipherValue></CipherData></EncryptedValue></Secret></Data></ContentKey></ContentKeyList></CPIX>`} {
		if _, err := ReadCPIX(strings.NewReader(bad)); err == nil {
			t.Errorf("ReadCPIX(%q) succeeded", bad)
		}
	}
}

func FuzzDecodePSSH(f *testing.F) {
	raw, _ := base64.StdEncoding.DecodeString(wptWidevinePSSH)
	f.Add(raw)
	sig := testSignalling(f, "cenc", 2)
	boxes, _ := PSSHBoxes(sig)
	for _, b := range boxes {
		bb, _ := BoxBytes(b)
		f.Add(bb)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if b, err := DecodePSSHBytes(data); err == nil {
			_, _ = DecodePSSH(b)
		}
	})
}

func FuzzParseWidevinePSSHData(f *testing.F) {
	raw, _ := base64.StdEncoding.DecodeString(wptWidevinePSSH)
	f.Add(raw[32:])
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ParseWidevinePSSHData(data)
		if err == nil {
			if _, err := MarshalWidevinePSSHData(d); err != nil && d.ProtectionScheme == "" {
				t.Fatal(err)
			}
		}
	})
}

func FuzzParsePlayReadyObject(f *testing.F) {
	for _, s := range []string{"cenc", "cbcs"} {
		sig := testSignalling(f, s, 2)
		pro, _ := PlayReadyObject(sig.Keys, s, sig.PlayReadyLAURL)
		f.Add(pro)
	}
	f.Fuzz(func(t *testing.T, data []byte) { _, _ = ParsePlayReadyObject(data) })
}

func FuzzReadCPIX(f *testing.F) {
	sig := testSignalling(f, "cenc", 2)
	doc, _ := NewCPIX(sig, "fuzz")
	var buf bytes.Buffer
	_ = WriteCPIX(&buf, doc)
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) { _, _ = ReadCPIX(bytes.NewReader(data)) })
}

func FuzzParseKID(f *testing.F) {
	for _, s := range []string{"10203040-5060-7080-90a0-b0c0d0e0f001", "ECAwQFBgcICQoLDA0ODwAQ==", "HD=10203040506070809000a0b0c0d0e0f0:00112233445566778899aabbccddeeff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if k, err := ParseKID(s); err == nil {
			if back, err := ParseKID(k.String()); err != nil || back != k {
				t.Fatalf("round trip of %q failed", s)
			}
		}
		_, _ = ParseKeySpec(s)
		_, _ = ParseFairPlaySKD(s)
	})
}
