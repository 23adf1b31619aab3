package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/devices"
	"github.com/relais-tierslieux/relais/devices/devicesim"
	"github.com/relais-tierslieux/relais/internal/db"
)

const simulateUsage = `usage: relais devices simulate --mqtt-url URL (--devices FILE | --protocol P --address A --username U --password S [--site-id ID] [--channel N] [--names N1,N2]) [--mode normal|slow|silent|offline] [--delay D] [--answer-twice] [--wrong-id] [--jammed]`

const devicesUsage = `usage:
  relais devices check [--database-url URL]       list devices and bridges whose topics break the rules
  relais devices acl [--database-url URL] [--mqtt-username relais]
                                                  write a Mosquitto acl_file for every device and bridge
  relais devices simulate …                       run virtual locks and relays (relais devices simulate -h)`

// simDevice is one entry of the --devices JSON file: the credentials shown
// when the device was registered, and how it should behave.
type simDevice struct {
	Protocol devices.Protocol `json:"protocol"`
	SiteID   string           `json:"site_id"`
	Address  string           `json:"address"`
	Channel  int              `json:"channel"`
	// Names: a Zigbee2MQTT bridge's friendly names (Address is its base topic).
	Names       []string       `json:"names"`
	Username    string         `json:"username"`
	Password    string         `json:"password"`
	Mode        devicesim.Mode `json:"mode"`
	Delay       string         `json:"delay"`
	AnswerTwice bool           `json:"answer_twice"`
	WrongID     bool           `json:"wrong_id"`
	Jammed      bool           `json:"jammed"`
}

// devicesCmd runs `relais devices check|acl|simulate`.
func devicesCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("%s", devicesUsage)
	}
	switch args[0] {
	case "check":
		return devicesCheck(ctx, args[1:], getenv, stdout, stderr)
	case "acl":
		return devicesACL(ctx, args[1:], getenv, stdout, stderr)
	case "simulate":
		return simulate(ctx, args[1:], getenv, stdout, stderr)
	}
	return usagef("%s", devicesUsage)
}

// simulate runs virtual locks and relays that speak their protocol to a
// broker until interrupted.
func simulate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	list, o, err := parseSimulate(args, getenv, stderr)
	if err != nil {
		return err
	}
	var mu sync.Mutex
	var sims []*devicesim.Sim
	defer func() {
		for _, s := range sims {
			s.Close()
		}
	}()
	for i, d := range list {
		cfg, err := o.config(i, d)
		if err != nil {
			return err
		}
		name := fmt.Sprintf("%s %s", d.Protocol, d.Address)
		cfg.OnReceive = func(r devicesim.Received) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(stdout, "%s  %-28s %-8s %s %s\n", r.At.Format("15:04:05.000"), name, r.Outcome, r.Topic, r.Payload)
		}
		startCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		s, err := devicesim.Start(startCtx, cfg)
		cancel()
		if err != nil {
			return err
		}
		sims = append(sims, s)
		fmt.Fprintf(stdout, "simulating %s (%s) on %s\n", name, cfg.Mode, o.url)
	}
	<-ctx.Done()
	for i, s := range sims {
		fmt.Fprintf(stdout, "%s %s: %d action(s)\n", list[i].Protocol, list[i].Address, len(s.Actions()))
	}
	return nil
}

// simDefaults are the flags of `relais devices simulate` that apply to
// every device: the broker, and the behaviour of those that set none.
type simDefaults struct {
	url                  string
	mode                 devicesim.Mode
	delay                time.Duration
	twice, wrong, jammed bool
}

