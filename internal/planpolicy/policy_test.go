package planpolicy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/klankermaker/km/internal/demo"
	"github.com/klankermaker/km/internal/githubsim"
	"github.com/klankermaker/km/internal/planapply"
	"github.com/klankermaker/km/state/statetest"
)

// policyDir is the example policy users copy (examples/policy).
var policyDir = filepath.Join("..", "..", "examples", "policy")

// policy is the example policy prepared for evaluation, as conftest would
// query it: data.main's deny and warn sets.
type policy struct{ q rego.PreparedEvalQuery }

func loadPolicy(t *testing.T) *policy {
	t.Helper()
	q, err := rego.New(rego.Query("data.main"), rego.Load([]string{policyDir}, nil)).PrepareForEval(context.Background())
	if err != nil {
		t.Fatalf("loading the policy in %s: %v", policyDir, err)
	}
	return &policy{q: q}
}

// verdict is what the policy said about one plan, reduced to what is
// comparable between a km plan and a Terraform plan of the same resources:
// rule, resource type and actions of every message, sorted. Each message must
// start with the address of a resource change of the plan.
type verdict []string

func (p *policy) eval(t *testing.T, name string, planJSON []byte) verdict {
	t.Helper()
	var input map[string]any
	if err := json.Unmarshal(planJSON, &input); err != nil {
		t.Fatalf("%s: not JSON: %v", name, err)
	}
	rs, err := p.q.Eval(context.Background(), rego.EvalInput(input))
	if err != nil {
		t.Fatalf("%s: evaluating the policy: %v", name, err)
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		t.Fatalf("%s: policy result %v", name, rs)
	}
	doc, _ := rs[0].Expressions[0].Value.(map[string]any)
	changes := map[string]map[string]any{}
	rcs, _ := input["resource_changes"].([]any)
	for _, x := range rcs {
		rc, _ := x.(map[string]any)
		addr, _ := rc["address"].(string)
		changes[addr] = rc
	}
	out := verdict{}
	for _, rule := range []string{"deny", "warn"} {
		msgs, _ := doc[rule].([]any)
		for _, m := range msgs {
			msg, _ := m.(string)
			addr, _, ok := strings.Cut(msg, ": ")
			rc := changes[addr]
			if !ok || rc == nil {
				t.Errorf("%s: %s message %q does not start with the address of a resource change", name, rule, msg)
				continue
			}
			ch, _ := rc["change"].(map[string]any)
			acts, _ := json.Marshal(ch["actions"])
			out = append(out, rule+" "+rc["type"].(string)+" "+string(acts))
		}
	}
	sort.Strings(out)
	return out
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPolicyOnTerraformPlans pins the policy's verdicts on hand-written
// Terraform plans (Terraform's documented JSON representation).
func TestPolicyOnTerraformPlans(t *testing.T) {
	p := loadPolicy(t)
	for _, tc := range []struct {
		file string
		want verdict
	}{
		{"terraform-noop.json", verdict{}},
		{"terraform-destroy-sandbox.json", verdict{`deny aws_kms_key ["delete"]`}},
		{"terraform-create-parameters.json", verdict{`warn aws_ssm_parameter ["create"]`, `warn aws_ssm_parameter ["update"]`}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			if got := p.eval(t, tc.file, readFixture(t, tc.file)); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("verdict %q, want %q", got, tc.want)
			}
		})
	}
}

// kmEnv is one declaration on kumo and the GitHub simulator.
type kmEnv struct {
	t       *testing.T
	written demo.Written
	env     planapply.Env
	out     *bytes.Buffer
}

