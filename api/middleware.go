package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strings"
	"time"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/freetext"
	"github.com/relais-tierslieux/relais/internal/i18n"
	"github.com/relais-tierslieux/relais/internal/id"
	"github.com/relais-tierslieux/relais/internal/idempotency"
	"github.com/relais-tierslieux/relais/internal/journal"
)

// requestInfo travels in the context so inner layers can tell outer ones
// what they learnt (the route pattern, the user) for logs and metrics.
type requestInfo struct {
	id      string
	pattern string
	userID  string
	// authErr is why a presented credential was refused; handlers that
	// need a principal answer 401 with it.
	authErr error
	// srv and lang: the language of problem documents (language.go).
	srv  *Server
	lang i18n.Lang
}

type infoKey struct{}

func info(ctx context.Context) *requestInfo {
	if ri, ok := ctx.Value(infoKey{}).(*requestInfo); ok {
		return ri
	}
	return &requestInfo{}
}

func requestID(ctx context.Context) string { return info(ctx).id }

// statusWriter records the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	size   int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.size += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// withRequestInfo assigns the request id, then logs and measures the request
// once it is done.
func (s *Server) withRequestInfo(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rid := r.Header.Get("X-Request-Id")
		if rid == "" || len(rid) > 64 || strings.ContainsFunc(rid, func(c rune) bool { return c < 0x21 || c > 0x7e }) {
			rid = id.New()
		}
		ri := &requestInfo{id: rid, srv: s}
		w.Header().Set("X-Request-Id", rid)
		setSecurityHeaders(w.Header())
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), infoKey{}, ri)))
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		elapsed := time.Since(start)
		route := ri.pattern
		if route == "" {
			route = "unmatched"
		}
		s.metrics.observe(route, r.Method, sw.status, elapsed)
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("request_id", rid),
			slog.String("method", r.Method),
			slog.String("route", route),
			slog.Int("status", sw.status),
			slog.Duration("duration", elapsed),
			slog.Int("bytes", sw.size),
			slog.String("user_id", ri.userID),
		)
	})
}

// withRecover turns a panic into a logged 500 carrying the request id.
func (s *Server) withRecover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(r.Context(), "panic", slog.String("request_id", requestID(r.Context())),
					slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
				writeProblem(w, r, newProblem(http.StatusInternalServerError, "internal", "an internal error occurred; quote the request id when reporting it"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// withAuthentication resolves a bearer credential when one is presented. A
// refused credential is remembered, not answered here: public routes stay
// reachable, and protected ones answer 401 through requireAuth.
func (s *Server) withAuthentication(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		authz := r.Header.Get("Authorization")
		if authz == "" {
			s.withCookieSession(next, w, r)
			return
		}
		scheme, token, ok := strings.Cut(authz, " ")
		ri := info(r.Context())
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
			ri.authErr = badRequest(http.StatusUnauthorized, "unauthenticated", "", "the Authorization header must be 'Bearer <token>'")
			next.ServeHTTP(w, r)
			return
		}
		p, err := s.Access.Authenticate(r.Context(), strings.TrimSpace(token))
		if err != nil {
			ri.authErr = err
			next.ServeHTTP(w, r)
			return
		}
		if p.UserID != "" {
			ri.userID = p.UserID
		} else {
			ri.userID = "apikey:" + p.APIKeyID
		}
		next.ServeHTTP(w, r.WithContext(identity.WithPrincipal(r.Context(), p)))
	})
}

// withCookieSession is withAuthentication for a browser's session cookie
// (see cookies.go), when no Authorization header is given. A write must
// also carry the session's CSRF token: another site can make the browser
// send the cookie, not the header.
func (s *Server) withCookieSession(next http.Handler, w http.ResponseWriter, r *http.Request) {
	token := cookieValue(r, cookieAccess)
	if token == "" {
		next.ServeHTTP(w, r)
		return
	}
	ri := info(r.Context())
	p, err := s.Access.Authenticate(r.Context(), token)
	switch {
	case err != nil:
		ri.authErr = err
	case p.SessionID == "":
		ri.authErr = errs.ErrUnauthenticated // an API key is never a cookie
	case !safeMethod(r.Method) && !s.Access.CheckCSRF(p.SessionID, r.Header.Get(csrfHeader)):
		ri.authErr = errCSRF
	default:
		ri.userID = p.UserID
		r = r.WithContext(identity.WithPrincipal(r.Context(), p))
	}
	next.ServeHTTP(w, r)
}

