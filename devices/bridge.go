package devices

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/id"
)

// Bridge is one MQTT client that carries several devices: a Zigbee2MQTT
// bridge (its locks and plugs), or a Tasmota or Shelly with several relays.
// It logs in once, with its own credentials, and its ACL spans the topics
// of every device behind it, and nothing else.
type Bridge struct {
	bun.BaseModel `bun:"table:bridges,alias:br"`

	ID       string   `bun:"id,pk" json:"id"`
	SiteID   string   `bun:"site_id" json:"site_id"`
	Name     string   `bun:"name" json:"name"`
	Protocol Protocol `bun:"protocol" json:"protocol"`
	// Address is the bridge's root: Zigbee2MQTT's base_topic (may hold
	// '/'), a Tasmota's %topic%, a Shelly's topic prefix.
	Address    string     `bun:"address" json:"address"`
	Username   string     `bun:"username" json:"username"`
	SecretHash string     `bun:"secret_hash" json:"-"`
	Online     bool       `bun:"online" json:"online"`
	LastSeenAt *time.Time `bun:"last_seen_at" json:"last_seen_at"`
	PresenceAt *time.Time `bun:"presence_at" json:"-"`
	// LoginProblem: see Device.LoginProblem.
	LoginProblem   string     `bun:"login_problem" json:"login_problem,omitempty"`
	LoginProblemAt *time.Time `bun:"login_problem_at" json:"login_problem_at,omitempty"`
	CreatedAt      time.Time  `bun:"created_at" json:"created_at"`
	UpdatedAt      time.Time  `bun:"updated_at" json:"updated_at"`
	RetiredAt      *time.Time `bun:"retired_at" json:"retired_at,omitempty"`
}

// NewBridge is what a manager gives to register a bridge.
type NewBridge struct {
	SiteID   string
	Name     string
	Protocol Protocol
	Address  string
	// FullTopic: see NewDevice.FullTopic.
	FullTopic string
}

// BridgePatch changes a bridge; a nil field is left as it is.
type BridgePatch struct {
	Name    *string
	Address *string
}

var errBridgeNotFound = &errs.Problem{Kind: errs.ErrNotFound, Code: "bridge_not_found", Detail: "no such bridge"}

func validateBridge(v *errs.Validator, b *Bridge) {
	b.Name = strings.TrimSpace(b.Name)
	v.Check(b.Name != "", "name", "is required")
	v.Check(utf8.RuneCountInString(b.Name) <= 200, "name", "must be at most 200 characters")
	b.Address = strings.TrimSpace(b.Address)
	if b.Protocol == ProtocolZigbee && b.Address == "" {
		b.Address = ZigbeeDefaultBase
	}
	switch b.Protocol {
	case ProtocolZigbee, ProtocolTasmota, ProtocolShelly:
	default:
		v.Add("protocol", "must be zigbee2mqtt, tasmota or shelly")
		return
	}
	if why := rootProblem(bridgeClient(b)); !why.Empty() {
		v.Add("address", "%s", why)
	}
}

func bridgeClient(b *Bridge) client {
	return client{ID: b.ID, Bridge: true, SiteID: b.SiteID, Name: b.Name, Protocol: b.Protocol, Root: b.Address}
}

