package api_test

// --- services-places --- the slot offer of a partner.

import (
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"
)

// BenchmarkSlotOffer asks GET /v1/partners/{id}/slots for a month (2 to
// 31 March) of a partner that receives at 10 sites, every weekday
// 09:00–17:00 in 30-minute slots (3,520 slots), one in seven of them
// booked: the windows, the appointments and each site's calendar are read
// and swept on every request. It reports p50 and p99 of one client.
func BenchmarkSlotOffer(b *testing.B) {
	f := newCalendarFixture(b)
	h := f.h
	hours := map[string]any{}
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		hours[d] = [][]string{{"08:00", "20:00"}}
	}
	sites := []string{f.site}
	for i := 1; i < 10; i++ {
		body := siteBody(fmt.Sprintf("Tiers lieu %d", i))
		body["opening_hours"] = hours
		var s struct{ ID string }
		h.do(req{method: "POST", path: "/v1/sites", token: f.admin, body: body}).expect(b, http.StatusCreated).decode(b, &s)
		sites = append(sites, s.ID)
	}
	var caf partnerOut
	h.do(req{method: "POST", path: "/v1/partners", token: f.admin, body: map[string]any{"name": "CAF", "kind": "caf", "video_mode": "none",
		"purposes": []map[string]any{{"name": "Prime d’activité", "documents": []string{}}}}}).expect(b, http.StatusCreated).decode(b, &caf)
	for _, site := range sites {
		var booth struct{ ID string }
		h.do(req{method: "POST", path: "/v1/sites/" + site + "/resources", token: f.admin, body: map[string]any{"kind": "room", "name": "Visio-guichet", "capacity": 2}}).
			expect(b, http.StatusCreated).decode(b, &booth)
		for _, day := range []string{"mon", "tue", "wed", "thu", "fri"} {
			h.do(req{method: "POST", path: "/v1/partners/" + caf.ID + "/windows", token: f.admin, body: map[string]any{"site_id": site, "resource_id": booth.ID,
				"weekday": day, "from": "2026-03-01", "until": "2026-03-31", "start": "09:00", "end": "17:00", "slot_minutes": 30}}).expect(b, http.StatusCreated)
		}
	}
	path := "/v1/partners/" + caf.ID + "/slots?from=2026-03-02&to=2026-03-31"
	var offer struct{ Items []slotOut }
	h.do(req{method: "GET", path: path, token: f.manager}).expect(b, http.StatusOK).decode(b, &offer)
	_, resident, _ := h.member("resident@example.fr")
	for i := 0; i < len(offer.Items); i += 7 {
		s := offer.Items[i]
		h.do(req{method: "POST", path: "/v1/appointments", token: resident, body: map[string]any{"window_id": s.WindowID,
			"purpose_id": caf.Purposes[0].ID, "start": s.Start.Format(time.RFC3339)}}).expect(b, http.StatusCreated)
	}
	total := len(offer.Items)
	h.do(req{method: "GET", path: path, token: f.manager}).expect(b, http.StatusOK).decode(b, &offer)
	if booked := total - len(offer.Items); total < 3000 || booked != (total+6)/7 {
		b.Fatalf("%d slots, %d booked", total, booked)
	}
	url := h.srv.URL + path
	runParallel(b, 1, func(c *http.Client) error {
		rq, _ := http.NewRequest("GET", url, nil)
		rq.Header.Set("Authorization", "Bearer "+f.manager)
		resp, err := c.Do(rq)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("slots: %d", resp.StatusCode)
		}
		return nil
	})
	b.ReportMetric(float64(len(offer.Items)), "slots")
}
