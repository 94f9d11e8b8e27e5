package license

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"satchel/engine/drm"
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

// ClearKeyResponse is the JWK set answer.
type ClearKeyResponse struct {
	Keys []JWK  `json:"keys"`
	Type string `json:"type,omitempty"`
}

// ParseClearKeyRequest decodes and checks a ClearKey request body.
func ParseClearKeyRequest(body []byte) (*ClearKeyRequest, []drm.KID, error) {
	var req ClearKeyRequest
	dec := json.NewDecoder(strings.NewReader(string(body)))
	if err := dec.Decode(&req); err != nil {
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
	resp := ClearKeyResponse{Type: req.Type}
	var ids []string
	for _, k := range keys {
		resp.Keys = append(resp.Keys, JWK{Kty: "oct", K: base64.RawURLEncoding.EncodeToString(k.Key[:]), KID: k.KID.Base64URL()})
		ids = append(ids, k.KID.String())
	}
	now := s.Now()
	e := Entry{Time: now, System: string(drm.ClearKey), Type: req.Type, KIDs: ids, Persistent: req.Type == "persistent-license", Client: r.UserAgent(), Remote: r.RemoteAddr}
	if p != nil {
		e.Policy = p.Name
		if exp := expiry(p, drm.ClearKey, now); !exp.IsZero() {
			e.ExpiresAt = exp.Format(time.RFC3339)
		}
	}
	s.record(e)
	return resp, nil
}
