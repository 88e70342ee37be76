package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"net"
	"net/smtp"
	"net/textproto"
	"net/url"
	"strings"
	"time"
)

// sendMail delivers the message by SMTP: STARTTLS whenever the server
// offers it, and a refusal to send in clear to anything but loopback;
// AUTH PLAIN with the URL's user and password, which net/smtp itself
// refuses to send over an unencrypted connection to another host. The
// body is the HTML report with a plain-text summary beside it.
func sendMail(ctx context.Context, t Target, m content) error {
	u, err := url.Parse(t.address)
	if err != nil {
		return &permanent{errors.New("the smtp:// URL does not parse")}
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "587"
	}
	q := u.Query()
	from, to := q.Get("from"), strings.Split(q.Get("to"), ",")
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, port))
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return smtpErr("greeting", err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}); err != nil {
			return &permanent{fmt.Errorf("STARTTLS: %w", err)}
		}
	} else if !isLoopback(host) {
		return &permanent{errors.New("the SMTP server does not offer STARTTLS: refusing to send the report in clear")}
	}
	if u.User != nil {
		pw, _ := u.User.Password()
		if err := c.Auth(smtp.PlainAuth("", u.User.Username(), pw, host)); err != nil {
			return smtpErr("AUTH", err)
		}
	}
	if err := c.Mail(from); err != nil {
		return smtpErr("MAIL FROM", err)
	}
	for _, r := range to {
		if err := c.Rcpt(strings.TrimSpace(r)); err != nil {
			return smtpErr("RCPT TO", err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return smtpErr("DATA", err)
	}
	if _, err := w.Write(mailBody(m, from, to)); err != nil {
		return smtpErr("DATA", err)
	}
	if err := w.Close(); err != nil {
		return smtpErr("DATA", err)
	}
	return c.Quit()
}

// smtpErr keeps a 4xx reply retryable and makes a 5xx permanent.
func smtpErr(step string, err error) error {
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 {
		return &permanent{fmt.Errorf("%s: %d %s", step, te.Code, te.Msg)}
	}
	return fmt.Errorf("%s: %w", step, err)
}

// mail is a run's plain-text list, its HTML report and its subject.
func (m Message) mail() (string, []byte, string) {
	var plain strings.Builder
	fmt.Fprintf(&plain, "%s\r\n\r\n", headline(m))
	for i, c := range m.Items {
		if i == 100 {
			fmt.Fprintf(&plain, "...and %d more\r\n", len(m.Items)-100)
			break
		}
		fmt.Fprintf(&plain, "- %s %s, account %s: %s\r\n", strings.ToUpper(string(c.Severity)), c.Title, c.AccountID, c.Message)
	}
	fmt.Fprintf(&plain, "\r\n%s\r\n", summaryLine(m.Run))
	return plain.String(), m.Report, headline(m)
}

// mailBody is the RFC 5322 message: headers, then multipart/alternative
// with the plain text and, when there is one, the HTML.
func mailBody(m content, from string, to []string) []byte {
	plain, html, subject := m.mail()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	part, _ := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"text/plain; charset=utf-8"}, "Content-Transfer-Encoding": {"8bit"}})
	part.Write([]byte(plain))
	if len(html) > 0 {
		part, _ = mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"text/html; charset=utf-8"}, "Content-Transfer-Encoding": {"8bit"}})
		part.Write(html)
	}
	mw.Close()
	var msg bytes.Buffer
	fmt.Fprintf(&msg, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=%s\r\n\r\n",
		from, strings.Join(to, ", "), mime.QEncoding.Encode("utf-8", oneLine(subject)), time.Now().UTC().Format(time.RFC1123Z), mw.Boundary())
	msg.Write(body.Bytes())
	return msg.Bytes()
}
