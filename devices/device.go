// Package devices speaks MQTT to door locks and machine power relays: the
// device registry, the embedded broker (mochi) and the external-broker client
// (paho), one adapter per protocol (relais JSON, Tasmota, Shelly Gen2,
// Zigbee2MQTT), commands with correlation, timeouts and expiry, presence, and
// a device simulator. It knows nothing of members or bookings: access decides,
// devices delivers. It imports identity, which sits below every domain, for
// the caller's Principal: who may see and change the registry is decided
// here (rules.go). Sites and resources belong to calendar; the registry asks
// about them through Places.
package devices

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/id"
	"github.com/relais-tierslieux/relais/internal/ttlcache"
)

// Kind is what a device does.
type Kind string

const (
	// KindLock is a door lock: a site's entrance when ResourceID is nil, or a room's door.
	KindLock Kind = "lock"
	// KindRelay is a machine's power relay; ResourceID is the machine.
	KindRelay Kind = "relay"
)

// Protocol is how a device speaks MQTT.
type Protocol string

const (
	ProtocolRelais  Protocol = "relais"      // our own firmware: JSON with id and expires_at
	ProtocolTasmota Protocol = "tasmota"     // cmnd/<topic>/POWER<n>
	ProtocolShelly  Protocol = "shelly"      // Gen2+ JSON-RPC on <device_id>/rpc
	ProtocolZigbee  Protocol = "zigbee2mqtt" // zigbee2mqtt/<name>/set
)

// Protocols lists every protocol, in documentation order.
var Protocols = []Protocol{ProtocolRelais, ProtocolTasmota, ProtocolShelly, ProtocolZigbee}

// Action is what a command asks a device to do.
type Action string

const (
	ActionUnlock   Action = "unlock"
	ActionLock     Action = "lock"
	ActionPowerOn  Action = "power_on"
	ActionPowerOff Action = "power_off"
)

// DefaultPulseSeconds is how long an unlock holds a strike open by default.
const DefaultPulseSeconds = 5

// Device is a registered lock or relay.
type Device struct {
	bun.BaseModel `bun:"table:devices,alias:dv"`

	ID         string   `bun:"id,pk" json:"id"`
	SiteID     string   `bun:"site_id" json:"site_id"`
	Kind       Kind     `bun:"kind" json:"kind"`
	Name       string   `bun:"name" json:"name"`
	ResourceID *string  `bun:"resource_id" json:"resource_id"`
	Protocol   Protocol `bun:"protocol" json:"protocol"`
	// Address is the device's MQTT identity: relais, its slug in
	// relais/<site_id>/<address>/…; tasmota, its %topic%; shelly, its
	// topic prefix (by default its device id); zigbee2mqtt, its friendly name.
	// Behind a bridge: a Zigbee2MQTT device's friendly name; a Tasmota's or
	// Shelly's, the bridge's address.
	Address string `bun:"address" json:"address"`
	// Channel is Tasmota's POWER<n> (n ≥ 1; 0 means plain POWER) or Shelly's
	// switch id (≥ 0); 0 for the other protocols.
	Channel int `bun:"channel" json:"channel"`
	// BridgeID is the bridge that carries the device (one MQTT client for
	// several devices: a Zigbee2MQTT bridge, a multi-relay Tasmota or
	// Shelly); nil when the device logs in by itself.
	BridgeID *string `bun:"bridge_id" json:"bridge_id"`
	// TopicRoot is where its topics start (see topics.go): computed from
	// protocol, site, address and bridge at every write.
	TopicRoot string `bun:"topic_root" json:"-"`
	// Username is the device's MQTT username (unique). A device behind a
	// bridge has one too, that never logs in: the bridge does.
	Username string `bun:"username" json:"username"`
	// SecretHash is the SHA-256 of its MQTT password: the secret carries 256
	// random bits, so a fast hash suffices and connects stay cheap. Empty
	// behind a bridge.
	SecretHash string `bun:"secret_hash" json:"-"`
	// PulseSeconds: how long an unlock holds the strike open (locks).
	PulseSeconds int        `bun:"pulse_seconds" json:"pulse_seconds"`
	Online       bool       `bun:"online" json:"online"`
	LastSeenAt   *time.Time `bun:"last_seen_at" json:"last_seen_at"`
	// PresenceAt is when the last presence message applied was received.
	PresenceAt *time.Time `bun:"presence_at" json:"-"`
	// LoginProblem says why the embedded broker last refused its
	// credentials' login for a reason other than a wrong secret (a Last
	// Will elsewhere than its presence topic, an address that breaks the
	// topic rules); "" once it logs in.
	LoginProblem   string     `bun:"login_problem" json:"login_problem,omitempty"`
	LoginProblemAt *time.Time `bun:"login_problem_at" json:"login_problem_at,omitempty"`
	CreatedAt      time.Time  `bun:"created_at" json:"created_at"`
	UpdatedAt      time.Time  `bun:"updated_at" json:"updated_at"`
	RetiredAt      *time.Time `bun:"retired_at" json:"retired_at,omitempty"`
}

