//go:build !windows

package store

import "fmt"

// platformSealsPlainKey reports whether protectPlainKey seals the key; on Unix it does not:
// the key file's mode 0600 (owner only) protects it.
const platformSealsPlainKey = false

// protectPlainKey returns the key file for a passphrase-less data key: the key itself, which
// writeKeyFile stores with mode 0600.
func protectPlainKey(key []byte) (keyFile, error) {
	return keyFile{Version: 1, Key: key}, nil
}

// unprotectDPAPI cannot open a DPAPI-sealed key outside Windows.
func unprotectDPAPI([]byte) ([]byte, error) {
	return nil, fmt.Errorf("%w; it opens only on Windows, for the account that created the workspace: export the "+
		"key sets as CPIX there and import them here, or set a passphrase there first (a passphrase-protected "+
		"workspace opens on any system)", ErrKeySealed)
}
