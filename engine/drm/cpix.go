package drm

import (
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// CPIX namespaces (DASH-IF CPIX 2.3; keys in IETF PSKC).
const (
	CPIXNamespace = "urn:dashif:org:cpix"
	PSKCNamespace = "urn:ietf:params:xml:ns:keyprov:pskc"
)

// CPIXDocument is the part of a DASH-IF CPIX document Satchel writes and reads.
type CPIXDocument struct {
	ContentID string
	Keys      []ContentKey
	Schemes   map[KID]Scheme // commonEncryptionScheme per key (optional)
	// ExplicitIVs holds the optional ContentKey explicitIV per key (16 bytes; for cbcs the
	// constant IV the packager used).
	ExplicitIVs map[KID][]byte
	DRMSystems  []CPIXDRMSystem
}

// CPIXDRMSystem is one DRMSystem element: the signalling of one system for one key.
type CPIXDRMSystem struct {
	SystemID              string // UUID
	KID                   KID
	PSSH                  []byte // complete pssh box
	ContentProtectionData string // XML fragment placed in the MPD ContentProtection element
	HLSSignalingMedia     string // EXT-X-KEY line for media playlists
	HLSSignalingMaster    string // EXT-X-SESSION-KEY line for the multivariant playlist
}

// NewCPIX builds a CPIX document for the presentation: its keys (with track types as usage
// rules) and, per key and system, the PSSH, DASH ContentProtectionData and HLS signalling —
// the same init data the manifests carry (every key's ID when sig.AllKeys).
func NewCPIX(sig Signalling, contentID string) (*CPIXDocument, error) {
	doc := &CPIXDocument{ContentID: contentID, Keys: sig.Keys, Schemes: map[KID]Scheme{}}
	for _, k := range sig.Keys {
		doc.Schemes[k.KID] = sig.Scheme
		keys, err := sig.InitDataKeys(k.KID)
		if err != nil {
			return nil, err
		}
		one := sig
		one.Keys = keys
		hls, err := HLSKeys(sig, k.KID)
		if err != nil {
			return nil, err
		}
		for _, s := range sig.Systems {
			if s == FairPlay && sig.Scheme != SchemeCBCS {
				continue // FairPlay needs cbcs; there is nothing to signal for cenc
			}
			d := CPIXDRMSystem{SystemID: KID(s.SystemID()).String(), KID: k.KID}
			if s != FairPlay {
				one.Systems = []System{s}
				boxes, err := PSSHBoxes(one)
				if err != nil {
					return nil, err
				}
				if d.PSSH, err = BoxBytes(boxes[0]); err != nil {
					return nil, err
				}
				d.ContentProtectionData = "<cenc:pssh>" + base64.StdEncoding.EncodeToString(d.PSSH) + "</cenc:pssh>"
				if s == PlayReady {
					d.ContentProtectionData += "<mspr:pro>" + base64.StdEncoding.EncodeToString(boxes[0].Data) + "</mspr:pro>"
				}
			}
			for _, h := range hls {
				if h.System == s {
					d.HLSSignalingMedia = "#EXT-X-KEY:" + h.Attributes()
					d.HLSSignalingMaster = "#EXT-X-SESSION-KEY:" + h.Attributes()
				}
			}
			doc.DRMSystems = append(doc.DRMSystems, d)
		}
	}
	return doc, nil
}

type xCPIX struct {
	XMLName   xml.Name `xml:"CPIX"`
	ContentID string   `xml:"contentId,attr,omitempty"`
	Version   string   `xml:"version,attr,omitempty"`
	Keys      []struct {
		KID    string `xml:"kid,attr"`
		IV     string `xml:"explicitIV,attr"`
		Scheme string `xml:"commonEncryptionScheme,attr"`
		Plain  string `xml:"Data>Secret>PlainValue"`
		Cipher string `xml:"Data>Secret>EncryptedValue>CipherData>CipherValue"`
	} `xml:"ContentKeyList>ContentKey"`
	Systems []struct {
		KID      string `xml:"kid,attr"`
		SystemID string `xml:"systemId,attr"`
		PSSH     string `xml:"PSSH"`
		CPD      string `xml:"ContentProtectionData"`
		HLS      []struct {
			Playlist string `xml:"playlist,attr"`
			Value    string `xml:",chardata"`
		} `xml:"HLSSignalingData"`
	} `xml:"DRMSystemList>DRMSystem"`
	Rules []struct {
		KID       string `xml:"kid,attr"`
		TrackType string `xml:"intendedTrackType,attr"`
	} `xml:"ContentKeyUsageRuleList>ContentKeyUsageRule"`
}

// WriteCPIX writes doc as CPIX 2.3 XML with plain (unencrypted) PSKC key values: the file is
// secret and must be handled like the keys themselves.
func WriteCPIX(w io.Writer, doc *CPIXDocument) error {
	var b strings.Builder
	esc := func(s string) string {
		var sb strings.Builder
		_ = xml.EscapeText(&sb, []byte(s))
		return sb.String()
	}
	b.WriteString(xml.Header)
	fmt.Fprintf(&b, `<CPIX xmlns="%s" xmlns:pskc="%s" contentId="%s" version="2.3">`+"\n", CPIXNamespace, PSKCNamespace, esc(doc.ContentID))
	b.WriteString("  <ContentKeyList>\n")
	for _, k := range doc.Keys {
		scheme := ""
		if s := doc.Schemes[k.KID]; s != "" {
			scheme = fmt.Sprintf(` commonEncryptionScheme="%s"`, esc(string(s)))
		}
		if iv := doc.ExplicitIVs[k.KID]; len(iv) > 0 {
			if len(iv) != 16 {
				return fmt.Errorf("cpix: explicit IV of key %s has %d bytes, want 16", k.KID, len(iv))
			}
			scheme += fmt.Sprintf(` explicitIV="%s"`, base64.StdEncoding.EncodeToString(iv))
		}
		fmt.Fprintf(&b, "    <ContentKey kid=\"%s\"%s><Data><pskc:Secret><pskc:PlainValue>%s</pskc:PlainValue></pskc:Secret></Data></ContentKey>\n",
			k.KID, scheme, base64.StdEncoding.EncodeToString(k.Key[:]))
	}
	b.WriteString("  </ContentKeyList>\n")
	if len(doc.DRMSystems) > 0 {
		b.WriteString("  <DRMSystemList>\n")
		for _, d := range doc.DRMSystems {
			fmt.Fprintf(&b, "    <DRMSystem kid=\"%s\" systemId=\"%s\">\n", d.KID, esc(d.SystemID))
			if len(d.PSSH) > 0 {
				fmt.Fprintf(&b, "      <PSSH>%s</PSSH>\n", base64.StdEncoding.EncodeToString(d.PSSH))
			}
			if d.ContentProtectionData != "" {
				fmt.Fprintf(&b, "      <ContentProtectionData>%s</ContentProtectionData>\n", base64.StdEncoding.EncodeToString([]byte(d.ContentProtectionData)))
			}
			if d.HLSSignalingMedia != "" {
				fmt.Fprintf(&b, "      <HLSSignalingData playlist=\"media\">%s</HLSSignalingData>\n", base64.StdEncoding.EncodeToString([]byte(d.HLSSignalingMedia)))
			}
			if d.HLSSignalingMaster != "" {
				fmt.Fprintf(&b, "      <HLSSignalingData playlist=\"master\">%s</HLSSignalingData>\n", base64.StdEncoding.EncodeToString([]byte(d.HLSSignalingMaster)))
			}
			b.WriteString("    </DRMSystem>\n")
		}
		b.WriteString("  </DRMSystemList>\n")
	}
	b.WriteString("  <ContentKeyUsageRuleList>\n")
	for _, k := range doc.Keys {
		for _, r := range usageRules(doc.Keys, k) {
			fmt.Fprintf(&b, "    <ContentKeyUsageRule kid=\"%s\" intendedTrackType=\"%s\">%s</ContentKeyUsageRule>\n",
				k.KID, esc(r.trackType), r.filter)
		}
	}
	b.WriteString("  </ContentKeyUsageRuleList>\n</CPIX>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

type usageRule struct{ trackType, filter string }

// usageRules returns the CPIX usage rules of k. A TrackAll key alone has one rule without a
// filter (CPIX: a rule without filters matches all content); next to per-type keys it has one
// rule per track type it covers, each with that type's filter, so that no content matches
// two keys' rules (CPIX requires the mapping of content to keys to be unambiguous). Its rules
// keep intendedTrackType ALL, which ReadCPIX reads back.
func usageRules(keys []ContentKey, k ContentKey) []usageRule {
	switch {
	case k.TrackType == "":
		return nil
	case k.TrackType != TrackAll:
		return []usageRule{{k.TrackType, usageFilter(k.TrackType)}}
	}
	covered := CoveredTypes(keys, k)
	if len(covered) == len(TrackTypes) {
		return []usageRule{{TrackAll, ""}}
	}
	var out []usageRule
	for _, tt := range covered {
		out = append(out, usageRule{TrackAll, usageFilter(tt)})
	}
	return out
}

// usageFilter returns the CPIX filter for a track type, matching TrackTypeFor's thresholds
// (SD below 720 lines ≈ up to 768x576, HD up to 1920x1088, UHD above).
func usageFilter(trackType string) string {
	switch trackType {
	case TrackAudio:
		return "<AudioFilter/>"
	case TrackSD:
		return `<VideoFilter maxPixels="921599"/>`
	case TrackHD:
		return `<VideoFilter minPixels="921600" maxPixels="2088960"/>`
	case TrackUHD:
		return `<VideoFilter minPixels="2088961"/>`
	}
	return ""
}

// ReadCPIX reads a CPIX document from Satchel or another vendor. Unknown elements are
// ignored; encrypted key values (a DeliveryDataList) are reported as unsupported.
func ReadCPIX(r io.Reader) (*CPIXDocument, error) {
	var x xCPIX
	dec := xml.NewDecoder(io.LimitReader(r, 16<<20))
	if err := dec.Decode(&x); err != nil {
		return nil, fmt.Errorf("cpix: not a CPIX XML document: %w", err)
	}
	doc := &CPIXDocument{ContentID: x.ContentID, Schemes: map[KID]Scheme{}}
	types := map[KID]string{}
	for _, ru := range x.Rules {
		if kid, err := ParseKID(ru.KID); err == nil {
			if types[kid] != TrackAll { // a key with any ALL rule is the key for every other track
				types[kid] = strings.ToUpper(ru.TrackType)
			}
		}
	}
	seen := map[KID]bool{}
	for _, k := range x.Keys {
		kid, err := ParseKID(k.KID)
		if err != nil {
			return nil, fmt.Errorf("cpix: ContentKey: %w", err)
		}
		if seen[kid] {
			return nil, fmt.Errorf("cpix: key ID %s appears twice in ContentKeyList; each key needs its own KID", kid)
		}
		seen[kid] = true
		if strings.TrimSpace(k.Plain) == "" {
			if k.Cipher != "" {
				return nil, fmt.Errorf("cpix: the key %s is encrypted for a recipient (DeliveryData); export the CPIX with plain keys", kid)
			}
			return nil, fmt.Errorf("cpix: ContentKey %s has no key value", kid)
		}
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(k.Plain))
		if err != nil || len(raw) != 16 {
			return nil, fmt.Errorf("cpix: ContentKey %s: PlainValue is not base64 of a 16-byte key", kid)
		}
		ck := ContentKey{KID: kid, TrackType: types[kid]}
		copy(ck.Key[:], raw)
		doc.Keys = append(doc.Keys, ck)
		if k.Scheme != "" {
			doc.Schemes[kid] = Scheme(k.Scheme)
		}
		if v := strings.TrimSpace(k.IV); v != "" {
			iv, err := base64.StdEncoding.DecodeString(v)
			if err != nil || len(iv) != 16 {
				return nil, fmt.Errorf("cpix: ContentKey %s: explicitIV is not base64 of 16 bytes", kid)
			}
			if doc.ExplicitIVs == nil {
				doc.ExplicitIVs = map[KID][]byte{}
			}
			doc.ExplicitIVs[kid] = iv
		}
	}
	for _, s := range x.Systems {
		kid, err := ParseKID(s.KID)
		if err != nil {
			return nil, fmt.Errorf("cpix: DRMSystem: %w", err)
		}
		d := CPIXDRMSystem{SystemID: strings.ToLower(strings.TrimSpace(s.SystemID)), KID: kid}
		dec64 := func(v string) ([]byte, error) { return base64.StdEncoding.DecodeString(strings.TrimSpace(v)) }
		if s.PSSH != "" {
			if d.PSSH, err = dec64(s.PSSH); err != nil {
				return nil, fmt.Errorf("cpix: DRMSystem %s PSSH is not base64", d.SystemID)
			}
		}
		if s.CPD != "" {
			b, err := dec64(s.CPD)
			if err != nil {
				return nil, fmt.Errorf("cpix: DRMSystem %s ContentProtectionData is not base64", d.SystemID)
			}
			d.ContentProtectionData = string(b)
		}
		for _, h := range s.HLS {
			b, err := dec64(h.Value)
			if err != nil {
				return nil, fmt.Errorf("cpix: DRMSystem %s HLSSignalingData is not base64", d.SystemID)
			}
			if h.Playlist == "master" || h.Playlist == "multiVariant" {
				d.HLSSignalingMaster = string(b)
			} else {
				d.HLSSignalingMedia = string(b)
			}
		}
		doc.DRMSystems = append(doc.DRMSystems, d)
	}
	if len(doc.Keys) == 0 && len(doc.DRMSystems) == 0 {
		return nil, errors.New("cpix: the document has no ContentKey and no DRMSystem")
	}
	return doc, nil
}

// ReadCPIXFile reads the CPIX document at path. A document without content keys is an error:
// every caller reads CPIX for its keys.
func ReadCPIXFile(path string) (*CPIXDocument, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read CPIX %s: %w", path, err)
	}
	defer f.Close()
	doc, err := ReadCPIX(f)
	if err != nil {
		return nil, fmt.Errorf("read CPIX %s: %w", path, err)
	}
	if len(doc.Keys) == 0 {
		return nil, fmt.Errorf("read CPIX %s: the document holds no content keys", path)
	}
	return doc, nil
}