// Config tunes the service.
type Config struct {
	Now    func() time.Time
	Logger *slog.Logger
	// CommandTimeout is how long Send waits for a confirmation by default (5 s).
	CommandTimeout time.Duration
	// ZigbeeTimeout is the default for Zigbee2MQTT devices (15 s): Zigbee is slow.
	ZigbeeTimeout time.Duration
	// DeviceCacheTTL: how long ForCommand reuses a device's row (default
	// DefaultDeviceCacheTTL; negative disables).
	DeviceCacheTTL time.Duration
	// TopicSync: how often the bridges registered through other replicas
	// are read, to subscribe to their topics (default DefaultTopicSync).
	TopicSync time.Duration
	// OnPresence, when set, is called once per real presence transition of
	// a device (online → offline or back) that this replica's database
	// write recorded, from the presence writer: it must not block long.
	// The gate records these transitions as access events.
	OnPresence func(ctx context.Context, d Device, online bool, at time.Time)
	// Places answers which sites and resources exist; calendar owns them
	// (calendar.DevicePlaces). Required to register devices and bridges.
	Places Places
}

// Places is what the registry needs to know of sites and resources, which
// it does not own: whether a site exists, and a resource's site and kind.
// ResourceSite returns an error of kind errs.ErrNotFound when the resource
// does not exist or is retired.
type Places interface {
	SiteExists(ctx context.Context, idb bun.IDB, siteID string) (bool, error)
	// IsHostPlace: a host place (an EHPAD, a mairie) has no devices.
	IsHostPlace(ctx context.Context, idb bun.IDB, siteID string) (bool, error)
	ResourceSite(ctx context.Context, idb bun.IDB, resourceID string) (siteID, kind string, err error)
}

// Default timeouts.
const (
	DefaultCommandTimeout = 5 * time.Second
	DefaultZigbeeTimeout  = 15 * time.Second
)

// Service is the device registry and, once started on a Transport, the
// link to the hardware.
type Service struct {
	db            *bun.DB
	now           func() time.Time
	log           *slog.Logger
	cmdTimeout    time.Duration
	zigbeeTimeout time.Duration
	metrics       *metrics
	places        Places
	// cache keeps the devices ForCommand read (see DefaultDeviceCacheTTL):
	// a door answers on every unlock, and its row changes a few times in
	// its life.
	cache      ttlcache.Cache[string, Device]
	selectByID string // selectByIDSQL

	mu sync.Mutex
	// t is set once by Start.
	t Transport
	// pending holds commands awaiting a reply, by command id (relais, shelly).
	pending map[string]*pending
	// busy holds the one command in flight per device for protocols without
	// a correlation id (tasmota, zigbee2mqtt), by device id.
	busy map[string]*pending
	// presence is the in-memory online state, by presence key (see presenceKey).
	presence   map[string]bool
	onPresence func(ctx context.Context, d Device, online bool, at time.Time)
	// credentialsChanged is set by an embedded broker to disconnect a device
	// whose secret was rotated or which was retired.
	credentialsChanged func(username string)
	// pulses remembers the PulseTime last set per Tasmota channel.
	pulses map[string]string
	// zigbeeBases are the base topics of the Zigbee2MQTT bridges in
	// service, for routing (see routeZigbee).
	zigbeeBases map[string]bool
	// syncMu serialises syncTopics; dynamicSubs are the filters it
	// subscribed to.
	syncMu      sync.Mutex
	dynamicSubs map[string]bool
	topicSync   time.Duration
	// conflicted holds the clients that break the topic rules (by id, with
	// why), refused at login; nil until first computed.
	conflicted map[string]string

	// registry holds the presence keys of the clients in service, as read
	// last (refreshRegistry); held, the messages of other keys until the
	// next read says whether they are registered (heldSeq orders them).
	registry map[string]bool
	held     map[string]heldPresence
	heldSeq  uint64
	// pendingPresence is the presence write pending per key, the last
	// message's; presenceWriting counts those the writer took and has not
	// committed yet; presenceWake wakes the writer (capacity 1).
	pendingPresence map[string]presenceEvent
	presenceWriting int
	presenceWake    chan struct{}

	stop      chan struct{}
	loopDone  chan struct{}
	closeOnce sync.Once
}

