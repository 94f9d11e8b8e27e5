package license

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"satchel/engine/drm"
	"satchel/engine/policy"
)

// ClearKeyRequest is the W3C EME ClearKey license request.
type ClearKeyRequest struct {
	KIDs []string `json:"kids"`
	Type string   `json:"type,omitempty"` // temporary | persistent-license
}

// JWK is one ClearKey key.
type JWK struct {
	Kty string `json:"kty"`
	K   string `json:"k"`
	KID string `json:"kid"`
}

// ClearKeyResponse is the JWK set answer. Satchel adds one member, satchel_license, with the
// license's clocks; EME implementations read only keys and type.
type ClearKeyResponse struct {
	Keys    []JWK          `json:"keys"`
	Type    string         `json:"type,omitempty"`
	Satchel *ClearKeyTerms `json:"satchel_license,omitempty"`
}

// ClearKeyExtensionVersion names the satchel_license member's format
// (docs/license-protocol.md).
const ClearKeyExtensionVersion = "satchel-clearkey-ext-v1"

// ClearKeyTerms is Satchel's extension of a ClearKey license: when it was issued, under which
// policy, and its clocks (session type and, for a persistent-license, how long it may be kept).
type ClearKeyTerms struct {
	Version    string     `json:"version"`
	IssuedAt   time.Time  `json:"issued_at"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	PolicyName string     `json:"policy_name,omitempty"`
	Clocks     *Clocks    `json:"clocks"`
}

// decodeStrict decodes body, which must hold exactly one JSON value (white space aside): a
// body with trailing data is refused, not half read.
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// ParseClearKeyRequest decodes and checks a ClearKey request body.
func ParseClearKeyRequest(body []byte) (*ClearKeyRequest, []drm.KID, error) {
	var req ClearKeyRequest
	if err := decodeStrict(body, &req); err != nil {
		return nil, nil, errorf(http.StatusBadRequest, "not a ClearKey request: %v; send {\"kids\":[\"<base64url KID>\"],\"type\":\"temporary\"}", err)
	}
	if req.Type == "" {
		req.Type = "temporary"
	}
	if req.Type != "temporary" && req.Type != "persistent-license" {
		return nil, nil, errorf(http.StatusBadRequest, "session type %q is not temporary or persistent-license", req.Type)
	}
	var kids []drm.KID
	for _, s := range req.KIDs {
		raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
		if err != nil || len(raw) != 16 {
			return nil, nil, errorf(http.StatusBadRequest, "kid %q is not base64url of 16 bytes", s)
		}
		kids = append(kids, drm.KID(raw))
	}
	if len(kids) == 0 {
		return nil, nil, errorf(http.StatusBadRequest, "the request names no key IDs")
	}
	return &req, kids, nil
}

func (s *Server) clearKey(r *http.Request, body []byte) (any, error) {
	req, kids, err := ParseClearKeyRequest(body)
	if err != nil {
		return nil, err
	}
	p := s.currentPolicy()
	if p != nil && p.ClearKey == nil {
		return nil, errorf(http.StatusForbidden, "the policy %q does not license ClearKey", p.Name)
	}
	if err := s.authorize(r, p, kids); err != nil {
		return nil, err
	}
	if req.Type == "persistent-license" && p != nil && p.ClearKey.LicenseType != "persistent-license" {
		return nil, errorf(http.StatusForbidden, "the policy %q does not allow persistent licenses (offline); it allows %s sessions", p.Name, p.ClearKey.LicenseType)
	}
	keys, err := s.lookup(kids)
	if err != nil {
		return nil, err
	}
	now := s.Now().UTC().Truncate(time.Second)
	resp := ClearKeyResponse{Type: req.Type, Satchel: clearKeyTerms(p, req.Type, now)}
	var ids []string
	for _, k := range keys {
		resp.Keys = append(resp.Keys, JWK{Kty: "oct", K: base64.RawURLEncoding.EncodeToString(k.Key[:]), KID: k.KID.Base64URL()})
		ids = append(ids, k.KID.String())
	}
	e := Entry{
		Time:       now,
		System:     string(drm.ClearKey),
		Type:       req.Type,
		KIDs:       ids,
		Persistent: req.Type == SessionPersistent,
		Client:     r.UserAgent(),
		Remote:     r.RemoteAddr,
		Decision:   DecisionIssued,
	}
	e.setRequester(r)
	if p != nil {
		e.Policy = p.Name
	}
	if exp := resp.Satchel.ExpiresAt; exp != nil {
		e.ExpiresAt = exp.Format(time.RFC3339)
	}
	if err := s.record(e); err != nil {
		return nil, err
	}
	return resp, nil
}

// clearKeyTerms builds the satchel_license member for a session of sessionType issued at now:
// a persistent-license carries the policy's duration; a temporary one has none.
func clearKeyTerms(p *policy.Policy, sessionType string, now time.Time) *ClearKeyTerms {
	c := &ClearKeyClocks{SessionType: sessionType}
	t := &ClearKeyTerms{Version: ClearKeyExtensionVersion, IssuedAt: now, Clocks: &Clocks{ClearKey: c}}
	if p != nil {
		t.PolicyName = p.Name
		if sessionType == SessionPersistent && p.ClearKey != nil {
			c.DurationSeconds = p.ClearKey.DurationSeconds
		}
	}
	if exp := t.Clocks.ExpiresAt(now); !exp.IsZero() {
		t.ExpiresAt = &exp
	}
	return t
}
