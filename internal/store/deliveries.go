package store

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Deliveries is the watch's delivery log (rootwatch watch --store): which
// alert went to which target, so that a restarted watcher does not alert
// twice on an event SQS delivers again. It lives beside the run history,
// in its own table with its own retention: pruning runs leaves it alone.
type Deliveries interface {
	// Delivered lists which of targets already received an alert for
	// the event.
	Delivered(ctx context.Context, eventID string, targets []string) (map[string]bool, error)
	// MarkDelivered records that target received the alert for the event;
	// recording it twice is not an error.
	MarkDelivered(ctx context.Context, eventID, target string, at time.Time) error
	// PruneDeliveries forgets the deliveries made before the cutoff and
	// says how many. An event SQS delivers again after its delivery was
	// forgotten is alerted again: keep the log longer than the queue
	// keeps messages.
	PruneDeliveries(ctx context.Context, before time.Time) (int, error)
	Close() error
}

// OpenDeliveries opens the delivery log of the store a specification
// names, as OpenWith opens its runs.
func OpenDeliveries(ctx context.Context, spec string, o Options) (Deliveries, error) {
	s, err := OpenWith(ctx, spec, o)
	if err != nil {
		return nil, err
	}
	return s.(*sqlStore), nil
}

func (s *sqlStore) Delivered(ctx context.Context, eventID string, targets []string) (map[string]bool, error) {
	out := map[string]bool{}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT target FROM watch_alerts WHERE event_id = ?`), eventID)
	if err != nil {
		return nil, fmt.Errorf("store %s: delivered alerts: %w", s.name, err)
	}
	defer rows.Close()
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, fmt.Errorf("store %s: delivered alerts: %w", s.name, err)
		}
		if slices.Contains(targets, t) {
			out[t] = true
		}
	}
	return out, rows.Err()
}

func (s *sqlStore) MarkDelivered(ctx context.Context, eventID, target string, at time.Time) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO watch_alerts (event_id, target, delivered_at) VALUES (?, ?, ?) ON CONFLICT (event_id, target) DO NOTHING`),
		eventID, target, fmtTime(at))
	if err != nil {
		return fmt.Errorf("store %s: record a delivered alert: %w", s.name, err)
	}
	return nil
}

func (s *sqlStore) PruneDeliveries(ctx context.Context, before time.Time) (int, error) {
	tx, err := s.beginWrite(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.end()
	res, err := tx.ExecContext(ctx, s.q(`DELETE FROM watch_alerts WHERE delivered_at < ?`), fmtTime(before))
	if err != nil {
		return 0, fmt.Errorf("store %s: prune deliveries: %w", s.name, s.lockErr(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("store %s: prune deliveries: %w", s.name, s.lockErr(err))
	}
	return int(n), nil
}
