package media

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// ParseLanguage normalizes a language code to its canonical BCP 47 tag: ISO 639-2/T and /B
// codes as MP4 mdhd boxes carry them ("eng" → "en", "fra" and "fre" → "fr"), ISO 639-1 codes
// and full BCP 47 tags ("pt-BR", "es_419" → "es-419"). Empty input and "und" (undetermined)
// give "" and no error: the track has no declared language. Anything else that is not a
// registered language is an error.
func ParseLanguage(code string) (string, error) {
	s := strings.TrimSpace(code)
	if s == "" || strings.EqualFold(s, "und") {
		return "", nil
	}
	tag, err := language.Parse(s)
	if err != nil {
		return "", fmt.Errorf("language %q is not a BCP 47 tag or ISO 639-2 code (e.g. en, fr, pt-BR, eng)", code)
	}
	if tag == language.Und {
		return "", nil
	}
	return tag.String(), nil
}

// LanguageISO639 returns the ISO 639-2/T code of a BCP 47 tag for an MP4 mdhd box ("en" →
// "eng"), or "und" when tag is empty or has no three-letter code.
func LanguageISO639(tag string) string {
	t, err := language.Parse(tag)
	if tag == "" || err != nil {
		return "und"
	}
	base, conf := t.Base()
	if conf == language.No || len(base.ISO3()) != 3 {
		return "und"
	}
	return base.ISO3()
}

// LanguageName returns the name of a language in that language, capitalized as a menu label
// ("en" → "English", "fr" → "Français", "pt-BR" → "Português (Brasil)" style names), or the
// tag itself when no name is known. Empty input gives "".
func LanguageName(tag string) string {
	if tag == "" {
		return ""
	}
	t, err := language.Parse(tag)
	if err != nil {
		return tag
	}
	name := display.Self.Name(t)
	if name == "" {
		return tag
	}
	r, n := utf8.DecodeRuneInString(name)
	return string(unicode.ToUpper(r)) + name[n:]
}
