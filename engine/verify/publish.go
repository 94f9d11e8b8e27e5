package verify

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// checkHTTP checks what a browser player and a download manager need from a published URL:
// the content type, CORS for a player on another origin, and byte-range support. Only the
// first URL of each content type is checked (one request each).
func (v *verifier) checkHTTP(ctx context.Context, loc, wantType string) {
	if !isURL(loc) || v.httpChecked[wantType] {
		return
	}
	v.httpChecked[wantType] = true
	name := v.fetch.rel(loc)
	w := Where{File: name}
	subject := "publish " + name
	resp, err := v.fetch.request(ctx, loc, map[string]string{"Origin": v.fetch.origin, "Range": "bytes=0-99"})
	if err != nil {
		if !v.limitOrRefused(w, subject, err) {
			v.rep.failAt(w, CatPublish, subject, "cannot be fetched: "+err.Error(), "check the URL, the network and the storage permissions")
		}
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	ct := resp.Header.Get("Content-Type")
	if ct == "" || !strings.HasPrefix(strings.ToLower(ct), wantType) {
		v.rep.warnAt(w, CatPublish, subject, fmt.Sprintf("served as %q, expected %s", ct, wantType),
			"set the blob's Content-Type (satchel publish does)")
	} else {
		v.rep.passAt(w, CatPublish, subject, "served as %s", ct)
	}
	if ao := resp.Header.Get("Access-Control-Allow-Origin"); ao == "*" || ao == v.fetch.origin {
		v.rep.passAt(w, CatPublish, subject, "CORS allows origin %s", v.fetch.origin)
	} else {
		v.rep.warnAt(w, CatPublish, subject, fmt.Sprintf("no CORS header for origin %s: browser players on another origin will fail",
			v.fetch.origin), "add a CORS rule for the player origin")
	}
	if resp.StatusCode == http.StatusPartialContent && strings.HasPrefix(resp.Header.Get("Content-Range"), "bytes 0-99/") {
		v.rep.passAt(w, CatPublish, subject, "range requests supported (206)")
	} else {
		v.rep.warnAt(w, CatPublish, subject, fmt.Sprintf("a Range request answered %d, not 206", resp.StatusCode),
			"serve the files from storage that supports byte ranges; download managers resume with them")
	}
}
