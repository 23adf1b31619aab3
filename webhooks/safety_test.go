package webhooks

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestBlockedAddresses(t *testing.T) {
	for _, a := range []string{"127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "169.254.1.1",
		"100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fc00::1", "fd00:ec2::254",
		"ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::a00:1", "198.18.0.1"} {
		if !blocked(netip.MustParseAddr(a)) {
			t.Errorf("%s is not blocked", a)
		}
	}
	for _, a := range []string{"1.1.1.1", "93.184.216.34", "2606:4700:4700::1111"} {
		if blocked(netip.MustParseAddr(a)) {
			t.Errorf("%s is blocked", a)
		}
	}
}

func TestCheckURL(t *testing.T) {
	ctx := context.Background()
	for raw, why := range map[string]string{
		"http://1.1.1.1/hook":                  "https",
		"https://user:pw@1.1.1.1/hook":         "user",
		"https://127.0.0.1/hook":               "private",
		"https://[::1]/hook":                   "private",
		"https://169.254.169.254/latest":       "private",
		"https://10.0.0.8:8443/hook":           "private",
		"https://[fd00:ec2::254]/":             "private",
		"ftp://1.1.1.1/":                       "https",
		"/relative":                            "absolute",
		"":                                     "absolute",
		"https://" + strings.Repeat("a", 3000): "absolute",
	} {
		if _, err := checkURL(ctx, raw, false); err == nil || !strings.Contains(err.Error(), why) {
			t.Errorf("checkURL(%.40q) = %v, want an error about %s", raw, err, why)
		}
	}
	if _, err := checkURL(ctx, "https://1.1.1.1/hook", false); err != nil {
		t.Errorf("public https: %v", err)
	}
	if _, err := checkURL(ctx, "http://127.0.0.1:8080/hook", true); err != nil {
		t.Errorf("private allowed: %v", err)
	}
	if _, err := checkURL(ctx, "http://u:p@127.0.0.1/", true); err == nil {
		t.Error("userinfo accepted with private addresses allowed")
	}
}

// TestDialerRefusesPrivate: the delivery client itself refuses a private
// address, whatever the URL said at registration (DNS rebinding).
func TestDialerRefusesPrivate(t *testing.T) {
	c := newClient(false)
	resp, err := c.Get("http://127.0.0.1:1/")
	if err == nil {
		resp.Body.Close()
		t.Fatal("dialled loopback")
	}
	if !strings.Contains(err.Error(), errBlockedAddress.Error()) {
		t.Fatalf("err = %v, want %v", err, errBlockedAddress)
	}
}

// TestNoRedirects: a 3xx is the receiver's answer, logged as a failure;
// its Location is never followed.
func TestNoRedirects(t *testing.T) {
	followed := false
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { followed = true }))
	defer target.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL, http.StatusTemporaryRedirect)
	}))
	defer redirect.Close()
	s := &Service{client: newClient(true)}
	secret := newSecret()
	a := s.send(context.Background(), &Endpoint{URL: redirect.URL, Secret: secret}, &Delivery{EventID: "evt_1", Payload: []byte(`{}`)})
	if a.ok() || a.code != http.StatusTemporaryRedirect || followed {
		t.Fatalf("attempt = %+v, followed = %v", a, followed)
	}
}
