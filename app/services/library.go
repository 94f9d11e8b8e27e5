package services

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"satchel/app/store"
	"satchel/engine/drm"
	"satchel/engine/policy"
	"satchel/engine/probe"
	"satchel/internal/field"
)

// AssetEntry is a probed source rendition in the workspace.
type AssetEntry struct {
	ID       string       `json:"id"`
	Path     string       `json:"path"`
	Added    time.Time    `json:"added"`
	Selected bool         `json:"selected"`
	Asset    *probe.Asset `json:"asset"`
}

// AddAsset probes path and stores it (selected). Adding the same file again refreshes it.
func (s *Service) AddAsset(ctx context.Context, path string) (*AssetEntry, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	a, err := probe.Probe(ctx, abs)
	if err != nil {
		return nil, err
	}
	e := &AssetEntry{ID: idFor(abs), Path: abs, Added: time.Now(), Selected: true, Asset: a}
	if err := s.WS.Put(store.BucketAssets, e.ID, e); err != nil {
		return nil, fmt.Errorf("save asset: %w", err)
	}
	return e, nil
}

// Assets lists the workspace's assets, sorted by video height then path.
func (s *Service) Assets() ([]AssetEntry, error) {
	entries, err := list[AssetEntry](s, store.BucketAssets)
	if err != nil {
		return nil, err
	}
	var out []AssetEntry
	for _, e := range entries {
		if e.Value.Asset != nil {
			out = append(out, e.Value)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		hi, hj := 0, 0
		if v := out[i].Asset.Video(); v != nil {
			hi = v.Height
		}
		if v := out[j].Asset.Video(); v != nil {
			hj = v.Height
		}
		if hi != hj {
			return hi < hj
		}
		return out[i].Path < out[j].Path
	})
	return out, nil
}

// RemoveAsset forgets an asset (the file is untouched).
func (s *Service) RemoveAsset(id string) error { return s.WS.Delete(store.BucketAssets, id) }

// SetSelected marks an asset as part of the ladder or not.
func (s *Service) SetSelected(id string, selected bool) error {
	var e AssetEntry
	if err := s.WS.Get(store.BucketAssets, id, &e); err != nil {
		return err
	}
	e.Selected = selected
	return s.WS.Put(store.BucketAssets, id, e)
}

// ErrNoSelection says no asset is selected for the ladder.
var ErrNoSelection = errors.New("no rendition is selected")

// SelectedLadder returns the selected assets' paths and the ladder alignment check
// (ErrNoSelection when nothing is selected; a *probe.MisalignedError, with the paths, when
// the GOPs do not line up).
func (s *Service) SelectedLadder() ([]string, error) {
	all, err := s.Assets()
	if err != nil {
		return nil, err
	}
	var paths []string
	var assets []*probe.Asset
	for _, e := range all {
		if e.Selected {
			paths = append(paths, e.Path)
			assets = append(assets, e.Asset)
		}
	}
	if len(paths) == 0 {
		return nil, ErrNoSelection
	}
	return paths, probe.CheckLadder(assets)
}

// KeySet is a named set of content keys, one per track type.
type KeySet struct {
	ID      string           `json:"id"`
	Name    string           `json:"name"`
	Created time.Time        `json:"created"`
	Keys    []drm.ContentKey `json:"-"`
}

// keySecret is the encrypted form of a key set's key material (the v2 store layout).
type keySecret struct {
	TrackType string `json:"track_type"`
	KID       string `json:"kid"`
	Key       string `json:"key"`
}

