package main

import (
	"fmt"
	"io"
)

// result is one run's figures. Times are seconds; a nil time means the
// state was never reached within its limit (the counts at the marks say
// how far it got); -1 means not measured or not exposed.
type result struct {
	N         int    `json:"n"`
	Database  string `json:"database"`
	Broker    string `json:"broker"`
	Load      string `json:"load_average_at_start"`
	Keepalive string `json:"keepalive"`
	Started   string `json:"started"`

	ProvisionSeconds     *float64 `json:"provision_seconds"`
	RegistrationsRetried int64    `json:"registrations_retried"`

	RSSStartMiB          float64 `json:"rss_start_mib"`
	RSSRegisteredMiB     float64 `json:"rss_registered_mib"`
	RSSConnectedMiB      float64 `json:"rss_connected_mib"`
	RSSConnected30sMiB   float64 `json:"rss_connected_30s_mib"`
	RSSAfterStormMiB     float64 `json:"rss_after_storm_mib"`
	RSSPerDeviceKiB      float64 `json:"rss_per_device_kib"`
	GoroutinesRegistered int     `json:"goroutines_registered"`
	GoroutinesConnected  int     `json:"goroutines_connected"`
	GoroutinesAfterStorm int     `json:"goroutines_after_storm"`
	GoroutinesPerDevice  float64 `json:"goroutines_per_device"`
	CPUIdleRegisteredPct float64 `json:"cpu_idle_registered_pct"`
	CPUIdleConnectedPct  float64 `json:"cpu_idle_connected_pct"`

	AllOnlineSeconds   *float64 `json:"all_online_seconds"`
	OnlineAfterConnect int      `json:"online_after_connect"`
	ConnectAttempts    int64    `json:"connect_attempts"`
	ConnectFailures    int64    `json:"connect_failures"`

	Unlock1  *latencies `json:"unlock_1_client"`
	Unlock16 *latencies `json:"unlock_16_clients"`

	StormAllOfflineSeconds *float64   `json:"storm_all_offline_seconds"`
	StormOnlineAt20s       int        `json:"storm_online_at_20s"`
	StormOnlineAt60s       int        `json:"storm_online_at_60s"`
	StormAllOnlineSeconds  *float64   `json:"storm_all_online_seconds"`
	StormMissingAt60s      int        `json:"storm_missing_at_60s"`
	StormMissingAt120s     int        `json:"storm_missing_at_120s"`
	StormReconnectAttempts int64      `json:"storm_reconnect_attempts"`
	StormReconnectFailures int64      `json:"storm_reconnect_failures"`
	LastConnectError       string     `json:"last_connect_error,omitempty"`
	Healthz                *latencies `json:"healthz_during_storm"`

	KilledOnline            []int `json:"killed_online_at_5s_20s"`
	PresenceDropped         int64 `json:"presence_dropped"`
	PresenceQueueFullLogged int   `json:"presence_queue_full_logged"`
}

func orNever(v *float64, what string) string {
	if v == nil {
		return "never within " + what
	}
	return fmt.Sprintf("%.1f s", *v)
}

// mark prints a count at a mark, or "-" when the run did not get there
// (the state was reached before).
func mark(v int) string {
	if v < 0 {
		return "-"
	}
	return fmt.Sprint(v)
}

func (r *result) print(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("## N = %d, %s, broker %s (load average at start %s; keepalive %s; started %s)", r.N, r.Database, r.Broker, r.Load, r.Keepalive, r.Started)
	if r.ProvisionSeconds != nil {
		p("provisioning:              %.1f s (%d registrations retried after a server error)", *r.ProvisionSeconds, r.RegistrationsRetried)
	}
	p("server RSS:                start %.1f MiB, %d devices registered %.1f MiB, all connected %.1f MiB, 30 s later %.1f MiB, after the storm %.1f MiB",
		r.RSSStartMiB, r.N, r.RSSRegisteredMiB, r.RSSConnectedMiB, r.RSSConnected30sMiB, r.RSSAfterStormMiB)
	p("RSS per connected device:  %.1f KiB ((30 s later − registered) / N)", r.RSSPerDeviceKiB)
	p("server goroutines:         registered %d, connected %d, after the storm %d; per device %.2f",
		r.GoroutinesRegistered, r.GoroutinesConnected, r.GoroutinesAfterStorm, r.GoroutinesPerDevice)
	p("server CPU, 10 s idle:     %.1f %% of a core registered, %.1f %% with all connected", r.CPUIdleRegisteredPct, r.CPUIdleConnectedPct)
	p("first CONNECT → all online: %s (%d online at the end; %d attempts, %d failed)",
		orNever(r.AllOnlineSeconds, "180 s"), r.OnlineAfterConnect, r.ConnectAttempts, r.ConnectFailures)
	p("unlock, 1 client:          %s", r.Unlock1)
	p("unlock, 16 clients:        %s", r.Unlock16)
	p("storm, reset → all offline: %s (online at 20 s: %s, at 60 s: %s)",
		orNever(r.StormAllOfflineSeconds, "60 s"), mark(r.StormOnlineAt20s), mark(r.StormOnlineAt60s))
	p("storm, reconnect → all online: %s (missing at 60 s: %s, at 120 s: %s; %d attempts, %d failed)",
		orNever(r.StormAllOnlineSeconds, "120 s"), mark(r.StormMissingAt60s), mark(r.StormMissingAt120s), r.StormReconnectAttempts, r.StormReconnectFailures)
	if r.LastConnectError != "" {
		p("last failed connection:    %s", r.LastConnectError)
	}
	p("/healthz during the storm: %s", r.Healthz)
	if len(r.KilledOnline) == 2 {
		p("killed for good, shown online: %d after 5 s, %d after 20 s", r.KilledOnline[0], r.KilledOnline[1])
	}
	p("presence writes dropped:   %s (metric), %d \"presence queue full\" in the log", mark(int(r.PresenceDropped)), r.PresenceQueueFullLogged)
}
