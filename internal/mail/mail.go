// Package mail sends the few messages Relais writes itself (today: the
// link that verifies a member's email address), through an SMTP relay, or
// into the log when none is configured so that a newcomer's instance works
// without one.
package mail

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"log/slog"
	"mime"
	"net"
	stdmail "net/mail"
	"net/smtp"
	"net/url"
	"strings"
	"time"
)

// Message is a plain-text message to one recipient.
type Message struct {
	To      string
	Subject string
	Body    string
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
	if _, err := w.Write(format(s.from, m)); err != nil {
		return fmt.Errorf("mail: write message: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("mail: message refused: %w", err)
	}
	return c.Quit()
}

// format writes m as an RFC 5322 message in UTF-8, CRLF line endings.
func format(from string, m Message) []byte {
	var b strings.Builder
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
	header("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	header("Date", time.Now().UTC().Format(time.RFC1123Z))
	header("Message-ID", "<"+hex.EncodeToString(id)+"@"+domain+">")
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "8bit")
	b.WriteString("\r\n")
	body := strings.ReplaceAll(strings.ReplaceAll(m.Body, "\r\n", "\n"), "\n", "\r\n")
	b.WriteString(body)
	if !strings.HasSuffix(body, "\r\n") {
		b.WriteString("\r\n")
	}
	return []byte(b.String())
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
