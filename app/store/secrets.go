package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/crypto/scrypt"
)

// keyFile is the on-disk form of the data key: wrapped by a passphrase, or else protected by
// the platform (see protectPlainKey): plain in a 0600 file on Unix, sealed with DPAPI on Windows.
type keyFile struct {
	Version int    `json:"version"`
	Wrapped bool   `json:"wrapped"`
	Key     []byte `json:"key,omitempty"`   // plain data key (0600 file; Unix)
	DPAPI   []byte `json:"dpapi,omitempty"` // data key sealed by Windows DPAPI for the current user
	Salt    []byte `json:"salt,omitempty"`
	N       int    `json:"n,omitempty"`
	Nonce   []byte `json:"nonce,omitempty"`
	Sealed  []byte `json:"sealed,omitempty"` // AES-GCM(scrypt(passphrase), data key)
}

// ErrPassphraseRequired means the workspace key is wrapped and no passphrase was given.
var ErrPassphraseRequired = errors.New("passphrase required")

// ErrKeySealed means the workspace key is sealed by Windows DPAPI and cannot be opened here: on
// another system, under another Windows account, or the sealed key is damaged.
var ErrKeySealed = errors.New("the key is sealed by Windows DPAPI and cannot be opened here")

// ErrPassphrase means the passphrase does not unlock the workspace.
var ErrPassphrase = errors.New("the passphrase does not unlock this workspace's secrets; try again (SATCHEL_PASSPHRASE for the CLI)")

func loadDataKey(dir, passphrase string) ([]byte, error) {
	path := filepath.Join(dir, KeyFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		if err := writeKeyFile(dir, key, passphrase); err != nil {
			return nil, err
		}
		return key, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the workspace key %s: %w", path, err)
	}
	var kf keyFile
	if err := json.Unmarshal(b, &kf); err != nil {
		return nil, fmt.Errorf("workspace key %s is damaged: %w; restore it from a backup (secrets cannot be read without it)", path, err)
	}
	if !kf.Wrapped {
		return openPlainKey(path, kf)
	}
	if passphrase == "" {
		return nil, fmt.Errorf("workspace %s is protected by a passphrase; enter it (SATCHEL_PASSPHRASE for the CLI): %w", dir, ErrPassphraseRequired)
	}
	kek, err := scrypt.Key([]byte(passphrase), kf.Salt, kf.N, 8, 1, 32)
	if err != nil {
		return nil, err
	}
	gcm, _ := newGCM(kek)
	key, err := gcm.Open(nil, kf.Nonce, kf.Sealed, []byte("satchel-data-key"))
	if err != nil {
		return nil, ErrPassphrase
	}
	return key, nil
}

// openPlainKey returns the data key of a key file without a passphrase: the plain key, or the
// DPAPI-sealed one (only Windows can open that, for the user who wrote it).
func openPlainKey(path string, kf keyFile) ([]byte, error) {
	key := kf.Key
	if kf.DPAPI != nil {
		var err error
		if key, err = unprotectDPAPI(kf.DPAPI); err != nil {
			return nil, fmt.Errorf("workspace key %s: %w", path, err)
		}
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("workspace key %s is damaged; restore it from a backup (secrets cannot be read without it)", path)
	}
	return key, nil
}

// upgradeKeyProtection rewrites a plain key file with the platform's protection when it has one
// that the file lacks (on Windows: a key file copied from Unix or written by an older version
// gets sealed with DPAPI). It is a no-op for passphrase-wrapped keys and on Unix.
func upgradeKeyProtection(dir string, key []byte) error {
	if !platformSealsPlainKey {
		return nil
	}
	b, err := os.ReadFile(filepath.Join(dir, KeyFile))
	if err != nil {
		return fmt.Errorf("read the workspace key: %w", err)
	}
	var kf keyFile
	if json.Unmarshal(b, &kf) != nil || kf.Wrapped || kf.Key == nil {
		return nil
	}
	return writeKeyFile(dir, key, "")
}

