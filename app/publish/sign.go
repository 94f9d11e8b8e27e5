package publish

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"path"
	"strings"

	"satchel/engine/manifest"
)

// Signed manifests. Azure SAS tokens are scoped to one blob, a container, or (only on accounts
// with a hierarchical namespace) a directory; Azurite and ordinary Blob Storage accounts have
// no directory SAS. A manifest's segments therefore cannot share its token without opening the
// whole container, every other title in it included. Instead, each manifest is rewritten into
// a signed copy whose every reference (init segment, media segment, media playlist) is an
// absolute URL carrying that blob's own read-only token, and the copy itself gets a per-blob
// token. Nothing a title's links carry opens any other blob.

// signer maps a package-relative file name to its absolute signed URL; ok is false for a name
// that is not a published file of the package.
type signer func(rel string) (url string, ok bool)

// refError says a manifest references something that is not a published file of the package.
type refError struct{ manifest, ref string }

func (e *refError) Error() string {
	return fmt.Sprintf("%s references %s, which is not a published file of the package", e.manifest, e.ref)
}

// resolveRel resolves ref, written in the manifest at rel, to a package-relative name. ok is
// false for absolute URLs, other schemes (skd://, data:) and references outside the package.
func resolveRel(rel, ref string) (string, bool) {
	if ref == "" || strings.Contains(ref, "://") || strings.HasPrefix(ref, "data:") || strings.HasPrefix(ref, "/") {
		return "", false
	}
	ref, _, _ = strings.Cut(ref, "?")
	ref, _, _ = strings.Cut(ref, "#")
	p := path.Clean(path.Join(path.Dir(rel), ref))
	if p == ".." || strings.HasPrefix(p, "../") {
		return "", false
	}
	return p, true
}

// signHLS rewrites the playlist at rel (content b): every URI that names a package file is
// replaced by sign's URL for it. Media playlists a multivariant playlist references are signed
// by the caller (their signed copies are what sign returns for them).
func signHLS(rel string, b []byte, sign signer) ([]byte, error) {
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "":
		case strings.HasPrefix(trimmed, "#"):
			var err error
			if line, err = signURIAttr(rel, line, sign); err != nil {
				return nil, err
			}
		default:
			u, err := signRef(rel, trimmed, sign)
			if err != nil {
				return nil, err
			}
			line = u
		}
		out.WriteString(line)
		out.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", rel, err)
	}
	return out.Bytes(), nil
}

// signRef signs one reference: a package file gets its signed URL; an absolute URL or another
// scheme stays; a relative reference to anything else is an error.
func signRef(rel, ref string, sign signer) (string, error) {
	name, inside := resolveRel(rel, ref)
	if !inside {
		if strings.Contains(ref, "://") || strings.HasPrefix(ref, "data:") {
			return ref, nil
		}
		return "", &refError{manifest: rel, ref: ref}
	}
	u, ok := sign(name)
	if !ok {
		return "", &refError{manifest: rel, ref: ref}
	}
	return u, nil
}

// signURIAttr signs the URI="…" attribute of an HLS tag line, if it has one.
func signURIAttr(rel, line string, sign signer) (string, error) {
	i := strings.Index(line, `URI="`)
	if i < 0 || !strings.HasPrefix(line, "#EXT") {
		return line, nil
	}
	start := i + len(`URI="`)
	end := strings.IndexByte(line[start:], '"')
	if end < 0 {
		return "", fmt.Errorf("%s: unterminated URI attribute in %q", rel, line)
	}
	u, err := signRef(rel, line[start:start+end], sign)
	if err != nil {
		return "", err
	}
	return line[:start] + u + line[start+end:], nil
}

// hlsChildren returns the package files a multivariant playlist references (its media
// playlists), so they can be signed first.
func hlsChildren(rel string, b []byte) []string {
	var out []string
	_, _ = signHLS(rel, b, func(name string) (string, bool) {
		if strings.HasSuffix(strings.ToLower(name), ".m3u8") {
			out = append(out, name)
		}
		return name, true
	})
	return out
}

// segTemplate is a SegmentTemplate's timing, kept for the SegmentList that replaces it.
type segTemplate struct {
	attrs    []xml.Attr  // timescale, duration, startNumber, presentationTimeOffset
	timeline []xml.Token // the SegmentTimeline element, as read
}

// timingAttrs are the SegmentTemplate attributes a SegmentList shares.
var timingAttrs = map[string]bool{"timescale": true, "duration": true, "startNumber": true, "presentationTimeOffset": true}

// signMPD rewrites the DASH MPD at rel (content b): BaseURLs are dropped, each
// Representation's SegmentTemplate becomes a SegmentList whose Initialization and SegmentURLs
// are sign's URLs, and a single-file Representation gets its file's signed URL as BaseURL.
// Everything else is copied token by token (namespaces, ContentProtection, comments).
func signMPD(rel string, b []byte, sign signer) ([]byte, error) {
	info, err := manifest.ReadMPD(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	w := &mpdSigner{rel: rel, info: info, sign: sign}
	dec := xml.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", rel, err)
		}
		if err := w.token(dec, xml.CopyToken(tok)); err != nil {
			return nil, err
		}
	}
	if w.rep != len(info.Representations) {
		return nil, fmt.Errorf("%s: %d representations written, %d read", rel, w.rep, len(info.Representations))
	}
	return w.out.Bytes(), nil
}

// mpdSigner is signMPD's state while it copies tokens.
type mpdSigner struct {
	rel     string
	info    *manifest.MPDInfo
	sign    signer
	out     bytes.Buffer
	setTpl  *segTemplate // the current AdaptationSet's template
	repTpl  *segTemplate // the current Representation's own template
	repOpen bool         // inside a Representation
	rep     int          // Representations completed
}