func newKMEnv(t *testing.T, prefix string, sandboxes ...string) *kmEnv {
	t.Helper()
	aws, _, _ := statetest.NewKumo(t)
	sim := githubsim.New()
	t.Cleanup(sim.Close)
	dir := t.TempDir()
	w, err := demo.Write(sim, dir, demo.Options{Prefix: prefix, Sandboxes: sandboxes})
	if err != nil {
		t.Fatal(err)
	}
	zip := filepath.Join(dir, "refresher.zip")
	if err := os.WriteFile(zip, []byte("zip-"+prefix), 0o644); err != nil {
		t.Fatal(err)
	}
	out := &bytes.Buffer{}
	return &kmEnv{t: t, written: w, out: out, env: planapply.Env{
		ConfigPath: w.ConfigPath,
		Getenv: func(k string) string {
			if k == "KM_REFRESHER_ZIP" {
				return zip
			}
			return ""
		},
		Stdout: out, Stderr: out, AWS: aws,
	}}
}

func (e *kmEnv) session() *planapply.Session {
	e.t.Helper()
	s, err := planapply.Open(context.Background(), e.env)
	if err != nil {
		e.t.Fatalf("open: %v", err)
	}
	return s
}

// plan runs km plan --format json --out FILE and km show --format json FILE
// and returns both documents.
func (e *kmEnv) plan() (planJSON, showJSON []byte) {
	e.t.Helper()
	e.out.Reset()
	file := filepath.Join(e.t.TempDir(), "km.plan.json")
	if _, err := e.session().PlanCommand(context.Background(), planapply.PlanOptions{Format: "json", OutFile: file}); err != nil {
		e.t.Fatalf("km plan --format json: %v\n%s", err, e.out.String())
	}
	planJSON = append([]byte(nil), e.out.Bytes()...)
	var show bytes.Buffer
	if err := planapply.ShowPlanFile(&show, file, "json", false); err != nil {
		e.t.Fatalf("km show --format json: %v", err)
	}
	e.noSecret("km plan --format json", planJSON)
	e.noSecret("km show --format json", show.Bytes())
	return planJSON, show.Bytes()
}

// noSecret fails when the App private key or a GitHub token is in out.
func (e *kmEnv) noSecret(what string, out []byte) {
	e.t.Helper()
	key, err := os.ReadFile(e.written.KeyPath)
	if err != nil {
		e.t.Fatal(err)
	}
	body := strings.TrimSpace(strings.Join(strings.Split(string(key), "\n")[1:3], ""))
	for _, s := range []string{"PRIVATE KEY", body, "ghs_"} {
		if s != "" && bytes.Contains(out, []byte(s)) {
			e.t.Errorf("%s holds a secret (%.20q…)", what, s)
		}
	}
}

func (e *kmEnv) apply() {
	e.t.Helper()
	if err := e.session().PlanAndApply(context.Background(), planapply.ApplyOptions{AutoApprove: true}); err != nil {
		e.t.Fatalf("apply: %v\n%s", err, e.out.String())
	}
}

