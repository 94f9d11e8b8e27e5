package publish

import (
	"context"
	"crypto/md5"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// dirBackend publishes into a local folder (a web server root, a mounted share).
type dirBackend struct{ dir string }

func (d *dirBackend) existing(ctx context.Context) (map[string][]byte, error) {
	out := map[string][]byte{}
	if _, err := os.Stat(d.dir); os.IsNotExist(err) {
		return out, nil
	}
	err := filepath.WalkDir(d.dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(d.dir, p)
		fh, err := os.Open(p)
		if err != nil {
			return err
		}
		defer fh.Close()
		h := md5.New()
		if _, err := io.Copy(h, fh); err != nil {
			return err
		}
		out[filepath.ToSlash(rel)] = h.Sum(nil)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read destination %s: %w", d.dir, err)
	}
	return out, nil
}

func (d *dirBackend) put(ctx context.Context, f file, o *Options, progress func(int64)) error {
	dst := filepath.Join(d.dir, filepath.FromSlash(f.rel))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("destination %s is not writable: %w", d.dir, err)
	}
	in, err := os.Open(f.abs)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".*.tmp")
	if err != nil {
		return fmt.Errorf("destination %s is not writable: %w", d.dir, err)
	}
	defer os.Remove(tmp.Name())
	h := md5.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), in)
	if err != nil {
		tmp.Close()
		return err
	}
	progress(n)
	if err := tmp.Close(); err != nil {
		return err
	}
	if string(h.Sum(nil)) != string(f.md5) {
		return fmt.Errorf("copy of %s does not match its MD5; the source changed while publishing", f.rel)
	}
	return os.Rename(tmp.Name(), dst)
}

func (d *dirBackend) url(rel string) string { return filepath.Join(d.dir, filepath.FromSlash(rel)) }

func (d *dirBackend) cors(ctx context.Context, origin string) (*CORSRule, error) {
	return nil, fmt.Errorf("CORS rules apply to Azure storage; for a local folder configure your web server")
}
