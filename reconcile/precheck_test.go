package reconcile

import (
	"encoding/json"
	"errors"
	"github.com/klankermaker/km/internal/names"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/klankermaker/km/state"
)

// TestSavedPlanStale covers every resource type: a saved plan that touches the
// resource is refused, naming it and what changed, when the resource moved
// after the plan; and nothing is written. Each case first drifts the resource
// (so the plan touches it), saves the plan, then moves the resource again.
func TestSavedPlanStale(t *testing.T) {
	policy := func(sid string) string {
		return `{"Version":"2012-10-17","Statement":[{"Sid":"` + sid + `","Effect":"Allow","Action":"logs:PutLogEvents","Resource":"*"}]}`
	}
	setExpression := func(e *savedPlanEnv, sb, expr string) {
		s, err := e.aws.GetSchedule(e.ctx, e.n.ScheduleGroup(), e.n.Schedule(sb))
		if err != nil {
			e.t.Fatal(err)
		}
		s.Expression = expr
		if err := e.aws.UpdateSchedule(e.ctx, s); err != nil {
			e.t.Fatal(err)
		}
	}
	keyPolicy := func(e *savedPlanEnv, sb, id string) {
		pol, err := e.aws.GetKeyPolicy(e.ctx, e.keyID(sb))
		if err != nil {
			e.t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal([]byte(pol), &doc); err != nil {
			e.t.Fatal(err)
		}
		doc["Id"] = id
		b, _ := json.Marshal(doc)
		if err := e.aws.PutKeyPolicy(e.ctx, e.keyID(sb), string(b)); err != nil {
			e.t.Fatal(err)
		}
	}
	cases := []struct {
		name    string
		fresh   bool // plan from nothing instead of drifting an applied env
		drift   func(e *savedPlanEnv, sb string)
		move    func(e *savedPlanEnv, sb string)
		addr    func(sb string) string
		problem string
	}{
		{
			name: "ssm parameter",
			drift: func(e *savedPlanEnv, _ string) {
				e.put(e.n.AppClientIDParam(), "Iv1.drifted")
			},
			move: func(e *savedPlanEnv, _ string) {
				e.put(e.n.AppClientIDParam(), "Iv1.moved")
			},
			addr:    func(string) string { return addrAppClientID },
			problem: "value changed since the plan (planned against version=2, now version=3)",
		},
		{
			name: "iam role",
			drift: func(e *savedPlanEnv, _ string) {
				must(e.t, e.aws.PutRolePolicy(e.ctx, e.n.RefresherRole(), inlinePolicyName, policy("Drift")))
			},
			move: func(e *savedPlanEnv, _ string) {
				must(e.t, e.aws.PutRolePolicy(e.ctx, e.n.RefresherRole(), inlinePolicyName, policy("Moved")))
			},
			addr:    func(string) string { return addrRefresherRole },
			problem: "inline_policy changed since the plan",
		},
		{
			name:    "log group",
			drift:   func(e *savedPlanEnv, _ string) { must(e.t, e.aws.PutRetentionPolicy(e.ctx, e.n.LogGroup(), 7)) },
			move:    func(e *savedPlanEnv, _ string) { must(e.t, e.aws.PutRetentionPolicy(e.ctx, e.n.LogGroup(), 14)) },
			addr:    func(string) string { return addrLogGroup },
			problem: "retention_in_days changed since the plan (planned against retention=7, now retention=14)",
		},
		{
			name: "lambda function",
			drift: func(e *savedPlanEnv, _ string) {
				_, err := e.aws.UpdateFunctionCode(e.ctx, e.n.Function(), []byte("someone else's code"), "", "")
				must(e.t, err)
			},
			move: func(e *savedPlanEnv, _ string) {
				_, err := e.aws.UpdateFunctionCode(e.ctx, e.n.Function(), []byte("yet other code"), "", "")
				must(e.t, err)
			},
			addr:    func(string) string { return addrFunction },
			problem: "source_code_hash changed since the plan",
		},
		{
			name:  "schedule group",
			fresh: true,
			move: func(e *savedPlanEnv, _ string) {
				_, err := e.aws.CreateScheduleGroup(e.ctx, e.n.ScheduleGroup(), nil)
				must(e.t, err)
			},
			addr:    func(string) string { return addrScheduleGroup },
			problem: "was created since the plan (now exists)",
		},
		{
			name:    "kms key",
			drift:   func(e *savedPlanEnv, sb string) { keyPolicy(e, sb, "drifted") },
			move:    func(e *savedPlanEnv, sb string) { keyPolicy(e, sb, "moved") },
			addr:    addrKey,
			problem: "policy changed since the plan",
		},
		{
			name:  "kms alias",
			drift: func(e *savedPlanEnv, sb string) { must(e.t, e.aws.DeleteAlias(e.ctx, e.n.KeyAlias(sb))) },
			move: func(e *savedPlanEnv, sb string) {
				k, err := e.aws.CreateKey(e.ctx, "squatter", "", nil)
				must(e.t, err)
				must(e.t, e.aws.CreateAlias(e.ctx, e.n.KeyAlias(sb), k.KeyID))
			},
			addr:    addrAlias,
			problem: "was created since the plan (now target=",
		},
		{
			name: "github token",
			drift: func(e *savedPlanEnv, sb string) {
				e.writeToken(sb, "drifted-scope", "ghs_drift0000000000000000000000000000")
			},
			move: func(e *savedPlanEnv, sb string) {
				e.writeToken(sb, "moved-scope", "ghs_moved0000000000000000000000000000")
			},
			addr:    func(sb string) string { return addrToken(sb, "my-user") },
			problem: "scope changed since the plan",
		},
		{
			name:    "schedule",
			drift:   func(e *savedPlanEnv, sb string) { setExpression(e, sb, "rate(30 minutes)") },
			move:    func(e *savedPlanEnv, sb string) { setExpression(e, sb, "rate(20 minutes)") },
			addr:    addrSchedule,
			problem: "schedule_expression changed since the plan",
		},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newSavedPlanEnv(t, "kmst"+string(rune('a'+i)), "sb-st")
			sb := e.ids[0]
			if !tc.fresh {
				e.applyAll()
				tc.drift(e, sb)
			}
			f := e.save(PlanOptions{})
			touched := false
			for _, c := range f.Changes {
				touched = touched || c.Address == tc.addr(sb)
			}
			if !touched {
				t.Fatalf("the plan does not touch %s: %v", tc.addr(sb), f.Changes)
			}
			tc.move(e, sb)
			e.rec.Reset()
			_, err := e.applyFile(f)
			conflicts := staleConflicts(t, err)
			if len(conflicts) != 1 || conflicts[0].Address != tc.addr(sb) || !strings.Contains(conflicts[0].Problem, tc.problem) {
				t.Fatalf("conflicts = %+v, want one for %s containing %q", conflicts, tc.addr(sb), tc.problem)
			}
			msg := err.Error()
			for _, want := range []string{"the plan " + f.PlanID + " is stale", tc.addr(sb), "nothing was written", "Run km plan again"} {
				if !strings.Contains(msg, want) {
					t.Errorf("the error does not say %q:\n%s", want, msg)
				}
			}
			if w := e.rec.CountWrites(); w != 0 {
				t.Errorf("a refused plan wrote %d times", w)
			}
		})
	}
}

