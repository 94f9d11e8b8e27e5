package drm

import (
	"bytes"
	"crypto/aes"
	"encoding/base64"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf16"

	"github.com/Eyevinn/mp4ff/mp4"
)

// PlayReadyHeaderNS is the WRMHEADER XML namespace.
const PlayReadyHeaderNS = "http://schemas.microsoft.com/DRM/2007/03/PlayReadyHeader"

// PlayReady Object record types (PlayReady Header Specification).
const (
	proRecordHeader = 0x0001
	proRecordELS    = 0x0003
	proMaxSize      = 15 * 1024
)

// PlayReadyChecksum returns the WRMHEADER CHECKSUM for an AESCTR key: the little-endian KID
// encrypted with the content key in AES-128-ECB, first 8 bytes, base64 (PlayReady Header
// Specification section 5, "Key Checksum Algorithm"). AESCBC keys have no checksum.
func PlayReadyChecksum(key [16]byte, kid KID) string {
	c, _ := aes.NewCipher(key[:]) // a 16-byte key never fails
	le := kid.PlayReadyLE()
	var out [16]byte
	c.Encrypt(out[:], le[:])
	return base64.StdEncoding.EncodeToString(out[:8])
}

// WRMHEADER versions Satchel writes.
const (
	PlayReadyHeaderV40 = "4.0.0.0" // one AESCTR key; PlayReady 1+
	PlayReadyHeaderV42 = "4.2.0.0" // several AESCTR keys; PlayReady 3+
	PlayReadyHeaderV43 = "4.3.0.0" // AESCBC (cbcs) keys; PlayReady 4+
)

// PlayReadyObject builds a PlayReady Object (PRO) for the keys: WRMHEADER 4.0.0.0 for a single
// cenc key (readable by every PlayReady client), 4.2.0.0 for several cenc keys and 4.3.0.0 for
// cbcs (ALGID AESCBC, PlayReady 4+ clients). laURL is optional.
func PlayReadyObject(keys []ContentKey, scheme Scheme, laURL string) ([]byte, error) {
	if len(keys) == 0 {
		return nil, errors.New("playready header: no keys")
	}
	var version string
	switch {
	case scheme == SchemeCENC && len(keys) == 1:
		version = PlayReadyHeaderV40
	case scheme == SchemeCENC:
		version = PlayReadyHeaderV42
	case scheme == SchemeCBCS:
		version = PlayReadyHeaderV43
	default:
		return nil, fmt.Errorf("playready header: scheme %q is not cenc or cbcs", scheme)
	}
	return wrapPRO(wrmHeaderXML(keys, version, laURL))
}

// wrmHeaderXML renders a WRMHEADER. Attributes are in alphabetical order and every element is
// closed explicitly, as the header specification's syntax requirements demand; there is no
// XML declaration and no whitespace between elements. 4.0.0.0 takes exactly one key.
func wrmHeaderXML(keys []ContentKey, version, laURL string) string {
	var x strings.Builder
	la := ""
	if laURL != "" {
		var b bytes.Buffer
		_ = xml.EscapeText(&b, []byte(laURL))
		la = "<LA_URL>" + b.String() + "</LA_URL>"
	}
	if version == PlayReadyHeaderV40 {
		k := keys[0]
		fmt.Fprintf(&x, `<WRMHEADER xmlns="%s" version="%s"><DATA><PROTECTINFO><KEYLEN>16</KEYLEN><ALGID>AESCTR</ALGID></PROTECTINFO><KID>%s</KID><CHECKSUM>%s</CHECKSUM>%s</DATA></WRMHEADER>`,
			PlayReadyHeaderNS, version, k.KID.PlayReadyBase64(), PlayReadyChecksum(k.Key, k.KID), la)
		return x.String()
	}
	fmt.Fprintf(&x, `<WRMHEADER xmlns="%s" version="%s"><DATA><PROTECTINFO><KIDS>`, PlayReadyHeaderNS, version)
	for _, k := range keys {
		if version == PlayReadyHeaderV43 {
			// Section 5: "For an ALGID value set to AESCBC, there is no Key Checksum
			// Algorithm defined. The CHECKSUM attribute must be omitted."
			fmt.Fprintf(&x, `<KID ALGID="AESCBC" VALUE="%s"></KID>`, k.KID.PlayReadyBase64())
		} else {
			fmt.Fprintf(&x, `<KID ALGID="AESCTR" CHECKSUM="%s" VALUE="%s"></KID>`, PlayReadyChecksum(k.Key, k.KID), k.KID.PlayReadyBase64())
		}
	}
	fmt.Fprintf(&x, `</KIDS></PROTECTINFO>%s</DATA></WRMHEADER>`, la)
	return x.String()
}

// wrapPRO encodes header XML as UTF-16LE and wraps it in a PlayReady Object with one record
// of type 1: Length (DWORD), Record Count (WORD), then Record Type (WORD), Record Length
// (WORD) and the value, all little-endian (header specification section 2).
func wrapPRO(header string) ([]byte, error) {
	u := utf16.Encode([]rune(header))
	total := 4 + 2 + 2 + 2 + 2*len(u)
	if total > proMaxSize {
		return nil, fmt.Errorf("playready header: %d bytes exceeds the 15 KB PlayReady Object limit; use fewer keys or a shorter LA_URL", total)
	}
	pro := make([]byte, 0, total)
	pro = binary.LittleEndian.AppendUint32(pro, uint32(total))
	pro = binary.LittleEndian.AppendUint16(pro, 1)
	pro = binary.LittleEndian.AppendUint16(pro, proRecordHeader)
	pro = binary.LittleEndian.AppendUint16(pro, uint16(2*len(u)))
	for _, c := range u {
		pro = binary.LittleEndian.AppendUint16(pro, c)
	}
	return pro, nil
}

