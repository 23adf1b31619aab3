package mail_test

import (
	"context"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	stdmail "net/mail"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/relais-tierslieux/relais/internal/mail"
	"github.com/relais-tierslieux/relais/internal/mail/mailtest"
)

// part is one leaf of a parsed message.
type part struct {
	typ, filename, text string
}

// leaves parses a MIME entity into its leaves, decoding transfer encodings
// (mime/multipart decodes quoted-printable; base64 by hand).
func leaves(t *testing.T, contentType, encoding string, body io.Reader) []part {
	t.Helper()
	typ, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		t.Fatalf("content type %q: %v", contentType, err)
	}
	if !strings.HasPrefix(typ, "multipart/") {
		b, err := io.ReadAll(body)
		if err != nil {
			t.Fatal(err)
		}
		return []part{{typ: typ, text: string(b)}}
	}
	var out []part
	r := multipart.NewReader(body, params["boundary"])
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if p.Header.Get("Content-Transfer-Encoding") == "base64" {
			b, _ := io.ReadAll(p)
			dec, err := base64Decode(string(b))
			if err != nil {
				t.Fatal(err)
			}
			ptyp, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
			out = append(out, part{typ: ptyp, filename: p.FileName(), text: dec})
			continue
		}
		out = append(out, leaves(t, p.Header.Get("Content-Type"), "", p)...)
	}
}

