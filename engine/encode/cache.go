package encode

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"satchel/internal/atomicfile"
)

// cacheVersion changes whenever the fingerprint or the key recipe changes, so old entries
// stop matching.
const cacheVersion = 1

// Fingerprint sampling: 16 blocks of 64 KiB spread evenly over the file, first and last
// included (1 MiB read whatever the master's size).
const (
	sampleBlocks = 16
	sampleSize   = 64 << 10
)

// Fingerprint identifies a master's content for the rung cache, cheaply: SHA-256 over the
// file's size, its modification time and 16 blocks of 64 KiB sampled evenly across it.
//
// Why not a full hash: masters are tens to hundreds of gigabytes (ProRes runs at 150–900 Mb/s)
// and a full SHA-256 reads all of it on every run before deciding anything, minutes on a local
// disk and far more on a network share. Size and modification time change on every
// re-export or edit; the sampled blocks catch a different file that shares both (a copy of
// another take with preserved times, a restored backup). What remains undetected is a file
// rewritten in place to the same size with its modification time set back, a deliberate act;
// Config.Force re-encodes regardless.
func Fingerprint(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("fingerprint %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("fingerprint %s: %w", path, err)
	}
	h := sha256.New()
	var hdr [16]byte
	binary.BigEndian.PutUint64(hdr[:8], uint64(st.Size()))
	binary.BigEndian.PutUint64(hdr[8:], uint64(st.ModTime().UnixNano()))
	h.Write(hdr[:])
	buf := make([]byte, sampleSize)
	size := st.Size()
	for k := int64(0); k < sampleBlocks; k++ {
		off := int64(0)
		if size > sampleSize {
			off = (size - sampleSize) * k / (sampleBlocks - 1)
		}
		n, err := f.ReadAt(buf, off)
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("fingerprint %s: %w", path, err)
		}
		h.Write(buf[:n])
		if size <= sampleSize {
			break
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// rungKey identifies one output: the master's content, the ffmpeg build, and every option
// that shapes the rung (the same strings the commands are built from, so any change to the
// recipe changes the key; one-process and per-rung commands give the same key).
func rungKey(fingerprint, ffmpegVersion string, s *settings, r Rung) string {
	h := sha256.New()
	fmt.Fprintf(h, "satchel encode cache v%d\n%s\n%s\n", cacheVersion, fingerprint, ffmpegVersion)
	fmt.Fprintf(h, "%s%s,%s\n", s.videoInput(), s.preFilter(), rungFilter(r))
	fmt.Fprintf(h, "%q\n%q\n", s.videoArgs(r), s.audioArgs(r))
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// ManifestName is the file in the output folder that records which finished rung files were
// encoded from which master with which settings (the rung cache), and their measured quality.
const ManifestName = "encode.json"

// manifest is ManifestName's content.
type manifest struct {
	Version int                      `json:"version"`
	Master  string                   `json:"master"`
	Rungs   map[string]manifestEntry `json:"rungs"` // by file name
}

type manifestEntry struct {
	Key     string    `json:"key"`
	Size    int64     `json:"size"`
	ModTime time.Time `json:"mod_time"`
	Quality *Quality  `json:"quality,omitempty"`
	// QualityVMAF records whether VMAF was attempted, so a machine that gains libvmaf measures
	// again.
	QualityVMAF bool `json:"quality_vmaf,omitempty"`
}

// cache is the output folder's manifest, safe for concurrent use.
type cache struct {
	mu   sync.Mutex
	path string
	m    manifest
}

// openCache reads the manifest of dir; a missing or unreadable one is an empty cache (an
// unreadable one is logged and will be rewritten).
func openCache(dir string) *cache {
	empty := manifest{Version: cacheVersion, Rungs: map[string]manifestEntry{}}
	c := &cache{path: filepath.Join(dir, ManifestName), m: empty}
	data, err := os.ReadFile(c.path)
	if errors.Is(err, fs.ErrNotExist) {
		return c
	}
	var m manifest
	if err == nil {
		err = json.Unmarshal(data, &m)
	}
	if err != nil || m.Version != cacheVersion || m.Rungs == nil {
		slog.Warn("encode cache unreadable; finished rungs will be encoded again", "path", c.path, "err", err)
		return c
	}
	c.m = m
	return c
}

// lookup returns the entry for file name if it matches key and the file on disk is the one
// recorded (same size and modification time).
func (c *cache) lookup(dir, name, key string) (manifestEntry, bool) {
	c.mu.Lock()
	e, ok := c.m.Rungs[name]
	c.mu.Unlock()
	if !ok || e.Key != key {
		return e, false
	}
	st, err := os.Stat(filepath.Join(dir, name))
	if err != nil || st.Size() != e.Size || !st.ModTime().Equal(e.ModTime) {
		return e, false
	}
	return e, true
}

// record stores (or replaces) the entries of finished files, by file name, and rewrites the
// manifest once.
func (c *cache) record(master string, entries map[string]manifestEntry) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m.Master = master
	for name, e := range entries {
		c.m.Rungs[name] = e
	}
	data, err := json.MarshalIndent(c.m, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(c.path, 0o644, append(data, '\n'))
}

// partSuffix marks ffmpeg's files in progress: a dot-prefixed name ending in .part, which no
// one mistakes for a finished rendition.
const partSuffix = ".part"

func partName(final string) string {
	return filepath.Join(filepath.Dir(final), "."+filepath.Base(final)+partSuffix)
}

// removeStaleParts deletes leftovers of an encode that was killed before it could clean up.
func removeStaleParts(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if n := e.Name(); strings.HasPrefix(n, ".") && strings.HasSuffix(n, ".mp4"+partSuffix) {
			if err := os.Remove(filepath.Join(dir, n)); err != nil {
				slog.Warn("remove stale partial encode", "path", n, "err", err)
			}
		}
	}
}
