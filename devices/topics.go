package devices

import (
	"strings"
	"unicode/utf8"

	"github.com/relais-tierslieux/relais/internal/errs"
)

// The topic space. Every MQTT client relais knows (a device with its own
// credentials, or a bridge carrying several devices) owns a few topic
// prefixes, its namespaces, derived from its protocol and root:
//
//	relais       relais/<site>/<address>          (root: relais/<site>/<address>)
//	tasmota      cmnd/<topic>, stat/<topic>, tele/<topic>  (root: its %topic%)
//	shelly       <prefix>, relais-rpc/<client id>  (root: its topic_prefix)
//	zigbee2mqtt  <base_topic>                      (a bridge; root: its base topic)
//
// The rule that keeps devices apart: no namespace of one client is equal to,
// inside, or around a namespace of another (compared level by level), and
// the roots that a protocol chooses freely (a Shelly prefix, a Zigbee2MQTT
// base topic) never start with a word another protocol or relais itself
// uses. Together they make every client's topics disjoint from every other
// client's, whatever the protocol, the site or the channel: two Tasmota
// relays of two sites cannot share a %topic%, a Shelly cannot be called
// "cmnd", a bridge cannot sit under "relais". Registration enforces it under
// a lock (lockTopics), and `relais devices check` reports older rows that
// break it.

// ShellyReplyPrefix starts the `src` relais gives in Shelly RPC requests: a
// Shelly answers on <src>/rpc, so its replies land on
// relais-rpc/<client id>/rpc, a topic only that client may write.
const ShellyReplyPrefix = "relais-rpc"

// ZigbeeDefaultBase is Zigbee2MQTT's default base_topic.
const ZigbeeDefaultBase = "zigbee2mqtt"

// reservedRoots are first topic levels that belong to a protocol's fixed
// layout or to relais: a freely chosen root (Shelly prefix, Zigbee2MQTT base
// topic) may not start with one. "zigbee2mqtt" is kept for Zigbee2MQTT
// bridges, which may use it as their base topic.
var reservedRoots = map[string]bool{
	"relais": true, ShellyReplyPrefix: true, "cmnd": true, "stat": true, "tele": true, ZigbeeDefaultBase: true,
	// Tasmota's other prefixes are settings too (SetOption / Prefix1-3);
	// Shelly Gen1's and Home Assistant's discovery roots are common on
	// shared brokers.
	"shellies": true, "homeassistant": true,
}

// zigbeeReservedLeaves are last levels Zigbee2MQTT gives a meaning to after
// a friendly name: a device called "x/set" would be the command topic of "x".
var zigbeeReservedLeaves = map[string]bool{"set": true, "get": true, "availability": true}

// maxTopicBytes bounds a root: topics are built from it, and firmware keeps
// them in small buffers (Tasmota's %topic% is at most 32 characters; we
// allow more for Zigbee2MQTT names).
const (
	maxLevelBytes = 64
	maxRootBytes  = 160
)

// checkLevel reports why s cannot be one topic level (empty when it can).
func checkLevel(s string) errs.Message {
	switch {
	case s == "":
		return errs.Msg("has an empty level (two '/' in a row, or one at an end)")
	case len(s) > maxLevelBytes:
		return errs.Msg("has a level longer than %d bytes", maxLevelBytes)
	case !utf8.ValidString(s):
		return errs.Msg("is not valid UTF-8")
	case strings.HasPrefix(s, "$"):
		return errs.Msg("has a level starting with '$' (reserved for broker topics)")
	}
	for _, r := range s {
		switch {
		case r == '+' || r == '#':
			return errs.Msg("contains an MQTT wildcard ('+' or '#')")
		case r < ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0):
			return errs.Msg("contains a control character")
		case r == '%':
			// Tasmota's FullTopic placeholders and Mosquitto's ACL patterns
			// both use '%': a literal one in a topic is asking for trouble.
			return errs.Msg("contains '%%'")
		}
	}
	return errs.Message{}
}

