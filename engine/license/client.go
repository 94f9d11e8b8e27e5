package license

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"satchel/engine/drm"
)

// Client is the reference client of both protocols (the checker uses it).
type Client struct {
	BaseURL string // e.g. http://127.0.0.1:8787
	Token   string // bearer JWT, optional
	HTTP    *http.Client
	// ServerKey pins the Ed25519 key; when nil it is fetched from /license/publickey.
	ServerKey ed25519.PublicKey
	// Device, when set, is sent as X-Satchel-Device so the server's ledger names the device.
	Device string
	// ScenarioTime, when set, is sent as X-Satchel-Scenario-Time (a simulated scenario's time
	// label) for the ledger.
	ScenarioTime string
}

// NewClient returns a client for baseURL.
func NewClient(baseURL, token string) *Client {
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), Token: token, HTTP: &http.Client{Timeout: 15 * time.Second}}
}

// License is a verified license with its keys unwrapped.
type License struct {
	System     drm.System       `json:"system"`
	Keys       []drm.ContentKey `json:"-"`
	KIDs       []string         `json:"kids"`
	Policy     json.RawMessage  `json:"policy,omitempty"`
	PolicyName string           `json:"policy_name,omitempty"`
	Persistent bool             `json:"persistent"`
	ExpiresAt  *time.Time       `json:"expires_at,omitempty"`
	// IssuedAt is the server's clock when it issued the license (zero for a ClearKey server
	// without Satchel's extension).
	IssuedAt time.Time `json:"issued_at"`
	// Clocks are the license's time rules in the system's terms; nil when the server sent
	// none (no policy, or a ClearKey server without Satchel's extension).
	Clocks      *Clocks `json:"clocks,omitempty"`
	SessionType string  `json:"session_type,omitempty"` // ClearKey
	RawRequest  []byte  `json:"-"`
	RawResponse []byte  `json:"-"`
}

// StatusError is a non-200 answer from the server.
type StatusError struct {
	Status int
	Reason string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("license server answered %d: %s", e.Status, e.Reason)
}

