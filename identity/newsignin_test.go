package identity_test

import (
	"context"
	stdmail "net/mail"
	"net/url"
	"strings"
	"testing"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/jobs/jobstest"
)

const (
	firefoxLinux   = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
	firefoxLinux2  = "Mozilla/5.0 (X11; Linux x86_64; rv:134.0) Gecko/20100101 Firefox/134.0"
	chromeWindows  = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	safariIPhone   = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
	newSignInTitle = "Nouvelle connexion à votre compte"
)

// The new sign-in notice: sent only for a device the account has not
// used, only to a member who chose it, in their language, with the date,
// the device, the address and what to do, and a one-click link that turns
// this notice off and nothing else.
func TestNewSignInMail(t *testing.T) {
	t.Parallel()
	w := newMailWorld(t, identity.RateLimits{})
	ctx := context.Background()
	on, off := true, false
	login := func(email, ua, ip string) {
		t.Helper()
		if _, err := w.svc.Login(ctx, email, "correct horse battery", identity.ClientInfo{IP: ip, UserAgent: ua}); err != nil {
			t.Fatal(err)
		}
	}
	register := func(email, lang string, chosen *bool) string {
		t.Helper()
		u, err := w.svc.Register(ctx, identity.Registration{Email: email, Password: "correct horse battery", Name: "Anne", Language: lang})
		if err != nil {
			t.Fatal(err)
		}
		login(email, firefoxLinux, "192.0.2.1") // the first device, before any choice
		if _, err := w.svc.UpdateMe(ctx, &identity.Principal{UserID: u.ID}, identity.MeUpdate{Notifications: &identity.NotificationsPatch{NewSignIn: chosen}}, identity.ClientInfo{}); err != nil {
			t.Fatal(err)
		}
		return u.ID
	}
	anne := register("anne@example.fr", "fr", &on)
	register("bob@example.fr", "fr", &off)
	register("emma@example.fr", "en", &on)

	login("anne@example.fr", firefoxLinux2, "198.51.100.7") // a browser update is the same device
	login("bob@example.fr", chromeWindows, "198.51.100.8")  // Bob did not choose the notice
	login("anne@example.fr", chromeWindows, "198.51.100.9") // new: mailed
	login("anne@example.fr", chromeWindows, "198.51.100.9") // known now
	login("emma@example.fr", safariIPhone, "2001:db8::1")   // new: mailed, in English
	jobstest.WaitCompleted(t, w.jobs, identity.NewSignInMailArgs{}.Kind(), 2)

	notices := func(addr string) []string {
		var out []string
		for _, m := range w.mails.All(addr) {
			if s, _, _ := readMail(t, m.Data); s == newSignInTitle || s == "New sign-in to your account" {
				out = append(out, m.Data)
			}
		}
		return out
	}
	if n := len(notices("bob@example.fr")); n != 0 {
		t.Errorf("%d notices to Bob, who did not choose them", n)
	}
	got := notices("anne@example.fr")
	if len(got) != 1 {
		t.Fatalf("%d notices to Anne, want 1 (Chrome on Windows)", len(got))
	}
	subject, text, html := readMail(t, got[0])
	for _, want := range []string{"Appareil\u00a0: Chrome, Windows", "Adresse\u00a0: 198.51.100.9", "Date\u00a0: ", "(heure de Paris)",
		"changez votre mot de passe sans attendre"} {
		if !strings.Contains(text, want) {
			t.Errorf("%s: text lacks %q:\n%s", subject, want, text)
		}
	}
	if !strings.Contains(html, `lang="fr"`) || !strings.Contains(html, "Chrome, Windows") {
		t.Errorf("HTML:\n%s", html)
	}
	if _, text, _ := readMail(t, notices("emma@example.fr")[0]); !strings.Contains(text, "Device: Safari, iOS") || !strings.Contains(text, "Address: 2001:db8::1") {
		t.Errorf("English notice:\n%s", text)
	}

	msg, err := stdmail.ReadMessage(strings.NewReader(got[0]))
	if err != nil {
		t.Fatal(err)
	}
	link := strings.TrimSuffix(strings.TrimPrefix(msg.Header.Get("List-Unsubscribe"), "<"), ">")
	u, err := url.Parse(link)
	if err != nil || !strings.HasPrefix(link, "https://app.example/v1/unsubscribe?token=") || msg.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
		t.Fatalf("List-Unsubscribe %q", link)
	}
	if c, err := w.svc.Unsubscribe(ctx, u.Query().Get("token"), identity.ClientInfo{}); err != nil || c != identity.CategoryNewSignIn {
		t.Fatalf("unsubscribe: %q %v", c, err)
	}
	me, err := w.svc.Me(ctx, &identity.Principal{UserID: anne})
	if err != nil {
		t.Fatal(err)
	}
	if n := me.NotificationsOf(); n.NewSignIn || !n.Bookings || !n.WaitingList {
		t.Errorf("after unsubscribing: %+v", n)
	}
	login("anne@example.fr", safariIPhone, "198.51.100.10") // new, but unsubscribed
	if n := len(notices("anne@example.fr")); n != 1 {
		t.Errorf("%d notices after unsubscribing, want still 1", n)
	}
}