// checkRoot validates a root of one or more levels: multi says whether '/'
// may separate levels; free says the first level is chosen freely (and so
// must not be a reserved word).
func checkRoot(s string, multi, free bool) errs.Message {
	if s == "" {
		return errs.Msg("is required")
	}
	if len(s) > maxRootBytes {
		return errs.Msg("must be at most %d bytes", maxRootBytes)
	}
	if strings.TrimSpace(s) != s {
		return errs.Msg("must not start or end with a space")
	}
	levels := strings.Split(s, "/")
	if !multi && len(levels) > 1 {
		return errs.Msg("must be a single topic level, without '/'")
	}
	for _, l := range levels {
		if why := checkLevel(l); !why.Empty() {
			return why
		}
	}
	if free && reservedRoots[levels[0]] {
		return errs.Msg("must not start with %q, a topic root of another protocol or of relais", levels[0])
	}
	return errs.Message{}
}

// checkZigbeeName validates a friendly name as Zigbee2MQTT does (no
// wildcards, no control characters, no '/' at an end, no "/<digits>" at
// the end) and refuses names whose topics would read as another's.
func checkZigbeeName(s string) errs.Message {
	if why := checkRoot(s, true, false); !why.Empty() {
		return why
	}
	levels := strings.Split(s, "/")
	last := levels[len(levels)-1]
	switch {
	case levels[0] == "bridge":
		return errs.Msg("must not start with \"bridge\", Zigbee2MQTT's own topics")
	case zigbeeReservedLeaves[last]:
		return errs.Msg("must not end with %q, which Zigbee2MQTT reads as a command or status", "/"+last)
	case len(levels) > 1 && strings.Trim(last, "0123456789") == "":
		return errs.Msg("must not end with \"/\" and digits (Zigbee2MQTT reads that as an endpoint)")
	}
	return errs.Message{}
}

// client is one MQTT client's place in the topic space: a device with its
// own credentials or a bridge.
type client struct {
	ID       string // device or bridge id
	Bridge   bool
	SiteID   string
	Name     string
	Protocol Protocol
	Root     string
}

// namespaces are the topic prefixes c owns.
func (c client) namespaces() []string {
	switch c.Protocol {
	case ProtocolTasmota:
		return []string{"cmnd/" + c.Root, "stat/" + c.Root, "tele/" + c.Root}
	case ProtocolShelly:
		return []string{c.Root, ShellyReplyPrefix + "/" + c.ID}
	}
	return []string{c.Root}
}

// nested reports whether one of a and b is b or a, or lies under the other,
// comparing whole levels ("ab" is not under "a"; "a/b" is).
func nested(a, b string) bool {
	if len(a) > len(b) {
		a, b = b, a
	}
	return a == b || strings.HasPrefix(b, a+"/")
}

// clash returns a namespace of a that collides with one of b, or "".
func clash(a, b client) string {
	for _, x := range a.namespaces() {
		for _, y := range b.namespaces() {
			if nested(x, y) {
				return y
			}
		}
	}
	return ""
}

// rootFor computes the root of a device's own client from its protocol,
// site and address.
func rootFor(p Protocol, siteID, address string) string {
	if p == ProtocolRelais {
		return "relais/" + siteID + "/" + address
	}
	return address
}

// Topics are a device's topics.
type Topics struct {
	// Command is where relais publishes its commands (Tasmota: POWER<n>;
	// PulseTime<n> goes to its sibling).
	Command string `json:"command"`
	// Reply is where the device confirms (a filter for Tasmota's stat/<topic>/+).
	Reply string `json:"reply"`
	// Presence is the retained online/offline topic, the client's Last Will.
	Presence string `json:"presence"`
	// Availability, Zigbee2MQTT only: the device's own availability topic
	// (off by default in Zigbee2MQTT; the bridge's state is what tells).
	Availability string `json:"availability,omitempty"`
}

