package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"
)

// DataKeyMissingError says the workspace's data key file is gone while the workspace holds
// secrets encrypted with it. A new key would leave them unreadable forever, so Satchel makes
// none: the key must be restored from a backup, or a new workspace started.
type DataKeyMissingError struct {
	Dir  string // the workspace folder
	Path string // where the key file belongs
}

func (e *DataKeyMissingError) Error() string {
	return fmt.Sprintf("the data key of workspace %s is missing (%s); its secrets (content keys, policy and "+
		"storage credentials) cannot be read without it: restore %s from your backup into that folder, "+
		"or start a new workspace in another folder", e.Dir, e.Path, KeyFile)
}

// DataKeyMismatchError says the key file does not belong to this workspace (it cannot open the
// workspace's check value): another workspace's satchel.key was copied in.
type DataKeyMismatchError struct {
	Dir  string
	Path string
}

func (e *DataKeyMismatchError) Error() string {
	return fmt.Sprintf("the data key %s does not belong to workspace %s (it cannot decrypt the workspace's "+
		"secrets); restore this workspace's own %s from your backup", e.Path, e.Dir, KeyFile)
}

// The data key check: a value sealed with the data key, kept in the meta bucket, so a missing
// or foreign key file is recognised instead of silently replaced.
const (
	metaKeyCheck  = "data_key_check"
	keyCheckName  = "data-key-check"
	keyCheckValue = "satchel data key check v1"
)

// needsExistingKey reports whether the workspace already depends on a data key: it holds the
// key check or any secret.
func (w *Workspace) needsExistingKey() bool {
	found := false
	_ = w.db.View(func(tx *bolt.Tx) error {
		if m := tx.Bucket([]byte(BucketMeta)); m != nil && m.Get([]byte(metaKeyCheck)) != nil {
			found = true
		}
		if s := tx.Bucket([]byte(BucketSecrets)); s != nil {
			if k, _ := s.Cursor().First(); k != nil {
				found = true
			}
		}
		return nil
	})
	return found
}

// checkDataKey verifies the loaded data key against the stored check value, storing one when
// the workspace has none yet (a new workspace, or one made before the check existed).
func (w *Workspace) checkDataKey(readOnly bool) error {
	var sealed []byte
	_ = w.db.View(func(tx *bolt.Tx) error {
		if m := tx.Bucket([]byte(BucketMeta)); m != nil {
			sealed = append([]byte(nil), m.Get([]byte(metaKeyCheck))...)
		}
		return nil
	})
	if len(sealed) > 0 {
		if v, err := w.open(keyCheckName, sealed); err != nil || string(v) != keyCheckValue {
			return &DataKeyMismatchError{Dir: w.dir, Path: w.keyPath()}
		}
		return nil
	}
	if readOnly {
		return nil
	}
	check, err := w.seal(keyCheckName, []byte(keyCheckValue))
	if err != nil {
		return err
	}
	return w.db.Update(func(tx *bolt.Tx) error {
		m, err := tx.CreateBucketIfNotExists([]byte(BucketMeta))
		if err != nil {
			return err
		}
		return m.Put([]byte(metaKeyCheck), check)
	})
}

func (w *Workspace) keyPath() string { return filepath.Join(w.dir, KeyFile) }

// Protected reports whether the workspace's data key is wrapped by a passphrase.
func (w *Workspace) Protected() bool {
	b, err := os.ReadFile(w.keyPath())
	if err != nil {
		return false
	}
	var kf keyFile
	return json.Unmarshal(b, &kf) == nil && kf.Wrapped
}

// loadCheckedDataKey loads the data key (loadDataKey), refusing to make a new one for a
// workspace that already depends on one, and checks it belongs to this workspace.
func (w *Workspace) loadCheckedDataKey(passphrase string, readOnly bool) error {
	if _, err := os.Stat(w.keyPath()); errors.Is(err, os.ErrNotExist) && w.needsExistingKey() {
		return &DataKeyMissingError{Dir: w.dir, Path: w.keyPath()}
	}
	key, err := loadDataKey(w.dir, passphrase)
	if err != nil {
		return err
	}
	w.dataKey = key
	return w.checkDataKey(readOnly)
}
