package owner

import (
	"os"
	"os/exec"
	"runtime"
	"testing"
)

func TestCheck(t *testing.T) {
	if runtime.GOOS != "linux" && runtime.GOOS != "windows" {
		t.Skip("process start times are read on Linux and Windows only")
	}
	self, err := Self()
	if err != nil {
		t.Fatal(err)
	}
	if got := Check(self); got != Alive {
		t.Fatalf("this process: %v, want Alive", got)
	}
	// A process that has ended.
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	dead := self
	dead.PID = cmd.Process.Pid
	if got := Check(dead); got != Gone {
		t.Fatalf("ended process: %v, want Gone", got)
	}
	// The same PID with another start time: the PID was reused.
	reused := self
	reused.Start = "1"
	if got := Check(reused); got != Gone {
		t.Fatalf("reused PID: %v, want Gone", got)
	}
	other := self
	other.Host = "another-machine"
	if got := Check(other); got != Unknown {
		t.Fatalf("another host: %v, want Unknown", got)
	}
}

func TestStale(t *testing.T) {
	dir := t.TempDir()
	if Stale(dir) {
		t.Fatal("a folder without a record is stale")
	}
	if err := Write(dir); err != nil {
		t.Fatal(err)
	}
	if Stale(dir) {
		t.Fatal("this process's folder is stale")
	}
	os.WriteFile(dir+"/"+File, []byte("{not json"), 0o600)
	if Stale(dir) {
		t.Fatal("a folder with a damaged record is stale")
	}
}
