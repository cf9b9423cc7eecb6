package operator

import (
	"fmt"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/slokit/slokit/operator/api/v1alpha1"
)

// schedule is a parsed GameDay schedule.
type schedule struct {
	spec cron.Schedule
	loc  *time.Location
	raw  *v1alpha1.Schedule
}

// parseSchedule parses the cron expression (five fields or a descriptor like @daily)
// in its time zone; the problems are positioned by field path.
func parseSchedule(s *v1alpha1.Schedule) (*schedule, []string) {
	var problems []string
	loc := time.UTC
	if s.TimeZone != "" {
		l, err := time.LoadLocation(s.TimeZone)
		if err != nil {
			problems = append(problems, fmt.Sprintf("spec.schedule.timeZone: unknown time zone %q (an IANA name like Europe/Paris)", s.TimeZone))
		} else {
			loc = l
		}
	}
	spec, err := cron.ParseStandard(s.Cron)
	if err != nil {
		problems = append(problems, fmt.Sprintf("spec.schedule.cron: %v (five fields: minute hour day-of-month month day-of-week, or @hourly, @daily, @every 2h)", err))
	}
	if problems != nil {
		return nil, problems
	}
	return &schedule{spec: spec, loc: loc, raw: s}, nil
}

// maxMissed bounds the walk over missed schedule times (CronJob gives up after 100;
// slokit only needs the latest, so it walks further and then keeps the last found).
const maxMissed = 100000

// lastDue returns the latest schedule time in (after, now], or zero when none.
func (s *schedule) lastDue(after, now time.Time) time.Time {
	var last time.Time
	t := after.In(s.loc)
	for i := 0; i < maxMissed; i++ {
		t = s.spec.Next(t)
		if t.IsZero() || t.After(now) {
			break
		}
		last = t
	}
	return last
}

// next returns the first schedule time after now.
func (s *schedule) next(now time.Time) time.Time { return s.spec.Next(now.In(s.loc)) }

// decision is what the schedule asks for at one reconcile.
type decision struct {
	// start: launch a run for scheduled (zero for a one-shot run).
	start     bool
	scheduled time.Time
	// replace: stop the running runs first (Replace); the new run starts once they ended.
	replace bool
	// skipped names why a due time was not run ("" when none was skipped).
	skipped string
	// record: set status.lastScheduleTime to scheduled.
	record bool
	// next is the next schedule time (zero without a schedule or when suspended).
	next time.Time
}

// decide applies CronJob's semantics to gd at now: the latest missed schedule time is
// run unless it is older than startingDeadlineSeconds, and the concurrency policy
// decides what happens while running runs are in progress. Without a schedule the
// GameDay runs once per generation, after any running run ended.
func decide(gd *v1alpha1.GameDay, s *schedule, now time.Time, running int) decision {
	if s == nil {
		return decision{start: running == 0 && gd.Status.LastRunGeneration < gd.Generation}
	}
	if s.raw.Suspend {
		return decision{}
	}
	d := decision{next: s.next(now)}
	after := gd.CreationTimestamp.Time
	if lt := gd.Status.LastScheduleTime; lt != nil {
		after = lt.Time
	}
	due := s.lastDue(after, now)
	if due.IsZero() {
		return d
	}
	d.scheduled = due
	if dl := s.raw.StartingDeadlineSeconds; dl != nil && now.Sub(due) > time.Duration(*dl)*time.Second {
		d.record, d.skipped = true, fmt.Sprintf("missed the run of %s by %s, more than startingDeadlineSeconds %d", due.Format(time.RFC3339), now.Sub(due).Round(time.Second), *dl)
		return d
	}
	if running == 0 {
		d.start, d.record = true, true
		return d
	}
	switch s.raw.ConcurrencyPolicy {
	case v1alpha1.ConcurrencyAllow:
		d.start, d.record = true, true
	case v1alpha1.ConcurrencyReplace:
		d.replace = true // the due time stays pending until the running runs ended
	default: // Forbid, the default
		d.record, d.skipped = true, fmt.Sprintf("the run of %s was skipped: another run is in progress (concurrencyPolicy Forbid)", due.Format(time.RFC3339))
	}
	return d
}
