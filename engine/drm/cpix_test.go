package drm

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"satchel/internal/golden"
)

func TestCPIXRoundTrip(t *testing.T) {
	for _, scheme := range []string{"cenc", "cbcs"} {
		t.Run(scheme, func(t *testing.T) {
			sig := testSignalling(t, scheme, 3)
			doc, err := NewCPIX(sig, "demo & <test>")
			if err != nil {
				t.Fatal(err)
			}
			iv := bytes.Repeat([]byte{0x5a}, 16)
			doc.ExplicitIVs = map[KID][]byte{sig.Keys[2].KID: iv}
			var buf bytes.Buffer
			if err := WriteCPIX(&buf, doc); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, "keys_"+scheme+".cpix.xml", buf.Bytes())
			back, err := ReadCPIX(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			wantSystems := 4 * 3 // every system for every key
			if scheme == "cenc" {
				wantSystems = 3 * 3 // FairPlay only signals cbcs
			}
			if back.ContentID != doc.ContentID || len(back.Keys) != 3 || len(back.DRMSystems) != wantSystems {
				t.Fatalf("read back %q, %d keys, %d DRM systems", back.ContentID, len(back.Keys), len(back.DRMSystems))
			}
			for i, k := range sig.Keys {
				if back.Keys[i] != k {
					t.Errorf("key %d: %+v, want %+v", i, back.Keys[i], k)
				}
				if back.Schemes[k.KID] != Scheme(scheme) {
					t.Errorf("scheme of %s = %q", k.KID, back.Schemes[k.KID])
				}
			}
			if !bytes.Equal(back.ExplicitIVs[sig.Keys[2].KID], iv) || len(back.ExplicitIVs) != 1 {
				t.Errorf("explicit IVs %v", back.ExplicitIVs)
			}
			for i, d := range back.DRMSystems {
				w := doc.DRMSystems[i]
				if d.SystemID != w.SystemID || d.KID != w.KID || !bytes.Equal(d.PSSH, w.PSSH) || d.ContentProtectionData != w.ContentProtectionData {
					t.Errorf("DRMSystem %d differs after the round trip:\n got %+v\nwant %+v", i, d, doc.DRMSystems[i])
				}
				if d.HLSSignalingMedia != doc.DRMSystems[i].HLSSignalingMedia || d.HLSSignalingMaster != doc.DRMSystems[i].HLSSignalingMaster {
					t.Errorf("DRMSystem %d HLS signalling differs", i)
				}
				sys, ok := SystemForID(mustUUID(t, d.SystemID))
				if !ok {
					t.Fatalf("unknown system %s", d.SystemID)
				}
				switch {
				case sys == FairPlay:
					if len(d.PSSH) != 0 || d.ContentProtectionData != "" {
						t.Errorf("fairplay DRMSystem carries DASH data: %+v", d)
					}
					if (scheme == "cbcs") != strings.Contains(d.HLSSignalingMedia, "skd://keys.example.com/"+d.KID.Hex()) {
						t.Errorf("fairplay HLS signalling for %s: %q", scheme, d.HLSSignalingMedia)
					}
				default:
					box, err := DecodePSSHBytes(d.PSSH)
					if err != nil {
						t.Fatal(err)
					}
					info, err := DecodePSSH(box)
					if err != nil || info.System != sys || len(info.KIDs) != 1 || info.KIDs[0] != d.KID {
						t.Errorf("DRMSystem %s pssh: %+v, %v", sys, info, err)
					}
					wantCPD := "<cenc:pssh>" + base64.StdEncoding.EncodeToString(d.PSSH) + "</cenc:pssh>"
					if !strings.HasPrefix(d.ContentProtectionData, wantCPD) {
						t.Errorf("%s ContentProtectionData %q", sys, d.ContentProtectionData)
					}
					if sys == PlayReady && !strings.Contains(d.ContentProtectionData, "<mspr:pro>"+base64.StdEncoding.EncodeToString(box.Data)+"</mspr:pro>") {
						t.Errorf("PlayReady ContentProtectionData lacks mspr:pro: %q", d.ContentProtectionData)
					}
					if !strings.HasPrefix(d.HLSSignalingMedia, "#EXT-X-KEY:") || !strings.HasPrefix(d.HLSSignalingMaster, "#EXT-X-SESSION-KEY:") {
						t.Errorf("%s HLS signalling %q / %q", sys, d.HLSSignalingMedia, d.HLSSignalingMaster)
					}
				}
			}
			for _, rule := range []string{`intendedTrackType="AUDIO"><AudioFilter/>`, `intendedTrackType="SD"><VideoFilter maxPixels="921599"/>`, `intendedTrackType="HD"><VideoFilter minPixels="921600" maxPixels="2088960"/>`} {
				if !strings.Contains(buf.String(), rule) {
					t.Errorf("usage rule %s missing", rule)
				}
			}
		})
	}
}

