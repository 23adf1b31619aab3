package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/relais-tierslieux/relais/devices"
	"github.com/relais-tierslieux/relais/devices/devicesim"
)

const simulateUsage = `usage: relais devices simulate --mqtt-url URL (--devices FILE | --protocol P --address A --username U --password S [--site-id ID] [--channel N]) [--mode normal|slow|silent|offline] [--delay D] [--answer-twice] [--wrong-id]`

// simDevice is one entry of the --devices JSON file: the credentials shown
// when the device was registered, and how it should behave.
type simDevice struct {
	Protocol    devices.Protocol `json:"protocol"`
	SiteID      string           `json:"site_id"`
	Address     string           `json:"address"`
	Channel     int              `json:"channel"`
	Username    string           `json:"username"`
	Password    string           `json:"password"`
	Mode        devicesim.Mode   `json:"mode"`
	Delay       string           `json:"delay"`
	AnswerTwice bool             `json:"answer_twice"`
	WrongID     bool             `json:"wrong_id"`
}

// devicesCmd runs `relais devices simulate`: virtual locks and relays that
// speak their protocol to a broker until interrupted.
func devicesCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "simulate" {
		return usagef("%s", simulateUsage)
	}
	fs := flag.NewFlagSet("relais devices simulate", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	url := fs.String("mqtt-url", "tcp://127.0.0.1:1883", "broker the devices connect to (tcp://host:port)")
	file := fs.String("devices", "", "JSON file: a list of {protocol, site_id, address, channel, username, password, mode, delay, answer_twice, wrong_id}")
	var one simDevice
	fs.StringVar((*string)(&one.Protocol), "protocol", "", "one device: relais, tasmota, shelly or zigbee2mqtt")
	fs.StringVar(&one.SiteID, "site-id", "", "one device: its site (relais protocol topics)")
	fs.StringVar(&one.Address, "address", "", "one device: its address (slug, Tasmota topic, Shelly id, Zigbee friendly name)")
	fs.IntVar(&one.Channel, "channel", 0, "one device: Tasmota POWER<n> / Shelly switch id")
	fs.StringVar(&one.Username, "username", "", "one device: MQTT username")
	fs.StringVar(&one.Password, "password", "", "one device: MQTT password (its secret)")
	mode := fs.String("mode", "normal", "normal, slow, silent or offline (applies to every device without its own)")
	delay := fs.Duration("delay", 2*time.Second, "how long a slow device waits before acting")
	twice := fs.Bool("answer-twice", false, "answer every command twice")
	wrong := fs.Bool("wrong-id", false, "answer with a wrong id (or the opposite state)")
	if err := parseFlags(fs, args[1:], getenv, stderr); err != nil {
		return err
	}
	var list []simDevice
	switch {
	case *file != "":
		b, err := os.ReadFile(*file)
		if err != nil {
			return usagef("--devices: %v", err)
		}
		if err := json.Unmarshal(b, &list); err != nil {
			return usagef("--devices %s: %v", *file, err)
		}
	case one.Protocol != "":
		list = []simDevice{one}
	default:
		return usagef("%s", simulateUsage)
	}

	var mu sync.Mutex
	var sims []*devicesim.Sim
	defer func() {
		for _, s := range sims {
			s.Close()
		}
	}()
	for i, d := range list {
		m := d.Mode
		if m == "" {
			m = devicesim.Mode(*mode)
		}
		valid := false
		for _, x := range devicesim.Modes {
			valid = valid || x == m
		}
		if !valid {
			return usagef("device %d: mode %q is not normal, slow, silent or offline", i, m)
		}
		dl := *delay
		if d.Delay != "" {
			var err error
			if dl, err = time.ParseDuration(d.Delay); err != nil {
				return usagef("device %d: delay %q: %v", i, d.Delay, err)
			}
		}
		name := fmt.Sprintf("%s %s", d.Protocol, d.Address)
		cfg := devicesim.Config{
			BrokerURL: *url, Username: d.Username, Password: d.Password,
			Protocol: d.Protocol, SiteID: d.SiteID, Address: d.Address, Channel: d.Channel,
			Mode: m, Delay: dl, Faults: devicesim.Faults{AnswerTwice: d.AnswerTwice || *twice, WrongID: d.WrongID || *wrong},
			OnReceive: func(r devicesim.Received) {
				mu.Lock()
				defer mu.Unlock()
				fmt.Fprintf(stdout, "%s  %-28s %-8s %s %s\n", r.At.Format("15:04:05.000"), name, r.Outcome, r.Topic, r.Payload)
			},
		}
		startCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		s, err := devicesim.Start(startCtx, cfg)
		cancel()
		if err != nil {
			return err
		}
		sims = append(sims, s)
		fmt.Fprintf(stdout, "simulating %s (%s) on %s\n", name, m, *url)
	}
	<-ctx.Done()
	for i, s := range sims {
		fmt.Fprintf(stdout, "%s %s: %d action(s)\n", list[i].Protocol, list[i].Address, len(s.Actions()))
	}
	return nil
}
