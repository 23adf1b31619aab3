package mail_test

import (
	"context"
	"strings"
	"testing"

	"github.com/relais-tierslieux/relais/internal/mail"
	"github.com/relais-tierslieux/relais/internal/mail/mailtest"
)

func TestSMTPDelivers(t *testing.T) {
	srv := mailtest.Start(t)
	s, err := mail.NewSMTP(srv.URL, "Relais <relais@tiers-lieu.example>")
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), mail.Message{To: "anne@example.fr", Subject: "Vérifiez votre adresse", Body: "Bonjour,\nvoici le lien.\n"})
	if err != nil {
		t.Fatal(err)
	}
	got := srv.To(t, "anne@example.fr")
	if got.From != "relais@tiers-lieu.example" || len(got.To) != 1 || got.To[0] != "anne@example.fr" {
		t.Fatalf("envelope %q → %q", got.From, got.To)
	}
	for _, want := range []string{"From: Relais <relais@tiers-lieu.example>\r\n", "To: anne@example.fr\r\n",
		"Subject: =?utf-8?q?V=C3=A9rifiez_votre_adresse?=\r\n", "Content-Type: text/plain; charset=utf-8\r\n", "\r\n\r\nBonjour,\r\nvoici le lien.\r\n"} {
		if !strings.Contains(got.Data, want) {
			t.Errorf("message lacks %q:\n%s", want, got.Data)
		}
	}
}

func TestSMTPRefusesBadInput(t *testing.T) {
	for _, tt := range []struct{ url, from string }{
		{"http://mail.example", "a@b.fr"},
		{"smtp://", "a@b.fr"},
		{"smtp://mail.example", "not an address"},
	} {
		if _, err := mail.NewSMTP(tt.url, tt.from); err == nil {
			t.Errorf("NewSMTP(%q, %q) accepted", tt.url, tt.from)
		}
	}
	srv := mailtest.Start(t)
	s, err := mail.NewSMTP(srv.URL, "relais@example.fr")
	if err != nil {
		t.Fatal(err)
	}
	// A recipient carrying a header of its own is refused before any byte is sent.
	if err := s.Send(context.Background(), mail.Message{To: "anne@example.fr\r\nBcc: eve@example.fr", Subject: "x", Body: "y"}); err == nil {
		t.Fatal("an address with a line break was sent")
	}
}
