package panel

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// MinTokenLength is the shortest access token the panel accepts.
const MinTokenLength = 16

// LoadToken reads the access token from env:VAR or file:PATH (surrounding
// whitespace trimmed). A token written on the command line would be in
// every process listing, so there is no other form. Errors never quote
// the token.
func LoadToken(spec string, getenv func(string) string) ([]byte, error) {
	var tok string
	switch {
	case strings.HasPrefix(spec, "env:"):
		name := strings.TrimPrefix(spec, "env:")
		if getenv == nil {
			getenv = os.Getenv
		}
		if tok = strings.TrimSpace(getenv(name)); tok == "" {
			return nil, fmt.Errorf("--auth-token: environment variable %s is empty or not set", name)
		}
	case strings.HasPrefix(spec, "file:"):
		path := strings.TrimPrefix(spec, "file:")
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("--auth-token: read %s: %w", path, errors.Unwrap(err))
		}
		if tok = strings.TrimSpace(string(b)); tok == "" {
			return nil, fmt.Errorf("--auth-token: %s is empty", path)
		}
	default:
		return nil, errors.New("--auth-token: give env:VAR or file:PATH, so that the token is not in the process list")
	}
	if len(tok) < MinTokenLength {
		return nil, fmt.Errorf("--auth-token: the token is %d characters long; use at least %d random ones (e.g. 'openssl rand -hex 32')", len(tok), MinTokenLength)
	}
	return []byte(tok), nil
}

// IsLoopback says whether a listen address binds to loopback only: an IP
// literal in 127.0.0.0/8 or ::1, or "localhost". Any other name, and an
// empty host (every interface), is not loopback.
func IsLoopback(addr string) (bool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, fmt.Errorf("--addr %q: %w (want HOST:PORT, e.g. 127.0.0.1:8080)", addr, err)
	}
	return loopbackHost(host), nil
}

func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

const (
	sessionCookie = "rootwatch_session"
	sessionTTL    = 12 * time.Hour
	// maxLoginBytes bounds the login form's body.
	maxLoginBytes = 4 << 10
)

// auth checks requests against the access token: a bearer token, or the
// session cookie the login form sets (its expiry, signed with the token).
type auth struct {
	token []byte
	tls   bool
	now   func() time.Time
}

// sameToken compares in constant time, whatever the lengths.
func (a *auth) sameToken(s string) bool {
	x, y := sha256.Sum256([]byte(s)), sha256.Sum256(a.token)
	return subtle.ConstantTimeCompare(x[:], y[:]) == 1
}

func (a *auth) mac(expiry string) string {
	m := hmac.New(sha256.New, a.token)
	m.Write([]byte("rootwatch panel session\x00" + expiry))
	return hex.EncodeToString(m.Sum(nil))
}

// allowed says whether a request carries the token or a valid session.
func (a *auth) allowed(r *http.Request) bool {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		return ok && strings.EqualFold(scheme, "Bearer") && a.sameToken(strings.TrimSpace(tok))
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return false
	}
	expiry, sum, ok := strings.Cut(c.Value, ".")
	if !ok {
		return false
	}
	n, err := strconv.ParseInt(expiry, 10, 64)
	if err != nil || !a.now().Before(time.Unix(n, 0)) {
		return false
	}
	return hmac.Equal([]byte(sum), []byte(a.mac(expiry)))
}

func (a *auth) session() *http.Cookie {
	expiry := strconv.FormatInt(a.now().Add(sessionTTL).Unix(), 10)
	return &http.Cookie{Name: sessionCookie, Value: expiry + "." + a.mac(expiry), Path: "/", MaxAge: int(sessionTTL.Seconds()),
		HttpOnly: true, Secure: a.tls, SameSite: http.SameSiteStrictMode}
}

func (a *auth) clear() *http.Cookie {
	return &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: a.tls, SameSite: http.SameSiteStrictMode}
}

// localPath is next when it is a path on this server, else "/": the login
// form never sends anyone elsewhere.
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" {
		return "/"
	}
	return u.RequestURI()
}

// sameOrigin says a POST comes from a page of this server. Browsers say
// where a request comes from in Sec-Fetch-Site; one that does not (an
// older browser, curl) is judged by Origin, and a request without either
// is not a browser's form. Origin alone does not do: under the panel's
// Referrer-Policy (no-referrer) a browser sends "Origin: null" with its
// own forms.
func sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		return site == "same-origin"
	}
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}