// New returns a Service over db.
func New(bdb *bun.DB, cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.CommandTimeout <= 0 {
		cfg.CommandTimeout = DefaultCommandTimeout
	}
	if cfg.ZigbeeTimeout <= 0 {
		cfg.ZigbeeTimeout = DefaultZigbeeTimeout
	}
	if cfg.DeviceCacheTTL == 0 {
		cfg.DeviceCacheTTL = DefaultDeviceCacheTTL
	}
	if cfg.TopicSync <= 0 {
		cfg.TopicSync = DefaultTopicSync
	}
	return &Service{
		db: bdb, now: func() time.Time { return cfg.Now().UTC() }, log: cfg.Logger,
		cmdTimeout: cfg.CommandTimeout, zigbeeTimeout: cfg.ZigbeeTimeout,
		metrics: newMetrics(), places: cfg.Places, cache: ttlcache.Cache[string, Device]{TTL: cfg.DeviceCacheTTL}, selectByID: selectByIDSQL(bdb),
		pending: map[string]*pending{}, busy: map[string]*pending{}, presence: map[string]bool{},
		pulses: map[string]string{}, zigbeeBases: map[string]bool{}, dynamicSubs: map[string]bool{}, topicSync: cfg.TopicSync,
		registry: map[string]bool{}, held: map[string]heldPresence{},
		pendingPresence: map[string]presenceEvent{}, presenceWake: make(chan struct{}, 1),
		stop: make(chan struct{}), loopDone: make(chan struct{}), onPresence: cfg.OnPresence,
	}
}

// NewDevice is what a manager gives to register a device.
type NewDevice struct {
	SiteID     string
	Kind       Kind
	Name       string
	ResourceID *string
	// BridgeID places the device behind a bridge of the same site: its
	// protocol is the bridge's, and Protocol may be left empty.
	BridgeID *string
	Protocol Protocol
	// Address: see Device.Address; behind a Tasmota or Shelly bridge it is
	// the bridge's and may be left empty.
	Address      string
	Channel      int
	PulseSeconds int // locks: 0 means DefaultPulseSeconds
	// FullTopic is a Tasmota's FullTopic setting, when the manager knows
	// it: relais speaks only the default (see checkFullTopic).
	FullTopic string
}

// DevicePatch changes a device; a nil field is left as it is.
type DevicePatch struct {
	Name         *string
	Address      *string
	Channel      *int
	PulseSeconds *int
}

var (
	errDeviceNotFound = &errs.Problem{Kind: errs.ErrNotFound, Code: "device_not_found", Detail: "no such device"}
	errSiteNotFound   = &errs.Problem{Kind: errs.ErrNotFound, Code: "site_not_found", Detail: "no such site"}
	errRetired        = &errs.Problem{Kind: errs.ErrConflict, Code: "device_retired", Detail: "the device is retired"}
	errIdentityTaken  = &errs.Problem{Kind: errs.ErrConflict, Code: "device_address_taken",
		Detail: "another device in service already uses this protocol, address and channel",
		Fields: []errs.FieldError{{Field: "address", Reason: "taken by another device"}}}
)