func mustUUID(t *testing.T, s string) []byte {
	t.Helper()
	k, err := ParseKID(s)
	if err != nil {
		t.Fatal(err)
	}
	return k[:]
}

// A CPIX written by another vendor: prefixed namespaces, elements Satchel does not know
// (URIExtXKey, DeliveryDataList, UpdateHistoryItemList), an HLSSignalingData without playlist
// attribute and one with the CPIX 2.4 "multiVariant" value, and usage rules with filters.
// The ContentKey (kid, explicitIV, PlainValue) is the published VUDRM example:
// https://github.com/Vualto/vudrm-public-docs/blob/master/docs/source/DeveloperDocumentation/PackagingGuides/shaka-packager.md
func TestReadForeignCPIX(t *testing.T) {
	pssh := base64.StdEncoding.EncodeToString(mustB64(t, psshToolsWidevine))
	media := base64.StdEncoding.EncodeToString([]byte(`#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://11111111111111111111111111111111"`))
	master := base64.StdEncoding.EncodeToString([]byte(`#EXT-X-SESSION-KEY:METHOD=SAMPLE-AES,URI="skd://11111111111111111111111111111111"`))
	doc := `<?xml version="1.0" encoding="UTF-8"?>
<cpix:CPIX xmlns:pskc="urn:ietf:params:xml:ns:keyprov:pskc" xmlns:cpix="urn:dashif:org:cpix" xmlns:enc="http://www.w3.org/2001/04/xmlenc#" contentId="vendor-asset">
  <cpix:DeliveryDataList/>
  <cpix:ContentKeyList>
    <cpix:ContentKey kid="11111111-1111-1111-1111-111111111111" explicitIV="MjlkMzNlYzVjYWIyZmRmZg==" commonEncryptionScheme="cenc">
      <cpix:Data>
        <pskc:Secret>
          <pskc:PlainValue>3wFFjPspsydY/t2uSPeE6w==</pskc:PlainValue>
        </pskc:Secret>
      </cpix:Data>
    </cpix:ContentKey>
  </cpix:ContentKeyList>
  <cpix:DRMSystemList>
    <cpix:DRMSystem kid="11111111-1111-1111-1111-111111111111" systemId="EDEF8BA9-79D6-4ACE-A3C8-27DCD51D21ED" name="Widevine">
      <cpix:PSSH>` + pssh + `</cpix:PSSH>
      <cpix:SmoothStreamingProtectionHeaderData>AAAA</cpix:SmoothStreamingProtectionHeaderData>
    </cpix:DRMSystem>
    <cpix:DRMSystem kid="11111111-1111-1111-1111-111111111111" systemId="94ce86fb-07ff-4f43-adb8-93d2fa968ca2">
      <cpix:URIExtXKey>c2tkOi8vMTExMTExMTExMTExMTExMTExMTExMTExMTExMTExMTEx</cpix:URIExtXKey>
      <cpix:HLSSignalingData>` + media + `</cpix:HLSSignalingData>
      <cpix:HLSSignalingData playlist="multiVariant">` + master + `</cpix:HLSSignalingData>
    </cpix:DRMSystem>
  </cpix:DRMSystemList>
  <cpix:ContentKeyUsageRuleList>
    <cpix:ContentKeyUsageRule kid="11111111-1111-1111-1111-111111111111" intendedTrackType="hd">
      <cpix:VideoFilter minPixels="921600"/>
    </cpix:ContentKeyUsageRule>
  </cpix:ContentKeyUsageRuleList>
  <cpix:UpdateHistoryItemList><cpix:UpdateHistoryItem index="1" source="vendor" date="2024-01-01T00:00:00Z"/></cpix:UpdateHistoryItemList>
</cpix:CPIX>`
	d, err := ReadCPIX(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	kid, _ := ParseKID("11111111-1111-1111-1111-111111111111")
	if d.ContentID != "vendor-asset" || len(d.Keys) != 1 || d.Keys[0].KID != kid || d.Keys[0].TrackType != TrackHD {
		t.Fatalf("content %q keys %+v", d.ContentID, d.Keys)
	}
	if d.Keys[0].KeyHex() != "df01458cfb29b32758feddae48f784eb" || d.Schemes[kid] != "cenc" || string(d.ExplicitIVs[kid]) != "29d33ec5cab2fdff" {
		t.Fatalf("key %s schemes %v ivs %q", d.Keys[0].KeyHex(), d.Schemes, d.ExplicitIVs)
	}
	if len(d.DRMSystems) != 2 || d.DRMSystems[0].SystemID != WidevineSystemID || len(d.DRMSystems[0].PSSH) != 0x41 {
		t.Fatalf("DRM systems %+v", d.DRMSystems)
	}
	if fp := d.DRMSystems[1]; !strings.HasPrefix(fp.HLSSignalingMedia, "#EXT-X-KEY:") || !strings.HasPrefix(fp.HLSSignalingMaster, "#EXT-X-SESSION-KEY:") {
		t.Errorf("fairplay HLS signalling %+v", fp)
	}
}

func TestReadCPIXRejects(t *testing.T) {
	const kid = `kid="8ba94ade-6eb9-449d-b44f-a5beefaf43b0"`
	key := func(inner string) string {
		return `<CPIX xmlns="urn:dashif:org:cpix"><ContentKeyList><ContentKey ` + kid + `>` + inner + `</ContentKey></ContentKeyList></CPIX>`
	}
	cases := map[string]string{
		"empty":            "",
		"not XML":          "{}",
		"no keys":          `<CPIX xmlns="urn:dashif:org:cpix"/>`,
		"bad kid":          `<CPIX><ContentKeyList><ContentKey kid="zz"/></ContentKeyList></CPIX>`,
		"no key value":     key(""),
		"encrypted key":    key(`<Data><Secret><EncryptedValue><CipherData><CipherValue>AA==</CipherValue></CipherData></EncryptedValue></Secret></Data>`),
		"short key":        key(`<Data><Secret><PlainValue>AAEC</PlainValue></Secret></Data>`),
		"key not base64":   key(`<Data><Secret><PlainValue>!!!!</PlainValue></Secret></Data>`),
		"bad explicit IV":  `<CPIX><ContentKeyList><ContentKey ` + kid + ` explicitIV="AAEC"><Data><Secret><PlainValue>2/1pIsMhxLtIb0ocRAl+1g==</PlainValue></Secret></Data></ContentKey></ContentKeyList></CPIX>`,
		"bad DRMSystem":    `<CPIX><DRMSystemList><DRMSystem kid="x" systemId="y"/></DRMSystemList></CPIX>`,
		"PSSH not base64":  `<CPIX><DRMSystemList><DRMSystem ` + kid + ` systemId="y"><PSSH>!!</PSSH></DRMSystem></DRMSystemList></CPIX>`,
		"HLS not base64":   `<CPIX><DRMSystemList><DRMSystem ` + kid + ` systemId="y"><HLSSignalingData>!!</HLSSignalingData></DRMSystem></DRMSystemList></CPIX>`,
		"truncated":        key(`<Data><Secret><PlainValue>2/1pIsMhxLtIb0ocRAl+1g==`),
		"CPD not base64":   `<CPIX><DRMSystemList><DRMSystem ` + kid + ` systemId="y"><ContentProtectionData>!!</ContentProtectionData></DRMSystem></DRMSystemList></CPIX>`,
		"duplicate KID":    `<CPIX><ContentKeyList>` + strings.Repeat(`<ContentKey `+kid+`><Data><Secret><PlainValue>2/1pIsMhxLtIb0ocRAl+1g==</PlainValue></Secret></Data></ContentKey>`, 2) + `</ContentKeyList></CPIX>`,
		"placeholder keys": `<cpix:CPIX xmlns:cpix="urn:dashif:org:cpix" xmlns:pskc="urn:ietf:params:xml:ns:keyprov:pskc"><cpix:ContentKeyList><cpix:ContentKey kid="11111111-1111-1111-1111-111111111111"><cpix:Data><pskc:Secret><pskc:PlainValue>YmFzZTY0ZW5jb2RlZAo=</pskc:PlainValue></pskc:Secret></cpix:Data></cpix:ContentKey></cpix:ContentKeyList></cpix:CPIX>`,
	}
	for name, doc := range cases {
		if d, err := ReadCPIX(strings.NewReader(doc)); err == nil {
			t.Errorf("%s: read %+v", name, d)
		}
	}
	bad := &CPIXDocument{Keys: testSignalling(t, "cenc", 1).Keys}
	bad.ExplicitIVs = map[KID][]byte{bad.Keys[0].KID: {1, 2, 3}}
	if err := WriteCPIX(&bytes.Buffer{}, bad); err == nil {
		t.Error("WriteCPIX accepted a 3-byte explicit IV")
	}
}
