package drm

import (
	"bytes"
	"testing"
)

// Seeds are the published vectors of the known-answer tests plus Satchel's own output, so the
// fuzzer starts from real-world layouts (castlabs/WPT, pssh-tools, the PlayReady spec).

func FuzzDecodePSSH(f *testing.F) {
	f.Add(mustB64(f, wptInitData))
	f.Add(mustB64(f, psshToolsWidevine))
	for _, scheme := range []string{"cenc", "cbcs"} {
		boxes, err := PSSHBoxes(testSignalling(f, scheme, 2))
		if err != nil {
			f.Fatal(err)
		}
		for _, b := range boxes {
			raw, err := BoxBytes(b)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(raw)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if box, err := DecodePSSHBytes(data); err == nil {
			if info, err := DecodePSSH(box); err == nil {
				// A box we could decode encodes and decodes again to the same content.
				raw, err := BoxBytes(box)
				if err != nil {
					t.Fatalf("re-encoding a decoded box: %v", err)
				}
				again, err := DecodePSSHBytes(raw)
				if err != nil {
					t.Fatalf("re-decoding %x: %v", raw, err)
				}
				info2, err := DecodePSSH(again)
				if err != nil || info2.SystemID != info.SystemID || len(info2.KIDs) != len(info.KIDs) || !bytes.Equal(again.Data, box.Data) {
					t.Fatalf("round trip changed the box: %+v vs %+v (%v)", info2, info, err)
				}
			}
		}
		if boxes, err := SplitPSSH(data); err == nil {
			for _, b := range boxes {
				_, _ = DecodePSSH(b)
			}
		}
	})
}

func FuzzParseWidevinePSSHData(f *testing.F) {
	f.Add(mustB64(f, wptInitData)[32:wptWVBytes])
	f.Add(mustB64(f, psshToolsWidevine)[32:])
	b, _ := WidevinePSSH(testSignalling(f, "cbcs", 3).KIDs(), "cbcs", "satchel", []byte("title"))
	f.Add(b.Data)
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ParseWidevinePSSHData(data)
		if err != nil {
			return
		}
		// Whatever we parse, we write back and read again to the same message.
		out, err := MarshalWidevinePSSHData(d)
		if err != nil {
			return // a protection_scheme that is not four characters cannot be written
		}
		d2, err := ParseWidevinePSSHData(out)
		if err != nil {
			t.Fatalf("re-parse of %x: %v", out, err)
		}
		out2, _ := MarshalWidevinePSSHData(d2)
		if !bytes.Equal(out, out2) {
			t.Fatalf("not stable: %x then %x", out, out2)
		}
	})
}

func FuzzParsePlayReadyObject(f *testing.F) {
	f.Add(mustB64(f, wptInitData)[wptWVBytes+32:])
	for _, s := range []string{"cenc", "cbcs"} {
		for _, n := range []int{1, 3} {
			sig := testSignalling(f, s, n)
			pro, err := PlayReadyObject(sig.Keys, Scheme(s), sig.PlayReadyLAURL)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(pro)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ParsePlayReadyObject(data)
		if err != nil {
			return
		}
		// The header XML we return parses again to the same KIDs.
		pro, err := wrapPRO(h.XML)
		if err != nil {
			return
		}
		h2, err := ParsePlayReadyObject(pro)
		if err != nil || len(h2.KIDs) != len(h.KIDs) {
			t.Fatalf("re-parse of the returned XML: %v", err)
		}
	})
}

func FuzzReadCPIX(f *testing.F) {
	// One key and two systems per seed: small inputs keep the mutator fast.
	for _, s := range []string{"cenc", "cbcs"} {
		sig := testSignalling(f, s, 1)
		sig.Systems = []System{FairPlay, ClearKey}
		doc, err := NewCPIX(sig, "fuzz")
		if err != nil {
			f.Fatal(err)
		}
		var buf bytes.Buffer
		if err := WriteCPIX(&buf, doc); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	f.Add([]byte(`<cpix:CPIX xmlns:cpix="urn:dashif:org:cpix" xmlns:pskc="urn:ietf:params:xml:ns:keyprov:pskc"><cpix:ContentKeyList><cpix:ContentKey kid="11111111-1111-1111-1111-111111111111" explicitIV="MjlkMzNlYzVjYWIyZmRmZg=="><cpix:Data><pskc:Secret><pskc:PlainValue>3wFFjPspsydY/t2uSPeE6w==</pskc:PlainValue></pskc:Secret></cpix:Data></cpix:ContentKey></cpix:ContentKeyList></cpix:CPIX>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := ReadCPIX(bytes.NewReader(data))
		if err != nil {
			return
		}
		// Whatever we read, we write, and read back to the same keys.
		var buf bytes.Buffer
		if err := WriteCPIX(&buf, doc); err != nil {
			return
		}
		back, err := ReadCPIX(&buf)
		if err != nil {
			if len(doc.Keys) == 0 && len(doc.DRMSystems) == 0 {
				return
			}
			t.Fatalf("re-read of our own output: %v", err)
		}
		if len(back.Keys) != len(doc.Keys) {
			t.Fatalf("%d keys after the round trip, want %d", len(back.Keys), len(doc.Keys))
		}
		for i := range doc.Keys {
			if back.Keys[i].KID != doc.Keys[i].KID || back.Keys[i].Key != doc.Keys[i].Key {
				t.Fatalf("key %d changed in the round trip", i)
			}
		}
	})
}

func FuzzParseKID(f *testing.F) {
	for _, s := range []string{"10203040-5060-7080-90a0-b0c0d0e0f001", "{10203040-5060-7080-90A0-B0C0D0E0F001}",
		"0x102030405060708090a0b0c0d0e0f001", "ECAwQFBgcICQoLDA0ODwAQ==", "ECAwQFBgcICQoLDA0ODwAQ", "4Rplb+TbNES8tGkNFWTEHA==",
		"HD=10203040506070809000a0b0c0d0e0f0:00112233445566778899aabbccddeeff", "skd://satchel/102030405060708090a0b0c0d0e0f001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if k, err := ParseKID(s); err == nil {
			for _, form := range []string{k.String(), k.Hex(), k.Base64(), k.Base64URL()} {
				if back, err := ParseKID(form); err != nil || back != k {
					t.Fatalf("%q: form %q does not parse back (%v)", s, form, err)
				}
			}
			if KIDFromPlayReadyLE(k.PlayReadyLE()) != k {
				t.Fatalf("%q: PlayReady byte swap is not its own inverse", s)
			}
		}
		if ck, err := ParseKeySpec(s); err == nil {
			if back, err := ParseKeySpec(ck.TrackType + "=" + ck.KID.String() + ":" + ck.KeyHex()); ck.TrackType != "" && (err != nil || back != ck) {
				t.Fatalf("%q: key spec does not round-trip (%v)", s, err)
			}
		}
		if k, err := ParseFairPlaySKD(s); err == nil {
			if back, err := ParseFairPlaySKD(FairPlaySKD("", k)); err != nil || back != k {
				t.Fatalf("%q: skd URI does not round-trip (%v)", s, err)
			}
		}
	})
}