// errTopicsTaken says which of the new client's topics another client in
// service already owns, without naming that client: it may be another
// site's.
func errTopicsTaken(namespace string) error {
	p := errs.Problemf(errs.ErrConflict, "device_address_taken", "another device or bridge in service already uses the topics under %s", namespace)
	p.Fields = []errs.FieldError{errs.Fieldf("address", "its topics overlap those of another device or bridge in service")}
	return p
}

func validate(v *errs.Validator, d *Device, b *Bridge) {
	d.Name = strings.TrimSpace(d.Name)
	v.Check(d.Name != "", "name", "is required")
	v.Check(utf8.RuneCountInString(d.Name) <= 200, "name", "must be at most 200 characters")
	switch d.Kind {
	case KindLock, KindRelay:
	default:
		v.Add("kind", "must be lock or relay")
	}
	v.Check(d.Kind != KindRelay || d.ResourceID != nil, "resource_id", "is required for a relay: the machine it powers")
	if b != nil {
		validateBehind(v, d, b)
	} else {
		validateAlone(v, d)
	}
	if d.Kind == KindLock {
		// Tasmota's PulseTime goes up to 64800 s; a door held longer than an
		// hour is not a pulse.
		v.Check(d.PulseSeconds >= 1 && d.PulseSeconds <= 3600, "pulse_seconds", "must be between 1 and 3600")
	} else {
		v.Check(d.PulseSeconds == 0, "pulse_seconds", "applies to locks only")
	}
}

// validateAlone checks a device that logs in by itself and sets its root.
func validateAlone(v *errs.Validator, d *Device) {
	d.Address = strings.TrimSpace(d.Address)
	d.TopicRoot = rootFor(d.Protocol, d.SiteID, d.Address)
	switch d.Protocol {
	case ProtocolRelais:
		v.Check(d.Channel == 0, "channel", "must be 0 for the relais protocol")
	case ProtocolTasmota:
		// A Tasmota whose FullTopic is not the default publishes its Last
		// Will elsewhere: it is refused at login, and the reason is kept on
		// the device (LoginProblem).
		v.Check(d.Channel >= 0 && d.Channel <= 32, "channel", "must be between 0 (POWER) and 32 (POWER32)")
	case ProtocolShelly:
		v.Check(d.Channel >= 0 && d.Channel <= 15, "channel", "must be a Shelly switch id between 0 and 15")
	case ProtocolZigbee:
		v.Add("bridge_id", "is required: a Zigbee2MQTT device is registered behind its bridge (POST /v1/sites/{site_id}/bridges)")
		return
	default:
		v.Add("protocol", "must be relais, tasmota, shelly or zigbee2mqtt")
		if why := checkRoot(d.Address, false, false); !why.Empty() {
			v.Add("address", "%s", why)
		}
		return
	}
	if why := rootProblem(clientOf(d)); !why.Empty() {
		v.Add("address", "%s", why)
	}
}

// validateBehind checks a device behind bridge b and sets its root.
func validateBehind(v *errs.Validator, d *Device, b *Bridge) {
	if d.Protocol != "" && d.Protocol != b.Protocol {
		v.Add("protocol", "must be the bridge's (%s), or left out", b.Protocol)
	}
	d.Protocol = b.Protocol
	switch b.Protocol {
	case ProtocolZigbee:
		d.Address = strings.TrimSpace(d.Address)
		if why := checkZigbeeName(d.Address); !why.Empty() {
			v.Add("address", "the device's Zigbee2MQTT friendly name %s", why)
		}
		v.Check(d.Channel == 0, "channel", "must be 0 for zigbee2mqtt")
		d.TopicRoot = b.Address + "/" + d.Address
	case ProtocolTasmota, ProtocolShelly:
		d.Address = strings.TrimSpace(d.Address)
		v.Check(d.Address == "" || d.Address == b.Address, "address", "is the bridge's address (%s); leave it out", b.Address)
		d.Address, d.TopicRoot = b.Address, b.Address
		if b.Protocol == ProtocolTasmota {
			v.Check(d.Channel >= 1 && d.Channel <= 32, "channel", "must be the relay's number on the bridge, between 1 (POWER1) and 32")
		} else {
			v.Check(d.Channel >= 0 && d.Channel <= 15, "channel", "must be a Shelly switch id between 0 and 15")
		}
	}
}

