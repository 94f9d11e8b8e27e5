package drm

import (
	"bytes"
	"crypto/aes"
	"encoding/base64"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
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

// PlayReadyChecksum returns the WRMHEADER CHECKSUM for an AESCTR key: AES-128-ECB of the
// little-endian KID under the content key, first 8 bytes, base64 (Shaka
// GeneratePlayReadyPsshData; Bento4 ComputePlayReadyChecksum).
func PlayReadyChecksum(key [16]byte, kid KID) string {
	c, _ := aes.NewCipher(key[:]) // a 16-byte key never fails
	le := kid.PlayReadyLE()
	var out [16]byte
	c.Encrypt(out[:], le[:])
	return base64.StdEncoding.EncodeToString(out[:8])
}

// PlayReadyObject builds a PlayReady Object (PRO) for the keys: WRMHEADER 4.0.0.0 for a single
// cenc key, 4.2.0.0 for several cenc keys and 4.3.0.0 for cbcs (ALGID AESCBC, PlayReady 4+
// clients). Attributes are written in alphabetical order and every element closed
// explicitly, as the header specification requires. laURL is optional.
func PlayReadyObject(keys []ContentKey, scheme, laURL string) ([]byte, error) {
	if len(keys) == 0 {
		return nil, errors.New("playready header: no keys")
	}
	var x strings.Builder
	esc := func(s string) string {
		var b bytes.Buffer
		_ = xml.EscapeText(&b, []byte(s))
		return b.String()
	}
	la := ""
	if laURL != "" {
		la = "<LA_URL>" + esc(laURL) + "</LA_URL>"
	}
	switch {
	case scheme == "cenc" && len(keys) == 1:
		k := keys[0]
		fmt.Fprintf(&x, `<WRMHEADER xmlns="%s" version="4.0.0.0"><DATA><PROTECTINFO><KEYLEN>16</KEYLEN><ALGID>AESCTR</ALGID></PROTECTINFO><KID>%s</KID><CHECKSUM>%s</CHECKSUM>%s</DATA></WRMHEADER>`,
			PlayReadyHeaderNS, k.KID.PlayReadyBase64(), PlayReadyChecksum(k.Key, k.KID), la)
	case scheme == "cenc" || scheme == "cbcs":
		version, alg := "4.2.0.0", "AESCTR"
		if scheme == "cbcs" {
			version, alg = "4.3.0.0", "AESCBC"
		}
		fmt.Fprintf(&x, `<WRMHEADER xmlns="%s" version="%s"><DATA><PROTECTINFO><KIDS>`, PlayReadyHeaderNS, version)
		for _, k := range keys {
			if alg == "AESCTR" {
				fmt.Fprintf(&x, `<KID ALGID="%s" CHECKSUM="%s" VALUE="%s"></KID>`, alg, PlayReadyChecksum(k.Key, k.KID), k.KID.PlayReadyBase64())
			} else {
				// No CHECKSUM for AESCBC: its definition is not published; Shaka omits it too.
				fmt.Fprintf(&x, `<KID ALGID="%s" VALUE="%s"></KID>`, alg, k.KID.PlayReadyBase64())
			}
		}
		fmt.Fprintf(&x, `</KIDS></PROTECTINFO>%s</DATA></WRMHEADER>`, la)
	default:
		return nil, fmt.Errorf("playready header: scheme %q is not cenc or cbcs", scheme)
	}
	u := utf16.Encode([]rune(x.String()))
	rec := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(rec[2*i:], c)
	}
	total := 4 + 2 + 2 + 2 + len(rec)
	if total > proMaxSize {
		return nil, fmt.Errorf("playready header: %d bytes exceeds the 15 KB PlayReady Object limit; use fewer keys or a shorter LA_URL", total)
	}
	pro := make([]byte, 0, total)
	pro = binary.LittleEndian.AppendUint32(pro, uint32(total))
	pro = binary.LittleEndian.AppendUint16(pro, 1)
	pro = binary.LittleEndian.AppendUint16(pro, proRecordHeader)
	pro = binary.LittleEndian.AppendUint16(pro, uint16(len(rec)))
	return append(pro, rec...), nil
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
		if n > len(p) || n%2 != 0 {
			return nil, fmt.Errorf("playready object: record %d has a bad length %d", i+1, n)
		}
		if typ == proRecordHeader {
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
	s := string(utf16.Decode(u))
	var w wrmHeader
	if err := xml.Unmarshal([]byte(s), &w); err != nil {
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
