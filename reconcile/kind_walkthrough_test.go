package reconcile

import (
	"context"
	"sort"
	"sync"
	"testing"
)

// The walk-through of README.md, true in a test: a new kind (an SNS-topic-like
// topic per sandbox, over a fake of its interface) is this one file plus its
// registration. km registers its kinds in kinds(); a test adds its own to the
// Runtime's extraKinds.

const typeTestTopic = "km_test_topic"

// topicAPI is the kind's AWS slice (an SNS topic's create, read, delete).
type topicAPI interface {
	ListTopics(ctx context.Context, prefix string) ([]string, error)
	CreateTopic(ctx context.Context, name string) error
	DeleteTopic(ctx context.Context, name string) error
}

// topicKind: one topic per sandbox, {prefix}-events-{sandbox}.
type topicKind struct{ api topicAPI }

func (topicKind) Type() string { return typeTestTopic }

func addrTopic(id string) string { return SandboxAddr(id) + "." + typeTestTopic + ".events" }

func topicName(rt *Runtime, id string) string { return rt.Names.Prefix + "-events-" + id }

// DependsOn: the topic is encrypted with its sandbox's key, say; deletions then
// run topic before key.
func (topicKind) DependsOn() []string { return []string{TypeKey} }

func (topicKind) Desired(d *decl) ([]*Resource, error) {
	var out []*Resource
	for _, sb := range d.sandboxes {
		name := topicName(d.rt, sb.ID)
		out = append(out, &Resource{
			Address: addrTopic(sb.ID), Type: typeTestTopic, Sandbox: sb.ID, ID: name,
			Attrs:     map[string]string{"name": name},
			DependsOn: []string{addrKey(sb.ID)},
		})
	}
	return out, nil
}

func (k topicKind) Read(ctx context.Context, rt *Runtime, desired []*Resource) ([]*Resource, error) {
	names, err := k.api.ListTopics(ctx, rt.Names.Prefix+"-events-")
	if err != nil {
		return nil, err
	}
	var out []*Resource
	for _, n := range names {
		id := n[len(rt.Names.Prefix+"-events-"):]
		out = append(out, &Resource{
			Address: addrTopic(id), Type: typeTestTopic, Sandbox: id, ID: n,
			Attrs: map[string]string{"name": n}, Fingerprint: "exists",
		})
	}
	return out, nil
}

func (k topicKind) ReadTouched(ctx context.Context, rt *Runtime, touched map[string]string, desiredBy map[string]*Resource) ([]*Resource, error) {
	return readTouchedDeclared(ctx, k, rt, touched, desiredBy)
}

func (topicKind) Diff(rt *Runtime, desired, live *Resource) (Action, string) {
	if act, why, done := diffPresence(desired, live, "topic"); done {
		return act, why
	}
	return diffAttrs(desired, live)
}

func (k topicKind) Apply(ctx context.Context, rt *Runtime, c *Change) (map[string]string, error) {
	if c.Action == Delete {
		return nil, k.api.DeleteTopic(ctx, c.ID)
	}
	return nil, k.api.CreateTopic(ctx, c.ID)
}

// fakeTopics is the kind's fake: a set of topic names.
type fakeTopics struct {
	mu     sync.Mutex
	topics map[string]bool
}

func (f *fakeTopics) ListTopics(_ context.Context, prefix string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for n := range f.topics {
		if len(n) > len(prefix) && n[:len(prefix)] == prefix {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out, nil
}

func (f *fakeTopics) CreateTopic(_ context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.topics[name] = true
	return nil
}

func (f *fakeTopics) DeleteTopic(_ context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.topics, name)
	return nil
}

// TestWalkthroughNewKind: a registered test-only kind is planned (its desired
// resources from the declaration, created in dependency order after the
// sandbox key), applied, found unchanged afterwards, recreated when deleted
// out of band, and an orphan is deleted before the key it depends on.
func TestWalkthroughNewKind(t *testing.T) {
	e := newSavedPlanEnv(t, "kmtopic", "sb-topic-a", "sb-topic-b")
	topics := &fakeTopics{topics: map[string]bool{}}
	e.rt.extraKinds = []Kind{topicKind{api: topics}}
	a, b := e.ids[0], e.ids[1]

	pl := e.plan(PlanOptions{})
	for _, id := range e.ids {
		c := findChange(pl.Plan, addrTopic(id))
		if c == nil || c.Action != Create || c.Reason != "topic missing" {
			t.Fatalf("first plan: topic of %s is %+v", id, c)
		}
		if len(c.DependsOn) != 1 || c.DependsOn[0] != addrKey(id) {
			t.Errorf("topic of %s depends on %v, want its key", id, c.DependsOn)
		}
	}
	if _, err := Apply(e.ctx, e.rt, pl, ApplyOptions{}); err != nil {
		t.Fatalf("apply: %v", err)
	}
	for _, id := range e.ids {
		if !topics.topics[topicName(e.rt, id)] {
			t.Errorf("apply did not create the topic of %s: %v", id, topics.topics)
		}
	}
	if pl := e.plan(PlanOptions{}); pl.Plan.HasChanges() {
		t.Fatalf("plan after apply: %+v", pl.Plan.Changes)
	}

	must(t, topics.DeleteTopic(e.ctx, topicName(e.rt, a)))
	gone := "sb-topic-gone-" + e.prefix
	must(t, topics.CreateTopic(e.ctx, topicName(e.rt, gone)))
	pl = e.plan(PlanOptions{})
	if c := findChange(pl.Plan, addrTopic(a)); c == nil || c.Action != Create {
		t.Errorf("topic deleted out of band: %+v", c)
	}
	if c := findChange(pl.Plan, addrTopic(b)); c != nil {
		t.Errorf("untouched topic planned: %+v", c)
	}
	if c := findChange(pl.Plan, addrTopic(gone)); c == nil || c.Action != Delete {
		t.Errorf("orphan topic: %+v", c)
	}
	if _, err := Apply(e.ctx, e.rt, pl, ApplyOptions{}); err != nil {
		t.Fatalf("apply: %v", err)
	}
	if !topics.topics[topicName(e.rt, a)] || topics.topics[topicName(e.rt, gone)] {
		t.Errorf("after the second apply: %v", topics.topics)
	}

	rank := deleteRanks(e.rt.kinds())
	if !(rank[typeTestTopic] < rank[TypeKey]) {
		t.Errorf("delete ranks %v: the topic must go before the key it depends on", rank)
	}
}

func findChange(p *Plan, addr string) *Change {
	for i := range p.Changes {
		if p.Changes[i].Address == addr {
			return &p.Changes[i]
		}
	}
	return nil
}
