package license

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"golang.org/x/crypto/hkdf"

	"satchel/engine/drm"
)

// ProtocolVersion names the Satchel test license protocol (docs/license-protocol.md). v2 added
// the license clocks; it also keys the HKDF derivation, so v1 and v2 peers do not mix.
const ProtocolVersion = "satchel-test-license-v2"

// TestRequest is a test-protocol license request.
type TestRequest struct {
	InitData        string `json:"init_data"`         // base64: Widevine pssh box, PlayReady pssh box or PRO, FairPlay skd URI
	ClientPublicKey string `json:"client_public_key"` // base64 uncompressed P-256 point (65 bytes)
	Client          string `json:"client,omitempty"`
	Nonce           string `json:"nonce,omitempty"` // echoed, for replay checks by the client
}

// WrappedKey is one content key encrypted for the client.
type WrappedKey struct {
	KID        string `json:"kid"`        // UUID
	Nonce      string `json:"nonce"`      // base64 12-byte AES-GCM nonce
	Ciphertext string `json:"ciphertext"` // base64 AES-256-GCM(key) with the KID bytes as AAD
}

// LicenseBody is the signed part of a test license.
type LicenseBody struct {
	Protocol        string          `json:"protocol"`
	System          string          `json:"system"`
	KIDs            []string        `json:"kids"`
	WrappedKeys     []WrappedKey    `json:"wrapped_keys"`
	ServerPublicKey string          `json:"server_public_key"` // base64 ephemeral P-256 point
	Policy          json.RawMessage `json:"policy"`            // the system's policy, secrets removed; null when none
	PolicyName      string          `json:"policy_name,omitempty"`
	Persistent      bool            `json:"persistent"`
	IssuedAt        time.Time       `json:"issued_at"`
	ExpiresAt       *time.Time      `json:"expires_at,omitempty"`
	// Clocks are the policy's time rules in the system's own terms (null without a policy).
	Clocks *Clocks `json:"clocks"`
	Nonce  string  `json:"nonce,omitempty"`
}

// TestResponse is the response: the body exactly as signed, and the Ed25519 signature over
// those bytes.
type TestResponse struct {
	License   json.RawMessage `json:"license"`
	Signature string          `json:"signature"`
}

// KIDsFromInitData extracts the KIDs a system's init data names.
func KIDsFromInitData(system drm.System, init []byte) ([]drm.KID, error) {
	switch system {
	case drm.FairPlay:
		kid, err := drm.ParseFairPlaySKD(strings.TrimSpace(string(init)))
		if err != nil {
			return nil, err
		}
		return []drm.KID{kid}, nil
	case drm.Widevine, drm.PlayReady:
		if len(init) >= 8 && string(init[4:8]) == "pssh" {
			box, err := drm.DecodePSSHBytes(init)
			if err != nil {
				return nil, err
			}
			if sys, _ := drm.SystemForID(box.SystemID); sys != system {
				return nil, fmt.Errorf("the pssh box is for system %s, not %s", drm.KID(box.SystemID), system)
			}
			info, err := drm.DecodePSSH(box)
			if err != nil {
				return nil, err
			}
			return info.KIDs, nil
		}
		if system == drm.PlayReady {
			h, err := drm.ParsePlayReadyObject(init)
			if err != nil {
				return nil, err
			}
			return h.KIDs, nil
		}
		return nil, fmt.Errorf("widevine init data must be a pssh box")
	}
	return nil, fmt.Errorf("system %s has no test license endpoint", system)
}

// ParseTestRequest decodes a test-protocol request.
func ParseTestRequest(system drm.System, body []byte) (*TestRequest, []drm.KID, *ecdh.PublicKey, error) {
	var req TestRequest
	if err := decodeStrict(body, &req); err != nil {
		return nil, nil, nil, errorf(http.StatusBadRequest, "not a test license request: %v; see docs/license-protocol.md", err)
	}
	init, err := base64.StdEncoding.DecodeString(req.InitData)
	if err != nil || len(init) == 0 {
		return nil, nil, nil, errorf(http.StatusBadRequest, "init_data must be base64 of the %s init data", system)
	}
	kids, err := KIDsFromInitData(system, init)
	if err != nil {
		return nil, nil, nil, errorf(http.StatusBadRequest, "%s init data: %v", system, err)
	}
	pubBytes, err := base64.StdEncoding.DecodeString(req.ClientPublicKey)
	if err != nil {
		return nil, nil, nil, errorf(http.StatusBadRequest, "client_public_key is not base64")
	}
	pub, err := ecdh.P256().NewPublicKey(pubBytes)
	if err != nil {
		return nil, nil, nil, errorf(http.StatusBadRequest, "client_public_key is not an uncompressed P-256 point: %v", err)
	}
	return &req, kids, pub, nil
}

