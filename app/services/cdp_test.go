package services

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// chromiumPage drives headless Chromium over the DevTools protocol (--remote-debugging-pipe:
// JSON messages separated by NUL on file descriptors 3 and 4), so a test can watch a page in
// real time — media plays at its own pace, which --virtual-time-budget does not allow.
type chromiumPage struct {
	cmd     *exec.Cmd
	in      *os.File
	out     *bufio.Reader
	id      int
	session string
}

// chromiumBrowser returns the chromium binary, failing in CI (make test installs it) and
// skipping elsewhere when it is missing.
func chromiumBrowser(t *testing.T) string {
	t.Helper()
	browser, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" || os.Getenv("SATCHEL_REQUIRE_AZURITE") != "" {
			t.Fatal("chromium is not installed; scripts/deps.sh installs it (make test)")
		}
		t.Skip("chromium not installed")
	}
	return browser
}

// openPage starts headless Chromium on url and attaches to its page.
func openPage(t *testing.T, browser, url string) *chromiumPage {
	t.Helper()
	toChrome, in, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	out, fromChrome, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	profile, err := os.MkdirTemp("", "satchel-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--user-data-dir="+profile,
		"--autoplay-policy=no-user-gesture-required", "--remote-debugging-pipe", url)
	cmd.ExtraFiles = []*os.File{toChrome, fromChrome} // fd 3: commands in, fd 4: replies out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	toChrome.Close()
	fromChrome.Close()
	p := &chromiumPage{cmd: cmd, in: in, out: bufio.NewReader(out)}
	t.Cleanup(func() { p.close(profile) })
	var targets struct {
		TargetInfos []struct{ TargetID, Type string } `json:"targetInfos"`
	}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if err := p.call("Target.getTargets", map[string]any{}, &targets); err != nil {
			t.Fatal(err)
		}
		for _, tg := range targets.TargetInfos {
			if tg.Type == "page" {
				var att struct{ SessionID string }
				if err := p.call("Target.attachToTarget", map[string]any{"targetId": tg.TargetID, "flatten": true}, &att); err != nil {
					t.Fatal(err)
				}
				p.session = att.SessionID
				return p
			}
		}
	}
	t.Fatal("chromium opened no page")
	return nil
}

// close shuts the browser down cleanly (Browser.close lets every child process finish writing
// the profile), kills it if it hangs, and removes the profile.
func (p *chromiumPage) close(profile string) {
	done := make(chan struct{})
	go func() {
		p.cmd.Wait()
		close(done)
	}()
	p.session = ""
	go p.call("Browser.close", map[string]any{}, &struct{}{})
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-done
	}
	p.in.Close()
	for i := 0; i < 20 && os.RemoveAll(profile) != nil; i++ {
		time.Sleep(250 * time.Millisecond) // late writes of exiting child processes
	}
}

// call sends one DevTools command and decodes its result, skipping events.
func (p *chromiumPage) call(method string, params, result any) error {
	p.id++
	msg, _ := json.Marshal(map[string]any{"id": p.id, "method": method, "params": params, "sessionId": p.session})
	if p.session == "" || strings.HasPrefix(method, "Target.") {
		msg, _ = json.Marshal(map[string]any{"id": p.id, "method": method, "params": params})
	}
	if _, err := p.in.Write(append(msg, 0)); err != nil {
		return fmt.Errorf("devtools %s: %w", method, err)
	}
	for {
		line, err := p.out.ReadBytes(0)
		if err != nil {
			return fmt.Errorf("devtools %s: %w", method, err)
		}
		var reply struct {
			ID     int             `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *struct{ Message string }
		}
		if err := json.Unmarshal(line[:len(line)-1], &reply); err != nil || reply.ID != p.id {
			continue
		}
		if reply.Error != nil {
			return fmt.Errorf("devtools %s: %s", method, reply.Error.Message)
		}
		return json.Unmarshal(reply.Result, result)
	}
}

// text evaluates a JavaScript expression yielding a string.
func (p *chromiumPage) text(expr string) (string, error) {
	var r struct {
		Result struct{ Value string } `json:"result"`
	}
	err := p.call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}, &r)
	return r.Result.Value, err
}

// waitLog polls the demo player's log until it contains every wanted line, and returns it.
func (p *chromiumPage) waitLog(t *testing.T, timeout time.Duration, want ...string) string {
	t.Helper()
	var log string
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		var err error
		if log, err = p.text(`document.getElementById('log').textContent`); err != nil {
			t.Fatal(err)
		}
		missing := false
		for _, w := range want {
			if !strings.Contains(log, w) {
				missing = true
			}
		}
		if !missing {
			return log
		}
	}
	t.Fatalf("after %s the player log lacks one of %q:\n%s", timeout, want, log)
	return ""
}
