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

// E-mail: SMTP (email=smtp://[user[:password]@]host[:port]?from=…&to=…),
// a plain-text list beside the HTML report.

func emailChannel() channel {
	return channel{kind: "email", syntax: "smtp://…", check: checkSMTP,
		notifier: func(t Target, _ Options) Notifier { return emailNotifier{t.address} }}
}

func checkSMTP(addr string) (string, error) {
	u, err := parseURL(addr)
	if err != nil {
		return "", err
	}
	if u.Scheme != "smtp" {
		return "", errors.New("want smtp://[user[:password]@]host[:port]?from=ADDRESS&to=ADDRESS[,ADDRESS]")
	}
	if q := u.Query(); q.Get("from") == "" || q.Get("to") == "" {
		return "", errors.New("the smtp:// URL needs from= and to=")
	}
	return u.Hostname(), nil
}

type emailNotifier struct{ url string }

// Notify delivers the message by SMTP: STARTTLS whenever the server
// offers it, and a refusal to send in clear to anything but loopback;
// AUTH PLAIN with the URL's user and password, which net/smtp itself
// refuses to send over an unencrypted connection to another host. A 4xx
// reply may pass; a 5xx will not.
func (e emailNotifier) Notify(ctx context.Context, c Content) (bool, error) {
	plain, html, subject, err := mailText(c)
	if err != nil {
		return false, err
	}
	u, err := url.Parse(e.url)
	if err != nil {
		return false, errors.New("the smtp:// URL does not parse")
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
		return true, fmt.Errorf("connect: %w", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	sc, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return smtpErr("greeting", err)
	}
	defer sc.Close()
	if ok, _ := sc.Extension("STARTTLS"); ok {
		if err := sc.StartTLS(&tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}); err != nil {
			return false, fmt.Errorf("STARTTLS: %w", err)
		}
	} else if !isLoopback(host) {
		return false, errors.New("the SMTP server does not offer STARTTLS: refusing to send the report in clear")
	}
	if u.User != nil {
		pw, _ := u.User.Password()
		if err := sc.Auth(smtp.PlainAuth("", u.User.Username(), pw, host)); err != nil {
			return smtpErr("AUTH", err)
		}
	}
	if err := sc.Mail(from); err != nil {
		return smtpErr("MAIL FROM", err)
	}
	for _, r := range to {
		if err := sc.Rcpt(strings.TrimSpace(r)); err != nil {
			return smtpErr("RCPT TO", err)
		}
	}
	w, err := sc.Data()
	if err != nil {
		return smtpErr("DATA", err)
	}
	if _, err := w.Write(mailBody(plain, html, subject, from, to)); err != nil {
		return smtpErr("DATA", err)
	}
	if err := w.Close(); err != nil {
		return smtpErr("DATA", err)
	}
	if err := sc.Quit(); err != nil {
		return true, err
	}
	return false, nil
}

// smtpErr keeps a 4xx reply retryable and makes a 5xx permanent.
func smtpErr(step string, err error) (bool, error) {
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 {
		return false, fmt.Errorf("%s: %d %s", step, te.Code, te.Msg)
	}
	return true, fmt.Errorf("%s: %w", step, err)
}

// mailText is the plain-text part, the HTML part (or nil) and the subject.
func mailText(c Content) (plain string, html []byte, subject string, err error) {
	switch c := c.(type) {
	case Message:
		plain, html = messageMail(c)
	case Alert:
		plain = alertMail(c)
	default:
		return "", nil, "", cannotSend("email", c)
	}
	return plain, html, c.Headline(), nil
}

// messageMail is a run's plain-text list and its HTML report.
func messageMail(m Message) (string, []byte) {
	var plain strings.Builder
	fmt.Fprintf(&plain, "%s\r\n\r\n", m.Headline())
	for i, c := range m.Items {
		if i == 100 {
			fmt.Fprintf(&plain, "...and %d more\r\n", len(m.Items)-100)
			break
		}
		plain.WriteString(strings.TrimSuffix(itemLine(c), "\n") + "\r\n")
	}
	fmt.Fprintf(&plain, "\r\n%s\r\n", summaryLine(m.Run))
	return plain.String(), m.Report
}

// alertMail is the alert's headline, events, suggested action and rule.
func alertMail(a Alert) string {
	var b strings.Builder
	b.WriteString(a.Headline() + "\r\n\r\n")
	for _, l := range a.details(func(s string) string { return s }) {
		b.WriteString("- " + l + "\r\n")
	}
	if a.Action != "" {
		b.WriteString("\r\nSuggested: " + a.Action + "\r\n")
	}
	if a.RuleID != "" {
		b.WriteString("\r\n" + a.RuleID + ": " + a.Summary + "\r\n" + ruleURL(a.RuleID) + "\r\n")
	}
	return b.String()
}

// mailBody is the RFC 5322 message: headers, then multipart/alternative
// with the plain text and, when there is one, the HTML.
func mailBody(plain string, html []byte, subject, from string, to []string) []byte {
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