// parseSimulate reads simulate's flags: the devices to play (from the
// --devices file, or the one the flags describe) and the defaults.
func parseSimulate(args []string, getenv func(string) string, stderr io.Writer) ([]simDevice, simDefaults, error) {
	fs := flag.NewFlagSet("relais devices simulate", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	url := fs.String("mqtt-url", "tcp://127.0.0.1:1883", "broker the devices connect to (tcp://host:port)")
	file := fs.String("devices", "", "JSON file: a list of {protocol, site_id, address, channel, username, password, mode, delay, answer_twice, wrong_id}")
	var one simDevice
	fs.StringVar((*string)(&one.Protocol), "protocol", "", "one device: relais, tasmota, shelly or zigbee2mqtt")
	fs.StringVar(&one.SiteID, "site-id", "", "one device: its site (relais protocol topics)")
	fs.StringVar(&one.Address, "address", "", "one device: its address (slug, Tasmota topic, Shelly prefix, Zigbee2MQTT bridge's base topic)")
	names := fs.String("names", "", "one Zigbee2MQTT bridge: the friendly names it carries, separated by commas")
	fs.IntVar(&one.Channel, "channel", 0, "one device: Tasmota POWER<n> / Shelly switch id")
	fs.StringVar(&one.Username, "username", "", "one device: MQTT username")
	fs.StringVar(&one.Password, "password", "", "one device: MQTT password (its secret)")
	mode := fs.String("mode", "normal", "normal, slow, silent or offline (applies to every device without its own)")
	delay := fs.Duration("delay", 2*time.Second, "how long a slow device waits before acting")
	twice := fs.Bool("answer-twice", false, "answer every command twice")
	wrong := fs.Bool("wrong-id", false, "answer with a wrong id (or the opposite state)")
	jammed := fs.Bool("jammed", false, "Zigbee2MQTT locks: report a jammed bolt (lock_state not_fully_locked)")
	if err := parseFlags(fs, args, getenv, stderr); err != nil {
		return nil, simDefaults{}, err
	}
	o := simDefaults{url: *url, mode: devicesim.Mode(*mode), delay: *delay, twice: *twice, wrong: *wrong, jammed: *jammed}
	var list []simDevice
	switch {
	case *file != "":
		b, err := os.ReadFile(*file)
		if err != nil {
			return nil, o, usagef("--devices: %v", err)
		}
		if err := json.Unmarshal(b, &list); err != nil {
			return nil, o, usagef("--devices %s: %v", *file, err)
		}
	case one.Protocol != "":
		if *names != "" {
			one.Names = strings.Split(*names, ",")
		}
		list = []simDevice{one}
	default:
		return nil, o, usagef("%s", simulateUsage)
	}
	return list, o, nil
}

// config is the simulator of device i of the list, d, with the defaults
// where d sets nothing; OnReceive is left to the caller.
func (o simDefaults) config(i int, d simDevice) (devicesim.Config, error) {
	m := d.Mode
	if m == "" {
		m = o.mode
	}
	valid := false
	for _, x := range devicesim.Modes {
		valid = valid || x == m
	}
	if !valid {
		return devicesim.Config{}, usagef("device %d: mode %q is not normal, slow, silent or offline", i, m)
	}
	dl := o.delay
	if d.Delay != "" {
		var err error
		if dl, err = time.ParseDuration(d.Delay); err != nil {
			return devicesim.Config{}, usagef("device %d: delay %q: %v", i, d.Delay, err)
		}
	}
	return devicesim.Config{
		BrokerURL: o.url, Username: d.Username, Password: d.Password,
		Protocol: d.Protocol, SiteID: d.SiteID, Address: d.Address, Channel: d.Channel, Names: d.Names,
		Mode: m, Delay: dl, Faults: devicesim.Faults{AnswerTwice: d.AnswerTwice || o.twice, WrongID: d.WrongID || o.wrong,
			Jammed: d.Jammed || o.jammed},
	}, nil
}

// errRegistryBroken makes `relais devices check` exit non-zero when a row
// breaks the topic rules, so that an upgrade script notices.
type errRegistryBroken struct{ n int }

func (e *errRegistryBroken) Error() string {
	return fmt.Sprintf("%d device(s) or bridge(s) break the topic rules: they cannot log in until moved or retired", e.n)
}

// devicesCheck lists the devices and bridges whose topics break the rules.
func devicesCheck(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	svc, closeDB, err := openDevices(ctx, "devices check", args, getenv, stderr, nil)
	if err != nil {
		return err
	}
	defer closeDB()
	found, err := svc.Check(ctx)
	if err != nil {
		return err
	}
	for _, c := range found {
		kind := "device"
		if c.Bridge {
			kind = "bridge"
		}
		fmt.Fprintf(stdout, "%s %s %q (site %s): %s", kind, c.ID, c.Name, c.SiteID, c.Problem)
		if c.With != "" {
			fmt.Fprintf(stdout, " with %s", c.With)
		}
		fmt.Fprintln(stdout)
	}
	if len(found) > 0 {
		return &errRegistryBroken{n: len(found)}
	}
	fmt.Fprintln(stdout, "every device and bridge in service has topics of its own")
	return nil
}

// devicesACL writes the Mosquitto acl_file of the registry to stdout.
func devicesACL(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var user string
	svc, closeDB, err := openDevices(ctx, "devices acl", args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&user, "mqtt-username", "relais", "relais's own MQTT username on the broker")
	})
	if err != nil {
		return err
	}
	defer closeDB()
	return svc.WriteMosquittoACL(ctx, stdout, user)
}

// openDevices opens the database for a devices subcommand.
func openDevices(ctx context.Context, name string, args []string, getenv func(string) string, stderr io.Writer,
	more func(*flag.FlagSet)) (*devices.Service, func(), error) {
	var c config
	fs, proxies := newFlagSet(name, &c)
	if more != nil {
		more(fs)
	}
	if err := parseFlags(fs, args, getenv, stderr); err != nil {
		return nil, nil, err
	}
	if err := c.check(*proxies); err != nil {
		return nil, nil, err
	}
	d, err := db.Open(ctx, c.DatabaseURL)
	if err != nil {
		return nil, nil, err
	}
	return devices.New(d, devices.Config{Places: calendar.DevicePlaces{}}), func() { d.Close() }, nil
}