// wrapKey derives the AES-256-GCM key from the ECDH shared secret (HKDF-SHA256, salt = nonce,
// info = protocol|system).
func wrapKey(shared []byte, nonce string, system drm.System) (cipher.AEAD, error) {
	k := make([]byte, 32)
	if _, err := io.ReadFull(hkdf.New(sha256.New, shared, []byte(nonce), []byte(ProtocolVersion+"|"+string(system))), k); err != nil {
		return nil, err
	}
	blk, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(blk)
}

func (s *Server) testLicense(r *http.Request, system drm.System, body []byte) (any, error) {
	req, kids, clientPub, err := ParseTestRequest(system, body)
	if err != nil {
		return nil, err
	}
	p := s.currentPolicy()
	var pol json.RawMessage = json.RawMessage("null")
	persistent := false
	name := ""
	if p != nil {
		if pol = p.For(system); pol == nil {
			return nil, errorf(http.StatusForbidden, "the policy %q does not license %s", p.Name, system.Title())
		}
		persistent = p.Persistent(system)
		name = p.Name
	}
	if err := s.authorize(r, p, kids); err != nil {
		return nil, err
	}
	keys, err := s.lookup(kids)
	if err != nil {
		return nil, err
	}
	now := s.Now().UTC().Truncate(time.Second)
	clocks, err := ClocksFor(p, system, now)
	if err != nil {
		return nil, errorf(http.StatusInternalServerError, "the policy %q cannot be applied: %v", name, err)
	}
	lb := LicenseBody{Protocol: ProtocolVersion, System: string(system), Policy: pol, PolicyName: name,
		Persistent: persistent, IssuedAt: now, Clocks: clocks, Nonce: req.Nonce}
	if exp := clocks.ExpiresAt(now); !exp.IsZero() {
		lb.ExpiresAt = &exp
	}
	if err := wrapKeys(&lb, keys, clientPub, req.Nonce, system); err != nil {
		return nil, err
	}
	raw, err := json.Marshal(lb)
	if err != nil {
		return nil, err
	}
	e := Entry{Time: now, System: string(system), Type: "test-license", KIDs: lb.KIDs, Persistent: persistent,
		Policy: name, Client: req.Client, Remote: r.RemoteAddr, Decision: DecisionIssued}
	e.setRequester(r)
	if lb.ExpiresAt != nil {
		e.ExpiresAt = lb.ExpiresAt.Format(time.RFC3339)
	}
	if err := s.record(e); err != nil {
		return nil, err
	}
	return TestResponse{License: raw, Signature: base64.StdEncoding.EncodeToString(ed25519.Sign(s.Signer, raw))}, nil
}

// wrapKeys agrees a key with the client (ephemeral P-256), wraps every content key with
// AES-256-GCM and fills lb's KIDs, wrapped keys and server public key.
func wrapKeys(lb *LicenseBody, keys []drm.ContentKey, clientPub *ecdh.PublicKey, nonce string,
	system drm.System) error {
	eph, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	shared, err := eph.ECDH(clientPub)
	if err != nil {
		return errorf(http.StatusBadRequest, "key agreement failed: %v", err)
	}
	aead, err := wrapKey(shared, nonce, system)
	if err != nil {
		return err
	}
	lb.ServerPublicKey = base64.StdEncoding.EncodeToString(eph.PublicKey().Bytes())
	for _, k := range keys {
		n := make([]byte, aead.NonceSize())
		if _, err := rand.Read(n); err != nil {
			return err
		}
		ct := aead.Seal(nil, n, k.Key[:], k.KID[:])
		lb.KIDs = append(lb.KIDs, k.KID.String())
		lb.WrappedKeys = append(lb.WrappedKeys, WrappedKey{KID: k.KID.String(),
			Nonce: base64.StdEncoding.EncodeToString(n), Ciphertext: base64.StdEncoding.EncodeToString(ct)})
	}
	return nil
}
