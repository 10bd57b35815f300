package profiles

import "gopkg.in/yaml.v3"

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