func TestSMTPSendsAlternativesAndAttachments(t *testing.T) {
	srv := mailtest.Start(t)
	s, err := mail.NewSMTP(srv.URL, "Relais <relais@tiers-lieu.example>")
	if err != nil {
		t.Fatal(err)
	}
	text := "Bonjour Anne,\nvotre facture : 25,00 € — « merci » !\n" + strings.Repeat("très longue ligne ", 10) + "\n"
	err = s.Send(context.Background(), mail.Message{
		To: "anne@example.fr", Subject: "Votre facture : 25,00 €", Body: text,
		HTML:            "<p>Bonjour Anne,<br>votre facture&nbsp;: 25,00&nbsp;€</p>",
		ReplyTo:         "Le Hangar <equipe@hangar.example>",
		ListUnsubscribe: "https://relais.example/v1/unsubscribe?token=abc",
		Attachments:     []mail.Attachment{{Filename: "facture-2026-001.pdf", ContentType: "application/pdf", Data: []byte("%PDF-1.7\n\x00\xff binary")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := srv.To(t, "anne@example.fr")
	msg, err := stdmail.ReadMessage(strings.NewReader(got.Data))
	if err != nil {
		t.Fatal(err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil || subject != "Votre facture : 25,00 €" {
		t.Errorf("subject %q (%v)", subject, err)
	}
	for k, want := range map[string]string{
		"Reply-To":              "Le Hangar <equipe@hangar.example>",
		"List-Unsubscribe":      "<https://relais.example/v1/unsubscribe?token=abc>",
		"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		"MIME-Version":          "1.0",
	} {
		if v := msg.Header.Get(k); v != want {
			t.Errorf("%s: %q, want %q", k, v, want)
		}
	}
	ps := leaves(t, msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
	if len(ps) != 3 {
		t.Fatalf("%d parts, want text, html, pdf: %+v", len(ps), ps)
	}
	if ps[0].typ != "text/plain" || ps[0].text != strings.ReplaceAll(text, "\n", "\r\n") {
		t.Errorf("text part %q: %q", ps[0].typ, ps[0].text)
	}
	if ps[1].typ != "text/html" || !strings.Contains(ps[1].text, "25,00&nbsp;€") {
		t.Errorf("html part %q: %q", ps[1].typ, ps[1].text)
	}
	if ps[2].typ != "application/pdf" || ps[2].filename != "facture-2026-001.pdf" || ps[2].text != "%PDF-1.7\n\x00\xff binary" {
		t.Errorf("attachment %+v", ps[2])
	}
	// Quoted-printable and base64 keep content lines short; only a header
	// carrying a long boundary may pass 78 bytes, never RFC 5322's 998.
	for _, line := range strings.Split(got.Data, "\r\n") {
		if len(line) > 998 || (len(line) > 78 && !strings.HasPrefix(line, "Content-Type: multipart/")) {
			t.Errorf("line of %d bytes: %q", len(line), line)
		}
	}
}

// Header values with a line break would add headers of their own: refused
// before anything is sent.
func TestSMTPRefusesHeaderInjection(t *testing.T) {
	srv := mailtest.Start(t)
	s, err := mail.NewSMTP(srv.URL, "relais@example.fr")
	if err != nil {
		t.Fatal(err)
	}
	for name, m := range map[string]mail.Message{
		"subject":           {Subject: "x\r\nBcc: eve@example.fr"},
		"reply-to":          {ReplyTo: "a@b.fr\nBcc: eve@example.fr"},
		"list-unsubscribe":  {ListUnsubscribe: "https://x.example/\r\nBcc: eve@example.fr"},
		"not https":         {ListUnsubscribe: "javascript:alert(1)"},
		"http off loopback": {ListUnsubscribe: "http://relais.example/v1/unsubscribe?token=abc"},
		"attachment name":   {Attachments: []mail.Attachment{{Filename: "a\r\nb.pdf", ContentType: "application/pdf"}}},
		"attachment type":   {Attachments: []mail.Attachment{{Filename: "a.pdf", ContentType: "application/pdf\r\nBcc: eve@example.fr"}}},
	} {
		m.To, m.Body = "anne@example.fr", "y"
		if err := s.Send(context.Background(), m); err == nil {
			t.Errorf("%s: sent", name)
		}
	}
	if n := srv.Count("anne@example.fr"); n != 0 {
		t.Fatalf("%d messages reached the relay", n)
	}
}

// RFC 8058 wants an https one-click link; a loopback host may use http,
// for tests and a developer's machine.
func TestListUnsubscribeOverLoopbackHTTP(t *testing.T) {
	srv := mailtest.Start(t)
	s, err := mail.NewSMTP(srv.URL, "relais@example.fr")
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"http://127.0.0.1:8080/v1/unsubscribe?token=a", "http://localhost/v1/unsubscribe?token=b", "http://[::1]:80/v1/unsubscribe?token=c"} {
		if err := s.Send(context.Background(), mail.Message{To: "anne@example.fr", Subject: "x", Body: "y", ListUnsubscribe: u}); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	if n := srv.Count("anne@example.fr"); n != 3 {
		t.Fatalf("%d messages, want 3", n)
	}
}

func TestTemplates(t *testing.T) {
	tpl, err := mail.ParseTemplates(fstest.MapFS{
		"hello.fr.txt":  {Data: []byte("Subject: Bonjour {{.Name}}\n\nBonjour {{.Name}} !\n")},
		"hello.fr.html": {Data: []byte("<p>Bonjour {{.Name}}&nbsp;!</p>")},
		"hello.en.txt":  {Data: []byte("Subject: Hello {{.Name}}\n\nHello {{.Name}}!\n")},
	})
	if err != nil {
		t.Fatal(err)
	}
	data := map[string]string{"Name": "<Anne>"}
	for _, tt := range []struct{ lang, subject, body, html string }{
		{"fr", "Bonjour <Anne>", "Bonjour <Anne> !\n", "<p>Bonjour &lt;Anne&gt;&nbsp;!</p>"},
		{"en", "Hello <Anne>", "Hello <Anne>!\n", ""},
		{"de", "Bonjour <Anne>", "Bonjour <Anne> !\n", "<p>Bonjour &lt;Anne&gt;&nbsp;!</p>"}, // falls back to French
	} {
		m, err := tpl.Render("hello", tt.lang, "anne@example.fr", data)
		if err != nil {
			t.Fatal(err)
		}
		if m.To != "anne@example.fr" || m.Subject != tt.subject || m.Body != tt.body || m.HTML != tt.html {
			t.Errorf("%s: %+v", tt.lang, m)
		}
	}
	if _, err := tpl.Render("missing", "fr", "a@b.fr", data); err == nil {
		t.Error("rendered a missing template")
	}
	if _, err := mail.ParseTemplates(fstest.MapFS{"x.fr.txt": {Data: []byte("no subject")}}); err == nil {
		t.Error("parsed a template without a subject")
	}
}

func base64Decode(s string) (string, error) {
	b, err := base64.StdEncoding.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(s))
	return string(b), err
}
