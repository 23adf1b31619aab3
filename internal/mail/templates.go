package mail

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"strings"
	texttemplate "text/template"
)

// DefaultLanguage is the language of a message when the recipient's has no
// template: Relais is written for French tiers lieux.
const DefaultLanguage = "fr"

// Templates renders messages from files NAME.LANG.txt and NAME.LANG.html
// (the HTML one optional), embedded by the package that sends them. The
// first line of the .txt is "Subject: …", rendered with the same data.
// Text is rendered with text/template, HTML with html/template, which
// escapes what the data holds.
type Templates struct {
	text map[string]*texttemplate.Template
	html map[string]*htmltemplate.Template
}

// MustParseTemplates is ParseTemplates of fsys's folder dir, for the
// templates a package embeds: one that does not parse is a bug in that
// package, caught by its tests, not a condition to handle at run time.
func MustParseTemplates(fsys fs.FS, dir string) *Templates {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err)
	}
	t, err := ParseTemplates(sub)
	if err != nil {
		panic(err)
	}
	return t
}

// ParseTemplates reads every *.txt and *.html of fsys's root.
func ParseTemplates(fsys fs.FS) (*Templates, error) {
	t := &Templates{text: map[string]*texttemplate.Template{}, html: map[string]*htmltemplate.Template{}}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("mail templates: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("mail template %s: %w", name, err)
		}
		switch {
		case strings.HasSuffix(name, ".txt"):
			key := strings.TrimSuffix(name, ".txt")
			if !strings.HasPrefix(string(b), "Subject: ") {
				return nil, fmt.Errorf("mail template %s: first line must be \"Subject: …\"", name)
			}
			if t.text[key], err = texttemplate.New(name).Option("missingkey=error").Parse(string(b)); err != nil {
				return nil, fmt.Errorf("mail template %s: %w", name, err)
			}
		case strings.HasSuffix(name, ".html"):
			key := strings.TrimSuffix(name, ".html")
			if t.html[key], err = htmltemplate.New(name).Option("missingkey=error").Parse(string(b)); err != nil {
				return nil, fmt.Errorf("mail template %s: %w", name, err)
			}
		}
	}
	for key := range t.html {
		if t.text[key] == nil {
			return nil, fmt.Errorf("mail template %s.html has no %s.txt: every message has a text part", key, key)
		}
	}
	return t, nil
}

// Render fills message name in lang (DefaultLanguage when lang has none)
// with data, addressed to to.
func (t *Templates) Render(name, lang, to string, data any) (Message, error) {
	key := name + "." + lang
	if t.text[key] == nil {
		key = name + "." + DefaultLanguage
	}
	tt := t.text[key]
	if tt == nil {
		return Message{}, fmt.Errorf("mail: no template %s", name)
	}
	var b bytes.Buffer
	if err := tt.Execute(&b, data); err != nil {
		return Message{}, fmt.Errorf("mail: render %s: %w", key, err)
	}
	first, body, _ := strings.Cut(b.String(), "\n")
	m := Message{To: to, Subject: strings.TrimSpace(strings.TrimPrefix(first, "Subject: ")), Body: strings.TrimLeft(body, "\n")}
	if ht := t.html[key]; ht != nil {
		b.Reset()
		if err := ht.Execute(&b, data); err != nil {
			return Message{}, fmt.Errorf("mail: render %s.html: %w", key, err)
		}
		m.HTML = b.String()
	}
	return m, nil
}
