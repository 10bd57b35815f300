package planapply

import (
	"fmt"

	"github.com/klankermaker/km/internal/quota"
	"github.com/klankermaker/km/profiles"
)

// QuotaTable is the request-rate table km paces itself by: AWS's and
// GitHub's defaults, multiplied by km.yaml's quotas.scale, then km.yaml's
// per-bucket rates. An unknown bucket is an error naming file:line:col.
func QuotaTable(cfg *profiles.Config) (quota.Table, error) {
	t := quota.Default()
	rates := map[string]float64{}
	for _, q := range cfg.Quotas {
		if q.Bucket == "scale" {
			t = t.Scaled(q.PerSecond)
			continue
		}
		if _, err := quota.Default().With(map[string]float64{q.Bucket: q.PerSecond}); err != nil {
			return quota.Table{}, fmt.Errorf("%s:%d:%d: quotas: %w (or scale, a factor for every default)", q.Pos.File, q.Pos.Line, q.Pos.Col, err)
		}
		rates[q.Bucket] = q.PerSecond
	}
	return t.With(rates)
}