func (c *Client) post(ctx context.Context, path string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BaseURL+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	if c.Device != "" {
		req.Header.Set(HeaderDevice, c.Device)
	}
	if c.ScenarioTime != "" {
		req.Header.Set(HeaderScenarioTime, c.ScenarioTime)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("license server %s unreachable: %w", c.BaseURL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(b, &e)
		if e.Error == "" {
			e.Error = strings.TrimSpace(string(b))
		}
		return b, &StatusError{Status: resp.StatusCode, Reason: e.Error}
	}
	return b, nil
}

// ClearKey requests keys with the W3C ClearKey protocol.
func (c *Client) ClearKey(ctx context.Context, kids []drm.KID, persistent bool) (*License, error) {
	req := ClearKeyRequest{Type: "temporary"}
	if persistent {
		req.Type = "persistent-license"
	}
	for _, k := range kids {
		req.KIDs = append(req.KIDs, k.Base64URL())
	}
	body, _ := json.Marshal(req)
	lic := &License{System: drm.ClearKey, RawRequest: body, SessionType: req.Type, Persistent: persistent}
	raw, err := c.post(ctx, "/clearkey", body)
	lic.RawResponse = raw
	if err != nil {
		return lic, err
	}
	var resp ClearKeyResponse
	if err := json.Unmarshal(raw, &resp); err != nil {
		return lic, fmt.Errorf("clearkey response is not a JWK set: %w", err)
	}
	for _, j := range resp.Keys {
		kid, err1 := base64.RawURLEncoding.DecodeString(strings.TrimRight(j.KID, "="))
		key, err2 := base64.RawURLEncoding.DecodeString(strings.TrimRight(j.K, "="))
		if err1 != nil || err2 != nil || len(kid) != 16 || len(key) != 16 || j.Kty != "oct" {
			return lic, fmt.Errorf("clearkey response holds a malformed JWK")
		}
		ck := drm.ContentKey{KID: drm.KID(kid)}
		copy(ck.Key[:], key)
		lic.Keys = append(lic.Keys, ck)
		lic.KIDs = append(lic.KIDs, ck.KID.String())
	}
	if err := applyClearKeyTerms(lic, resp.Satchel); err != nil {
		return lic, err
	}
	return lic, nil
}

// applyClearKeyTerms checks Satchel's satchel_license member (when the server sent one) and
// copies its clocks, issue time and expiry into lic.
func applyClearKeyTerms(lic *License, t *ClearKeyTerms) error {
	if t == nil {
		return nil
	}
	if t.Version != ClearKeyExtensionVersion {
		return fmt.Errorf("clearkey response: satchel_license version %q is not %s", t.Version, ClearKeyExtensionVersion)
	}
	raw, err := json.Marshal(t.Clocks)
	if err != nil {
		return err
	}
	c, err := ParseClocks(drm.ClearKey, raw)
	if err != nil {
		return fmt.Errorf("clearkey response: %w", err)
	}
	if c != nil && c.ClearKey.SessionType != lic.SessionType {
		return fmt.Errorf("clearkey response: satchel_license is for a %s session, the request was %s",
			c.ClearKey.SessionType, lic.SessionType)
	}
	lic.Clocks, lic.IssuedAt, lic.ExpiresAt, lic.PolicyName = c, t.IssuedAt, t.ExpiresAt, t.PolicyName
	return nil
}

func (c *Client) serverKey(ctx context.Context) (ed25519.PublicKey, error) {
	if c.ServerKey != nil {
		return c.ServerKey, nil
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.BaseURL+"/license/publickey", nil)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("license server %s unreachable: %w", c.BaseURL, err)
	}
	defer resp.Body.Close()
	var pk struct {
		PublicKey string `json:"public_key"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4096)).Decode(&pk); err != nil {
		return nil, fmt.Errorf("license server public key: %w", err)
	}
	b, err := base64.StdEncoding.DecodeString(pk.PublicKey)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, errors.New("license server public key is malformed")
	}
	c.ServerKey = b
	return c.ServerKey, nil
}

// TestLicense runs the test protocol for system with its init data: it verifies the
// server's signature, checks the nonce and unwraps the keys.
func (c *Client) TestLicense(ctx context.Context, system drm.System, initData []byte) (*License, error) {
	spk, err := c.serverKey(ctx)
	if err != nil {
		return nil, err
	}
	eph, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	nb := make([]byte, 12)
	rand.Read(nb)
	nonce := hex.EncodeToString(nb)
	body, _ := json.Marshal(TestRequest{
		InitData:        base64.StdEncoding.EncodeToString(initData),
		ClientPublicKey: base64.StdEncoding.EncodeToString(eph.PublicKey().Bytes()),
		Client:          "satchel-checker",
		Nonce:           nonce,
	})
	lic := &License{System: system, RawRequest: body}
	raw, err := c.post(ctx, "/license/"+string(system), body)
	lic.RawResponse = raw
	if err != nil {
		return lic, err
	}
	var resp TestResponse
	if err := json.Unmarshal(raw, &resp); err != nil {
		return lic, fmt.Errorf("test license response: %w", err)
	}
	sig, err := base64.StdEncoding.DecodeString(resp.Signature)
	if err != nil || !ed25519.Verify(spk, resp.License, sig) {
		return lic, errors.New("test license signature does not verify: the response was altered or comes from another server")
	}
	var lb LicenseBody
	if err := json.Unmarshal(resp.License, &lb); err != nil {
		return lic, fmt.Errorf("test license body: %w", err)
	}
	if lb.Protocol != ProtocolVersion || lb.System != string(system) || lb.Nonce != nonce {
		return lic, errors.New("test license does not answer this request (protocol, system or nonce differ)")
	}
	if err := unwrapKeys(lic, &lb, eph, nonce, system); err != nil {
		return lic, err
	}
	if err := applyClocks(lic, &lb, resp.License); err != nil {
		return lic, err
	}
	lic.KIDs, lic.Policy, lic.PolicyName = lb.KIDs, lb.Policy, lb.PolicyName
	lic.Persistent, lic.ExpiresAt, lic.IssuedAt = lb.Persistent, lb.ExpiresAt, lb.IssuedAt
	return lic, nil
}

// unwrapKeys agrees the key with the server's ephemeral key and opens every wrapped key into
// lic.Keys; a key that does not open is an error naming its KID.
func unwrapKeys(lic *License, lb *LicenseBody, eph *ecdh.PrivateKey, nonce string, system drm.System) error {
	sp, err := base64.StdEncoding.DecodeString(lb.ServerPublicKey)
	if err != nil {
		return errors.New("test license: server key is not base64")
	}
	spub, err := ecdh.P256().NewPublicKey(sp)
	if err != nil {
		return fmt.Errorf("test license: server key: %w", err)
	}
	shared, err := eph.ECDH(spub)
	if err != nil {
		return err
	}
	aead, err := wrapKey(shared, nonce, system)
	if err != nil {
		return err
	}
	for _, w := range lb.WrappedKeys {
		kid, err := drm.ParseKID(w.KID)
		if err != nil {
			return fmt.Errorf("test license: %w", err)
		}
		n, err1 := base64.StdEncoding.DecodeString(w.Nonce)
		ct, err2 := base64.StdEncoding.DecodeString(w.Ciphertext)
		if err1 != nil || err2 != nil || len(n) != aead.NonceSize() {
			return errors.New("test license: malformed wrapped key")
		}
		key, err := aead.Open(nil, n, ct, kid[:])
		if err != nil || len(key) != 16 {
			return fmt.Errorf("test license: key %s does not unwrap", kid)
		}
		ck := drm.ContentKey{KID: kid}
		copy(ck.Key[:], key)
		lic.Keys = append(lic.Keys, ck)
	}
	return nil
}

// applyClocks parses the clocks member of the signed body (strictly, from its raw bytes) and
// checks that they agree with the persistent flag.
func applyClocks(lic *License, lb *LicenseBody, body []byte) error {
	var raw struct {
		Clocks json.RawMessage `json:"clocks"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return fmt.Errorf("test license body: %w", err)
	}
	clocks, err := ParseClocks(lic.System, raw.Clocks)
	if err != nil {
		return fmt.Errorf("test license: %w", err)
	}
	if clocks != nil && clocks.Persistent() != lb.Persistent {
		return fmt.Errorf("test license: persistent=%v disagrees with its clocks", lb.Persistent)
	}
	lic.Clocks = clocks
	return nil
}
