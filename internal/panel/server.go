// Package panel is rootwatch serve: a read-only web panel over the history
// store. Handlers render html/template pages (embedded, with an embedded
// stylesheet and no script) from the answers of a query.Source, the query
// layer (internal/panel/query): the handlers ask, a Source answers.
package panel

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/rootwatch/rootwatch/internal/panel/query"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/rootwatch/rootwatch/internal/finding"
)

//go:embed templates static
var assets embed.FS

// CSP allows the panel's own stylesheet and icon, nothing else: no
// script at all, no inline style, no frame, no other origin.
const CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// Options configure the panel's handler.
type Options struct {
	Source  query.Source
	Catalog finding.Catalog
	// Token, when set, is required of every request but /healthz, the
	// stylesheet and the login form: as a bearer token, or through the
	// session cookie the login form sets.
	Token []byte
	// TLS marks cookies Secure and sends Strict-Transport-Security.
	TLS bool
	// Loopback refuses requests whose Host is not a loopback name or
	// address (a DNS rebinding attack would send another).
	Loopback bool
	Log      *slog.Logger
	// Now is the clock (session expiry, suppressions expired since their
	// run); nil: time.Now.
	Now func() time.Time
	// Version is rootwatch's, shown in the footer and part of every ETag.
	Version string
	// Store describes the store, without secrets (store.Describe).
	Store string
	// RequestTimeout bounds one request's work (default 30s).
	RequestTimeout time.Duration
}

type server struct {
	Options
	auth  *auth
	pages map[string]*pageTemplate
}

// New builds the panel's handler: security headers on every response,
// access logs, the Host check, authentication, then the views.
func New(o Options) (http.Handler, error) {
	if o.Source == nil {
		return nil, errors.New("panel: no source")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 30 * time.Second
	}
	s := &server{Options: o}
	if len(o.Token) > 0 {
		s.auth = &auth{token: o.Token, tls: o.TLS, now: o.Now}
	}
	var err error
	if s.pages, err = parsePages(); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	// GET patterns also answer HEAD; any other method gets 405.
	mux.HandleFunc("GET /{$}", s.view("overview", false, s.overview))
	mux.HandleFunc("GET /matrix", s.view("matrix", false, s.matrix))
	mux.HandleFunc("GET /matrix.csv", s.export("csv"))
	mux.HandleFunc("GET /matrix.json", s.export("json"))
	mux.HandleFunc("GET /accounts/{id}", s.view("account", false, s.account))
	mux.HandleFunc("GET /rules/{id}", s.view("rule", false, s.rule))
	mux.HandleFunc("GET /runs", s.view("runs", false, s.runs))
	mux.HandleFunc("GET /diff", s.view("diff", false, s.diff))
	// What expired since its run depends on the day.
	mux.HandleFunc("GET /suppressions", s.view("suppressions", true, s.suppressions))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /static/{file}", s.static)
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/static/icon.svg", http.StatusMovedPermanently)
	})
	if s.auth != nil {
		mux.HandleFunc("GET /login", s.loginForm)
		mux.HandleFunc("POST /login", s.login)
		mux.HandleFunc("POST /logout", s.logout)
	}
	// GET only: another method on any path is 405, not 404.
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusNotFound, "There is no page at this address.")
	})
	return s.headers(s.accessLog(s.hostCheck(s.authenticate(s.timeout(mux))))), nil
}

// headers sets the security headers on every response, errors and
// redirects included.
func (s *server) headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", CSP)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		if s.TLS {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

// recorder remembers a response's status and size for the access log.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

// accessLog logs each request: method, path (never the query, which a
// filter fills with what people typed), status, size and duration.
func (s *server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		s.Log.Info("request", "method", r.Method, "path", r.URL.Path, "status", rec.status, "bytes", rec.bytes,
			"duration_ms", time.Since(start).Milliseconds(), "remote", r.RemoteAddr)
	})
}

