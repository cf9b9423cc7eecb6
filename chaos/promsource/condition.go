package promsource

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/prometheus/common/model"

	"github.com/slokit/slokit/chaos"
)

var _ chaos.ConditionReader = (*Source)(nil)

// Condition evaluates expr now and reports whether it returned at least one sample, the
// way an alerting rule's expression is read. A scalar counts as a sample unless it is 0
// or NaN.
func (s *Source) Condition(ctx context.Context, expr string) (bool, error) {
	v, _, _, err := s.api.Query(ctx, expr, time.Time{})
	if err != nil {
		return false, fmt.Errorf("evaluating %s at %s: %w", expr, s.url, err)
	}
	switch v := v.(type) {
	case model.Vector:
		return len(v) > 0, nil
	case *model.Scalar:
		f := float64(v.Value)
		return f != 0 && !math.IsNaN(f), nil
	}
	return false, fmt.Errorf("evaluating %s at %s: want an instant vector, got %s", expr, s.url, v.Type())
}
