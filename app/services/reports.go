package services

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"satchel/engine/verify"
	"satchel/internal/atomicfile"
)

// reportsDir is the workspace folder that holds the HTML reports opened from the desktop app.
const reportsDir = "reports"

// WriteReportHTML writes rep as an HTML page into the workspace's reports folder and returns
// its path, for opening in a browser. The file is written under a temporary name and renamed
// when complete; its name carries the time and the target's base name.
func (s *Service) WriteReportHTML(rep *verify.Report) (string, error) {
	dir := filepath.Join(s.Dir, reportsDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("write report: %w", err)
	}
	path := filepath.Join(dir, ReportFileName(rep, ".html"))
	if err := atomicfile.Write(path, 0o600, rep.WriteHTML); err != nil {
		return "", fmt.Errorf("write report %s: %w", path, err)
	}
	return path, nil
}

// ReportFileName suggests a file name for rep with extension ext: "verify-<target>-<time>.html".
func ReportFileName(rep *verify.Report, ext string) string {
	base := strings.TrimSuffix(filepath.Base(strings.TrimRight(rep.Target, "/\\")), filepath.Ext(rep.Target))
	base = FileSafe(base)
	if base == "" || base == "." {
		base = "report"
	}
	t := rep.Started
	if t.IsZero() {
		t = time.Now()
	}
	return "verify-" + base + "-" + t.Local().Format("20060102-150405") + ext
}

// FileSafe makes name usable as a file name on every platform: the characters Windows or a
// path would take specially (/ \ : * ? " < > |) become underscores.
func FileSafe(name string) string {
	return strings.Map(func(r rune) rune {
		if strings.ContainsRune(`/\:*?"<>|`, r) {
			return '_'
		}
		return r
	}, name)
}