// CreateBridge registers a bridge and returns it with its MQTT secret,
// shown this once and stored only as a hash.
func (s *Service) CreateBridge(ctx context.Context, who *identity.Principal, in NewBridge) (*Bridge, string, error) {
	if !mayManage(who, in.SiteID) {
		return nil, "", refuseSite(who, in.SiteID)
	}
	now := s.now()
	b := &Bridge{ID: id.New(), SiteID: in.SiteID, Name: in.Name, Protocol: in.Protocol, Address: in.Address,
		CreatedAt: now, UpdatedAt: now}
	b.Username = "brg-" + b.ID
	secret, hash := newSecret()
	b.SecretHash = hash
	if !id.Valid(in.SiteID) {
		return nil, "", errSiteNotFound
	}
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := lockTopics(ctx, tx); err != nil {
			return err
		}
		ok, err := s.places.SiteExists(ctx, tx, in.SiteID)
		if err != nil {
			return fmt.Errorf("read bridge site: %w", err)
		}
		if !ok {
			return errSiteNotFound
		}
		var v errs.Validator
		validateBridge(&v, b)
		checkFullTopic(&v, b.Protocol, in.FullTopic)
		if err := v.Err(); err != nil {
			return err
		}
		if err := checkTopics(ctx, tx, bridgeClient(b)); err != nil {
			return err
		}
		if _, err := tx.NewInsert().Model(b).Exec(ctx); err != nil {
			return fmt.Errorf("insert bridge: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	s.topicsChanged()
	return b, secret, nil
}

// GetBridge returns a bridge, retired or not.
func (s *Service) GetBridge(ctx context.Context, bridgeID string) (*Bridge, error) {
	return getBridge(ctx, s.db, bridgeID)
}

func getBridge(ctx context.Context, idb bun.IDB, bridgeID string) (*Bridge, error) {
	if !id.Valid(bridgeID) {
		return nil, errBridgeNotFound
	}
	var b Bridge
	if err := idb.NewSelect().Model(&b).Where("id = ?", bridgeID).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errBridgeNotFound
		}
		return nil, fmt.Errorf("get bridge: %w", err)
	}
	return &b, nil
}

// bridgeOfSite returns the bridge in service bridgeID of site siteID, or
// nil when there is none.
func bridgeOfSite(ctx context.Context, idb bun.IDB, bridgeID, siteID string) (*Bridge, error) {
	b, err := getBridge(ctx, idb, bridgeID)
	if errors.Is(err, errBridgeNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if b.SiteID != siteID || b.RetiredAt != nil {
		return nil, nil
	}
	return b, nil
}

// ListBridges returns a site's bridges in service, by name.
func (s *Service) ListBridges(ctx context.Context, who *identity.Principal, siteID string) ([]Bridge, error) {
	if !mayReadBridges(who, siteID) {
		return nil, refuseSite(who, siteID)
	}
	if err := s.siteExists(ctx, siteID); err != nil {
		return nil, err
	}
	bs := []Bridge{}
	if !id.Valid(siteID) {
		return bs, nil
	}
	err := s.db.NewSelect().Model(&bs).Where("site_id = ?", siteID).Where("retired_at IS NULL").
		Order("name", "id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list bridges: %w", err)
	}
	return bs, nil
}

// BridgeDevices returns the devices in service behind a bridge, by name.
func (s *Service) BridgeDevices(ctx context.Context, bridgeID string) ([]Device, error) {
	ds := []Device{}
	err := s.db.NewSelect().Model(&ds).Where("bridge_id = ?", bridgeID).Where("retired_at IS NULL").
		Order("name", "id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list bridge devices: %w", err)
	}
	return ds, nil
}

// UpdateBridge renames a bridge or moves it to another root (a new base
// topic): the devices behind it move with it, and its session is closed
// so that it logs in again on its new topics.
func (s *Service) UpdateBridge(ctx context.Context, who *identity.Principal, bridgeID string, p BridgePatch) (*Bridge, error) {
	if _, err := s.manageableBridge(ctx, who, bridgeID); err != nil {
		return nil, err
	}
	var out *Bridge
	moved := false
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := lockTopics(ctx, tx); err != nil {
			return err
		}
		b, err := getBridge(ctx, tx, bridgeID)
		if err != nil {
			return err
		}
		if b.RetiredAt != nil {
			return errRetired
		}
		before := *b
		if p.Name != nil {
			b.Name = *p.Name
		}
		if p.Address != nil {
			b.Address = *p.Address
		}
		var v errs.Validator
		validateBridge(&v, b)
		if err := v.Err(); err != nil {
			return err
		}
		moved = b.Address != before.Address
		if moved {
			if err := checkTopics(ctx, tx, bridgeClient(b)); err != nil {
				return err
			}
			if err := moveBehind(ctx, tx, b); err != nil {
				return err
			}
		}
		b.UpdatedAt = s.now()
		if _, err := tx.NewUpdate().Model(b).Column("name", "address", "updated_at").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("update bridge: %w", err)
		}
		out = b
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.cache.Invalidate()
	s.topicsChanged()
	if moved {
		s.credentialsDropped(out.Username)
	}
	return out, nil
}

