package services

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"satchel/packaging"
)

// evalAsync evaluates a JavaScript expression yielding a promise of a string, and waits for it.
func (p *chromiumPage) evalAsync(expr string) (string, error) {
	var r struct {
		Result struct {
			Value       json.RawMessage `json:"value"`
			Description string          `json:"description"`
		} `json:"result"`
		Exception *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	if err := p.call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true},
		&r); err != nil {
		return "", err
	}
	if r.Exception != nil {
		return "", fmt.Errorf("%s: %s", r.Exception.Text, r.Result.Description)
	}
	var v string
	if err := json.Unmarshal(r.Result.Value, &v); err != nil {
		return "", fmt.Errorf("result %s is not a string", r.Result.Value)
	}
	return v, nil
}

// mseInitDuration fetches the first download the server lists, appends only its
// initialization segment (ftyp + moov: the top-level boxes before the first sidx or moof) to
// an MSE SourceBuffer, and returns the MediaSource's duration, which MSE takes from the
// initialization segment (Chromium: mvex/mehd, else mvhd; Infinity when neither says).
const mseInitDuration = `(async () => {
  const d = (await (await fetch('/api/downloads')).json())[0];
  const data = new Uint8Array(await (await fetch(d.url)).arrayBuffer());
  const view = new DataView(data.buffer);
  let end = 0;
  for (;;) {
    const type = String.fromCharCode(...data.slice(end + 4, end + 8));
    if (type === 'sidx' || type === 'moof') break;
    end += view.getUint32(end);
  }
  const codecs = d.codecs.split(',').filter((c) => /^(avc|mp4a)/.test(c)).join(',');
  const ms = new MediaSource();
  const video = document.createElement('video');
  video.src = URL.createObjectURL(ms);
  await new Promise((ok) => ms.addEventListener('sourceopen', ok, { once: true }));
  const sb = ms.addSourceBuffer('video/mp4; codecs="' + codecs + '"');
  await new Promise((ok, fail) => {
    sb.addEventListener('updateend', ok, { once: true });
    sb.addEventListener('error', () => fail(new Error('append failed')), { once: true });
    sb.appendBuffer(data.slice(0, end));
  });
  return String(ms.duration);
})()`

// TestDownloadDurationInChromium: Chromium's MSE reads the download's duration from its
// initialization segment alone — before any fragment is appended — and it is the title's
// 6 seconds.
func TestDownloadDurationInChromium(t *testing.T) {
	browser := chromiumBrowser(t)
	s := open(t)
	out := filepath.Join(t.TempDir(), "pkg")
	if _, err := packaging.Package(context.Background(), packaging.Config{Inputs: []string{media + "multilang.mp4"}, OutDir: out,
		SegmentDuration: 2 * time.Second, Formats: []packaging.Format{packaging.FormatMP4}}, nil); err != nil {
		t.Fatal(err)
	}
	url, err := s.StartLicenseServer(context.Background(), LicenseOptions{Addr: "127.0.0.1:0", ContentDir: out})
	if err != nil {
		t.Fatal(err)
	}
	defer s.StopLicenseServer()
	page := openPage(t, browser, url+"/player/")
	page.waitLog(t, 30*time.Second, "found 1 download(s)")
	got, err := page.evalAsync(mseInitDuration)
	if err != nil {
		t.Fatal(err)
	}
	if d, err := strconv.ParseFloat(got, 64); err != nil || d < 5.99 || d > 6.01 {
		t.Fatalf("MSE duration from the initialization segment: %q, want 6", got)
	}
}