// TopicsOf returns d's topics. A device behind a bridge shares the
// bridge's presence topic.
func TopicsOf(d *Device) Topics {
	r := d.TopicRoot
	switch d.Protocol {
	case ProtocolRelais:
		return Topics{Command: r + "/cmd", Reply: r + "/ack", Presence: r + "/status"}
	case ProtocolTasmota:
		return Topics{Command: "cmnd/" + r + "/" + tasmotaPower(d.Channel), Reply: "stat/" + r + "/+", Presence: "tele/" + r + "/LWT"}
	case ProtocolShelly:
		return Topics{Command: r + "/rpc", Reply: ShellyReplyPrefix + "/" + d.clientID() + "/rpc", Presence: r + "/online"}
	case ProtocolZigbee:
		return Topics{Command: r + "/set", Reply: r, Presence: zigbeeBase(d) + "/bridge/state", Availability: r + "/availability"}
	}
	return Topics{}
}

// zigbeeBase is the base topic of the bridge a Zigbee2MQTT device is behind.
func zigbeeBase(d *Device) string {
	return strings.TrimSuffix(d.TopicRoot, "/"+d.Address)
}

// clientID is the id of the MQTT client that carries d: its bridge, or
// itself.
func (d *Device) clientID() string {
	if d.BridgeID != nil {
		return *d.BridgeID
	}
	return d.ID
}

// presencePayloads are the online and offline payloads of a protocol's
// presence topic (Zigbee2MQTT also sends the legacy bare words; see
// parsePresence).
func presencePayloads(p Protocol) (online, offline []byte) {
	switch p {
	case ProtocolRelais:
		return []byte("online"), []byte("offline")
	case ProtocolTasmota:
		return []byte("Online"), []byte("Offline")
	case ProtocolShelly:
		return []byte("true"), []byte("false")
	case ProtocolZigbee:
		return []byte(`{"state":"online"}`), []byte(`{"state":"offline"}`)
	}
	return nil, nil
}

// PresenceTopic is where the device's (or its bridge's) retained
// online/offline state, its Last Will, is published, with the two payloads.
func PresenceTopic(d *Device) (topic string, online, offline []byte) {
	on, off := presencePayloads(d.Protocol)
	return TopicsOf(d).Presence, on, off
}

// presenceTopicOf is a client's presence topic.
func presenceTopicOf(p Protocol, root string) string {
	switch p {
	case ProtocolRelais:
		return root + "/status"
	case ProtocolTasmota:
		return "tele/" + root + "/LWT"
	case ProtocolShelly:
		return root + "/online"
	case ProtocolZigbee:
		return root + "/bridge/state"
	}
	return ""
}

// ACL is what one MQTT client may do on the broker, as data: the embedded
// broker applies it (authHook) and `relais devices acl` writes it as a
// Mosquitto acl_file. Entries are MQTT topic filters.
type ACL struct {
	Read  []string // filters it may subscribe to (its command topics)
	Write []string // topics (or filters) it may publish to (replies, status, presence)
	// Retain lists what it may publish retained: its presence topics only.
	// Elsewhere the embedded broker delivers the message but does not keep
	// it (see authHook.OnPublish). Mosquitto's acl_file cannot say this;
	// relais ignores retained replies on either broker.
	Retain []string
}

// clientACL returns the ACL of a client.
func clientACL(c client) ACL {
	r := c.Root
	switch c.Protocol {
	case ProtocolRelais:
		return ACL{Read: []string{r + "/cmd"}, Write: []string{r + "/ack", r + "/status"}, Retain: []string{r + "/status"}}
	case ProtocolTasmota:
		// cmnd/<topic>/# also carries PulseTime and the other settings
		// relais may send; stat/ and tele/ carry everything Tasmota reports.
		return ACL{Read: []string{"cmnd/" + r + "/#"}, Write: []string{"stat/" + r + "/#", "tele/" + r + "/#"},
			Retain: []string{"tele/" + r + "/LWT"}}
	case ProtocolShelly:
		// <prefix>/# covers <prefix>/online, <prefix>/events/rpc and
		// <prefix>/status/…, but also <prefix>/rpc, its own command topic:
		// harmless, since only relais reads it and a device can only
		// confuse itself. Shelly's RPC library subscribes to <prefix>/rpc/#.
		return ACL{Read: []string{r + "/rpc", r + "/rpc/#"}, Write: []string{r + "/#", ShellyReplyPrefix + "/" + c.ID + "/rpc"},
			Retain: []string{r + "/online"}}
	case ProtocolZigbee:
		// Zigbee2MQTT subscribes to <base>/# and publishes everything under
		// it, much of it retained (bridge/info, bridge/devices, states when
		// configured, availability). Its command topics (…/set, …/get,
		// bridge/request/…) are never kept: see retainable.
		return ACL{Read: []string{r + "/#"}, Write: []string{r + "/#"}, Retain: []string{r + "/#"}}
	}
	return ACL{}
}