func (e *savedPlanEnv) put(name, value string) {
	e.t.Helper()
	_, err := e.aws.PutParameter(e.ctx, state.PutParameterInput{Name: name, Type: "String", Value: value, Overwrite: true})
	must(e.t, err)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestSavedPlanDeletesOrphanedSandbox: a plan that removes a sandbox deletes
// its key, alias, tokens and schedule; the fingerprints re-read for them match
// the plan's (no false conflict), and one deleted out of band is named.
func TestSavedPlanDeletesOrphanedSandbox(t *testing.T) {
	e := newSavedPlanEnv(t, "kmorph", "sb-orph-keep", "sb-orph-gone")
	goneID := e.ids[1]
	e.applyAll()
	cfg, err := os.ReadFile(e.w.ConfigPath)
	must(t, err)
	gone := "  - id: " + goneID + "\n    profile: my-profile\n    principal: arn:aws:iam::123456789012:role/km-sandbox-" + goneID + "\n"
	if !strings.Contains(string(cfg), gone) {
		t.Fatalf("unexpected demo km.yaml:\n%s", cfg)
	}
	must(t, os.WriteFile(e.w.ConfigPath, []byte(strings.Replace(string(cfg), gone, "", 1)), 0o644))

	f := e.save(PlanOptions{})
	want := []string{addrSchedule(goneID), addrToken(goneID, "my-user"), addrToken(goneID, "my-org"), addrAlias(goneID), addrKey(goneID)}
	got := map[string]Action{}
	for _, c := range e.ownChanges(f.Plan()) {
		got[c.Address] = c.Action
	}
	for _, a := range want {
		if got[a] != Delete {
			t.Fatalf("plan: %s is %q, want delete (plan: %v)", a, got[a], got)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("plan touches more than the removed sandbox: %v", got)
	}
	// Every fingerprint re-read matches: no conflict.
	if _, err := PrepareSavedPlan(e.ctx, e.config(), e.rt, f); err != nil {
		t.Fatalf("a fresh plan of deletions is refused: %v", err)
	}
	must(t, e.aws.DeleteSchedule(e.ctx, e.n.ScheduleGroup(), e.n.Schedule(goneID)))
	_, err = e.applyFile(f)
	conflicts := staleConflicts(t, err)
	if len(conflicts) != 1 || conflicts[0].Address != addrSchedule(goneID) || conflicts[0].Problem != "was deleted since the plan" {
		t.Fatalf("conflicts = %+v", conflicts)
	}
}

// TestSavedPlanAppliesExactlyOnce: a plan file applies once; the second apply
// is refused by the applied-plan record, and, with the record gone, by the
// preconditions.
func TestSavedPlanAppliesExactlyOnce(t *testing.T) {
	e := newSavedPlanEnv(t, "kmonce", "sb-once")
	f := e.save(PlanOptions{})
	res, err := e.applyFile(f)
	if err != nil {
		t.Fatalf("first apply: %v", err)
	}
	if res.Added != len(f.Changes) || len(res.Failed) != 0 {
		t.Fatalf("first apply: %+v for %d changes", res, len(f.Changes))
	}
	if own := e.ownChanges(e.plan(PlanOptions{}).Plan); len(own) != 0 {
		t.Fatalf("after applying the plan file, a new plan still has changes: %v", own)
	}
	rec, err := e.aws.GetParameter(e.ctx, AppliedPlanParam(e.n, f.PlanID), false)
	must(t, err)
	if !strings.Contains(rec.Value, `"status":"applied"`) || !strings.Contains(rec.Value, f.PlanID) {
		t.Errorf("applied record: %s", rec.Value)
	}

	e.rec.Reset()
	_, err = e.applyFile(f)
	if !errors.Is(err, ErrPlanApplied) || !strings.Contains(err.Error(), "can be applied only once") {
		t.Fatalf("second apply: err = %v, want ErrPlanApplied", err)
	}
	if w := e.rec.CountWrites(); w != 0 {
		t.Errorf("the refused second apply wrote %d times", w)
	}

	// Without the record, the preconditions refuse it: every created resource
	// now exists.
	must(t, e.aws.DeleteParameter(e.ctx, AppliedPlanParam(e.n, f.PlanID)))
	_, err = e.applyFile(f)
	conflicts := staleConflicts(t, err)
	if len(conflicts) < len(e.ownChanges(f.Plan())) {
		t.Fatalf("only %d conflicts for %d applied changes", len(conflicts), len(f.Changes))
	}
	for _, c := range conflicts {
		if !strings.Contains(c.Problem, "was created since the plan") {
			t.Errorf("%s: %s", c.Address, c.Problem)
		}
	}
}

func TestClaimPlanOnlyOnce(t *testing.T) {
	e := newSavedPlanEnv(t, "kmclaim", "sb-claim")
	f := &PlanFile{PlanID: newTestPlanID(t), DeclarationHash: "h", CreatedAt: time.Now()}
	must(t, ClaimPlan(e.ctx, e.rt, f))
	if err := ClaimPlan(e.ctx, e.rt, f); !errors.Is(err, ErrPlanApplied) {
		t.Fatalf("second claim: %v", err)
	}
	if err := CheckNotApplied(e.ctx, e.rt, f); !errors.Is(err, ErrPlanApplied) || !strings.Contains(err.Error(), "(applying)") {
		t.Fatalf("check after claim: %v", err)
	}
}

// TestSavedPlanDeclarationChanged: a plan of another declaration is refused
// before anything is read.
func TestSavedPlanDeclarationChanged(t *testing.T) {
	e := newSavedPlanEnv(t, "kmdecl", "sb-decl")
	f := e.save(PlanOptions{})
	cfg, err := os.ReadFile(e.w.ConfigPath)
	must(t, err)
	must(t, os.WriteFile(e.w.ConfigPath, append(cfg, []byte("# a comment changes the hash\n")...), 0o644))
	e.rec.Reset()
	_, err = e.applyFile(f)
	if !errors.Is(err, ErrStalePlan) || !strings.Contains(err.Error(), "the declaration changed since the plan") {
		t.Fatalf("err = %v", err)
	}
	for _, c := range e.rec.Calls() {
		if c.Operation != "GetParameter" { // the applied-plan check
			t.Errorf("a plan of another declaration made AWS call %s", c.Operation)
		}
	}
}

// TestSavedPlanOtherKM: a km whose refresher package differs would upload
// other code than the plan shows: refused.
func TestSavedPlanOtherKM(t *testing.T) {
	e := newSavedPlanEnv(t, "kmother", "sb-other")
	f := e.save(PlanOptions{})
	e.rt.Zip = []byte("another km build")
	_, err := e.applyFile(f)
	conflicts := staleConflicts(t, err)
	if len(conflicts) != 1 || conflicts[0].Address != addrFunction ||
		!strings.Contains(conflicts[0].Problem, "this km would now write a different source_code_hash") {
		t.Fatalf("conflicts = %+v", conflicts)
	}
}

// TestSavedPlanToleratesTokenRefresh: the refresher re-minting a token with the
// same scope between plan and apply does not make the plan stale.
func TestSavedPlanToleratesTokenRefresh(t *testing.T) {
	e := newSavedPlanEnv(t, "kmrefr", "sb-refr")
	sb := e.ids[0]
	e.applyAll()
	e.writeToken(sb, "stale-scope", "ghs_first00000000000000000000000000000")
	f := e.save(PlanOptions{})
	e.writeToken(sb, "stale-scope", "ghs_second0000000000000000000000000000")
	if _, err := e.applyFile(f); err != nil {
		t.Fatalf("apply after a refresh: %v", err)
	}
	tok, err := e.aws.GetParameter(e.ctx, "/sandbox/"+sb+"/github-token", true)
	must(t, err)
	if is, ok := e.sim.LookupToken(tok.Value); !ok || is.Account != "my-user" {
		t.Fatalf("the token was not re-minted by apply: %+v %v", is, ok)
	}
}

// TestSavedPlanTargets: --target limits the plan (and so the saved plan's
// apply) to the target and what it depends on.
func TestSavedPlanTargets(t *testing.T) {
	e := newSavedPlanEnv(t, "kmtgt", "sb-tgt-a", "sb-tgt-b")
	a, b := e.ids[0], e.ids[1]
	f := e.save(PlanOptions{Targets: []string{SandboxAddr(a)}})
	if len(f.Warnings) == 0 || !strings.Contains(f.Warnings[0], "targeting") || len(f.Targets) != 1 {
		t.Fatalf("targeted plan: warnings %v targets %v", f.Warnings, f.Targets)
	}
	for _, c := range f.Changes {
		if c.Sandbox == b {
			t.Fatalf("targeted plan touches the other sandbox: %s", c.Address)
		}
	}
	got := map[string]bool{}
	for _, c := range f.Changes {
		got[c.Address] = true
	}
	for _, a := range []string{addrKey(a), addrSchedule(a), addrFunction, addrRefresherRole, addrScheduleGroup} {
		if !got[a] {
			t.Errorf("targeted plan misses %s (target or dependency)", a)
		}
	}
	if got[addrAppClientID] {
		t.Errorf("targeted plan includes %s, which the target does not need", addrAppClientID)
	}
	if _, err := e.applyFile(f); err != nil {
		t.Fatal(err)
	}
	left := map[string]bool{}
	for _, c := range e.ownChanges(e.plan(PlanOptions{}).Plan) {
		left[c.Sandbox] = true
		if c.Sandbox == a {
			t.Errorf("after the targeted apply %s still changes", c.Address)
		}
	}
	if !left[b] {
		t.Errorf("the untargeted sandbox was applied too")
	}
}

// TestSavedPlanHoldsNoSecret: neither the App key nor any minted token is in a
// plan file, even one that re-mints tokens.
func TestSavedPlanHoldsNoSecret(t *testing.T) {
	e := newSavedPlanEnv(t, "kmsecret", "sb-secret")
	sb := e.ids[0]
	first := e.save(PlanOptions{})
	e.applyAll()
	e.writeToken(sb, "other-scope", "ghs_planted000000000000000000000000000")
	second := e.save(PlanOptions{})
	pem, err := os.ReadFile(e.w.KeyPath)
	must(t, err)
	body := strings.Split(strings.TrimSpace(string(pem)), "\n")[3] // a line of the key's base64
	for _, f := range []*PlanFile{first, second} {
		b, err := f.Encode()
		must(t, err)
		s := string(b)
		for _, secret := range []string{"PRIVATE KEY", body, "ghs_planted"} {
			if strings.Contains(s, secret) {
				t.Errorf("plan file holds a secret (%.12s...)", secret)
			}
		}
		for _, tok := range e.sim.Tokens() {
			if strings.Contains(s, tok.Token) {
				t.Errorf("plan file holds a minted token")
			}
		}
	}
	if len(e.sim.Tokens()) == 0 {
		t.Fatal("no token was minted: the test proves nothing")
	}
}

// TestSavedPlanReadsOnlyTouched: re-checking a plan that touches one of three
// sandboxes reads that sandbox's key, not the others'.
func TestSavedPlanReadsOnlyTouched(t *testing.T) {
	e := newSavedPlanEnv(t, "kmonly", "sb-only-a", "sb-only-b", "sb-only-c")
	sb := e.ids[1]
	e.applyAll()
	s, err := e.aws.GetSchedule(e.ctx, e.n.ScheduleGroup(), e.n.Schedule(sb))
	must(t, err)
	s.Expression = "rate(10 minutes)"
	must(t, e.aws.UpdateSchedule(e.ctx, s))
	f := e.save(PlanOptions{})
	if own := e.ownChanges(f.Plan()); len(own) != 1 || own[0].Address != addrSchedule(sb) {
		t.Fatalf("plan: %+v", own)
	}
	e.rec.Reset()
	if _, err := PrepareSavedPlan(e.ctx, e.config(), e.rt, f); err != nil {
		t.Fatal(err)
	}
	for _, c := range e.rec.Calls() {
		switch c.Operation {
		case "DescribeKey", "GetKeyPolicy", "ListAliases", "DescribeLogGroups", "DescribeParameters":
			t.Errorf("re-checking a schedule change called %s", c.Operation)
		case "GetSchedule":
			if n := inputField(c.Input, "Name"); n != e.n.Schedule(sb) {
				t.Errorf("re-checking read schedule %s", n)
			}
		case "GetRole": // the schedule references the scheduler role's ARN
			if n := inputField(c.Input, "RoleName"); n != e.n.SchedulerRole() {
				t.Errorf("re-checking read role %s", n)
			}
		}
	}
}

// inputField returns a string field of an SDK input (a *struct with *string
// fields) without importing the SDK.
func inputField(in any, name string) string {
	v := reflect.ValueOf(in)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return ""
	}
	f := v.Elem().FieldByName(name)
	if !f.IsValid() || f.Kind() != reflect.Pointer || f.IsNil() || f.Elem().Kind() != reflect.String {
		return ""
	}
	return f.Elem().String()
}

// TestSavedPlanDeletesLeakedKey: a saved plan that deletes a key no alias names
// (left by an interrupted apply) re-reads that key by its id and applies.
func TestSavedPlanDeletesLeakedKey(t *testing.T) {
	e := newSavedPlanEnv(t, "kmleak", "sb-leak-a")
	e.applyAll()
	sb := e.ids[0]
	k, err := e.aws.CreateKey(e.ctx, "leaked", "", map[string]string{names.TagManaged: "true", names.TagSandbox: sb, names.TagPrefix: e.prefix})
	must(t, err)
	f := e.save(PlanOptions{})
	if own := e.ownChanges(f.Plan()); len(own) != 1 || own[0].Address != addrLeakedKey(sb, k.KeyID) || own[0].Action != Delete {
		t.Fatalf("plan: %+v", own)
	}
	if _, err := e.applyFile(f); err != nil {
		t.Fatalf("apply of the saved plan: %v", err)
	}
	got, err := e.aws.DescribeKey(e.ctx, k.KeyID)
	if err != nil || got.State != "PendingDeletion" {
		t.Fatalf("leaked key after apply: %+v %v", got, err)
	}
}
