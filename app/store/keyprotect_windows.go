//go:build windows

package store

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
)

// On Windows a data key without a passphrase is sealed with DPAPI (CryptProtectData in the
// current user's scope, with Satchel's own entropy): NTFS has no POSIX 0600, and DPAPI ties the
// key to the Windows account that wrote it, wherever the workspace folder lives. The folder
// itself keeps the ACL it inherits (under %AppData% that is the user, SYSTEM and
// Administrators). A passphrase-wrapped key is not sealed again: the passphrase protects it,
// and such a workspace moves between machines and systems.

// platformSealsPlainKey reports that protectPlainKey seals the key (so a plain key file from
// Unix or an older version is rewritten on open).
const platformSealsPlainKey = true

// dpapiEntropy is DPAPI's optional entropy: another program running as the same user cannot
// unseal the blob through CryptUnprotectData without it.
var dpapiEntropy = []byte("satchel-data-key")

// protectPlainKey returns the key file for a passphrase-less data key: sealed with DPAPI.
func protectPlainKey(key []byte) (keyFile, error) {
	blob, err := dpapi(key, true)
	if err != nil {
		return keyFile{}, fmt.Errorf("seal the key with Windows DPAPI: %w", err)
	}
	return keyFile{Version: 1, DPAPI: blob}, nil
}

// unprotectDPAPI opens a DPAPI-sealed data key.
func unprotectDPAPI(blob []byte) ([]byte, error) {
	key, err := dpapi(blob, false)
	if err != nil {
		return nil, fmt.Errorf("%w (%v): it opens only for the Windows account that created the workspace, or the "+
			"file is damaged; sign in as that user, or restore the file from a backup", ErrKeySealed, err)
	}
	return key, nil
}

// dpapi seals (protect) or opens in with CryptProtectData / CryptUnprotectData. The buffer
// DPAPI returns is copied, wiped and freed.
func dpapi(in []byte, protect bool) ([]byte, error) {
	if len(in) == 0 {
		return nil, fmt.Errorf("empty input")
	}
	inBlob := windows.DataBlob{Size: uint32(len(in)), Data: &in[0]}
	entropy := windows.DataBlob{Size: uint32(len(dpapiEntropy)), Data: &dpapiEntropy[0]}
	var out windows.DataBlob
	var err error
	if protect {
		desc, _ := windows.UTF16PtrFromString("Satchel workspace data key")
		err = windows.CryptProtectData(&inBlob, desc, &entropy, 0, nil, windows.CRYPTPROTECT_UI_FORBIDDEN, &out)
	} else {
		err = windows.CryptUnprotectData(&inBlob, nil, &entropy, 0, nil, windows.CRYPTPROTECT_UI_FORBIDDEN, &out)
	}
	if err != nil {
		return nil, err
	}
	buf := unsafe.Slice(out.Data, out.Size)
	res := append([]byte(nil), buf...)
	clear(buf)
	windows.LocalFree(windows.Handle(unsafe.Pointer(out.Data)))
	return res, nil
}
