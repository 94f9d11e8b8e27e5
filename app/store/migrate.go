package store

import (
	"encoding/json"
	"fmt"
	"strconv"

	bolt "go.etcd.io/bbolt"
)

// migrate creates the buckets and upgrades older layouts. v1 (Satchel 0.0.x) stored key sets
// with their content keys in plain JSON ({"name","keys":[{"track_type","kid","key"}]}); v2
// keeps only KIDs in the keysets bucket and the keys as encrypted secrets. The move happens in
// migrateSecrets, once the data key is loaded.
func (w *Workspace) migrate() error {
	return w.db.Update(func(tx *bolt.Tx) error {
		for _, b := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists([]byte(b)); err != nil {
				return fmt.Errorf("create bucket %s: %w", b, err)
			}
		}
		meta := tx.Bucket([]byte(BucketMeta))
		v, _ := strconv.Atoi(string(meta.Get([]byte("schema_version"))))
		if v > SchemaVersion {
			return fmt.Errorf("workspace was written by a newer Satchel (schema %d > %d); update Satchel", v, SchemaVersion)
		}
		if v == 0 && tx.Bucket([]byte(BucketKeySets)).Stats().KeyN == 0 {
			// A new workspace.
			return meta.Put([]byte("schema_version"), []byte(strconv.Itoa(SchemaVersion)))
		}
		if v == 0 {
			v = 1
		}
		return meta.Put([]byte("pending_from"), []byte(strconv.Itoa(v)))
	})
}

// v1KeySet is the v1 key set layout.
type v1KeySet struct {
	Name    string `json:"name"`
	Created string `json:"created"`
	Keys    []struct {
		TrackType string `json:"track_type"`
		KID       string `json:"kid"`
		Key       string `json:"key"` // hex, plaintext in v1
	} `json:"keys"`
}

// MigratedKeySet is the v2 key set record: metadata and KIDs; the key material is in the
// secret "keyset/<id>".
type MigratedKeySet struct {
	Name    string   `json:"name"`
	Created string   `json:"created"`
	Types   []string `json:"track_types"`
	KIDs    []string `json:"kids"`
}

func (w *Workspace) migrateSecrets() error {
	var from int
	_ = w.db.View(func(tx *bolt.Tx) error {
		from, _ = strconv.Atoi(string(tx.Bucket([]byte(BucketMeta)).Get([]byte("pending_from"))))
		return nil
	})
	if from == 0 {
		return nil
	}
	if from == 1 {
		recs, err := w.List(BucketKeySets)
		if err != nil {
			return err
		}
		for _, r := range recs {
			var old v1KeySet
			if err := json.Unmarshal(r.Data, &old); err != nil || len(old.Keys) == 0 || old.Keys[0].Key == "" {
				continue // already v2-shaped
			}
			secret, _ := json.Marshal(old.Keys)
			if err := w.PutSecret("keyset/"+r.ID, secret); err != nil {
				return fmt.Errorf("migrate key set %s: %w", r.ID, err)
			}
			nw := MigratedKeySet{Name: old.Name, Created: old.Created}
			for _, k := range old.Keys {
				nw.Types = append(nw.Types, k.TrackType)
				nw.KIDs = append(nw.KIDs, k.KID)
			}
			if err := w.Put(BucketKeySets, r.ID, nw); err != nil {
				return err
			}
		}
	}
	return w.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket([]byte(BucketMeta))
		if err := meta.Delete([]byte("pending_from")); err != nil {
			return err
		}
		return meta.Put([]byte("schema_version"), []byte(strconv.Itoa(SchemaVersion)))
	})
}