// SaveKeySet stores keys under name (key material only as an encrypted secret).
func (s *Service) SaveKeySet(name string, keys []drm.ContentKey) (*KeySet, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, field.Errorf("name", nil, "give the key set a name")
	}
	if len(keys) == 0 {
		return nil, errors.New("a key set needs at least one key")
	}
	if err := drm.CheckKeys(keys); err != nil {
		return nil, err
	}
	if existing, err := s.KeySets(); err == nil {
		for _, other := range existing {
			if other.Name == name {
				continue
			}
			for _, k := range keys {
				if _, dup := drm.KeyByKID(other.Keys, k.KID); dup {
					return nil, fmt.Errorf("KID %s already belongs to key set %q; delete that set first or use new keys", k.KID, other.Name)
				}
			}
		}
	}
	ks := &KeySet{ID: idFor("keyset:" + name), Name: name, Created: time.Now().UTC(), Keys: keys}
	meta := store.MigratedKeySet{Name: name, Created: ks.Created.Format(time.RFC3339)}
	var sec []keySecret
	for _, k := range keys {
		meta.Types = append(meta.Types, k.TrackType)
		meta.KIDs = append(meta.KIDs, k.KID.String())
		sec = append(sec, keySecret{TrackType: k.TrackType, KID: k.KID.String(), Key: k.KeyHex()})
	}
	b, _ := json.Marshal(sec)
	err := s.WS.Update(func(tx *store.Tx) error {
		if err := tx.PutSecret("keyset/"+ks.ID, b); err != nil {
			return err
		}
		return tx.Put(store.BucketKeySets, ks.ID, meta)
	})
	if err != nil {
		return nil, fmt.Errorf("save key set %q: %w", name, err)
	}
	return ks, nil
}

// DefaultTrackTypes are the track types a new key set gets keys for by default.
var DefaultTrackTypes = []string{drm.TrackAudio, drm.TrackSD, drm.TrackHD}