// checkResource verifies that a device's resource is on its site and of a
// kind it can serve: a lock guards a room, a relay powers a machine.
func (s *Service) checkResource(ctx context.Context, idb bun.IDB, v *errs.Validator, d *Device) error {
	if d.ResourceID == nil {
		return nil
	}
	if !id.Valid(*d.ResourceID) {
		v.Add("resource_id", "no such resource on this site")
		return nil
	}
	siteID, kind, err := s.places.ResourceSite(ctx, idb, *d.ResourceID)
	switch {
	case errors.Is(err, errs.ErrNotFound):
		v.Add("resource_id", "no such resource on this site")
	case err != nil:
		return fmt.Errorf("read device resource: %w", err)
	case siteID != d.SiteID:
		v.Add("resource_id", "no such resource on this site")
	case d.Kind == KindLock && kind != "room":
		v.Add("resource_id", "a lock guards a room (or, without resource_id, the site entrance)")
	case d.Kind == KindRelay && kind != "machine":
		v.Add("resource_id", "a relay powers a machine")
	}
	return nil
}

func newSecret() (secret, hash string) {
	secret = "rds_" + id.Secret(32)
	return secret, hashSecret(secret)
}

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// secretMatches compares in constant time.
func secretMatches(secret, hash string) bool {
	got := hashSecret(secret)
	return subtle.ConstantTimeCompare([]byte(got), []byte(hash)) == 1
}

