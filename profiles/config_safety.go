package profiles

import (
	"math"
	"sort"

	"gopkg.in/yaml.v3"
)

// DefaultMaxDestroyPercent is safety.maxDestroyPercent when km.yaml leaves it out.
const DefaultMaxDestroyPercent = 20

// Safety is km.yaml's safety section: guards against destroying by accident.
type Safety struct {
	// MaxDestroyPercent: a plan that destroys more than this share of the live
	// sandboxes needs --allow-destroy N naming the count (0 to 100; default 20).
	MaxDestroyPercent int
}

var safetyKeys = []string{"maxDestroyPercent"}

func (l *loader) decodeSafety(d *decoder, n *yaml.Node, s *Safety) {
	if !d.isMapping(n, "safety") {
		return
	}
	f := d.fields(n, "safety", safetyKeys)
	if v, ok := f["maxDestroyPercent"]; ok {
		if x, ok := d.int32In(v.val, "safety.maxDestroyPercent", 0, 100); ok {
			s.MaxDestroyPercent = int(x)
		}
	}
}

// QuotaOverride is one entry of km.yaml's quotas section: the request rate
// (per second) km allows itself for one quota bucket, or, under the key
// "scale", a factor applied to every default. The bucket names are checked
// where the quota table lives; Pos lets that check name file:line:col.
type QuotaOverride struct {
	Bucket    string
	PerSecond float64
	Pos       Pos
}

func (l *loader) decodeQuotas(d *decoder, n *yaml.Node, cfg *Config) {
	if !d.isMapping(n, "quotas") {
		return
	}
	const expected = "a positive number of requests per second, like 5 or 0.5"
	for _, f := range d.fields(n, "quotas", nil) {
		v := ResolveNode(f.val)
		var x float64
		if v.Kind != yaml.ScalarNode || (v.ShortTag() != "!!int" && v.ShortTag() != "!!float") || v.Decode(&x) != nil {
			d.wrongType(v, "quotas."+f.key.Value, expected)
			continue
		}
		if !(x > 0) || math.IsInf(x, 0) {
			d.errf(v, "quotas.%s: found %s; expected %s", f.key.Value, ShowValue(v.Value), expected)
			continue
		}
		cfg.Quotas = append(cfg.Quotas, QuotaOverride{Bucket: f.key.Value, PerSecond: x, Pos: d.pos(f.key)})
	}
	sort.Slice(cfg.Quotas, func(i, j int) bool { return cfg.Quotas[i].Bucket < cfg.Quotas[j].Bucket })
}
