package api_test

import (
	"time"

	"github.com/relais-tierslieux/relais/access"
	"github.com/relais-tierslieux/relais/billing"
	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/dashboard"
	"github.com/relais-tierslieux/relais/devices"
	"github.com/relais-tierslieux/relais/invoicing"
)

// testDashboard builds the dashboard over the harness's services, as
// serve does.
func testDashboard(cal *calendar.Service, bill *billing.Service, inv *invoicing.Invoicer, gate *access.Gate, dev *devices.Service, now func() time.Time) *dashboard.Service {
	return dashboard.New(dashboard.Config{Now: now, Calendar: cal, Billing: bill, Invoices: inv, Access: gate.Events, Devices: dev})
}