// Create registers a device and returns it with its MQTT secret, which is
// shown this once and stored only as a hash. A device behind a bridge has
// no secret of its own ("").
func (s *Service) Create(ctx context.Context, who *identity.Principal, in NewDevice) (*Device, string, error) {
	if !mayManage(who, in.SiteID) {
		return nil, "", refuseSite(who, in.SiteID)
	}
	now := s.now()
	d := &Device{
		ID: id.New(), SiteID: in.SiteID, Kind: in.Kind, Name: in.Name, ResourceID: in.ResourceID, BridgeID: in.BridgeID,
		Protocol: in.Protocol, Address: in.Address, Channel: in.Channel, PulseSeconds: in.PulseSeconds,
		CreatedAt: now, UpdatedAt: now,
	}
	if d.Kind == KindLock && d.PulseSeconds == 0 {
		d.PulseSeconds = DefaultPulseSeconds
	}
	d.Username = "dev-" + d.ID
	if !id.Valid(in.SiteID) {
		return nil, "", errSiteNotFound
	}
	var secret string
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := lockTopics(ctx, tx); err != nil {
			return err
		}
		ok, err := s.places.SiteExists(ctx, tx, in.SiteID)
		if err != nil {
			return fmt.Errorf("read device site: %w", err)
		}
		if !ok {
			return errSiteNotFound
		}
		if host, err := s.places.IsHostPlace(ctx, tx, in.SiteID); err != nil || host {
			if err != nil {
				return err
			}
			return errs.Rule("site_id", "host_place_has_no_devices", "a host place has no devices of its own")
		}
		var v errs.Validator
		var b *Bridge
		if in.BridgeID != nil {
			if b, err = bridgeOfSite(ctx, tx, *in.BridgeID, in.SiteID); err != nil {
				return err
			}
			if b == nil {
				v.Add("bridge_id", "no such bridge in service on this site")
			}
		}
		if in.BridgeID == nil || b != nil {
			validate(&v, d, b)
		}
		checkFullTopic(&v, d.Protocol, in.FullTopic)
		if err := s.checkResource(ctx, tx, &v, d); err != nil {
			return err
		}
		if err := v.Err(); err != nil {
			return err
		}
		if b == nil {
			if err := checkTopics(ctx, tx, clientOf(d)); err != nil {
				return err
			}
			secret, d.SecretHash = newSecret()
		}
		if _, err := tx.NewInsert().Model(d).Exec(ctx); err != nil {
			return mapWriteErr("insert device", err)
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	s.topicsChanged()
	return d, secret, nil
}

// DefaultFullTopic is Tasmota's default FullTopic, the only one relais
// speaks.
const DefaultFullTopic = "%prefix%/%topic%/"

// checkFullTopic refuses a Tasmota FullTopic other than the default, with
// what to change on the device, instead of registering a device that would
// never answer.
func checkFullTopic(v *errs.Validator, p Protocol, fullTopic string) {
	switch {
	case fullTopic == "" || strings.TrimSuffix(fullTopic, "/")+"/" == DefaultFullTopic:
	case p != ProtocolTasmota:
		v.Add("full_topic", "applies to Tasmota only")
	default:
		v.Add("full_topic", "relais speaks to Tasmota on its default FullTopic %s (prefix, then topic): set it back on the device (Configuration → MQTT, or the command FullTopic %s)", DefaultFullTopic, DefaultFullTopic)
	}
}

// clientOf is a device that logs in by itself, as a client.
func clientOf(d *Device) client {
	return client{ID: d.ID, SiteID: d.SiteID, Name: d.Name, Protocol: d.Protocol, Root: d.TopicRoot}
}

// topicsLocks holds the one lock of the topic registry (named "topics"):
// the registrations that could overlap are checked one at a time. Its
// number differs from every other db.LockSpace (calendar's reservations
// use 725_613_180).
const topicsLocks db.LockSpace = 725_613_179

// lockTopics serialises the registrations that claim topics, so that two
// overlapping ones cannot both pass checkTopics. On SQLite every write
// transaction already begins IMMEDIATE, one at a time (db.LockSpace then
// does nothing).
func lockTopics(ctx context.Context, tx bun.Tx) error {
	if err := topicsLocks.Lock(ctx, tx, "topics"); err != nil {
		return fmt.Errorf("lock the topic registry: %w", err)
	}
	return nil
}

// checkTopics refuses c when its topics overlap another client's in service.
func checkTopics(ctx context.Context, idb bun.IDB, c client) error {
	others, err := clientsInService(ctx, idb)
	if err != nil {
		return err
	}
	for _, o := range others {
		if o.ID == c.ID {
			continue
		}
		if ns := clash(c, o); ns != "" {
			return errTopicsTaken(ns)
		}
	}
	return nil
}

// clientsInService lists every MQTT client relais knows: devices that log
// in by themselves, and bridges.
func clientsInService(ctx context.Context, idb bun.IDB) ([]client, error) {
	var cs []client
	err := idb.NewRaw(`SELECT id, site_id, name, protocol, topic_root AS root, FALSE AS bridge FROM devices
		WHERE retired_at IS NULL AND bridge_id IS NULL
		UNION ALL
		SELECT id, site_id, name, protocol, address AS root, TRUE AS bridge FROM bridges WHERE retired_at IS NULL
		ORDER BY id`).Scan(ctx, &cs)
	if err != nil {
		return nil, fmt.Errorf("list MQTT clients: %w", err)
	}
	return cs, nil
}

func mapWriteErr(what string, err error) error {
	err = db.Classify(err)
	if errors.Is(err, db.ErrUniqueViolation) {
		return errIdentityTaken
	}
	return fmt.Errorf("%s: %w", what, err)
}

// Get returns a device, retired or not.
func (s *Service) Get(ctx context.Context, deviceID string) (*Device, error) {
	return getDevice(ctx, s.db, deviceID)
}

func getDevice(ctx context.Context, idb bun.IDB, deviceID string) (*Device, error) {
	if !id.Valid(deviceID) {
		return nil, errDeviceNotFound
	}
	var d Device
	if err := idb.NewSelect().Model(&d).Where("id = ?", deviceID).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errDeviceNotFound
		}
		return nil, fmt.Errorf("get device: %w", err)
	}
	return &d, nil
}

// List returns a site's devices in service, by name.
func (s *Service) List(ctx context.Context, siteID string) ([]Device, error) {
	ds := []Device{}
	if !id.Valid(siteID) {
		return ds, nil
	}
	err := s.db.NewSelect().Model(&ds).Where("site_id = ?", siteID).Where("retired_at IS NULL").
		Order("name", "id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	return ds, nil
}

// ByUsername returns the device in service that logs in as username (a
// device behind a bridge never does).
func (s *Service) ByUsername(ctx context.Context, username string) (*Device, error) {
	var d Device
	err := s.db.NewSelect().Model(&d).Where("username = ?", username).Where("retired_at IS NULL").
		Where("bridge_id IS NULL").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errDeviceNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("device by username: %w", err)
	}
	return &d, nil
}