// moveBehind recomputes the roots of the devices behind b after its root
// changed.
func moveBehind(ctx context.Context, tx bun.Tx, b *Bridge) error {
	var ds []Device
	if err := tx.NewSelect().Model(&ds).Where("bridge_id = ?", b.ID).Where("retired_at IS NULL").Scan(ctx); err != nil {
		return fmt.Errorf("read bridge devices: %w", err)
	}
	for i := range ds {
		d := &ds[i]
		var v errs.Validator
		validateBehind(&v, d, b)
		if _, err := tx.NewUpdate().Model(d).Column("address", "topic_root").WherePK().Exec(ctx); err != nil {
			return mapWriteErr("move bridge device", err)
		}
	}
	return nil
}

// RetireBridge takes a bridge and every device behind it out of service.
func (s *Service) RetireBridge(ctx context.Context, who *identity.Principal, bridgeID string) error {
	if _, err := s.manageableBridge(ctx, who, bridgeID); err != nil {
		return err
	}
	b, err := s.GetBridge(ctx, bridgeID)
	if err != nil {
		return err
	}
	if b.RetiredAt != nil {
		return nil
	}
	now := s.now()
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewUpdate().Model((*Device)(nil)).Set("retired_at = ?", now).Set("updated_at = ?", now).
			Where("bridge_id = ?", bridgeID).Where("retired_at IS NULL").Exec(ctx); err != nil {
			return fmt.Errorf("retire bridge devices: %w", err)
		}
		if _, err := tx.NewUpdate().Model((*Bridge)(nil)).Set("retired_at = ?", now).Set("updated_at = ?", now).
			Where("id = ?", bridgeID).Where("retired_at IS NULL").Exec(ctx); err != nil {
			return fmt.Errorf("retire bridge: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.cache.Invalidate()
	s.topicsChanged()
	s.credentialsDropped(b.Username)
	return nil
}

// RotateBridgeSecret gives a bridge a new MQTT secret, returned this once;
// the old one stops working at once.
func (s *Service) RotateBridgeSecret(ctx context.Context, who *identity.Principal, bridgeID string) (string, error) {
	if _, err := s.manageableBridge(ctx, who, bridgeID); err != nil {
		return "", err
	}
	b, err := s.GetBridge(ctx, bridgeID)
	if err != nil {
		return "", err
	}
	if b.RetiredAt != nil {
		return "", errRetired
	}
	secret, hash := newSecret()
	res, err := s.db.NewUpdate().Model((*Bridge)(nil)).Set("secret_hash = ?", hash).Set("updated_at = ?", s.now()).
		Where("id = ?", bridgeID).Where("retired_at IS NULL").Exec(ctx)
	if err != nil {
		return "", fmt.Errorf("rotate bridge secret: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return "", errRetired
	}
	s.credentialsDropped(b.Username)
	return secret, nil
}

// BridgeACL is a bridge's ACL, as the embedded broker applies it.
func BridgeACL(b *Bridge) ACL { return clientACL(bridgeClient(b)) }

// DeviceACL is the ACL of a device that logs in by itself; a device behind
// a bridge has none (its bridge's applies).
func DeviceACL(d *Device) ACL {
	if d.BridgeID != nil {
		return ACL{}
	}
	return clientACL(clientOf(d))
}
