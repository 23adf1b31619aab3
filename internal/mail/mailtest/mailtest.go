// Package mailtest runs a real SMTP server (github.com/emersion/go-smtp) on
// a free loopback port for tests, and hands over what it receives.
package mailtest

import (
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	stdmail "net/mail"
	"net/textproto"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Received is one message as the server got it.
type Received struct {
	From string
	To   []string
	Data string // headers and body, as sent
}

// Server is a running SMTP server.
type Server struct {
	URL string // smtp://127.0.0.1:port

	mu  sync.Mutex
	got []Received
}

// Start runs a server until the test ends. It accepts any sender and
// recipient, without TLS or authentication.
func Start(t testing.TB) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{URL: "smtp://" + ln.Addr().String()}
	srv := smtp.NewServer(backend{s})
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return s
}

// To waits up to 5 s for a message to addr and returns the latest one.
func (s *Server) To(t testing.TB, addr string) Received {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		s.mu.Lock()
		for i := len(s.got) - 1; i >= 0; i-- {
			if slices.Contains(s.got[i].To, addr) {
				m := s.got[i]
				s.mu.Unlock()
				return m
			}
		}
		s.mu.Unlock()
	}
	t.Fatalf("no mail to %s", addr)
	return Received{}
}

// About waits up to 5 s for a message to addr whose decoded subject
// contains subject, and returns the latest such message. Tests use it when
// other mails (a verification, a reminder) may reach addr in any order.
func (s *Server) About(t testing.TB, addr, subject string) Received {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		got := s.All(addr)
		for i := len(got) - 1; i >= 0; i-- {
			if strings.Contains(got[i].Subject(), subject) {
				return got[i]
			}
		}
	}
	t.Fatalf("no mail to %s about %q; got %d other mails", addr, subject, s.Count(addr))
	return Received{}
}

// Subject returns the message's Subject header, decoded from its encoded
// words; "" when the message does not parse.
func (r Received) Subject() string {
	msg, err := stdmail.ReadMessage(strings.NewReader(r.Data))
	if err != nil {
		return ""
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		return ""
	}
	return subject
}

// Count returns how many messages reached addr.
func (s *Server) Count(addr string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, m := range s.got {
		if slices.Contains(m.To, addr) {
			n++
		}
	}
	return n
}

type backend struct{ s *Server }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{s: b.s}, nil }

type session struct {
	s   *Server
	cur Received
}

func (x *session) Mail(from string, _ *smtp.MailOptions) error { x.cur.From = from; return nil }
func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.cur.To = append(x.cur.To, to)
	return nil
}
func (x *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	x.cur.Data = string(b)
	x.s.mu.Lock()
	x.s.got = append(x.s.got, x.cur)
	x.s.mu.Unlock()
	x.cur = Received{}
	return nil
}
func (x *session) Reset()        { x.cur = Received{} }
func (x *session) Logout() error { return nil }

// Text returns the message's text/plain part, decoded, found with the
// standard library's parsers (independent of the code that wrote it); ""
// when there is none or the message does not parse.
func (r Received) Text() string { return r.part("text/plain") }

// HTML returns the message's text/html part, decoded, or "".
func (r Received) HTML() string { return r.part("text/html") }

// Calendar returns the message's text/calendar part (an iMIP invitation),
// decoded, or "".
func (r Received) Calendar() string { return r.part("text/calendar") }

func (r Received) part(want string) string {
	msg, err := stdmail.ReadMessage(strings.NewReader(r.Data))
	if err != nil {
		return ""
	}
	return findPart(textproto.MIMEHeader(msg.Header), msg.Body, want)
}

// findPart walks multipart entities depth first for the first leaf of
// type want. mime/multipart decodes quoted-printable parts itself.
func findPart(h textproto.MIMEHeader, body io.Reader, want string) string {
	typ, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		return ""
	}
	if typ == want {
		switch {
		case strings.EqualFold(h.Get("Content-Transfer-Encoding"), "quoted-printable"):
			body = quotedprintable.NewReader(body)
		case strings.EqualFold(h.Get("Content-Transfer-Encoding"), "base64"):
			body = base64.NewDecoder(base64.StdEncoding, body)
		}
		b, _ := io.ReadAll(body)
		return string(b)
	}
	if !strings.HasPrefix(typ, "multipart/") {
		return ""
	}
	mr := multipart.NewReader(body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			return ""
		}
		// multipart removed the part's Content-Transfer-Encoding when it
		// decoded quoted-printable, so findPart does not decode it twice.
		if s := findPart(p.Header, p, want); s != "" {
			return s
		}
	}
}

// All returns every message that reached addr so far, oldest first.
func (s *Server) All(addr string) []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Received
	for _, m := range s.got {
		if slices.Contains(m.To, addr) {
			out = append(out, m)
		}
	}
	return out
}
