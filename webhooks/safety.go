package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"
)

// Timeouts of one delivery: a receiver that cannot answer in this time is
// failing, and a slow one must not hold a worker.
const (
	connectTimeout = 5 * time.Second
	totalTimeout   = 15 * time.Second
	// maxLoggedBody bounds what of a response goes to the delivery log.
	maxLoggedBody = 4 << 10
	// MaxURLBytes bounds an endpoint's URL.
	MaxURLBytes = 2048
)

// blockedPrefixes are the networks no delivery may reach unless the
// operator allows private addresses: besides loopback, private, link-local,
// multicast and unspecified (checked by netip's methods), CGNAT, "this
// network", benchmarking, reserved and documentation ranges, NAT64 (which
// can lead to any IPv4 address) and the cloud metadata addresses.
var blockedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("169.254.169.254/32"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("2001:db8::/32"),
	netip.MustParsePrefix("fd00:ec2::254/128"),
}

// blocked reports whether ip is not a public unicast address.
func blocked(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() ||
		ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return true
	}
	for _, p := range blockedPrefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

var errBlockedAddress = errors.New("address not allowed for webhooks")

// checkDial is the dialer's Control: it sees the address actually being
// connected to, after DNS resolution, so a name that resolves to a public
// address at registration and to a private one later (DNS rebinding)
// still cannot reach the inside.
func checkDial(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("webhook dial %s: %w", address, err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("webhook dial %s: %w", address, err)
	}
	if blocked(ip) {
		return fmt.Errorf("webhook dial %s: %w", address, errBlockedAddress)
	}
	return nil
}

// newClient returns the HTTP client of deliveries: no proxy (a proxy
// would connect for us, past checkDial), no redirects (a 3xx is the
// receiver's answer, logged as a failure), short timeouts.
func newClient(allowPrivate bool) *http.Client {
	dialer := &net.Dialer{Timeout: connectTimeout}
	if !allowPrivate {
		dialer.Control = checkDial
	}
	return &http.Client{
		Timeout: totalTimeout,
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           dialer.DialContext,
			TLSHandshakeTimeout:   connectTimeout,
			ResponseHeaderTimeout: totalTimeout,
			MaxIdleConnsPerHost:   2,
			IdleConnTimeout:       30 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// checkURL validates an endpoint's URL at registration: https (http too
// when private addresses are allowed, for tests and local tools), no
// userinfo, and a host whose every address is allowed. The dialer checks
// again at each delivery; this check only gives the manager an early 422.
func checkURL(ctx context.Context, raw string, allowPrivate bool) (string, error) {
	if raw == "" || len(raw) > MaxURLBytes {
		return "", fmt.Errorf("must be an absolute URL of at most %d bytes", MaxURLBytes)
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return "", errors.New("must be an absolute URL")
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && allowPrivate:
	default:
		return "", errors.New("must use https")
	}
	if u.User != nil {
		return "", errors.New("must not carry a user or password")
	}
	if u.Fragment != "" {
		return "", errors.New("must not have a fragment")
	}
	if allowPrivate {
		return u.String(), nil
	}
	host := u.Hostname()
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{ip}
	} else {
		ctx, cancel := context.WithTimeout(ctx, connectTimeout)
		defer cancel()
		if addrs, err = net.DefaultResolver.LookupNetIP(ctx, "ip", host); err != nil || len(addrs) == 0 {
			return "", errors.New("its host does not resolve")
		}
	}
	for _, ip := range addrs {
		if blocked(ip) {
			return "", errors.New("resolves to a private, loopback, link-local or reserved address")
		}
	}
	return u.String(), nil
}