// hostCheck refuses, on a loopback address, a Host that names anything
// else: a page elsewhere that rebinds its own name to 127.0.0.1 would
// otherwise read the panel.
func (s *server) hostCheck(next http.Handler) http.Handler {
	if !s.Loopback {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if !loopbackHost(strings.Trim(host, "[]")) {
			s.fail(w, r, http.StatusMisdirectedRequest, "This panel listens on a loopback address and answers only to a loopback host name (localhost, 127.0.0.1 or [::1]).")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// public paths need no token: the health check, the stylesheet and icon
// (the login form uses them), and the login form itself.
func public(path string) bool {
	return path == "/healthz" || path == "/login" || path == "/favicon.ico" || strings.HasPrefix(path, "/static/")
}

func (s *server) authenticate(next http.Handler) http.Handler {
	if s.auth == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if public(r.URL.Path) || (r.URL.Path == "/logout" && r.Method == http.MethodPost) || s.auth.allowed(r) {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="rootwatch"`)
		next := "/"
		if r.Method == http.MethodGet {
			next = r.URL.RequestURI()
		}
		s.render(w, r, http.StatusUnauthorized, "login", &page{Title: "Sign in", Data: loginData{Next: next, Failed: r.Header.Get("Authorization") != ""}})
	})
}

func (s *server) timeout(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), s.RequestTimeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// static serves the embedded stylesheet and icon.
func (s *server) static(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	types := map[string]string{".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
	ext := name[strings.LastIndexByte(name, '.')+1:]
	typ, ok := types["."+ext]
	b, err := fs.ReadFile(assets, "static/"+name)
	if !ok || err != nil {
		s.fail(w, r, http.StatusNotFound, "There is no such file.")
		return
	}
	sum := sha256.Sum256(b)
	tag := `"` + hex.EncodeToString(sum[:12]) + `"`
	w.Header().Set("Content-Type", typ)
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("ETag", tag)
	if matches(r.Header.Get("If-None-Match"), tag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Write(b)
}

// matches says whether an If-None-Match header names tag.
func matches(header, tag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == tag || t == "*" || strings.TrimPrefix(t, "W/") == strings.TrimPrefix(tag, "W/") {
			return true
		}
	}
	return false
}

// etag names a view's content: rootwatch's version, the stored runs, the
// address (path and query), whether sign-out is offered, and, for views
// that depend on it, the day.
func (s *server) etag(r *http.Request, daily bool) (string, error) {
	gen, err := s.Source.Generation(r.Context())
	if err != nil {
		return "", err
	}
	key := strings.Join([]string{s.Version, gen, r.URL.Path, r.URL.RawQuery, fmt.Sprint(s.auth != nil)}, "\x00")
	if daily {
		key += "\x00" + s.Now().UTC().Format("2006-01-02")
	}
	sum := sha256.Sum256([]byte(key))
	return `W/"` + hex.EncodeToString(sum[:12]) + `"`, nil
}

// view serves a page: 304 when the client holds the same ETag, else the
// page build makes.
func (s *server) view(name string, daily bool, build func(*http.Request) (*page, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tag, err := s.etag(r, daily)
		if err != nil {
			s.error(w, r, err)
			return
		}
		if matches(r.Header.Get("If-None-Match"), tag) {
			w.Header().Set("ETag", tag)
			w.Header().Set("Cache-Control", "private, no-cache")
			w.WriteHeader(http.StatusNotModified)
			return
		}
		p, err := build(r)
		if err != nil {
			s.error(w, r, err)
			return
		}
		w.Header().Set("ETag", tag)
		w.Header().Set("Cache-Control", "private, no-cache")
		s.render(w, r, http.StatusOK, name, p)
	}
}

// badRequest is a request the panel cannot answer as asked.
type badRequest struct{ msg string }

func (e *badRequest) Error() string { return e.msg }

func badf(format string, args ...any) error { return &badRequest{fmt.Sprintf(format, args...)} }

// error answers a failed view: the store's own errors are logged, not
// shown (they may name its host).
func (s *server) error(w http.ResponseWriter, r *http.Request, err error) {
	var bad *badRequest
	switch {
	case errors.As(err, &bad), errors.Is(err, query.ErrNoEarlierRun):
		s.fail(w, r, http.StatusBadRequest, err.Error())
	case errors.Is(err, query.ErrNotFound):
		s.fail(w, r, http.StatusNotFound, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		s.Log.Error("request timed out", "path", r.URL.Path, "error", err.Error())
		s.fail(w, r, http.StatusServiceUnavailable, "The store did not answer in time.")
	default:
		s.Log.Error("request failed", "path", r.URL.Path, "error", err.Error())
		s.fail(w, r, http.StatusInternalServerError, "The store could not be read; the server's log says why.")
	}
}

func (s *server) fail(w http.ResponseWriter, r *http.Request, code int, msg string) {
	s.render(w, r, code, "error", &page{Title: http.StatusText(code), Data: errorData{Code: code, Message: msg}})
}

// render writes a page whole, or a plain 500 if its template fails (a
// half-written page is never sent).
func (s *server) render(w http.ResponseWriter, r *http.Request, code int, name string, p *page) {
	p.Version, p.Store, p.SignOut = s.Version, s.Store, s.auth != nil && name != "login" && s.auth.allowed(r)
	var buf bytes.Buffer
	if err := s.pages[name].execute(&buf, p); err != nil {
		s.Log.Error("render failed", "page", name, "error", err.Error())
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte("the page could not be rendered\n"))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		w.Write(buf.Bytes())
	}
}

func (s *server) loginForm(w http.ResponseWriter, r *http.Request) {
	next := localPath(r.URL.Query().Get("next"))
	if s.auth.allowed(r) {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "login", &page{Title: "Sign in", Data: loginData{Next: next}})
}

func (s *server) login(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		s.fail(w, r, http.StatusForbidden, "The sign-in form was sent from another site.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxLoginBytes)
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, http.StatusRequestEntityTooLarge, "The sign-in form is larger than a token.")
		return
	}
	next := localPath(r.PostForm.Get("next"))
	if !s.auth.sameToken(r.PostForm.Get("token")) {
		s.Log.Warn("sign-in refused: wrong token", "remote", r.RemoteAddr)
		s.render(w, r, http.StatusUnauthorized, "login", &page{Title: "Sign in", Data: loginData{Next: next, Failed: true}})
		return
	}
	http.SetCookie(w, s.auth.session())
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *server) logout(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		s.fail(w, r, http.StatusForbidden, "The sign-out form was sent from another site.")
		return
	}
	http.SetCookie(w, s.auth.clear())
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// ServeOptions say where and how to serve.
type ServeOptions struct {
	Addr    string
	Handler http.Handler
	// Cert is the TLS certificate (nil: plain HTTP).
	Cert *tls.Certificate
	Log  *slog.Logger
	// Listening, when set, is told the address bound (Addr may ask for
	// port 0).
	Listening func(addr string)
	// ShutdownTimeout bounds how long requests in flight may finish once
	// ctx ends (default 10s).
	ShutdownTimeout time.Duration
}

// Serve serves until ctx ends (SIGINT, SIGTERM), then lets the requests
// in flight finish and returns nil.
func Serve(ctx context.Context, o ServeOptions) error {
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = 10 * time.Second
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.Addr, err)
	}
	srv := &http.Server{
		Handler:           o.Handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(o.Log.Handler(), slog.LevelWarn),
	}
	// Said once the listener is closed, while the requests in flight
	// finish. Shutdown runs the hook on its own goroutine: Serve waits for
	// it, so the line is never lost to a process that exits on return.
	said := make(chan struct{})
	srv.RegisterOnShutdown(func() {
		o.Log.Info("shutting down", "timeout", o.ShutdownTimeout.String())
		close(said)
	})
	if o.Cert != nil {
		srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{*o.Cert}}
		ln = tls.NewListener(ln, srv.TLSConfig)
	}
	if o.Listening != nil {
		o.Listening(ln.Addr().String())
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.ShutdownTimeout)
	defer cancel()
	err = srv.Shutdown(sctx)
	<-said
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	<-done
	return nil
}