func (m *mpdSigner) token(dec *xml.Decoder, tok xml.Token) error {
	switch t := tok.(type) {
	case xml.StartElement:
		switch t.Name.Local {
		case "BaseURL":
			return dec.Skip()
		case "SegmentTemplate", "SegmentList":
			tpl, err := readTemplate(dec, t)
			if err != nil {
				return fmt.Errorf("%s: %w", m.rel, err)
			}
			if m.inRep() {
				m.repTpl = tpl
			} else {
				m.setTpl = tpl
			}
			return nil
		case "AdaptationSet":
			m.setTpl = nil
		case "Representation":
			m.repTpl, m.repOpen = nil, true
		}
	case xml.EndElement:
		if t.Name.Local == "Representation" {
			if err := m.closeRep(); err != nil {
				return err
			}
		}
	}
	writeToken(&m.out, tok)
	return nil
}

func (m *mpdSigner) inRep() bool { return m.repOpen }

// closeRep writes the signed references of the Representation that ends here.
func (m *mpdSigner) closeRep() error {
	m.repOpen = false
	if m.rep >= len(m.info.Representations) {
		return fmt.Errorf("%s: more representations than read", m.rel)
	}
	ri := m.info.Representations[m.rep]
	m.rep++
	if ri.SingleFile {
		u, err := signRef(m.rel, ri.InitURL, m.sign)
		if err != nil {
			return err
		}
		m.out.WriteString("<BaseURL>")
		escape(&m.out, []byte(u), false)
		m.out.WriteString("</BaseURL>")
		return nil
	}
	tpl := m.repTpl
	if tpl == nil {
		tpl = m.setTpl
	}
	return m.writeList(ri, tpl)
}

func (m *mpdSigner) writeList(ri manifest.RepresentationInfo, tpl *segTemplate) error {
	m.out.WriteString("<SegmentList")
	if tpl != nil {
		for _, a := range tpl.attrs {
			writeAttr(&m.out, a)
		}
	}
	m.out.WriteString(">")
	if ri.InitURL != "" {
		u, err := signRef(m.rel, ri.InitURL, m.sign)
		if err != nil {
			return err
		}
		m.out.WriteString(`<Initialization sourceURL="`)
		escape(&m.out, []byte(u), true)
		m.out.WriteString(`"/>`)
	}
	if tpl != nil {
		for _, tok := range tpl.timeline {
			writeToken(&m.out, tok)
		}
	}
	for _, s := range ri.SegmentURLs {
		u, err := signRef(m.rel, s, m.sign)
		if err != nil {
			return err
		}
		m.out.WriteString(`<SegmentURL media="`)
		escape(&m.out, []byte(u), true)
		m.out.WriteString(`"/>`)
	}
	m.out.WriteString("</SegmentList>")
	return nil
}

// readTemplate reads a SegmentTemplate (or SegmentList) element: its timing attributes and its
// SegmentTimeline, dropping the rest (URLs come from manifest.ReadMPD).
func readTemplate(dec *xml.Decoder, start xml.StartElement) (*segTemplate, error) {
	tpl := &segTemplate{}
	for _, a := range start.Attr {
		if a.Name.Space == "" && timingAttrs[a.Name.Local] {
			tpl.attrs = append(tpl.attrs, a)
		}
	}
	depth, inTimeline := 1, false
	for depth > 0 {
		tok, err := dec.RawToken()
		if err != nil {
			return nil, err
		}
		tok = xml.CopyToken(tok)
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if t.Name.Local == "SegmentTimeline" {
				inTimeline = true
			}
		case xml.EndElement:
			depth--
			if inTimeline {
				tpl.timeline = append(tpl.timeline, tok)
				if t.Name.Local == "SegmentTimeline" {
					inTimeline = false
				}
				continue
			}
		}
		if inTimeline {
			tpl.timeline = append(tpl.timeline, tok)
		}
	}
	return tpl, nil
}

// writeToken writes a raw token back as XML, names with their prefixes as read.
func writeToken(w *bytes.Buffer, tok xml.Token) {
	switch t := tok.(type) {
	case xml.StartElement:
		w.WriteString("<" + qname(t.Name))
		for _, a := range t.Attr {
			writeAttr(w, a)
		}
		w.WriteString(">")
	case xml.EndElement:
		w.WriteString("</" + qname(t.Name) + ">")
	case xml.CharData:
		escape(w, t, false)
	case xml.Comment:
		w.WriteString("<!--" + string(t) + "-->")
	case xml.ProcInst:
		w.WriteString("<?" + t.Target + " " + string(t.Inst) + "?>")
	case xml.Directive:
		w.WriteString("<!" + string(t) + ">")
	}
}

func writeAttr(w *bytes.Buffer, a xml.Attr) {
	w.WriteString(" " + qname(a.Name) + `="`)
	escape(w, []byte(a.Value), true)
	w.WriteString(`"`)
}

// escape writes s with the XML special characters escaped; white space stays as it is in text
// (xml.EscapeText would turn every newline into &#xA;) and is escaped in attribute values.
func escape(w *bytes.Buffer, s []byte, attr bool) {
	for _, c := range s {
		switch {
		case c == '&':
			w.WriteString("&amp;")
		case c == '<':
			w.WriteString("&lt;")
		case c == '>':
			w.WriteString("&gt;")
		case attr && c == '"':
			w.WriteString("&quot;")
		case attr && c == '\n':
			w.WriteString("&#xA;")
		case attr && c == '\r':
			w.WriteString("&#xD;")
		case attr && c == '\t':
			w.WriteString("&#x9;")
		default:
			w.WriteByte(c)
		}
	}
}

func qname(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}
