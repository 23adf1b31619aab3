// Package mail sends the few messages Relais writes itself (today: the
// link that verifies a member's email address), through an SMTP relay, or
// into the log when none is configured so that a newcomer's instance works
// without one.
package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	stdmail "net/mail"
	"net/smtp"
	"net/textproto"
	"net/url"
	"strings"
	"time"
)

// Message is a message to one recipient: a plain-text part, and an HTML
// alternative when HTML is set, with optional attachments.
type Message struct {
	To      string
	Subject string
	// Body is the plain-text part, always sent: some readers show nothing else.
	Body string
	// HTML, when set, is sent beside Body as multipart/alternative.
	HTML string
	// ReplyTo, when set, is where answers go (a site's team rather than
	// the unattended sender address).
	ReplyTo string
	// ListUnsubscribe, when set, is an https URL (http for a loopback
	// host, see loopback) that unsubscribes the recipient from this kind
	// of mail with one POST (RFC 8058).
	ListUnsubscribe string
	Attachments     []Attachment
}

// Attachment is a file sent with a message (multipart/mixed).
type Attachment struct {
	Filename    string
	ContentType string // e.g. application/pdf
	Data        []byte
	// Inline marks the part Content-Disposition: inline, for a part the
	// reader should show rather than offer to save (a calendar invitation,
	// which Outlook and Gmail act on only inline).
	Inline bool
}

// check refuses a message whose header values could smuggle a header of
// their own, before any byte reaches a relay.
func (m Message) check() error {
	for name, v := range map[string]string{"subject": m.Subject, "reply-to": m.ReplyTo, "list-unsubscribe": m.ListUnsubscribe} {
		if strings.ContainsAny(v, "\r\n") {
			return fmt.Errorf("mail: line break in the %s", name)
		}
	}
	if m.ReplyTo != "" {
		if _, err := mailAddress(m.ReplyTo); err != nil {
			return fmt.Errorf("mail: reply-to %q: %w", m.ReplyTo, err)
		}
	}
	if m.ListUnsubscribe != "" {
		u, err := url.Parse(m.ListUnsubscribe)
		if err != nil || !(u.Scheme == "https" || u.Scheme == "http" && loopback(u.Hostname())) || u.Host == "" ||
			strings.ContainsAny(m.ListUnsubscribe, "<> ,") {
			return fmt.Errorf("mail: list-unsubscribe %q is not an https URL", m.ListUnsubscribe)
		}
	}
	for _, a := range m.Attachments {
		if a.Filename == "" || strings.ContainsAny(a.Filename, "\r\n\"/\\") {
			return fmt.Errorf("mail: attachment name %q", a.Filename)
		}
		if _, _, err := mime.ParseMediaType(a.ContentType); err != nil || strings.ContainsAny(a.ContentType, "\r\n") {
			return fmt.Errorf("mail: attachment %q type %q", a.Filename, a.ContentType)
		}
	}
	return nil
}

// loopback reports whether host names this machine. RFC 8058 wants the
// one-click link https; plain http is let through for loopback hosts
// alone, which only a developer's machine and tests use, so that they can
// exercise the header without a certificate.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Sender sends messages.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// SMTP sends through a relay: smtp://[user:password@]host[:port] (STARTTLS
// when the relay offers it, port 587 by default) or smtps://… (TLS from the
// first byte, port 465 by default).
type SMTP struct {
	url  *url.URL
	from string
	// TLS is used for STARTTLS and smtps; nil means the system's roots.
	TLS *tls.Config
}

// NewSMTP checks rawURL and returns a Sender writing as from.
func NewSMTP(rawURL, from string) (*SMTP, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
		return nil, fmt.Errorf("mail: %q is not smtp://host[:port] or smtps://host[:port]", rawURL)
	}
	if _, err := mailAddress(from); err != nil {
		return nil, fmt.Errorf("mail: sender %q: %w", from, err)
	}
	return &SMTP{url: u, from: from}, nil
}

