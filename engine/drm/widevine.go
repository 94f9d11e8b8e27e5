package drm

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/Eyevinn/mp4ff/mp4"
	"google.golang.org/protobuf/encoding/protowire"
)

// WidevinePSSHData is the decoded WidevinePsshData protobuf (shaka-packager
// widevine_pssh_data.proto, proto2).
type WidevinePSSHData struct {
	Algorithm         int    `json:"algorithm,omitempty"` // 1 = AESCTR (written for cenc only)
	KeyIDs            []KID  `json:"key_ids"`
	Provider          string `json:"provider,omitempty"`
	ContentID         []byte `json:"content_id,omitempty"`
	Policy            string `json:"policy,omitempty"`
	ProtectionScheme  string `json:"protection_scheme,omitempty"` // cenc, cbcs, cens, cbc1
	CryptoPeriodIndex uint32 `json:"crypto_period_index,omitempty"`
}

// Field numbers of WidevinePsshData.
const (
	wvAlgorithm        = 1
	wvKeyID            = 2
	wvProvider         = 3
	wvContentID        = 4
	wvPolicy           = 6
	wvCryptoPeriod     = 7
	wvProtectionScheme = 9
)

// fourCC packs a four-character scheme name as a big-endian uint32 ('cenc' = 0x63656e63).
func fourCC(s string) (uint32, error) {
	if len(s) != 4 {
		return 0, fmt.Errorf("protection scheme %q is not a four-character code", s)
	}
	return binary.BigEndian.Uint32([]byte(s)), nil
}

// MarshalWidevinePSSHData encodes d as protobuf in field order, as shaka-packager and Bento4 do.
func MarshalWidevinePSSHData(d *WidevinePSSHData) ([]byte, error) {
	var b []byte
	if d.Algorithm != 0 {
		b = protowire.AppendTag(b, wvAlgorithm, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(d.Algorithm))
	}
	for _, k := range d.KeyIDs {
		b = protowire.AppendTag(b, wvKeyID, protowire.BytesType)
		b = protowire.AppendBytes(b, k[:])
	}
	if d.Provider != "" {
		b = protowire.AppendTag(b, wvProvider, protowire.BytesType)
		b = protowire.AppendString(b, d.Provider)
	}
	if len(d.ContentID) > 0 {
		b = protowire.AppendTag(b, wvContentID, protowire.BytesType)
		b = protowire.AppendBytes(b, d.ContentID)
	}
	if d.Policy != "" {
		b = protowire.AppendTag(b, wvPolicy, protowire.BytesType)
		b = protowire.AppendString(b, d.Policy)
	}
	if d.CryptoPeriodIndex != 0 {
		b = protowire.AppendTag(b, wvCryptoPeriod, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(d.CryptoPeriodIndex))
	}
	if d.ProtectionScheme != "" {
		v, err := fourCC(d.ProtectionScheme)
		if err != nil {
			return nil, err
		}
		b = protowire.AppendTag(b, wvProtectionScheme, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(v))
	}
	return b, nil
}

// ParseWidevinePSSHData decodes WidevinePsshData bytes (the Data of a Widevine pssh box).
// Unknown fields are skipped, as protobuf requires.
func ParseWidevinePSSHData(b []byte) (*WidevinePSSHData, error) {
	d := &WidevinePSSHData{}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, fmt.Errorf("widevine pssh data: bad tag: %w", protowire.ParseError(n))
		}
		b = b[n:]
		switch {
		case typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return nil, fmt.Errorf("widevine pssh data: field %d: %w", num, protowire.ParseError(n))
			}
			b = b[n:]
			switch num {
			case wvAlgorithm:
				d.Algorithm = int(v)
			case wvCryptoPeriod:
				d.CryptoPeriodIndex = uint32(v)
			case wvProtectionScheme:
				var s [4]byte
				binary.BigEndian.PutUint32(s[:], uint32(v))
				d.ProtectionScheme = string(s[:])
			}
		case typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return nil, fmt.Errorf("widevine pssh data: field %d: %w", num, protowire.ParseError(n))
			}
			b = b[n:]
			switch num {
			case wvKeyID:
				if len(v) != 16 {
					return nil, fmt.Errorf("widevine pssh data: key_id of %d bytes, want 16", len(v))
				}
				d.KeyIDs = append(d.KeyIDs, KID(v))
			case wvProvider:
				d.Provider = string(v)
			case wvContentID:
				d.ContentID = append([]byte(nil), v...)
			case wvPolicy:
				d.Policy = string(v)
			}
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return nil, fmt.Errorf("widevine pssh data: field %d: %w", num, protowire.ParseError(n))
			}
			b = b[n:]
		}
	}
	if len(d.KeyIDs) == 0 && len(d.ContentID) == 0 {
		return nil, errors.New("widevine pssh data: neither key_id nor content_id present")
	}
	return d, nil
}

// WidevinePSSH returns a version-0 Widevine pssh box for the KIDs, with the provider and
// content_id when given. For cenc it also sets algorithm=AESCTR (as Bento4 does);
// protection_scheme is always written so that cbcs content is announced to the CDM.
func WidevinePSSH(kids []KID, scheme Scheme, provider string, contentID []byte) (*mp4.PsshBox, error) {
	if len(kids) == 0 {
		return nil, errors.New("widevine pssh: no key IDs")
	}
	d := &WidevinePSSHData{KeyIDs: kids, Provider: provider, ContentID: contentID, ProtectionScheme: string(scheme)}
	if scheme == SchemeCENC {
		d.Algorithm = 1
	}
	data, err := MarshalWidevinePSSHData(d)
	if err != nil {
		return nil, fmt.Errorf("widevine pssh: %w", err)
	}
	return &mp4.PsshBox{Version: 0, SystemID: Widevine.SystemID(), Data: data}, nil
}

// CommonPSSH returns the W3C common-format pssh (version 1, KIDs listed, no data) used by
// ClearKey (w3c/encrypted-media format-registry, "cenc" initialization data).
func CommonPSSH(kids []KID) *mp4.PsshBox {
	b := &mp4.PsshBox{Version: 1, SystemID: ClearKey.SystemID()}
	for _, k := range kids {
		b.KIDs = append(b.KIDs, mp4.UUID(append([]byte(nil), k[:]...)))
	}
	return b
}
