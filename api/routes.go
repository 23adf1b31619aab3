package api

import (
	"net/http"

	"github.com/relais-tierslieux/relais/identity"
)

// routes is the one route table. openapi.yaml describes exactly these
// routes; TestOpenAPIMatchesRoutes keeps the two in step.
func (s *Server) routes() {
	s.handle("GET /healthz", s.handleHealthz)
	s.handle("GET /readyz", s.handleReadyz)
	s.handle("GET /metrics", s.handleMetrics().ServeHTTP)

	s.handle("POST /v1/auth/register", s.idempotent(s.handleRegister))
	s.handle("POST /v1/auth/login", s.handleLogin)
	s.handle("POST /v1/auth/verify-email", s.handleVerifyEmail)
	s.handle("POST /v1/auth/password-reset", s.idempotent(s.handlePasswordReset))
	s.handle("POST /v1/auth/password-reset/confirm", s.handlePasswordResetConfirm)
	s.handle("POST /v1/auth/refresh", s.handleRefresh)
	s.handle("POST /v1/auth/logout", s.requireAuth(s.handleLogout))
	s.handle("GET /v1/unsubscribe", s.handleUnsubscribePreview)
	s.handle("POST /v1/unsubscribe", s.handleUnsubscribe)

	s.handle("GET /v1/me", s.requireAuth(s.handleGetMe))
	s.handle("PATCH /v1/me", s.requireAuth(s.handlePatchMe))
	s.handle("GET /v1/me/sessions", s.requireAuth(s.handleMySessions))
	s.handle("DELETE /v1/me/sessions", s.requireAuth(s.handleEndMyOtherSessions))
	s.handle("DELETE /v1/me/sessions/{session_id}", s.requireAuth(s.handleEndMySession))
	s.handle("POST /v1/me/email-verification", s.requireAuth(s.idempotentAuthed(s.handleSendEmailVerification)))
	s.handle("DELETE /v1/me", s.requireAuth(s.handleEraseMe))
	s.handle("POST /v1/me/export", s.requireAuth(s.idempotentAuthed(s.handleStartExport)))
	s.handle("GET /v1/me/export", s.requireAuth(s.handleGetExport))
	s.handle("GET /v1/me/export/download", s.requireAuth(s.handleDownloadExport))

	s.handle("GET /v1/users", s.requireAuth(s.handleListUsers))
	s.handle("GET /v1/users/{user_id}", s.requireAuth(s.handleGetUser))
	s.handle("PATCH /v1/users/{user_id}", s.requireAuth(s.handlePatchUser))
	s.handle("DELETE /v1/users/{user_id}", s.requireAuth(s.handleDeleteUser))

	s.handle("POST /v1/api-keys", s.requireAuth(s.idempotentAuthed(s.handleCreateAPIKey)))
	s.handle("GET /v1/api-keys", s.requireAuth(s.handleListAPIKeys))
	s.handle("GET /v1/api-keys/{key_id}", s.requireAuth(s.handleGetAPIKey))
	s.handle("DELETE /v1/api-keys/{key_id}", s.requireAuth(s.handleRevokeAPIKey))

	s.handle("POST /v1/sites", s.requireAuth(s.idempotentAuthed(s.handleCreateSite)))
	s.handle("GET /v1/sites", s.requireAuth(s.handleListSites))
	s.handle("GET /v1/sites/{site_id}", s.requireAuth(s.handleGetSite))
	s.handle("PATCH /v1/sites/{site_id}", s.requireAuth(s.handlePatchSite))
	s.handle("GET /v1/sites/{site_id}/managers", s.requireAuth(s.handleListManagers))
	s.handle("POST /v1/sites/{site_id}/managers", s.requireAuth(s.idempotentAuthed(s.handleAddManager)))
	s.handle("DELETE /v1/sites/{site_id}/managers/{user_id}", s.requireAuth(s.handleRemoveManager))
	s.handle("GET /v1/sites/{site_id}/closures", s.requireAuth(s.handleListClosures))
	s.handle("POST /v1/sites/{site_id}/closures", s.requireAuth(s.idempotentAuthed(s.handleCreateClosure)))
	s.handle("GET /v1/sites/{site_id}/closures/{closure_id}", s.requireAuth(s.handleGetClosure))
	s.handle("DELETE /v1/sites/{site_id}/closures/{closure_id}", s.requireAuth(s.handleDeleteClosure))

	s.handle("POST /v1/sites/{site_id}/resources", s.requireAuth(s.idempotentAuthed(s.handleCreateResource)))
	s.handle("GET /v1/sites/{site_id}/resources", s.requireAuth(s.handleListResources))
	s.handle("GET /v1/resources/{resource_id}", s.requireAuth(s.handleGetResource))
	s.handle("PATCH /v1/resources/{resource_id}", s.requireAuth(s.handlePatchResource))

	s.handle("POST /v1/sites/{site_id}/qualifications", s.requireAuth(s.idempotentAuthed(s.handleCreateQualification)))
	s.handle("GET /v1/sites/{site_id}/qualifications", s.requireAuth(s.handleListQualifications))
	s.handle("GET /v1/qualifications/{qualification_id}", s.requireAuth(s.handleGetQualification))
	s.handle("POST /v1/qualifications/{qualification_id}/grants", s.requireAuth(s.idempotentAuthed(s.handleGrantQualification)))
	s.handle("GET /v1/qualifications/{qualification_id}/grants", s.requireAuth(s.handleListGrants))
	s.handle("DELETE /v1/qualifications/{qualification_id}/grants/{user_id}", s.requireAuth(s.handleRevokeGrant))
	// --- wallet ---: the member's own trainings, for the app's qualifications page.
	s.handle("GET /v1/me/qualifications", s.requireAuth(s.handleMyQualifications))

	s.handle("POST /v1/reservations", s.requireAuth(s.idempotentInTxAuthed(s.handleCreateReservation)))
	// A quote creates nothing: no Idempotency-Key.
	s.handle("POST /v1/reservations/quote", s.requireAuth(s.handleQuoteReservation))
	s.handle("GET /v1/reservations", s.requireAuth(s.handleListReservations))
	s.handle("GET /v1/reservations/{reservation_id}", s.requireAuth(s.handleGetReservation))
	s.handle("PATCH /v1/reservations/{reservation_id}", s.requireAuth(s.handlePatchReservation))
	s.handle("DELETE /v1/reservations/{reservation_id}", s.requireAuth(s.handleCancelReservation))
	// Not /v1/reservations/{reservation_id}/cancellation: that pattern and
	// GET /v1/reservations/series/{series_id} would both match
	// /v1/reservations/series/cancellation, which net/http refuses.
	s.handle("GET /v1/reservations/cancellation/{reservation_id}", s.requireAuth(s.handleCancellationQuote))
	s.handle("POST /v1/reservations/{reservation_id}/check-in", s.requireAuth(s.handleCheckIn))
	// What moving would do (PATCH /v1/reservations/{reservation_id}); no Idempotency-Key.
	s.handle("POST /v1/reservations/{reservation_id}/quote", s.requireAuth(s.handleQuoteMove))
	s.handle("GET /v1/sites/{site_id}/dashboard", s.requireAuth(s.handleDashboard))

	s.handle("POST /v1/reservations/series", s.requireAuth(s.idempotentAuthed(s.handleCreateSeries)))
	s.handle("POST /v1/reservations/series/quote", s.requireAuth(s.handleQuoteSeries))
	s.handle("GET /v1/reservations/series/{series_id}", s.requireAuth(s.handleGetSeries))
	s.handle("PATCH /v1/reservations/series/{series_id}", s.requireAuth(s.handleMoveSeries))
	s.handle("DELETE /v1/reservations/series/{series_id}", s.requireAuth(s.handleCancelSeries))

	s.handle("POST /v1/waitlist", s.requireAuth(s.idempotentAuthed(s.handleJoinWaitlist)))
	s.handle("GET /v1/waitlist", s.requireAuth(s.handleListWaitlist))
	s.handle("GET /v1/waitlist/{entry_id}", s.requireAuth(s.handleGetWaitlistEntry))
	s.handle("DELETE /v1/waitlist/{entry_id}", s.requireAuth(s.handleLeaveWaitlist))
	s.handle("POST /v1/waitlist/{entry_id}/accept", s.requireAuth(s.idempotentAuthed(s.handleAcceptOffer)))

	s.handle("POST /v1/sites/{site_id}/webhooks", s.requireAuth(s.idempotentAuthed(s.handleCreateSiteWebhook)))
	s.handle("GET /v1/sites/{site_id}/webhooks", s.requireAuth(s.handleListSiteWebhooks))
	s.handle("POST /v1/webhooks", s.requireAuth(s.idempotentAuthed(s.handleCreateWebhook)))
	s.handle("GET /v1/webhooks", s.requireAuth(s.handleListWebhooks))
	s.handle("GET /v1/webhooks/{webhook_id}", s.requireAuth(s.handleGetWebhook))
	s.handle("PATCH /v1/webhooks/{webhook_id}", s.requireAuth(s.handlePatchWebhook))
	s.handle("DELETE /v1/webhooks/{webhook_id}", s.requireAuth(s.handleDeleteWebhook))
	s.handle("POST /v1/webhooks/{webhook_id}/rotate-secret", s.requireAuth(s.handleRotateWebhookSecret))
	s.handle("GET /v1/webhooks/{webhook_id}/deliveries", s.requireAuth(s.handleListWebhookDeliveries))
	s.handle("POST /v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver", s.requireAuth(s.handleRedeliverWebhook))

	s.handle("GET /v1/sites/{site_id}/availability", s.requireAuth(s.handleSiteAvailability))
	s.handle("GET /v1/resources/{resource_id}/availability", s.requireAuth(s.handleResourceAvailability))

	s.handle("POST /v1/sites/{site_id}/devices", s.requireAuth(s.idempotentAuthed(s.handleCreateDevice)))
	s.handle("GET /v1/sites/{site_id}/devices", s.requireAuth(s.handleListDevices))
	s.handle("GET /v1/devices/{device_id}", s.requireAuth(s.handleGetDevice))
	s.handle("PATCH /v1/devices/{device_id}", s.requireAuth(s.handlePatchDevice))
	s.handle("DELETE /v1/devices/{device_id}", s.requireAuth(s.handleRetireDevice))
	s.handle("POST /v1/devices/{device_id}/secret", s.requireAuth(s.handleRotateDeviceSecret))
	s.handle("POST /v1/sites/{site_id}/bridges", s.requireAuth(s.idempotentAuthed(s.handleCreateBridge)))
	s.handle("GET /v1/sites/{site_id}/bridges", s.requireAuth(s.handleListBridges))
	s.handle("GET /v1/bridges/{bridge_id}", s.requireAuth(s.handleGetBridge))
	s.handle("PATCH /v1/bridges/{bridge_id}", s.requireAuth(s.handlePatchBridge))
	s.handle("DELETE /v1/bridges/{bridge_id}", s.requireAuth(s.handleRetireBridge))
	s.handle("POST /v1/bridges/{bridge_id}/secret", s.requireAuth(s.handleRotateBridgeSecret))

	s.handle("GET /v1/me/doors", s.requireAuth(s.handleMyDoors))
	s.handle("POST /v1/doors/{device_id}/unlock", s.requireAuth(s.idempotentAuthed(s.handleUnlock)))
	s.handle("POST /v1/machines/{resource_id}/session", s.requireAuth(s.idempotentAuthed(s.handleStartSession)))
	s.handle("GET /v1/machines/{resource_id}/session", s.requireAuth(s.handleGetSession))
	s.handle("DELETE /v1/machines/{resource_id}/session", s.requireAuth(s.handleStopSession))
	s.handle("GET /v1/sites/{site_id}/machine-sessions", s.requireAuth(s.handleListRunningSessions))
	s.handle("GET /v1/sites/{site_id}/access-events", s.requireAuth(s.handleListAccessEvents))
	s.handle("GET /v1/sites/{site_id}/access-events.csv", s.requireAuth(s.handleExportAccessEvents))
	s.handle("GET /v1/me/access-events", s.requireAuth(s.handleMyAccessEvents))

	s.handle("POST /v1/resources/{resource_id}/closures", s.requireAuth(s.idempotentAuthed(s.handleCreateResourceClosure)))
	s.handle("GET /v1/resources/{resource_id}/closures", s.requireAuth(s.handleListResourceClosures))
	s.handle("DELETE /v1/resources/{resource_id}/closures/{closure_id}", s.requireAuth(s.handleDeleteResourceClosure))

	s.handle("POST /v1/plans", s.requireAuth(s.idempotentAuthed(s.handleCreatePlan)))
	s.handle("GET /v1/plans", s.requireAuth(s.handleListPlans))
	s.handle("GET /v1/plans/{plan_id}", s.requireAuth(s.handleGetPlan))
	s.handle("PATCH /v1/plans/{plan_id}", s.requireAuth(s.handlePatchPlan))
	s.handle("GET /v1/me/memberships", s.requireAuth(s.handleMyMemberships))
	s.handle("GET /v1/me/payments", s.requireAuth(s.handleMyPayments))
	s.handle("POST /v1/memberships/{membership_id}/cancel", s.requireAuth(s.handleCancelMembership))
	s.handle("POST /v1/memberships/{membership_id}/change-plan", s.requireAuth(s.handleChangePlan))
	s.handle("GET /v1/sites/{site_id}/members", s.requireAuth(s.handleSiteMembers))
	s.handle("POST /v1/sites/{site_id}/payments", s.requireAuth(s.idempotentAuthed(s.handleOnSitePayment)))
	s.handle("GET /v1/sites/{site_id}/payments", s.requireAuth(s.handleSitePayments))

	// The front desk: people.
	s.handle("GET /v1/sites/{site_id}/people", s.requireAuth(s.handleListPeople))
	s.handle("POST /v1/sites/{site_id}/people", s.requireAuth(s.idempotentAuthed(s.handleCreatePerson)))
	s.handle("GET /v1/sites/{site_id}/people/{user_id}", s.requireAuth(s.handleGetPerson))
	s.handle("PATCH /v1/sites/{site_id}/people/{user_id}", s.requireAuth(s.handlePatchPerson))
	s.handle("GET /v1/sites/{site_id}/people/{user_id}/notes", s.requireAuth(s.handleListNotes))
	s.handle("POST /v1/sites/{site_id}/people/{user_id}/notes", s.requireAuth(s.idempotentAuthed(s.handleAddNote)))
	s.handle("DELETE /v1/sites/{site_id}/people/{user_id}/notes/{note_id}", s.requireAuth(s.handleDeleteNote))
	// Ateliers and trainings: the agenda is public.
	s.handle("GET /v1/atelier-categories", s.handleListAtelierCategories)
	s.handle("POST /v1/atelier-categories", s.requireAuth(s.idempotentAuthed(s.handleCreateAtelierCategory)))
	s.handle("GET /v1/sites/{site_id}/ateliers", s.handleListAteliers)
	s.handle("GET /v1/sites/{site_id}/ateliers.ics", s.handleAteliersFeed)
	s.handle("POST /v1/sites/{site_id}/ateliers", s.requireAuth(s.idempotentAuthed(s.handleCreateAtelier)))
	s.handle("GET /v1/ateliers/{atelier_id}", s.handleGetAtelier)
	s.handle("POST /v1/ateliers/{atelier_id}/sessions/{session_id}/cancel", s.requireAuth(s.handleCancelAtelierSession))
	s.handle("POST /v1/ateliers/{atelier_id}/registrations", s.requireAuth(s.idempotentAuthed(s.handleRegisterAtelier)))
	s.handle("GET /v1/ateliers/{atelier_id}/registrations", s.requireAuth(s.handleListRegistrations))
	s.handle("GET /v1/me/atelier-registrations", s.requireAuth(s.handleMyRegistrations))
	s.handle("DELETE /v1/atelier-registrations/{registration_id}", s.requireAuth(s.handleCancelRegistration))
	s.handle("PATCH /v1/atelier-registrations/{registration_id}", s.requireAuth(s.handleSetAttendance))
	// The funders' figures.
	s.handle("GET /v1/reports/services", s.requireAuth(s.handleServicesReport))
	// Guests of the services: residents served without an account.
	s.handle("POST /v1/sites/{site_id}/guests", s.requireAuth(s.idempotentAuthed(s.handleCreateGuest)))
	s.handle("GET /v1/guests/{guest_id}", s.requireAuth(s.handleGetGuest))
	s.handle("PATCH /v1/guests/{guest_id}", s.requireAuth(s.handlePatchGuest))
	// Appointments with public services: partners, agents, windows, slots.
	s.handle("POST /v1/partners", s.requireAuth(s.idempotentAuthed(s.handleCreatePartner)))
	s.handle("GET /v1/partners", s.requireAuth(s.handleListPartners))
	s.handle("GET /v1/partners/{partner_id}", s.requireAuth(s.handleGetPartner))
	s.handle("PATCH /v1/partners/{partner_id}", s.requireAuth(s.handlePatchPartner))
	s.handle("POST /v1/partners/{partner_id}/agents", s.requireAuth(s.idempotentAuthed(s.handleAddAgent)))
	s.handle("GET /v1/partners/{partner_id}/agents", s.requireAuth(s.handleListAgents))
	s.handle("DELETE /v1/partners/{partner_id}/agents/{user_id}", s.requireAuth(s.handleRemoveAgent))
	s.handle("POST /v1/partners/{partner_id}/windows", s.requireAuth(s.idempotentAuthed(s.handleCreateWindow)))
	s.handle("GET /v1/partners/{partner_id}/windows", s.requireAuth(s.handleListWindows))
	s.handle("POST /v1/partners/{partner_id}/windows/{window_id}/close", s.requireAuth(s.handleCloseWindow))
	s.handle("GET /v1/partners/{partner_id}/slots", s.requireAuth(s.handleListSlots))
	s.handle("GET /v1/partners/{partner_id}/appointments", s.requireAuth(s.handlePartnerDay))
	s.handle("POST /v1/appointments", s.requireAuth(s.idempotentAuthed(s.handleBookAppointment)))
	s.handle("GET /v1/appointments/{appointment_id}", s.requireAuth(s.handleGetAppointment))
	s.handle("PATCH /v1/appointments/{appointment_id}", s.requireAuth(s.handleAppointmentOutcome))
	s.handle("POST /v1/appointments/{appointment_id}/cancel", s.requireAuth(s.handleCancelAppointment))
	s.handle("POST /v1/appointments/{appointment_id}/reschedule", s.requireAuth(s.handleRescheduleAppointment))
	s.handle("GET /v1/me/appointments", s.requireAuth(s.handleMyAppointments))

	s.handle("GET /v1/me/charges", s.requireAuth(s.handleMyCharges))
	s.handle("POST /v1/me/charges/checkout", s.requireAuth(s.idempotentAuthed(s.handleChargesCheckout)))
	s.handle("GET /v1/sites/{site_id}/charges", s.requireAuth(s.handleSiteCharges))
	s.handle("POST /v1/sites/{site_id}/charges/settle", s.requireAuth(s.idempotentAuthed(s.handleSettleCharges)))
	s.handle("POST /v1/payments/{payment_id}/refund", s.requireAuth(s.handleRefund))
	s.handle("POST /v1/checkout", s.requireAuth(s.idempotentAuthed(s.handleCheckout)))
	s.handle("POST /v1/webhooks/stripe", s.handleStripeWebhook)

	s.handle("GET /v1/me/invoices", s.requireAuth(s.handleMyInvoices))
	s.handle("GET /v1/invoices/{invoice_id}", s.requireAuth(s.handleGetInvoice))
	s.handle("GET /v1/invoices/{invoice_id}/pdf", s.requireAuth(s.handleInvoicePDF))
	s.handle("GET /v1/sites/{site_id}/invoices", s.requireAuth(s.handleSiteInvoices))
	s.handle("GET /v1/sites/{site_id}/invoices.csv", s.requireAuth(s.handleSiteInvoicesCSV))
	s.handle("GET /v1/sites/{site_id}/fec", s.requireAuth(s.handleSiteFEC))
	s.handle("GET /v1/admin/invoices/verify", s.requireAuth(s.handleVerifyInvoices))

	// The cash journal: closings, archives, technical events.
	s.handle("POST /v1/entities/{siren}/closings", s.requireAuth(s.idempotentAuthed(s.handleCreateClosing)))
	s.handle("GET /v1/entities/{siren}/closings", s.requireAuth(s.handleListClosings))
	s.handle("GET /v1/entities/{siren}/closings/{closing_id}", s.requireAuth(s.handleGetClosing))
	s.handle("GET /v1/entities/{siren}/archives/{period}", s.requireAuth(s.handleArchive))
	s.handle("GET /v1/entities/{siren}/journal", s.requireAuth(s.handleJournal))
	s.handle("GET /v1/archives/public-key", s.handleArchivePublicKey)

	// Credits and crowdfunding.
	s.handle("GET /v1/me/credits", s.requireAuth(s.handleMyCredits))
	s.handle("GET /v1/me/credits/movements", s.requireAuth(s.handleMyCreditMovements))
	s.handle("GET /v1/me/credits/statement.csv", s.requireAuth(s.handleMyCreditStatementCSV))
	s.handle("GET /v1/me/credits/statement.pdf", s.requireAuth(s.handleMyCreditStatementPDF))
	s.handle("POST /v1/me/credits/gifts", s.requireAuth(s.idempotentAuthed(s.handleGiftCredits)))
	s.handle("POST /v1/users/{user_id}/credits", s.requireAuth(s.idempotentAuthed(s.handleUserCredits)))
	s.handle("POST /v1/sites/{site_id}/campaigns", s.requireAuth(s.idempotentAuthed(s.handleCreateCampaign)))
	s.handle("GET /v1/sites/{site_id}/campaigns", s.requireAuth(s.handleListCampaigns))
	s.handle("GET /v1/campaigns/{campaign_id}", s.requireAuth(s.handleGetCampaign))
	s.handle("PATCH /v1/campaigns/{campaign_id}", s.requireAuth(s.handlePatchCampaign))
	s.handle("POST /v1/campaigns/{campaign_id}/close", s.requireAuth(s.handleCloseCampaign))
	s.handle("GET /v1/campaigns/{campaign_id}/public", s.handlePublicCampaign)
	s.handle("POST /v1/campaigns/{campaign_id}/checkout", s.requireAuth(s.idempotentAuthed(s.handleContributionCheckout)))
	s.handle("POST /v1/campaigns/{campaign_id}/imports", s.requireAuth(s.idempotentAuthed(s.handleImportContributions)))
	s.handle("GET /v1/campaigns/{campaign_id}/contributions", s.requireAuth(s.handleListContributions))
	s.handle("GET /v1/campaigns/{campaign_id}/contributions.csv", s.requireAuth(s.handleContributionsCSV))
	s.handle("GET /v1/me/contributions", s.requireAuth(s.handleMyContributions))
	s.handle("GET /v1/contributions/{contribution_id}/receipt", s.requireAuth(s.handleContributionReceipt))
	s.handle("GET /v1/contributions/{contribution_id}/receipt.pdf", s.requireAuth(s.handleContributionReceiptPDF))

	s.handle("GET /v1/calendar/{file}", s.handleUserFeed)
	s.handle("POST /v1/me/calendar-token", s.requireAuth(s.idempotentAuthed(s.handleRotateFeedToken)))
	s.handle("DELETE /v1/me/calendar-token", s.requireAuth(s.handleRevokeFeedToken))
	s.handle("GET /v1/sites/{site_id}/calendar.ics", s.requireAuth(s.handleSiteFeed))
	s.handle("GET /v1/resources/{resource_id}/calendar.ics", s.requireAuth(s.handleResourceFeed))
	// --- console-c ---
	s.handle("POST /v1/campaigns/{campaign_id}/imports/preview", s.requireAuth(s.handlePreviewImport))
	s.handle("POST /v1/sites/{site_id}/calendar-token", s.requireAuth(s.idempotentAuthed(s.handleRotateSiteFeedToken)))
	s.handle("POST /v1/resources/{resource_id}/calendar-token", s.requireAuth(s.idempotentAuthed(s.handleRotateResourceFeedToken)))
	// --- services-app ---
	s.handle("GET /v1/me/partners", s.requireAuth(s.handleMyAgencies))

	// --- services-mail ---
	s.handle("POST /v1/guests/{guest_id}/merge", s.requireAuth(s.idempotentAuthed(s.handleMergeGuest)))
}

// idempotentAuthed is idempotent for handlers that need a principal.
func (s *Server) idempotentAuthed(h authedHandler) authedHandler {
	return func(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
		s.idempotent(func(w http.ResponseWriter, r *http.Request) { h(w, r, p) })(w, r)
	}
}

// idempotentInTxAuthed is idempotentAuthed for handlers that take the key
// in their own transaction (claimFrom).
func (s *Server) idempotentInTxAuthed(h authedHandler) authedHandler {
	return func(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
		s.idempotentInTx(func(w http.ResponseWriter, r *http.Request) { h(w, r, p) })(w, r)
	}
}

// handle registers a route and remembers its pattern for Routes. Every
// route checks its path values and query parameters against the text rule
// (checkURL) before its handler runs.
func (s *Server) handle(pattern string, h http.HandlerFunc) {
	wildcards := wildcardsOf(pattern)
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if err := checkURL(r, wildcards); err != nil {
			s.writeError(w, r, err)
			return
		}
		h(w, r)
	})
	s.patterns = append(s.patterns, pattern)
}

// Routes lists the registered patterns ("METHOD /path/{param}").
func (s *Server) Routes() []string { return append([]string(nil), s.patterns...) }