// TestPolicyOnKMPlans runs the policy on real km plans and compares each
// verdict with the one on the Terraform plan of the same change: it passes
// on a plan without changes, denies the plan that destroys a sandbox (its
// KMS key is deleted), and on the first plan warns exactly where the km plan
// creates a SecureString aws_ssm_parameter without a key_id.
func TestPolicyOnKMPlans(t *testing.T) {
	p := loadPolicy(t)
	e := newKMEnv(t, "kmpolicy", "sb-pol1", "sb-pol2")

	first, firstShown := e.plan()
	for name, doc := range map[string][]byte{"km plan (from scratch)": first, "km show (from scratch)": firstShown} {
		got := p.eval(t, name, doc)
		t.Logf("%s: verdict %q", name, got)
		if want := oracle(t, doc); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: verdict %q, want %q", name, got, want)
		}
		for _, v := range got {
			if strings.HasPrefix(v, "deny") {
				t.Errorf("%s: a plan that only creates is denied: %q", name, got)
			}
		}
	}
	e.apply()

	noop, noopShown := e.plan()
	tfNoop := p.eval(t, "terraform-noop.json", readFixture(t, "terraform-noop.json"))
	for name, doc := range map[string][]byte{"km plan (no changes)": noop, "km show (no changes)": noopShown} {
		if got := p.eval(t, name, doc); len(got) != 0 || !reflect.DeepEqual(got, tfNoop) {
			t.Errorf("%s: verdict %q, want none, as on the Terraform plan (%q)", name, got, tfNoop)
		}
		// The policy saw the resources: as Terraform, km lists them as no-op.
		for _, typ := range []string{"aws_kms_key", "aws_ssm_parameter", "km_github_token"} {
			if n := countActions(t, doc, typ, `["no-op"]`); n == 0 {
				t.Errorf("%s: no %s listed with actions [\"no-op\"]", name, typ)
			}
		}
		if n := countActions(t, doc, "", `["no-op"]`); n != countActions(t, doc, "", "") {
			t.Errorf("%s: %d no-op entries of %d: the plan without changes changes something", name, n, countActions(t, doc, "", ""))
		}
	}

	// Remove sb-pol2 from km.yaml: the plan destroys its schedule, tokens,
	// alias and key.
	cfg, err := os.ReadFile(e.written.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(cfg), "  - id: sb-pol2")
	if i < 0 {
		t.Fatalf("km.yaml has no sb-pol2:\n%s", cfg)
	}
	if err := os.WriteFile(e.written.ConfigPath, cfg[:i], 0o644); err != nil {
		t.Fatal(err)
	}
	destroy, destroyShown := e.plan()
	tfDestroy := p.eval(t, "terraform-destroy-sandbox.json", readFixture(t, "terraform-destroy-sandbox.json"))
	for name, doc := range map[string][]byte{"km plan (sandbox removed)": destroy, "km show (sandbox removed)": destroyShown} {
		got := p.eval(t, name, doc)
		want := verdict{`deny aws_kms_key ["delete"]`}
		if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(got, tfDestroy) {
			t.Errorf("%s: verdict %q, want %q as on the Terraform plan (%q)", name, got, want, tfDestroy)
		}
		if !strings.Contains(string(doc), `"address": "sandbox[\"sb-pol2\"].aws_kms_key.token"`) {
			t.Errorf("%s: no change for sb-pol2's key:\n%s", name, doc)
		}
	}
}

// countActions counts the resource changes of a type ("": any) whose actions
// are the JSON list actions ("": any).
func countActions(t *testing.T, doc []byte, typ, actions string) int {
	t.Helper()
	var plan struct {
		ResourceChanges []struct {
			Type   string `json:"type"`
			Change struct {
				Actions json.RawMessage `json:"actions"`
			} `json:"change"`
		} `json:"resource_changes"`
	}
	if err := json.Unmarshal(doc, &plan); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, rc := range plan.ResourceChanges {
		var compact bytes.Buffer
		_ = json.Compact(&compact, rc.Change.Actions)
		if (typ == "" || rc.Type == typ) && (actions == "" || compact.String() == actions) {
			n++
		}
	}
	return n
}

// oracle computes, without Rego, what the policy must say about a plan: deny
// every aws_kms_key change whose actions contain delete; warn on every
// created or updated SecureString aws_ssm_parameter without a customer key.
func oracle(t *testing.T, doc []byte) verdict {
	t.Helper()
	var plan struct {
		ResourceChanges []struct {
			Type   string `json:"type"`
			Change struct {
				Actions []string          `json:"actions"`
				After   map[string]string `json:"after"`
			} `json:"change"`
		} `json:"resource_changes"`
	}
	if err := json.Unmarshal(doc, &plan); err != nil {
		t.Fatal(err)
	}
	out := verdict{}
	for _, rc := range plan.ResourceChanges {
		acts, _ := json.Marshal(rc.Change.Actions)
		has := func(a string) bool {
			for _, x := range rc.Change.Actions {
				if x == a {
					return true
				}
			}
			return false
		}
		switch {
		case rc.Type == "aws_kms_key" && has("delete"):
			out = append(out, "deny "+rc.Type+" "+string(acts))
		case rc.Type == "aws_ssm_parameter" && (has("create") || has("update")) && rc.Change.After["type"] == "SecureString" &&
			(rc.Change.After["key_id"] == "" || rc.Change.After["key_id"] == "alias/aws/ssm"):
			out = append(out, "warn "+rc.Type+" "+string(acts))
		}
	}
	sort.Strings(out)
	return out
}