// Update changes a device's name, address, channel or pulse. Changing the
// address moves the device to other topics: it must reconnect, so its
// current session is closed.
func (s *Service) Update(ctx context.Context, who *identity.Principal, deviceID string, p DevicePatch) (*Device, error) {
	if _, err := s.manageable(ctx, who, deviceID); err != nil {
		return nil, err
	}
	var out *Device
	moved := false
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := lockTopics(ctx, tx); err != nil {
			return err
		}
		d, err := getDevice(ctx, tx, deviceID)
		if err != nil {
			return err
		}
		if d.RetiredAt != nil {
			return errRetired
		}
		var b *Bridge
		if d.BridgeID != nil {
			if b, err = bridgeOfSite(ctx, tx, *d.BridgeID, d.SiteID); err != nil {
				return err
			}
			if b == nil {
				return errRetired // its bridge was retired, and it with it
			}
		}
		before := *d
		if p.Name != nil {
			d.Name = *p.Name
		}
		if p.Address != nil {
			d.Address = *p.Address
		}
		if p.Channel != nil {
			d.Channel = *p.Channel
		}
		if p.PulseSeconds != nil {
			d.PulseSeconds = *p.PulseSeconds
		}
		var v errs.Validator
		validate(&v, d, b)
		if err := v.Err(); err != nil {
			return err
		}
		moved = d.TopicRoot != before.TopicRoot || d.Channel != before.Channel
		if moved && b == nil {
			if err := checkTopics(ctx, tx, clientOf(d)); err != nil {
				return err
			}
		}
		d.UpdatedAt = s.now()
		if _, err := tx.NewUpdate().Model(d).Column("name", "address", "channel", "topic_root", "pulse_seconds", "updated_at").
			WherePK().Exec(ctx); err != nil {
			return mapWriteErr("update device", err)
		}
		out = d
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.cache.Invalidate()
	s.topicsChanged()
	if moved && out.BridgeID == nil {
		s.credentialsDropped(out.Username)
	}
	return out, nil
}

// Retire takes a device out of service: it can no longer log in, and its
// address is free for a replacement. Retiring twice is not an error.
func (s *Service) Retire(ctx context.Context, who *identity.Principal, deviceID string) error {
	if _, err := s.manageable(ctx, who, deviceID); err != nil {
		return err
	}
	d, err := s.Get(ctx, deviceID)
	if err != nil {
		return err
	}
	if d.RetiredAt != nil {
		return nil
	}
	now := s.now()
	if _, err := s.db.NewUpdate().Model((*Device)(nil)).
		Set("retired_at = ?", now).Set("updated_at = ?", now).
		Where("id = ?", deviceID).Where("retired_at IS NULL").Exec(ctx); err != nil {
		return fmt.Errorf("retire device: %w", err)
	}
	s.cache.Invalidate()
	s.credentialsDropped(d.Username)
	return nil
}

