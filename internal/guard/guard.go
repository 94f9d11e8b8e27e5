// Package guard answers the questions Satchel asks before it replaces, publishes or serves a
// folder: is one path inside another once symbolic links are resolved, and does a folder hold
// (or sit inside) a Satchel workspace. It decides nothing itself; callers refuse with their
// own typed errors.
package guard

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// The files that make a folder a Satchel workspace (app/store writes them).
const (
	DBFile  = "satchel.db"
	KeyFile = "satchel.key"
)

// Resolve returns p made absolute with symbolic links resolved. When p does not exist, its
// longest existing ancestor is resolved and the rest appended.
func Resolve(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	rest := ""
	for cur := abs; ; {
		if r, err := filepath.EvalSymlinks(cur); err == nil {
			return filepath.Join(r, rest), nil
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return abs, nil
		}
		rest = filepath.Join(filepath.Base(cur), rest)
		cur = parent
	}
}

// Within reports whether p is root or inside it. Both must be resolved (Resolve) by the caller.
func Within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	if err != nil {
		return false
	}
	return rel == "." || rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// IsWorkspaceFile reports whether name (a base name) is one of the workspace's files.
func IsWorkspaceFile(name string) bool { return name == DBFile || name == KeyFile }

// FindWorkspace walks dir (never following symbolic links) and returns the first workspace
// file inside it, at any depth.
func FindWorkspace(dir string) (string, bool, error) {
	var found string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir {
				return err
			}
			return nil // an unreadable subfolder holds nothing we could replace either
		}
		if !d.IsDir() && IsWorkspaceFile(d.Name()) {
			found = p
			return fs.SkipAll
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return "", false, nil
	}
	return found, found != "", err
}

// InsideWorkspace returns the workspace folder dir is inside of (an ancestor of dir with a
// workspace file), if any; FindWorkspace answers for dir itself. dir should be resolved.
func InsideWorkspace(dir string) (string, bool) {
	for cur := filepath.Dir(dir); ; {
		for _, name := range []string{DBFile, KeyFile} {
			if st, err := os.Lstat(filepath.Join(cur, name)); err == nil && st.Mode().IsRegular() {
				return cur, true
			}
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return "", false
		}
		cur = parent
	}
}