// retainable reports whether c may leave a retained message on topic: on a
// topic its ACL lists under Retain, and never on a command topic (a retained
// command would act again at every reconnection: "ghost switching").
func retainable(acl ACL, topic string) bool {
	if isCommandTopic(topic) {
		return false
	}
	return allowed(acl.Retain, topic, false)
}

// isCommandTopic reports whether topic is one a device acts on.
func isCommandTopic(topic string) bool {
	levels := strings.Split(topic, "/")
	last := levels[len(levels)-1]
	switch {
	case levels[0] == "cmnd":
		return true
	case last == "set" || last == "get" || last == "cmd" || last == "rpc" && levels[0] != ShellyReplyPrefix:
		return true
	case strings.Contains(topic, "/bridge/request/"):
		return true
	}
	return false
}

// RelaisACL is what relais itself needs on an external broker, given the
// bridges and free-form clients in service: commands out, replies and
// presence in.
func relaisACL(clients []client) ACL {
	a := ACL{
		Read:  append([]string{}, subscriptions...),
		Write: []string{"relais/+/+/cmd", "cmnd/#", "+/rpc"},
	}
	for _, c := range clients {
		switch {
		case c.Protocol == ProtocolZigbee:
			a.Read = append(a.Read, c.Root+"/#")
			a.Write = append(a.Write, c.Root+"/#")
		case c.Protocol == ProtocolShelly && strings.Contains(c.Root, "/"):
			a.Read = append(a.Read, c.Root+"/online")
			a.Write = append(a.Write, c.Root+"/rpc")
		}
	}
	return a
}

// allowed reports whether topic (or, with isFilter, a subscription filter)
// is covered by one of the filters.
func allowed(filters []string, topic string, isFilter bool) bool {
	if !isFilter && strings.ContainsAny(topic, "+#") {
		return false
	}
	for _, f := range filters {
		if covers(f, topic) {
			return true
		}
	}
	return false
}

// covers reports whether every topic matched by want is matched by have.
// Wildcards in want are only covered by wildcards in have.
func covers(have, want string) bool {
	h := strings.Split(have, "/")
	w := strings.Split(want, "/")
	for i, hl := range h {
		if hl == "#" {
			return true
		}
		if i >= len(w) {
			return false
		}
		switch {
		case w[i] == "#":
			return false
		case hl == "+":
			// covers any single level, including a '+' in want
		case hl != w[i]:
			return false
		}
	}
	return len(w) == len(h)
}

// rootProblem says why a client's root breaks the topic rules (empty when
// it does not): the
// one check behind registration and login.
func rootProblem(c client) errs.Message {
	switch c.Protocol {
	case ProtocolRelais:
		addr, ok := strings.CutPrefix(c.Root, "relais/"+c.SiteID+"/")
		if !ok {
			return errs.Msg("is not under its site's topics")
		}
		return checkRoot(addr, false, false)
	case ProtocolTasmota:
		// Tasmota's %topic%, with the default FullTopic %prefix%/%topic%/.
		return checkRoot(c.Root, false, false)
	case ProtocolShelly:
		// Shelly's topic_prefix may hold '/' (e.g. shellies-office/desk).
		return checkRoot(c.Root, true, true)
	case ProtocolZigbee:
		if !c.Bridge {
			return errs.Msg("belongs to a Zigbee2MQTT device, which logs in through its bridge")
		}
		// The base_topic: "zigbee2mqtt" by default, or anything of one or
		// more levels that no other protocol uses.
		ours := c.Root == ZigbeeDefaultBase || strings.HasPrefix(c.Root, ZigbeeDefaultBase+"/")
		return checkRoot(c.Root, true, !ours)
	}
	return errs.Msg("belongs to an unknown protocol")
}
