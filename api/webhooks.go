package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/webhooks"
)

type webhookJSON struct {
	ID             string     `json:"id"`
	SiteID         *string    `json:"site_id"`
	URL            string     `json:"url"`
	Events         []string   `json:"events"`
	Description    string     `json:"description"`
	Enabled        bool       `json:"enabled"`
	FailingSince   *time.Time `json:"failing_since"`
	DisabledReason string     `json:"disabled_reason"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	// Secret is present only in the answers that create the endpoint or
	// rotate its secret.
	Secret *string `json:"secret,omitempty"`
}

func toWebhookJSON(e *webhooks.Endpoint) webhookJSON {
	return webhookJSON{ID: e.ID, SiteID: e.SiteID, URL: e.URL, Events: e.Events, Description: e.Description,
		Enabled: e.Enabled, FailingSince: e.FailingSince, DisabledReason: e.DisabledReason,
		CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt}
}

type webhookDeliveryJSON struct {
	ID            string     `json:"id"`
	EventID       string     `json:"event_id"`
	EventType     string     `json:"event_type"`
	Status        string     `json:"status"`
	Attempts      int        `json:"attempts"`
	ResponseCode  int        `json:"response_code"`
	ResponseBody  string     `json:"response_body"`
	Error         string     `json:"error"`
	DurationMS    int64      `json:"duration_ms"`
	CreatedAt     time.Time  `json:"created_at"`
	LastAttemptAt *time.Time `json:"last_attempt_at"`
}

func toWebhookDeliveryJSON(d *webhooks.Delivery) webhookDeliveryJSON {
	return webhookDeliveryJSON{ID: d.ID, EventID: d.EventID, EventType: d.EventType, Status: d.Status, Attempts: d.Attempts,
		ResponseCode: d.ResponseCode, ResponseBody: d.ResponseBody, Error: d.Error, DurationMS: d.DurationMS,
		CreatedAt: d.CreatedAt, LastAttemptAt: d.LastAttempt}
}

// writeWebhookWithSecret answers with the endpoint and, this once, its
// secret; the idempotency record keeps the answer without it, as for API
// keys.
func writeWebhookWithSecret(w http.ResponseWriter, status int, e *webhooks.Endpoint) {
	out := toWebhookJSON(e)
	if cw, ok := w.(*captureWriter); ok {
		cw.replayBody, _ = json.Marshal(out)
	}
	secret := e.Secret
	out.Secret = &secret
	if status == http.StatusCreated {
		w.Header().Set("Location", "/v1/webhooks/"+e.ID)
	}
	writeJSON(w, status, out)
}

type newWebhookBody struct {
	URL         string   `json:"url"`
	Events      []string `json:"events"`
	Description string   `json:"description"`
}

func (s *Server) handleCreateSiteWebhook(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	siteID := r.PathValue("site_id")
	if _, err := s.Calendar.ReadSite(r.Context(), p, siteID); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.createWebhook(w, r, p, siteID)
}

func (s *Server) handleCreateWebhook(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	s.createWebhook(w, r, p, "")
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request, p *identity.Principal, siteID string) {
	var in newWebhookBody
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	e, err := s.Webhooks.Create(r.Context(), p, webhooks.NewEndpoint{SiteID: siteID, URL: in.URL, Events: in.Events, Description: in.Description})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeWebhookWithSecret(w, http.StatusCreated, e)
}

func (s *Server) handleListSiteWebhooks(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	siteID := r.PathValue("site_id")
	if _, err := s.Calendar.ReadSite(r.Context(), p, siteID); err != nil {
		s.writeError(w, r, err)
		return
	}
	eps, err := s.Webhooks.ListSite(r.Context(), p, siteID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, listOf(eps, toWebhookJSON))
}

func (s *Server) handleListWebhooks(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	eps, err := s.Webhooks.List(r.Context(), p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, listOf(eps, toWebhookJSON))
}

func (s *Server) handleGetWebhook(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	e, err := s.Webhooks.Get(r.Context(), p, r.PathValue("webhook_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toWebhookJSON(e))
}

func (s *Server) handlePatchWebhook(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	var in struct {
		URL         *string  `json:"url"`
		Events      []string `json:"events"`
		Description *string  `json:"description"`
		Enabled     *bool    `json:"enabled"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	e, err := s.Webhooks.Update(r.Context(), p, r.PathValue("webhook_id"),
		webhooks.Patch{URL: in.URL, Events: in.Events, Description: in.Description, Enabled: in.Enabled})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toWebhookJSON(e))
}

func (s *Server) handleDeleteWebhook(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	if err := s.Webhooks.Delete(r.Context(), p, r.PathValue("webhook_id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleRotateWebhookSecret(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	e, err := s.Webhooks.RotateSecret(r.Context(), p, r.PathValue("webhook_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeWebhookWithSecret(w, http.StatusOK, e)
}

func (s *Server) handleListWebhookDeliveries(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	after, limit, err := page(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ds, next, err := s.Webhooks.Deliveries(r.Context(), p, r.PathValue("webhook_id"), after, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := listOf(ds, toWebhookDeliveryJSON)
	out.NextCursor = cursor(next)
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleRedeliverWebhook(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	d, err := s.Webhooks.Redeliver(r.Context(), p, r.PathValue("webhook_id"), r.PathValue("delivery_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, toWebhookDeliveryJSON(d))
}
