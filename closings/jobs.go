package closings

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/relais-tierslieux/relais/calendar"
)

// sweepArgs is the periodic closing job: every quarter of an hour the
// elected replica queues one (unique per quarter), which closes every
// period over since the last closing of each entity and kind. Periods are
// closed in order and a chain is locked while written, so a job run twice,
// or by two replicas, closes each period once (and the unique index on
// entity, kind and period is the last word).
type sweepArgs struct{}

// Kind names the job in river_job.
func (sweepArgs) Kind() string { return "closings.sweep" }

type sweepWorker struct {
	river.WorkerDefaults[sweepArgs]
	svc *Service
}

func (w *sweepWorker) Work(ctx context.Context, _ *river.Job[sweepArgs]) error {
	_, err := w.svc.CloseDue(ctx)
	return err
}

// AddWorkers registers the closing job.
func (s *Service) AddWorkers(workers *river.Workers) error {
	return river.AddWorkerSafely(workers, &sweepWorker{svc: s})
}

// PeriodicJobs is the closing sweep, for jobs.Config.Periodic. A local
// midnight is closed within the quarter of an hour after it.
func (s *Service) PeriodicJobs() []*river.PeriodicJob {
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(15*time.Minute),
		func() (river.JobArgs, *river.InsertOpts) {
			return sweepArgs{}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: 15 * time.Minute}}
		}, &river.PeriodicJobOpts{ID: sweepArgs{}.Kind(), RunOnStart: true})}
}

// CloseDue closes, for every entity that has sold something, every day,
// month and year over and not closed yet. It returns how many chains it
// brought up to date.
func (s *Service) CloseDue(ctx context.Context) (int, error) {
	entities, err := s.sellingEntities(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, siren := range entities {
		zone, err := s.entityZone(ctx, siren)
		if err != nil {
			return n, err
		}
		first, err := s.firstDocument(ctx, siren)
		if err != nil {
			return n, err
		}
		for _, kind := range Kinds {
			period := lastOver(kind, s.now(), zone)
			if _, end := bounds(kind, period, zone); !first.Before(end) {
				continue // nothing sold yet in or before it: the chain starts later
			}
			if _, err := s.Close(ctx, siren, period, ""); err != nil {
				return n, fmt.Errorf("close %s %s of %s: %w", kind, period, siren, err)
			}
			n++
		}
	}
	return n, nil
}

// firstDocument is when the entity issued its first document.
func (s *Service) firstDocument(ctx context.Context, siren string) (time.Time, error) {
	var first []time.Time
	if err := s.db.NewSelect().Table("invoices").Column("issued_at").Where("entity_key = ?", siren).
		Order("issued_at").Limit(1).Scan(ctx, &first); err != nil {
		return time.Time{}, fmt.Errorf("first document: %w", err)
	}
	if len(first) == 0 {
		return time.Time{}, errors.New("closings: an entity with a chain has no document")
	}
	return first[0], nil
}

// sellingEntities are the SIRENs that have issued a document and still
// run a site.
func (s *Service) sellingEntities(ctx context.Context) ([]string, error) {
	var keys []string
	if err := s.db.NewSelect().Table("invoice_chains").Column("entity_key").Where("length > 0").Order("entity_key").Scan(ctx, &keys); err != nil {
		return nil, fmt.Errorf("list entities: %w", err)
	}
	var out []string
	for _, k := range keys {
		sites, err := calendar.EntitySites(ctx, s.db, k)
		if err != nil {
			return nil, err
		}
		if len(sites) > 0 {
			out = append(out, k)
		}
	}
	return out, nil
}