// authedHandler is a handler that runs only with a principal.
type authedHandler func(w http.ResponseWriter, r *http.Request, p *identity.Principal)

// requireAuth answers 401 unless the request carries a valid credential.
func (s *Server) requireAuth(h authedHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p := identity.PrincipalFrom(r.Context())
		if p == nil {
			err := info(r.Context()).authErr
			if err == nil {
				err = badRequest(http.StatusUnauthorized, "unauthenticated", "", "this route needs 'Authorization: Bearer <token>'")
			}
			s.unauthorized(w, r, err)
			return
		}
		r = r.WithContext(journal.WithActor(r.Context(), p.UserID, p.APIKeyID)) // who changed what, for the cash journal
		h(w, r, p)
	}
}

// idempotent makes a creating POST honour Idempotency-Key: the same key and
// body within 24 h replays the first response, the same key with another
// body is a 422, and a concurrent duplicate is a 409. Without the header the
// request runs normally.
func (s *Server) idempotent(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Idempotency-Key")
		if key == "" {
			next(w, r)
			return
		}
		scope, hash, body, ok := s.idempotencyRequest(w, r, key)
		if !ok {
			return
		}
		rec, err := s.Idempotency.Begin(r.Context(), scope, key, r.Method, r.URL.Path, hash)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if rec != nil {
			writeReplay(w, *rec)
			return
		}
		r.Body = readCloser{strings.NewReader(string(body))}
		cw := &captureWriter{ResponseWriter: w}
		ctx := context.WithoutCancel(r.Context())
		defer func() {
			// A server error, a rate limit or a panic is not an answer worth
			// replaying: let the client retry with the same key.
			if v := recover(); v != nil {
				s.Idempotency.Release(ctx, scope, key)
				panic(v)
			}
			if !worthReplaying(cw.status) {
				if err := s.Idempotency.Release(ctx, scope, key); err != nil {
					s.log.Error("release idempotency key", slog.Any("error", err))
				}
				return
			}
			if err := s.Idempotency.Complete(ctx, scope, key, cw.record(w)); err != nil {
				s.log.Error("store idempotent response", slog.Any("error", err))
			}
		}()
		next(cw, r)
	}
}

// idempotentInTx is idempotent for a handler that takes the key inside its
// own transaction (claimFrom, idempotency.Claim), so that the key, the work
// and the answer commit together: on PostgreSQL one commit, and its WAL
// flush, instead of three. What the handler's transaction did not store (a
// refusal rolled it back, or it failed before) is stored here afterwards.
// A concurrent duplicate waits for the first request's transaction and then
// replays its answer, or gets a 409 while that request is still running.
func (s *Server) idempotentInTx(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Idempotency-Key")
		if key == "" {
			next(w, r)
			return
		}
		scope, hash, body, ok := s.idempotencyRequest(w, r, key)
		if !ok {
			return
		}
		claim := s.Idempotency.NewClaim(scope, key, r.Method, r.URL.Path, hash)
		r.Body = readCloser{strings.NewReader(string(body))}
		cw := &captureWriter{ResponseWriter: w}
		next(cw, r.WithContext(context.WithValue(r.Context(), claimKey{}, claim)))
		if claim.Settled() || !worthReplaying(cw.status) {
			return
		}
		if err := claim.StoreOutcome(context.WithoutCancel(r.Context()), cw.record(w)); err != nil {
			s.log.Error("store idempotent response", slog.Any("error", err))
		}
	}
}

type claimKey struct{}

// claimFrom returns the Idempotency-Key a handler under idempotentInTx
// takes in its transaction, or nil when the request carries none.
func claimFrom(ctx context.Context) *idempotency.Claim {
	c, _ := ctx.Value(claimKey{}).(*idempotency.Claim)
	return c
}

