// Package api is Relais's HTTP interface: one route table (routes.go) that
// mirrors openapi.yaml, one file per resource, problem+json errors, and the
// middleware every request passes through. It holds no SQL and no MQTT: it
// decodes, asks the domain packages, and encodes.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/relais-tierslieux/relais/access"
	"github.com/relais-tierslieux/relais/appointments"
	"github.com/relais-tierslieux/relais/ateliers"
	"github.com/relais-tierslieux/relais/billing"
	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/campaigns"
	"github.com/relais-tierslieux/relais/closings"
	"github.com/relais-tierslieux/relais/dashboard"
	"github.com/relais-tierslieux/relais/devices"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/i18n"
	"github.com/relais-tierslieux/relais/internal/idempotency"
	"github.com/relais-tierslieux/relais/invoicing"
	"github.com/relais-tierslieux/relais/ledger"
	"github.com/relais-tierslieux/relais/people"
	"github.com/relais-tierslieux/relais/privacy"
	"github.com/relais-tierslieux/relais/reports"
	"github.com/relais-tierslieux/relais/webhooks"
)

// Deps are the services the API talks to; cmd/relais builds them.
type Deps struct {
	Access      *identity.Service
	Calendar    *calendar.Service
	Billing     *billing.Service
	Ledger      *ledger.Service
	Campaigns   *campaigns.Service
	Invoices    *invoicing.Invoicer
	Closings    *closings.Service // the cash journal: closings, archives, technical events
	Devices     *devices.Service
	Gate        *access.Gate
	Webhooks    *webhooks.Service
	Idempotency *idempotency.Store

	// Privacy exports a member's data and erases accounts.
	Privacy *privacy.Service
	// People is the front desk's view of a site's people.
	People *people.Service
	// Ateliers are the ateliers and trainings of the sites.
	Ateliers *ateliers.Service
	// Reports are the funders' figures.
	Reports *reports.Service
	// Appointments are the partners' windows and residents' appointments.
	Appointments *appointments.Service

	// Dashboard computes a site's figures for its managers.
	Dashboard *dashboard.Service

	Logger *slog.Logger
	// Registry receives the HTTP metrics; nil makes a private one.
	Registry *prometheus.Registry
	// TrustedProxies are the load balancers whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// PublicURL is where members reach Relais (--public-url, without a
	// trailing slash), the base of the absolute links the API hands out.
	// Empty: those links are unknown and answered as null. Never taken from
	// a request's Host or X-Forwarded-* headers, which the client chooses.
	PublicURL string
	// Ready reports whether the database is reachable and migrated.
	Ready func(ctx context.Context) error
	// DefaultLanguage is the language of problem documents when a request
	// names neither French nor English and comes from no member
	// (--default-language); empty is French.
	DefaultLanguage i18n.Lang
}

// Server is the HTTP API. It is an http.Handler.
type Server struct {
	Deps
	log      *slog.Logger
	mux      *http.ServeMux
	patterns []string
	metrics  *metrics
	handler  http.Handler
}

// New builds the API handler with its routes and middleware.
func New(d Deps) *Server {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Registry == nil {
		d.Registry = prometheus.NewRegistry()
	}
	s := &Server{Deps: d, log: d.Logger, mux: http.NewServeMux()}
	s.metrics = newMetrics(d.Registry)
	s.routes()
	// Outermost first: every request gets an id, is logged and measured, and
	// a panic anywhere inside becomes a logged 500.
	s.handler = s.withRequestInfo(s.withRecover(s.withAuthentication(http.HandlerFunc(s.dispatch))))
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// dispatch routes through the mux but answers its plain-text 404 and 405
// with problem documents.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request) {
	h, pattern := s.mux.Handler(r)
	if pattern != "" {
		info(r.Context()).pattern = pattern
		// ServeHTTP, not h: only the mux's own dispatch sets path values.
		s.mux.ServeHTTP(w, r)
		return
	}
	rec := &headerRecorder{header: http.Header{}}
	h.ServeHTTP(rec, r)
	status := rec.status
	switch status {
	case http.StatusMethodNotAllowed:
		w.Header().Set("Allow", rec.header.Get("Allow"))
		writeProblem(w, r, newProblemf(status, "method_not_allowed", "%s is not allowed on %s", r.Method, r.URL.Path))
	case http.StatusMovedPermanently, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		// The mux cleans paths ("/v1//sites") with a redirect; keep it.
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
	default:
		writeProblem(w, r, newProblemf(http.StatusNotFound, "not_found", "no route for %s", r.URL.Path))
	}
}

// headerRecorder captures what the mux's fallback handlers would write.
type headerRecorder struct {
	header http.Header
	status int
}

func (h *headerRecorder) Header() http.Header         { return h.header }
func (h *headerRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (h *headerRecorder) WriteHeader(status int)      { h.status = status }

// HTTPServer wraps h with the timeouts a public server needs.
func HTTPServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}