// Send delivers m, or says why not.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	to, err := mailAddress(m.To)
	if err != nil {
		return fmt.Errorf("mail: recipient %q: %w", m.To, err)
	}
	if err := m.check(); err != nil {
		return err
	}
	data, err := format(s.from, m)
	if err != nil {
		return err
	}
	host, port := s.url.Hostname(), s.url.Port()
	if port == "" {
		port = map[string]string{"smtp": "587", "smtps": "465"}[s.url.Scheme]
	}
	tlsConf := s.TLS
	if tlsConf == nil {
		tlsConf = &tls.Config{}
	}
	tlsConf = tlsConf.Clone()
	tlsConf.ServerName = host
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, port))
	if err != nil {
		return fmt.Errorf("mail: dial %s: %w", host, err)
	}
	if deadline, ok := ctx.Deadline(); ok {
		conn.SetDeadline(deadline)
	}
	if s.url.Scheme == "smtps" {
		conn = tls.Client(conn, tlsConf)
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("mail: greeting from %s: %w", host, err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok && s.url.Scheme == "smtp" {
		if err := c.StartTLS(tlsConf); err != nil {
			return fmt.Errorf("mail: STARTTLS with %s: %w", host, err)
		}
	}
	if user := s.url.User; user != nil {
		password, _ := user.Password()
		// PlainAuth refuses to send the password in clear except to localhost.
		if err := c.Auth(smtp.PlainAuth("", user.Username(), password, host)); err != nil {
			return fmt.Errorf("mail: authenticate with %s: %w", host, err)
		}
	}
	from, _ := mailAddress(s.from)
	if err := c.Mail(from); err != nil {
		return fmt.Errorf("mail: MAIL FROM: %w", err)
	}
	if err := c.Rcpt(to); err != nil {
		return fmt.Errorf("mail: RCPT TO: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("mail: DATA: %w", err)
	}
	if _, err := w.Write(data); err != nil {
		return fmt.Errorf("mail: write message: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("mail: message refused: %w", err)
	}
	return c.Quit()
}

// format writes m as an RFC 5322 MIME message in UTF-8, CRLF line endings,
// every text part quoted-printable and attachments base64, so that no line
// needs a relay that takes 8-bit data.
func format(from string, m Message) ([]byte, error) {
	var b bytes.Buffer
	id := make([]byte, 12)
	rand.Read(id)
	domain := "relais.invalid"
	if addr, err := mailAddress(from); err == nil {
		if at := strings.LastIndexByte(addr, '@'); at >= 0 {
			domain = addr[at+1:]
		}
	}
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	header("From", from)
	header("To", m.To)
	if m.ReplyTo != "" {
		header("Reply-To", m.ReplyTo)
	}
	header("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	header("Date", time.Now().UTC().Format(time.RFC1123Z))
	header("Message-ID", "<"+hex.EncodeToString(id)+"@"+domain+">")
	if m.ListUnsubscribe != "" {
		header("List-Unsubscribe", "<"+m.ListUnsubscribe+">")
		header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
	}
	header("MIME-Version", "1.0")

	// The body is text, or text and HTML as alternatives, wrapped with the
	// attachments in multipart/mixed when there are any.
	bodyHeader, body, err := bodyPart(m)
	if err != nil {
		return nil, err
	}
	if len(m.Attachments) == 0 {
		for _, k := range []string{"Content-Type", "Content-Transfer-Encoding"} {
			if v := bodyHeader.Get(k); v != "" {
				header(k, v)
			}
		}
		b.WriteString("\r\n")
		b.Write(body)
		return b.Bytes(), nil
	}
	mw := multipart.NewWriter(&b)
	header("Content-Type", mime.FormatMediaType("multipart/mixed", map[string]string{"boundary": mw.Boundary()}))
	b.WriteString("\r\n")
	part, err := mw.CreatePart(bodyHeader)
	if err != nil {
		return nil, fmt.Errorf("mail: body part: %w", err)
	}
	part.Write(body)
	for _, a := range m.Attachments {
		ph := textproto.MIMEHeader{}
		ph.Set("Content-Type", a.ContentType)
		ph.Set("Content-Transfer-Encoding", "base64")
		disposition := "attachment"
		if a.Inline {
			disposition = "inline"
		}
		ph.Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": a.Filename}))
		part, err := mw.CreatePart(ph)
		if err != nil {
			return nil, fmt.Errorf("mail: attachment part: %w", err)
		}
		enc := base64.StdEncoding.EncodeToString(a.Data)
		for len(enc) > 76 {
			part.Write([]byte(enc[:76] + "\r\n"))
			enc = enc[76:]
		}
		part.Write([]byte(enc + "\r\n"))
	}
	if err := mw.Close(); err != nil {
		return nil, fmt.Errorf("mail: close message: %w", err)
	}
	return b.Bytes(), nil
}

// bodyPart returns the header and content of m's text: text/plain alone,
// or text and HTML as multipart/alternative.
func bodyPart(m Message) (textproto.MIMEHeader, []byte, error) {
	h := textproto.MIMEHeader{}
	var b bytes.Buffer
	if m.HTML == "" {
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("Content-Transfer-Encoding", "quoted-printable")
		err := writeQP(&b, m.Body)
		return h, b.Bytes(), err
	}
	mw := multipart.NewWriter(&b)
	h.Set("Content-Type", mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": mw.Boundary()}))
	for _, p := range []struct{ typ, text string }{{"text/plain; charset=utf-8", m.Body}, {"text/html; charset=utf-8", m.HTML}} {
		ph := textproto.MIMEHeader{}
		ph.Set("Content-Type", p.typ)
		ph.Set("Content-Transfer-Encoding", "quoted-printable")
		w, err := mw.CreatePart(ph)
		if err != nil {
			return nil, nil, fmt.Errorf("mail: %s part: %w", p.typ, err)
		}
		var part bytes.Buffer
		if err := writeQP(&part, p.text); err != nil {
			return nil, nil, err
		}
		w.Write(part.Bytes())
	}
	if err := mw.Close(); err != nil {
		return nil, nil, fmt.Errorf("mail: close alternatives: %w", err)
	}
	return h, b.Bytes(), nil
}

// writeQP writes text quoted-printable with CRLF line endings.
func writeQP(b *bytes.Buffer, text string) error {
	text = strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\n", "\r\n")
	if !strings.HasSuffix(text, "\r\n") {
		text += "\r\n"
	}
	w := quotedprintable.NewWriter(b)
	if _, err := w.Write([]byte(text)); err != nil {
		return fmt.Errorf("mail: encode text: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("mail: encode text: %w", err)
	}
	return nil
}

// mailAddress returns the bare address of "Name <a@b>" or "a@b", refusing
// anything that could smuggle a header or an SMTP command.
func mailAddress(s string) (string, error) {
	if strings.ContainsAny(s, "\r\n") {
		return "", fmt.Errorf("line break in an address")
	}
	a, err := stdmail.ParseAddress(s)
	if err != nil {
		return "", err
	}
	return a.Address, nil
}

// Log writes messages into the log instead of sending them: the default
// when no relay is configured, so that a first run needs none. Anyone who
// reads the log reads the messages; configure a relay in production.
type Log struct{ Logger *slog.Logger }

// Send logs m.
func (l Log) Send(ctx context.Context, m Message) error {
	l.Logger.InfoContext(ctx, "mail not sent (no --smtp-url): here it is", "to", m.To, "subject", m.Subject, "body", m.Body)
	return nil
}