// idempotencyRequest checks the key, reads the body (hashing it) and names
// the caller's scope; it answers the request itself when it returns !ok.
func (s *Server) idempotencyRequest(w http.ResponseWriter, r *http.Request, key string) (scope, hash string, body []byte, ok bool) {
	if len(key) > 255 {
		s.writeError(w, r, badRequest(http.StatusBadRequest, "invalid_header", "Idempotency-Key", "must be at most 255 characters"))
		return "", "", nil, false
	}
	// The key is stored: the text rule keeps bytes PostgreSQL refuses out.
	if reason := freetext.Reason(key, freetext.SingleLine); !reason.Empty() {
		s.writeError(w, r, badRequestf(http.StatusBadRequest, "invalid_header", "Idempotency-Key", "Idempotency-Key %s", reason))
		return "", "", nil, false
	}
	// Some creating POSTs take no body (accepting an offer): hash an
	// empty one rather than insisting on a JSON content type.
	var err error
	if r.Header.Get("Content-Type") == "" && r.ContentLength <= 0 {
		body, err = io.ReadAll(io.LimitReader(r.Body, 1))
		if err == nil && len(body) > 0 {
			err = badRequest(http.StatusUnsupportedMediaType, "unsupported_media_type", "", "the body must be application/json")
		}
	} else if isCSV(r) {
		body, err = readCSVBody(r)
	} else {
		body, err = readBody(r)
	}
	if err != nil {
		s.writeError(w, r, err)
		return "", "", nil, false
	}
	// Anonymous callers (registration) are told apart by address, so
	// two strangers who pick the same key do not see each other's answer.
	scope = "anonymous:" + s.clientIP(r)
	if p := identity.PrincipalFrom(r.Context()); p != nil {
		scope = "user:" + p.UserID
		if p.IsAPIKey() {
			scope = "apikey:" + p.APIKeyID
		}
	}
	sum := sha256.Sum256(body)
	return scope, hex.EncodeToString(sum[:]), body, true
}

// worthReplaying: a server error, a rate limit or no answer (a panic) is
// not replayed; the client may retry with the same key.
func worthReplaying(status int) bool {
	return status != 0 && status < 500 && status != http.StatusTooManyRequests
}

// writeReplay answers again what an earlier request with the key answered.
func writeReplay(w http.ResponseWriter, rec idempotency.Record) {
	for k, v := range rec.Headers {
		w.Header().Set(k, v)
	}
	w.Header().Set("Idempotent-Replayed", "true")
	w.WriteHeader(rec.Status)
	w.Write(rec.Body)
}

type readCloser struct{ *strings.Reader }

func (readCloser) Close() error { return nil }

// captureWriter keeps a copy of the response for the idempotency record.
type captureWriter struct {
	http.ResponseWriter
	status int
	body   []byte
	// replayBody, when a handler sets it, is stored instead of body: for
	// responses that carry a secret shown only once.
	replayBody []byte
}

func (w *captureWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *captureWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// record is the captured response as the idempotency store keeps it.
func (w *captureWriter) record(hw http.ResponseWriter) idempotency.Record {
	headers := map[string]string{"Content-Type": hw.Header().Get("Content-Type")}
	if loc := hw.Header().Get("Location"); loc != "" {
		headers["Location"] = loc
	}
	body := w.body
	if w.replayBody != nil {
		body = w.replayBody
	}
	return idempotency.Record{Status: w.status, Headers: headers, Body: body}
}

func (w *captureWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.body = append(w.body, b...)
	return w.ResponseWriter.Write(b)
}

// clientIP is the address rate limits and sessions see: the peer, or, when
// the peer is a trusted proxy, the last address in X-Forwarded-For that is
// not itself a trusted proxy.
func (s *Server) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !s.trusted(peer) {
		return host
	}
	hops := strings.Split(r.Header.Get("X-Forwarded-For"), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		if !s.trusted(a) {
			return a.String()
		}
	}
	return host
}

func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.TrustedProxies {
		if p.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}
