// Package azuritetest starts the Azurite blob emulator (npm azurite-blob, in memory, on a
// free loopback port) for tests that publish to Azure Blob Storage. It is for tests only.
package azuritetest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// The well-known Azurite development account.
const (
	Account = "devstoreaccount1"
	Key     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// startTimeout bounds how long start waits for Azurite to listen.
const startTimeout = time.Minute

// Server is a running Azurite.
type Server struct {
	// Endpoint is the blob endpoint, http://127.0.0.1:PORT/devstoreaccount1.
	Endpoint string
	cmd      *exec.Cmd
	dir      string
}

// ConnectionString returns a connection string for the development account, with key as
// the account key (Key, or a wrong one to test failures).
func (s *Server) ConnectionString(key string) string {
	return fmt.Sprintf("DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;BlobEndpoint=%s;",
		Account, key, s.Endpoint)
}

// Stop stops Azurite and removes its files.
func (s *Server) Stop() {
	s.cmd.Process.Kill()
	s.cmd.Wait()
	os.RemoveAll(s.dir)
}

// Main runs a package's tests (call it from TestMain with the path to the repository root)
// with Azurite started into *srv. Without Azurite installed the tests run with *srv nil (tests
// skip through Need), unless $CI or $SATCHEL_REQUIRE_AZURITE is set: then it is a failure.
func Main(run func() int, repoRoot string, srv **Server) int {
	if fuzzing() {
		return run() // fuzz targets need no storage; a worker per CPU must not start Node each
	}
	bin, _ := filepath.Abs(filepath.Join(repoRoot, ".tools/node_modules/.bin/azurite-blob"))
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") != "" || os.Getenv("SATCHEL_REQUIRE_AZURITE") != "" {
			fmt.Fprintln(os.Stderr, "azurite-blob is not installed (.tools/); "+
				"run scripts/azurite.sh install — `make test` does")
			return 1
		}
		fmt.Fprintln(os.Stderr, "skipping Azurite tests: run scripts/azurite.sh install")
		return run()
	}
	s, err := start(bin)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer s.Stop()
	*srv = s
	return run()
}

// fuzzing reports whether the test binary runs `go test -fuzz` (the coordinator or a worker).
func fuzzing() bool {
	for _, a := range os.Args[1:] {
		if strings.HasPrefix(a, "-test.fuzz") {
			return true
		}
	}
	return false
}

func start(bin string) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("find a free port for azurite: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dir, err := os.MkdirTemp("", "azurite-*")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--blobHost", "127.0.0.1", "--blobPort", fmt.Sprint(port), "--inMemoryPersistence",
		"--disableTelemetry", "--skipApiVersionCheck", "--loose")
	cmd.Dir = dir // azurite writes its debug/extent files into the working directory
	var logb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logb, &logb
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start azurite: %w", err)
	}
	s := &Server{Endpoint: fmt.Sprintf("http://127.0.0.1:%d/%s", port, Account), cmd: cmd, dir: dir}
	// Node takes a while to start on a loaded machine (several test packages start their own
	// Azurite in parallel): wait up to a minute.
	for deadline := time.Now().Add(startTimeout); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			c.Close()
			return s, nil
		}
	}
	s.Stop()
	return nil, fmt.Errorf("azurite did not start within %s: %s", startTimeout, logb.String())
}