// PlayReadyPSSH wraps a PlayReady Object in a version-0 pssh box.
func PlayReadyPSSH(pro []byte) *mp4.PsshBox {
	return &mp4.PsshBox{Version: 0, SystemID: PlayReady.SystemID(), Data: pro}
}

// PlayReadyHeader is a decoded WRMHEADER.
type PlayReadyHeader struct {
	Version   string            `json:"version"`
	KIDs      []KID             `json:"kids"`
	Checksums map[string]string `json:"checksums,omitempty"` // KID (UUID) → CHECKSUM
	AlgID     string            `json:"algid,omitempty"`
	LAURL     string            `json:"la_url,omitempty"`
	LUIURL    string            `json:"lui_url,omitempty"`
	XML       string            `json:"xml"`
}

type wrmKID struct {
	AlgID    string `xml:"ALGID,attr"`
	Checksum string `xml:"CHECKSUM,attr"`
	Value    string `xml:"VALUE,attr"`
	Text     string `xml:",chardata"`
}

type wrmHeader struct {
	XMLName xml.Name `xml:"WRMHEADER"`
	Version string   `xml:"version,attr"`
	Data    struct {
		ProtectInfo struct {
			AlgID string   `xml:"ALGID"`
			KID   *wrmKID  `xml:"KID"`
			KIDs  []wrmKID `xml:"KIDS>KID"`
		} `xml:"PROTECTINFO"`
		KID      string `xml:"KID"`
		Checksum string `xml:"CHECKSUM"`
		LAURL    string `xml:"LA_URL"`
		LUIURL   string `xml:"LUI_URL"`
	} `xml:"DATA"`
}

// ParsePlayReadyObject decodes a PlayReady Object (the Data of a PlayReady pssh box, or the
// mspr:pro value) and its WRMHEADER record.
func ParsePlayReadyObject(b []byte) (*PlayReadyHeader, error) {
	if len(b) < 6 {
		return nil, fmt.Errorf("playready object: %d bytes is too short", len(b))
	}
	total := binary.LittleEndian.Uint32(b)
	if int64(total) != int64(len(b)) {
		return nil, fmt.Errorf("playready object: length field says %d bytes but there are %d", total, len(b))
	}
	count := int(binary.LittleEndian.Uint16(b[4:]))
	p := b[6:]
	for i := 0; i < count; i++ {
		if len(p) < 4 {
			return nil, fmt.Errorf("playready object: record %d truncated", i+1)
		}
		typ, n := binary.LittleEndian.Uint16(p), int(binary.LittleEndian.Uint16(p[2:]))
		p = p[4:]
		if n > len(p) {
			return nil, fmt.Errorf("playready object: record %d claims %d bytes but only %d remain", i+1, n, len(p))
		}
		if typ == proRecordHeader {
			if n%2 != 0 {
				return nil, fmt.Errorf("playready object: header record of odd length %d is not UTF-16", n)
			}
			return parseWRMHeader(p[:n])
		}
		p = p[n:]
	}
	return nil, errors.New("playready object: no PlayReady Header record (type 1)")
}

func parseWRMHeader(rec []byte) (*PlayReadyHeader, error) {
	u := make([]uint16, len(rec)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(rec[2*i:])
	}
	s := strings.TrimPrefix(string(utf16.Decode(u)), "\ufeff")
	var w wrmHeader
	dec := xml.NewDecoder(strings.NewReader(s))
	// The text is already decoded from UTF-16; some packagers still declare
	// encoding="utf-16", which must not make the decoder give up.
	dec.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	if err := dec.Decode(&w); err != nil {
		return nil, fmt.Errorf("playready header XML: %w", err)
	}
	h := &PlayReadyHeader{Version: w.Version, LAURL: strings.TrimSpace(w.Data.LAURL), LUIURL: strings.TrimSpace(w.Data.LUIURL), XML: s, Checksums: map[string]string{}}
	add := func(v, checksum, alg string) error {
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
		if err != nil || len(raw) != 16 {
			return fmt.Errorf("playready header: KID %q is not base64 of 16 bytes", v)
		}
		kid := KIDFromPlayReadyLE([16]byte(raw))
		h.KIDs = append(h.KIDs, kid)
		if checksum != "" {
			h.Checksums[kid.String()] = strings.TrimSpace(checksum)
		}
		if alg != "" {
			h.AlgID = alg
		}
		return nil
	}
	switch {
	case w.Data.KID != "":
		if err := add(w.Data.KID, w.Data.Checksum, w.Data.ProtectInfo.AlgID); err != nil {
			return nil, err
		}
	case w.Data.ProtectInfo.KID != nil:
		k := w.Data.ProtectInfo.KID
		if err := add(k.Value, k.Checksum, k.AlgID); err != nil {
			return nil, err
		}
	}
	for _, k := range w.Data.ProtectInfo.KIDs {
		if err := add(k.Value, k.Checksum, k.AlgID); err != nil {
			return nil, err
		}
	}
	if h.Version == "" {
		return nil, errors.New("playready header: WRMHEADER has no version attribute")
	}
	return h, nil
}

// CheckKey verifies the header's CHECKSUM for k (when the header carries one for its KID).
func (h *PlayReadyHeader) CheckKey(k ContentKey) error {
	want, ok := h.Checksums[k.KID.String()]
	if !ok {
		return nil
	}
	if got := PlayReadyChecksum(k.Key, k.KID); got != want {
		return fmt.Errorf("playready header: CHECKSUM %s for KID %s does not match the key (expected %s): the PRO was made with another key", want, k.KID, got)
	}
	return nil
}
