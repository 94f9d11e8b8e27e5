package policy

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Secrets of a policy: the FairPlay ASk, the FairPlay .pfx and its password, and symmetric
// (HS256) token keys. Storage keeps them encrypted (Secrets / WithSecrets); previews,
// policy.json and license responses never show them (Redacted, MarshalPublic, For).

// redacted replaces secret values in previews; validation skips values equal to it.
const redacted = "(secret)"

// ParseASk decodes a FairPlay Application Secret Key written as 32 hex digits (spaces, dashes
// and a 0x prefix are ignored) or as base64, the two forms AMSE accepts. The ASk is always 16
// bytes.
func ParseASk(s string) ([]byte, error) {
	h := strings.NewReplacer(" ", "", "-", "", ":", "").Replace(strings.TrimSpace(s))
	h = strings.TrimPrefix(strings.TrimPrefix(h, "0x"), "0X")
	b, err := hex.DecodeString(h)
	if err != nil {
		if b, err = base64.StdEncoding.DecodeString(strings.TrimSpace(s)); err != nil {
			return nil, errors.New("the FairPlay ASk is neither hex nor base64")
		}
	}
	if len(b) != 16 {
		return nil, fmt.Errorf("the FairPlay ASk is %d bytes; it must be 16 bytes (32 hex digits)", len(b))
	}
	return b, nil
}

// Redacted returns a deep copy without secrets (FairPlay ASk/PFX/password, symmetric token
// keys), for previews, policy.json and license responses.
func (p *Policy) Redacted() *Policy {
	c := p.Clone()
	if c.FairPlay != nil {
		if c.FairPlay.ASk != "" {
			c.FairPlay.ASk = redacted
		}
		if c.FairPlay.FairPlayPfx != "" {
			c.FairPlay.FairPlayPfx = redacted
		}
		if c.FairPlay.FairPlayPfxPassword != "" {
			c.FairPlay.FairPlayPfxPassword = redacted
		}
	}
	if c.Token.KeyType == KeySymmetric {
		if c.Token.KeyValue != "" {
			c.Token.KeyValue = redacted
		}
		for i := range c.Token.AlternateKeys {
			c.Token.AlternateKeys[i] = redacted
		}
	}
	return c
}

// Secrets returns the secret values by name (for encrypted storage) and a copy without them.
func (p *Policy) Secrets() (map[string]string, *Policy) {
	c := p.Clone()
	s := map[string]string{}
	if c.FairPlay != nil {
		s["fairplay.ask"], c.FairPlay.ASk = c.FairPlay.ASk, ""
		s["fairplay.pfx"], c.FairPlay.FairPlayPfx = c.FairPlay.FairPlayPfx, ""
		s["fairplay.pfx_password"], c.FairPlay.FairPlayPfxPassword = c.FairPlay.FairPlayPfxPassword, ""
	}
	if c.Token.KeyType == KeySymmetric {
		s["token.key"], c.Token.KeyValue = c.Token.KeyValue, ""
		b, _ := json.Marshal(c.Token.AlternateKeys)
		s["token.alternate_keys"], c.Token.AlternateKeys = string(b), nil
	}
	for k, v := range s {
		if v == "" || v == "null" {
			delete(s, k)
		}
	}
	return s, c
}

// WithSecrets puts secrets from Secrets back.
func (p *Policy) WithSecrets(s map[string]string) *Policy {
	c := p.Clone()
	if c.FairPlay != nil {
		c.FairPlay.ASk = s["fairplay.ask"]
		c.FairPlay.FairPlayPfx = s["fairplay.pfx"]
		c.FairPlay.FairPlayPfxPassword = s["fairplay.pfx_password"]
	}
	if v, ok := s["token.key"]; ok {
		c.Token.KeyValue = v
	}
	if v, ok := s["token.alternate_keys"]; ok {
		_ = json.Unmarshal([]byte(v), &c.Token.AlternateKeys)
	}
	return c
}
