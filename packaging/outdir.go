package packaging

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"satchel/engine/manifest"
	"satchel/internal/guard"
	"satchel/internal/owner"
	"satchel/internal/version"
)

// OutputConflict is why an output folder may not be written or replaced.
type OutputConflict string

// The conflicts.
const (
	// ConflictNotPackage: Overwrite was asked for a folder Satchel did not make (no marker).
	ConflictNotPackage OutputConflict = "not-package"
	// ConflictHoldsInput: replacing the folder would delete an input file.
	ConflictHoldsInput OutputConflict = "holds-input"
	// ConflictHoldsWorkspace: the folder holds a Satchel workspace.
	ConflictHoldsWorkspace OutputConflict = "holds-workspace"
	// ConflictInWorkspace: the folder is inside a Satchel workspace folder.
	ConflictInWorkspace OutputConflict = "in-workspace"
)

// OutputConflictError says the output folder is not safe to write or replace; nothing was
// changed. Path is the file (input, workspace file) or folder that is in the way.
type OutputConflictError struct {
	Dir      string
	Path     string
	Conflict OutputConflict
}

func (e *OutputConflictError) Error() string {
	switch e.Conflict {
	case ConflictNotPackage:
		return fmt.Sprintf("output folder %s was not made by Satchel (it has no %s marker); "+
			"Satchel replaces only folders it made", e.Dir, manifest.FileMarker)
	case ConflictHoldsInput:
		return fmt.Sprintf("output folder %s holds the input %s; replacing it would delete the input", e.Dir, e.Path)
	case ConflictHoldsWorkspace:
		return fmt.Sprintf("output folder %s holds a Satchel workspace (%s); it is never replaced", e.Dir, e.Path)
	case ConflictInWorkspace:
		return fmt.Sprintf("output folder %s is inside the Satchel workspace %s; packages do not belong there", e.Dir, e.Path)
	}
	return fmt.Sprintf("output folder %s cannot be used", e.Dir)
}

// marker is the content of manifest.FileMarker: which program made the folder, and when.
type marker struct {
	MadeBy  string    `json:"made_by"`
	Version string    `json:"version"`
	Created time.Time `json:"created"`
}

const markerMadeBy = "satchel"

// writeMarker marks dir as a package folder Satchel made.
func writeMarker(dir string) error {
	b, _ := json.Marshal(marker{MadeBy: markerMadeBy, Version: version.String(), Created: time.Now().UTC().Truncate(time.Second)})
	if err := os.WriteFile(filepath.Join(dir, manifest.FileMarker), b, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", manifest.FileMarker, err)
	}
	return nil
}

// hasMarker reports whether dir holds a readable Satchel marker (a regular file, not a link).
func hasMarker(dir string) bool {
	p := filepath.Join(dir, manifest.FileMarker)
	st, err := os.Lstat(p)
	if err != nil || !st.Mode().IsRegular() || st.Size() > 4096 {
		return false
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return false
	}
	var m marker
	return json.Unmarshal(b, &m) == nil && m.MadeBy == markerMadeBy
}

// inputFiles lists every file the job reads, for the checks that the output never destroys an
// input.
func (c *Config) inputFiles() []string { return append([]string(nil), c.Inputs...) }

// checkOutDir refuses an output folder that is inside a workspace and, when an existing
// non-empty folder is to be replaced, one Satchel did not make or that holds an input or a
// workspace. out is the folder as given; inputs are the job's input files.
func checkOutDir(out string, replacing bool, inputs []string) error {
	dir, err := guard.Resolve(out)
	if err != nil {
		return fmt.Errorf("output folder %s: %w", out, err)
	}
	if ws, ok := guard.InsideWorkspace(dir); ok {
		return &OutputConflictError{Dir: out, Path: ws, Conflict: ConflictInWorkspace}
	}
	if !replacing {
		return nil
	}
	for _, in := range inputs {
		if p, err := guard.Resolve(in); err == nil && guard.Within(dir, p) {
			return &OutputConflictError{Dir: out, Path: in, Conflict: ConflictHoldsInput}
		}
	}
	if ws, ok, err := guard.FindWorkspace(dir); err != nil {
		return fmt.Errorf("output folder %s: %w", out, err)
	} else if ok {
		return &OutputConflictError{Dir: out, Path: ws, Conflict: ConflictHoldsWorkspace}
	}
	if !hasMarker(dir) {
		return &OutputConflictError{Dir: out, Conflict: ConflictNotPackage}
	}
	return nil
}

// tempPrefix is the name prefix of the temporary folders beside out: ".NAME.tmp-".
func tempPrefix(abs string) string { return "." + filepath.Base(abs) + ".tmp-" }

// makeTemp creates a temporary folder beside abs, owned (internal/owner) by this process.
func makeTemp(abs string) (string, error) {
	tmp, err := os.MkdirTemp(filepath.Dir(abs), tempPrefix(abs))
	if err != nil {
		return "", err
	}
	if err := owner.Write(tmp); err != nil {
		os.RemoveAll(tmp)
		return "", err
	}
	return tmp, nil
}

// removeStaleTemps removes the temporary folders of dead runs in parent: hidden ".*.tmp-*"
// folders whose owner record names a process that has ended (a SIGKILLed package job, a
// crash). Folders of live runs, of other machines, and without a record are left alone.
// It returns the folders removed.
func removeStaleTemps(parent string) []string {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return nil
	}
	var removed []string
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || !strings.HasPrefix(name, ".") || !strings.Contains(name, ".tmp-") {
			continue
		}
		p := filepath.Join(parent, name)
		if owner.Stale(p) && os.RemoveAll(p) == nil {
			removed = append(removed, p)
		}
	}
	return removed
}
