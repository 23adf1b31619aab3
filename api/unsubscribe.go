package api

import (
	"mime"
	"net/http"
)

// unsubscribeJSON tells what an unsubscribe link does, or did.
type unsubscribeJSON struct {
	Category string `json:"category"`
	// Enabled is false once unsubscribed; absent from the GET's answer,
	// which changes nothing.
	Enabled *bool  `json:"enabled,omitempty"`
	Detail  string `json:"detail"`
}

// handleUnsubscribePreview answers a GET of a List-Unsubscribe link: it
// changes nothing, since link scanners and previews follow GETs, and says
// what the one-click POST would turn off.
func (s *Server) handleUnsubscribePreview(w http.ResponseWriter, r *http.Request) {
	category, err := s.Access.UnsubscribeCategory(r.URL.Query().Get("token"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, unsubscribeJSON{Category: category,
		Detail: "POST this URL with the body List-Unsubscribe=One-Click (application/x-www-form-urlencoded) to stop these mails"})
}

// maxUnsubscribeBody bounds the one-click form: it holds one short field.
const maxUnsubscribeBody = 4 << 10

// handleUnsubscribe is the one-click unsubscribe of RFC 8058: a mail
// client POSTs the link with the form body List-Unsubscribe=One-Click,
// and nothing else (no JSON, no credentials).
func (s *Server) handleUnsubscribe(w http.ResponseWriter, r *http.Request) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mt != "application/x-www-form-urlencoded" && mt != "multipart/form-data") {
		s.writeError(w, r, badRequest(http.StatusUnsupportedMediaType, "unsupported_media_type", "",
			"the body must be the form List-Unsubscribe=One-Click"))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxUnsubscribeBody)
	if mt == "multipart/form-data" {
		err = r.ParseMultipartForm(maxUnsubscribeBody)
	} else {
		err = r.ParseForm()
	}
	if err != nil || r.PostForm.Get("List-Unsubscribe") != "One-Click" {
		s.writeError(w, r, badRequest(http.StatusBadRequest, "invalid_body", "List-Unsubscribe",
			"the body must be the form List-Unsubscribe=One-Click"))
		return
	}
	category, err := s.Access.Unsubscribe(r.Context(), r.URL.Query().Get("token"), s.clientInfo(r))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	off := false
	writeJSON(w, http.StatusOK, unsubscribeJSON{Category: category, Enabled: &off,
		Detail: "these mails are turned off; turn them back on in your notification preferences"})
}