// writeKeyFile writes the key file atomically with mode 0600; without a passphrase the key is
// protected as protectPlainKey does on this platform.
func writeKeyFile(dir string, key []byte, passphrase string) error {
	kf := keyFile{Version: 1}
	if passphrase == "" {
		var err error
		if kf, err = protectPlainKey(key); err != nil {
			return fmt.Errorf("write the workspace key: %w", err)
		}
	} else {
		kf.Wrapped, kf.N = true, 1<<15
		kf.Salt = make([]byte, 16)
		kf.Nonce = make([]byte, 12)
		if _, err := rand.Read(kf.Salt); err != nil {
			return fmt.Errorf("write the workspace key: %w", err)
		}
		if _, err := rand.Read(kf.Nonce); err != nil {
			return fmt.Errorf("write the workspace key: %w", err)
		}
		kek, err := scrypt.Key([]byte(passphrase), kf.Salt, kf.N, 8, 1, 32)
		if err != nil {
			return err
		}
		gcm, _ := newGCM(kek)
		kf.Sealed = gcm.Seal(nil, kf.Nonce, key, []byte("satchel-data-key"))
	}
	b, _ := json.Marshal(kf)
	tmp, err := os.CreateTemp(dir, ".satchel.key.*")
	if err != nil {
		return fmt.Errorf("write the workspace key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write the workspace key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write the workspace key: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, KeyFile)); err != nil {
		return fmt.Errorf("write the workspace key %s: %w; check the folder is writable", filepath.Join(dir, KeyFile), err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // make the rename durable where the platform supports it
		d.Close()
	}
	return nil
}

// ChangePassphrase re-wraps the data key of the open workspace under newPassphrase ("" removes
// the passphrase). The key file is replaced atomically.
func (w *Workspace) ChangePassphrase(newPassphrase string) error {
	return writeKeyFile(w.dir, w.dataKey, newPassphrase)
}

// ChangePassphraseFrom is ChangePassphrase after checking that oldPassphrase ("" for none)
// still unlocks the key file on disk; a wrong old passphrase gives ErrPassphrase and leaves
// the key file untouched.
func (w *Workspace) ChangePassphraseFrom(oldPassphrase, newPassphrase string) error {
	key, err := loadDataKey(w.dir, oldPassphrase)
	if err != nil {
		return fmt.Errorf("change passphrase: %w", err)
	}
	if subtle.ConstantTimeCompare(key, w.dataKey) != 1 {
		return fmt.Errorf("change passphrase: %w", ErrPassphrase)
	}
	return w.ChangePassphrase(newPassphrase)
}

func newGCM(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

func (w *Workspace) seal(name string, plaintext []byte) ([]byte, error) {
	gcm, err := newGCM(w.dataKey)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return append(nonce, gcm.Seal(nil, nonce, plaintext, []byte(name))...), nil
}

func (w *Workspace) open(name string, sealed []byte) ([]byte, error) {
	gcm, err := newGCM(w.dataKey)
	if err != nil {
		return nil, err
	}
	if len(sealed) < gcm.NonceSize() {
		return nil, fmt.Errorf("secret %s is damaged", name)
	}
	p, err := gcm.Open(nil, sealed[:gcm.NonceSize()], sealed[gcm.NonceSize():], []byte(name))
	if err != nil {
		return nil, fmt.Errorf("secret %s cannot be decrypted: the workspace key does not match; restore %s", name, KeyFile)
	}
	return p, nil
}

// PutSecret stores plaintext encrypted under name.
func (w *Workspace) PutSecret(name string, plaintext []byte) error {
	sealed, err := w.seal(name, plaintext)
	if err != nil {
		return err
	}
	return w.db.Update(func(tx *bolt.Tx) error {
		bk, err := tx.CreateBucketIfNotExists([]byte(BucketSecrets))
		if err != nil {
			return err
		}
		return bk.Put([]byte(name), sealed)
	})
}

// GetSecret returns the plaintext of name; ErrNotFound when missing.
func (w *Workspace) GetSecret(name string) ([]byte, error) {
	var sealed []byte
	err := w.db.View(func(tx *bolt.Tx) error {
		if bk := tx.Bucket([]byte(BucketSecrets)); bk != nil {
			if v := bk.Get([]byte(name)); v != nil {
				sealed = append([]byte(nil), v...)
				return nil
			}
		}
		return fmt.Errorf("secret %q: %w", name, ErrNotFound)
	})
	if err != nil {
		return nil, err
	}
	return w.open(name, sealed)
}

// DeleteSecret removes name.
func (w *Workspace) DeleteSecret(name string) error { return w.Delete(BucketSecrets, name) }