// GenerateKeySet creates a key set with random keys for the track types (DefaultTrackTypes
// when none are given).
func (s *Service) GenerateKeySet(name string, trackTypes []string) (*KeySet, error) {
	if len(trackTypes) == 0 {
		trackTypes = DefaultTrackTypes
	}
	for _, tt := range trackTypes {
		if !slices.Contains(drm.TrackTypes, tt) {
			return nil, field.Errorf("track_types", tt, "not one of %s", strings.Join(drm.TrackTypes, ", "))
		}
	}
	var keys []drm.ContentKey
	for _, tt := range trackTypes {
		k, err := drm.RandomContentKey(tt)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return s.SaveKeySet(name, keys)
}

// ImportCPIX stores the keys of a CPIX document as a key set.
func (s *Service) ImportCPIX(r io.Reader, name string) (*KeySet, error) {
	doc, err := drm.ReadCPIX(r)
	if err != nil {
		return nil, err
	}
	if len(doc.Keys) == 0 {
		return nil, errors.New("the CPIX document holds no content keys")
	}
	keys := doc.Keys
	for i := range keys {
		if keys[i].TrackType == "" {
			keys[i].TrackType = fmt.Sprintf("KEY%d", i+1)
		}
	}
	return s.SaveKeySet(name, keys)
}

// KeySet loads a key set by name.
func (s *Service) KeySet(name string) (*KeySet, error) {
	id := idFor("keyset:" + name)
	var meta store.MigratedKeySet
	if err := s.WS.Get(store.BucketKeySets, id, &meta); err != nil {
		if isNotFound(err) {
			return nil, &NotFoundError{What: "key set", Name: name}
		}
		return nil, err
	}
	return s.loadKeySet(id, meta)
}

func (s *Service) loadKeySet(id string, meta store.MigratedKeySet) (*KeySet, error) {
	raw, err := s.WS.GetSecret("keyset/" + id)
	if err != nil {
		return nil, fmt.Errorf("key set %q: %w", meta.Name, err)
	}
	var sec []keySecret
	if err := json.Unmarshal(raw, &sec); err != nil {
		return nil, fmt.Errorf("key set %q is damaged: %w", meta.Name, err)
	}
	ks := &KeySet{ID: id, Name: meta.Name}
	ks.Created, _ = time.Parse(time.RFC3339, meta.Created)
	for _, k := range sec {
		kid, err := drm.ParseKID(k.KID)
		kb, err2 := hex.DecodeString(k.Key)
		if err != nil || err2 != nil || len(kb) != 16 {
			return nil, fmt.Errorf("key set %q holds a damaged key", meta.Name)
		}
		ck := drm.ContentKey{TrackType: k.TrackType, KID: kid}
		copy(ck.Key[:], kb)
		ks.Keys = append(ks.Keys, ck)
	}
	return ks, nil
}

// KeySetKeys returns the keys of a key set.
func (s *Service) KeySetKeys(name string) ([]drm.ContentKey, error) {
	ks, err := s.KeySet(name)
	if err != nil {
		return nil, err
	}
	return ks.Keys, nil
}

// KeySets lists every key set with its keys, oldest first.
func (s *Service) KeySets() ([]KeySet, error) {
	entries, err := list[store.MigratedKeySet](s, store.BucketKeySets)
	if err != nil {
		return nil, err
	}
	var out []KeySet
	for _, e := range entries {
		ks, err := s.loadKeySet(e.ID, e.Value)
		if err != nil {
			return nil, err
		}
		out = append(out, *ks)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out, nil
}

// ExportCPIX writes a key set as CPIX (with the signalling of every system for cenc).
func (s *Service) ExportCPIX(name string, w io.Writer) error {
	ks, err := s.KeySet(name)
	if err != nil {
		return err
	}
	sig := drm.Signalling{Scheme: drm.SchemeCENC, Keys: ks.Keys, Systems: drm.AllSystems,
		FairPlayKeyURI: drm.DefaultFairPlayBase}
	doc, err := drm.NewCPIX(sig, ks.Name)
	if err != nil {
		return err
	}
	return drm.WriteCPIX(w, doc)
}

// DeleteKeySet removes a key set and its secret.
func (s *Service) DeleteKeySet(name string) error {
	id := idFor("keyset:" + name)
	var meta store.MigratedKeySet
	if err := s.WS.Get(store.BucketKeySets, id, &meta); err != nil {
		return &NotFoundError{What: "key set", Name: name}
	}
	// One transaction: a process killed half way leaves the whole key set or none of it.
	err := s.WS.Update(func(tx *store.Tx) error {
		if err := tx.DeleteSecret("keyset/" + id); err != nil {
			return err
		}
		return tx.Delete(store.BucketKeySets, id)
	})
	if err != nil {
		return fmt.Errorf("delete key set %q: %w", name, err)
	}
	return nil
}

// keyByKID finds the key for kid in the key set whose metadata lists it.
func (s *Service) keyByKID(kid drm.KID) (drm.ContentKey, bool, error) {
	entries, err := list[store.MigratedKeySet](s, store.BucketKeySets)
	if err != nil {
		return drm.ContentKey{}, false, err
	}
	for _, e := range entries {
		if !slices.ContainsFunc(e.Value.KIDs, func(s string) bool { k, err := drm.ParseKID(s); return err == nil && k == kid }) {
			continue
		}
		ks, err := s.loadKeySet(e.ID, e.Value)
		if err != nil {
			return drm.ContentKey{}, false, err
		}
		if ck, ok := drm.KeyByKID(ks.Keys, kid); ok {
			return ck, true, nil
		}
	}
	return drm.ContentKey{}, false, nil
}

// AllKeys returns the keys of every key set.
func (s *Service) AllKeys() ([]drm.ContentKey, error) {
	sets, err := s.KeySets()
	if err != nil {
		return nil, err
	}
	var out []drm.ContentKey
	for _, ks := range sets {
		out = append(out, ks.Keys...)
	}
	return out, nil
}

// SavePolicy stores a policy by name; its secrets (FairPlay ASk/PFX, HS256 keys) go to the
// encrypted secrets bucket.
func (s *Service) SavePolicy(p *policy.Policy) error {
	if strings.TrimSpace(p.Name) == "" {
		return field.Errorf("name", nil, "give the policy a name")
	}
	if err := checkSavable(p); err != nil {
		return err
	}
	id := idFor("policy:" + p.Name)
	secrets, bare := p.Secrets()
	b, _ := json.Marshal(secrets)
	err := s.WS.Update(func(tx *store.Tx) error {
		if err := tx.PutSecret("policy/"+id, b); err != nil {
			return err
		}
		return tx.Put(store.BucketPolicies, id, bare)
	})
	if err != nil {
		return fmt.Errorf("save policy %q: %w", p.Name, err)
	}
	return nil
}

// PolicyByName loads a policy with its secrets.
func (s *Service) PolicyByName(name string) (*policy.Policy, error) {
	id := idFor("policy:" + name)
	var p policy.Policy
	if err := s.WS.Get(store.BucketPolicies, id, &p); err != nil {
		if isNotFound(err) {
			if pre := policy.Preset(name); pre != nil {
				return pre, nil
			}
			return nil, &NotFoundError{What: "policy", Name: name}
		}
		return nil, err
	}
	secrets := map[string]string{}
	raw, err := s.WS.GetSecret("policy/" + id)
	if err != nil && !isNotFound(err) {
		return nil, fmt.Errorf("policy %q: %w", name, err)
	}
	if err == nil {
		if err := json.Unmarshal(raw, &secrets); err != nil {
			return nil, fmt.Errorf("policy %q: its secrets are damaged: %w", name, err)
		}
	}
	return p.WithSecrets(secrets), nil
}

// Policies lists stored policies (secrets restored), by name.
func (s *Service) Policies() ([]*policy.Policy, error) {
	entries, err := list[policy.Policy](s, store.BucketPolicies)
	if err != nil {
		return nil, err
	}
	var out []*policy.Policy
	for _, e := range entries {
		full, err := s.PolicyByName(e.Value.Name)
		if err != nil {
			return nil, err
		}
		out = append(out, full)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// DeletePolicy removes a stored policy.
func (s *Service) DeletePolicy(name string) error {
	id := idFor("policy:" + name)
	var p policy.Policy
	if err := s.WS.Get(store.BucketPolicies, id, &p); err != nil {
		if isNotFound(err) {
			return &NotFoundError{What: "policy", Name: name}
		}
		return err
	}
	err := s.WS.Update(func(tx *store.Tx) error {
		if err := tx.DeleteSecret("policy/" + id); err != nil {
			return err
		}
		return tx.Delete(store.BucketPolicies, id)
	})
	if err != nil {
		return fmt.Errorf("delete policy %q: %w", name, err)
	}
	return nil
}

// PolicyNames lists the presets and the workspace's policies, by name, presets first (the
// choices a screen offers).
func (s *Service) PolicyNames() ([]string, error) {
	var names []string
	seen := map[string]bool{}
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	for _, p := range policy.Presets() {
		add(p.Name)
	}
	stored, err := s.Policies()
	if err != nil {
		return names, err
	}
	for _, p := range stored {
		add(p.Name)
	}
	return names, nil
}

// Settings returns the workspace settings.
func (s *Service) Settings() (store.Settings, error) { return s.WS.Settings() }

// SaveSettings stores the workspace settings.
func (s *Service) SaveSettings(st store.Settings) error { return s.WS.SaveSettings(st) }

// MediaExtensions are the file extensions taken as source media when a folder is added.
var MediaExtensions = []string{".mp4", ".m4v", ".mov", ".m4a"}

// MediaFiles lists the media files (MediaExtensions, any case) directly inside dir, sorted.
func MediaFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		ext := strings.ToLower(filepath.Ext(e.Name()))
		for _, m := range MediaExtensions {
			if ext == m {
				out = append(out, filepath.Join(dir, e.Name()))
			}
		}
	}
	return out, nil
}