// RotateSecret gives a device a new MQTT secret, returned this once; the old
// one stops working at once (an open session is closed).
func (s *Service) RotateSecret(ctx context.Context, who *identity.Principal, deviceID string) (string, error) {
	if _, err := s.manageable(ctx, who, deviceID); err != nil {
		return "", err
	}
	d, err := s.Get(ctx, deviceID)
	if err != nil {
		return "", err
	}
	if d.RetiredAt != nil {
		return "", errRetired
	}
	if d.BridgeID != nil {
		return "", &errs.Problem{Kind: errs.ErrConflict, Code: "device_behind_bridge",
			Detail: "the device logs in through its bridge and has no secret of its own: rotate the bridge's (POST /v1/bridges/{bridge_id}/secret)"}
	}
	secret, hash := newSecret()
	res, err := s.db.NewUpdate().Model((*Device)(nil)).
		Set("secret_hash = ?", hash).Set("updated_at = ?", s.now()).
		Where("id = ?", deviceID).Where("retired_at IS NULL").Exec(ctx)
	if err != nil {
		return "", fmt.Errorf("rotate device secret: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return "", errRetired
	}
	s.cache.Invalidate()
	s.credentialsDropped(d.Username)
	return secret, nil
}

// Login is an MQTT client that logged in: a device or a bridge.
type Login struct {
	ID       string
	Bridge   bool
	SiteID   string
	Protocol Protocol
	Root     string
	ACL      ACL
	// problem is the login problem stored on its row, cleared at login.
	problem string
}

// PresenceTopic is the client's own presence topic: its Last Will's.
func (l *Login) PresenceTopic() string { return presenceTopicOf(l.Protocol, l.Root) }

// Authenticate returns the device or bridge in service whose credentials
// these are. It is what the embedded broker asks; a Mosquitto deployment
// uses its own password file.
func (s *Service) Authenticate(ctx context.Context, username, secret string) (*Login, error) {
	var c client
	var hash, problem string
	var err error
	if strings.HasPrefix(username, "brg-") {
		var b Bridge
		err = s.db.NewSelect().Model(&b).Where("username = ?", username).Where("retired_at IS NULL").Scan(ctx)
		c, hash, problem = bridgeClient(&b), b.SecretHash, b.LoginProblem
	} else {
		var d *Device
		if d, err = s.ByUsername(ctx, username); err == nil {
			c, hash, problem = clientOf(d), d.SecretHash, d.LoginProblem
		}
	}
	if errors.Is(err, sql.ErrNoRows) || errors.Is(err, errDeviceNotFound) {
		return nil, errs.ErrUnauthenticated
	}
	if err != nil {
		return nil, fmt.Errorf("authenticate MQTT client: %w", err)
	}
	if !secretMatches(secret, hash) {
		return nil, errs.ErrUnauthenticated
	}
	// A row that breaks the topic rules (registered before they existed;
	// see Check) does not log in: its ACL could reach other clients' topics.
	s.mu.Lock()
	why, clashes := s.conflicted[c.ID]
	s.mu.Unlock()
	if !clashes {
		if problem := rootProblem(c); !problem.Empty() {
			why = fmt.Sprintf("its address %q %s", c.Root, problem)
		}
	}
	if why != "" {
		return nil, &RefusedError{Reason: why + " (see relais devices check)"}
	}
	return &Login{ID: c.ID, Bridge: c.Bridge, SiteID: c.SiteID, Protocol: c.Protocol, Root: c.Root, ACL: clientACL(c), problem: problem}, nil
}

// RefusedError is a login with good credentials that the topic rules
// refuse; it is errs.ErrForbidden.
type RefusedError struct{ Reason string }

func (e *RefusedError) Error() string { return "MQTT login refused: " + e.Reason }

func (e *RefusedError) Unwrap() error { return errs.ErrForbidden }

// loginRefused keeps why a client with good credentials was refused, for
// its managers to read on the device or bridge: a device must never
// register and then silently never answer.
func (s *Service) loginRefused(ctx context.Context, username, why string) {
	table := "devices"
	if strings.HasPrefix(username, "brg-") {
		table = "bridges"
	}
	_, err := s.db.NewUpdate().Table(table).Set("login_problem = ?", why).Set("login_problem_at = ?", s.now()).
		Where("username = ?", username).Where("retired_at IS NULL").Where("login_problem <> ?", why).Exec(ctx)
	if err != nil {
		s.log.Error("record an MQTT login problem", "username", username, "err", err)
	}
}

// loginAccepted clears a login problem once the client logs in.
func (s *Service) loginAccepted(ctx context.Context, l *Login) {
	if l.problem == "" {
		return
	}
	table := "devices"
	if l.Bridge {
		table = "bridges"
	}
	_, err := s.db.NewUpdate().Table(table).Set("login_problem = ''").Set("login_problem_at = NULL").
		Where("id = ?", l.ID).Exec(ctx)
	if err != nil {
		s.log.Error("clear an MQTT login problem", "id", l.ID, "err", err)
	}
}

func (s *Service) credentialsDropped(username string) {
	s.mu.Lock()
	fn := s.credentialsChanged
	s.mu.Unlock()
	if fn != nil {
		fn(username)
	}
}
