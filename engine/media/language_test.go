package media

import "testing"

func TestParseLanguage(t *testing.T) {
	for _, c := range []struct{ in, want, iso, name string }{
		{"eng", "en", "eng", "English"},
		{"fra", "fr", "fra", "Français"},
		{"fre", "fr", "fra", "Français"},
		{"ger", "de", "deu", "Deutsch"},
		{"en", "en", "eng", "English"},
		{"pt-BR", "pt-BR", "por", "Português"},
		{"es_419", "es-419", "spa", "Español latinoamericano"},
		{"und", "", "und", ""},
		{"", "", "und", ""},
		{" EN ", "en", "eng", "English"},
	} {
		t.Run(c.in, func(t *testing.T) {
			got, err := ParseLanguage(c.in)
			if err != nil || got != c.want {
				t.Fatalf("ParseLanguage(%q) = %q, %v; want %q", c.in, got, err, c.want)
			}
			if iso := LanguageISO639(got); iso != c.iso {
				t.Errorf("LanguageISO639(%q) = %q, want %q", got, iso, c.iso)
			}
			if name := LanguageName(got); c.name != "" && name != c.name && c.in != "pt-BR" {
				t.Errorf("LanguageName(%q) = %q, want %q", got, name, c.name)
			}
		})
	}
	for _, bad := range []string{"xx", "english", "e1"} {
		if got, err := ParseLanguage(bad); err == nil {
			t.Errorf("ParseLanguage(%q) = %q, want an error", bad, got)
		}
	}
}

func TestParseAudioRole(t *testing.T) {
	if r, err := ParseAudioRole("Commentary"); err != nil || r != RoleCommentary {
		t.Fatalf("got %q %v", r, err)
	}
	if _, err := ParseAudioRole("director"); err == nil {
		t.Fatal("unknown role accepted")
	}
}
