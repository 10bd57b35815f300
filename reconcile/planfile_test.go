package reconcile_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/klankermaker/km/reconcile"
	"github.com/klankermaker/km/reconcile/plantest"
	"github.com/klankermaker/km/reconcile/views"
)

func TestPlanFileRoundTrip(t *testing.T) {
	p := plantest.Plans()["mixed"]
	f, err := reconcile.NewPlanFile(p, plantest.Meta())
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.Encode()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"sensitive:SHA256:aaaa", "sensitive:SHA256:bbbb"} {
		if strings.Contains(string(b), s) {
			t.Errorf("the plan file holds the sensitive value %q", s)
		}
	}
	got, err := reconcile.DecodePlanFile(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.PlanID != plantest.Meta().PlanID || !got.CreatedAt.Equal(plantest.Meta().CreatedAt) || got.Account != "123456789012" ||
		got.Kind != reconcile.PlanFileKind || got.FormatVersion != reconcile.PlanFileVersion || got.DeclarationHash != p.DeclarationHash ||
		got.Summary != (reconcile.JSONSummary{Add: 3, Change: 2, Destroy: 4}) || !reflect.DeepEqual(got.Targets, p.Targets) {
		t.Errorf("header did not survive: %+v", got)
	}
	if len(got.Changes) != len(p.Changes) {
		t.Fatalf("%d changes, want %d", len(got.Changes), len(p.Changes))
	}
	for i, c := range got.Changes {
		want := p.Changes[i]
		if c.Address != want.Address || c.Action != want.Action || c.Precondition != want.Precondition ||
			!reflect.DeepEqual(c.ForceNew, want.ForceNew) {
			t.Errorf("change %d: got %+v, want %+v", i, c, want)
		}
		for k, v := range want.After {
			if want.IsSensitive(k) {
				if !strings.HasPrefix(c.After[k], reconcile.SealedPrefix) {
					t.Errorf("%s.%s not sealed: %q", c.Address, k, c.After[k])
				}
				continue
			}
			if c.After[k] != v {
				t.Errorf("%s.%s = %q, want %q", c.Address, k, c.After[k], v)
			}
		}
	}
	// A changed sensitive value still shows as changed; an equal one as equal.
	pk := got.Changes[1]
	if pk.Before["value"] == pk.After["value"] {
		t.Errorf("sealing hid that the private key changes")
	}
	if reconcile.SealValue("x") != reconcile.SealValue("x") || reconcile.SealValue(reconcile.SealValue("x")) != reconcile.SealValue("x") {
		t.Errorf("sealing is not stable")
	}
	// The unchanged resources survive, sealed: km show --format json lists
	// them as km plan --format json does.
	if len(got.Unchanged) != len(p.Unchanged) || len(p.Unchanged) == 0 {
		t.Fatalf("%d unchanged, want %d", len(got.Unchanged), len(p.Unchanged))
	}
	if v := got.Unchanged[1].After["value"]; !strings.HasPrefix(v, reconcile.SealedPrefix) {
		t.Errorf("unchanged sensitive value not sealed: %q", v)
	}
	// The file renders like the plan it came from.
	for name, render := range map[string]func(*strings.Builder, *reconcile.Plan, reconcile.PlanMeta) error{
		"markdown": func(w *strings.Builder, p *reconcile.Plan, m reconcile.PlanMeta) error {
			return views.RenderMarkdown(w, p, views.MarkdownOptions{PlanMeta: m})
		},
		"json": func(w *strings.Builder, p *reconcile.Plan, m reconcile.PlanMeta) error {
			return views.RenderJSON(w, p, m)
		},
	} {
		var a, b2 strings.Builder
		if err := render(&a, p, plantest.Meta()); err != nil {
			t.Fatal(err)
		}
		if err := render(&b2, got.Plan(), got.Meta()); err != nil {
			t.Fatal(err)
		}
		if a.String() != b2.String() {
			t.Errorf("%s: the plan file renders differently from its plan:\n%s\n---\n%s", name, a.String(), b2.String())
		}
	}
}

func TestNewPlanFileNeedsID(t *testing.T) {
	if _, err := reconcile.NewPlanFile(&reconcile.Plan{}, reconcile.PlanMeta{PlanID: "nope"}); err == nil {
		t.Fatal("accepted a plan id that is not a UUID")
	}
	f, err := reconcile.NewPlanFile(&reconcile.Plan{Prefix: "km", DeclarationHash: "h"}, reconcile.PlanMeta{PlanID: plantest.Meta().PlanID})
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(f.CreatedAt) > time.Minute {
		t.Errorf("created_at defaults to %v, not now", f.CreatedAt)
	}
}

func TestDecodePlanFileRejects(t *testing.T) {
	const id = `"plan_id":"0f8fad5b-d9cb-469f-a165-70867728950e"`
	good := `{"kind":"km-plan","format_version":"1.0",` + id + `,"declaration_hash":"h","prefix":"km","region":"r","summary":{"add":0,"change":0,"destroy":0},"resource_changes":[%s]}`
	change := func(s string) string { return strings.Replace(good, "%s", s, 1) }
	for _, tc := range []struct {
		name, in, want string
		notPlan        bool
	}{
		{"not json", "hello", "not a km plan file", true},
		{"terraform json", `{"format_version":"1.2","terraform_version":"1.9.0"}`, "not a km plan file", true},
		{"other kind", strings.Replace(change(""), `"km-plan"`, `"other"`, 1), `kind is "other"`, true},
		{"newer major", strings.Replace(change(""), `"1.0"`, `"2.0"`, 1), `format version "2.0" is not supported`, false},
		{"bad id", strings.Replace(change(""), "0f8fad5b", "zzz", 1), "is not a UUID", false},
		{"unknown action", change(`{"address":"a","type":"aws_iam_role","action":"explode"}`), `unknown action "explode"`, false},
		{"unknown type", change(`{"address":"a","type":"aws_s3_bucket","action":"create"}`), `unknown resource type "aws_s3_bucket"`, false},
		{"repeated address", change(`{"address":"a","type":"aws_iam_role","action":"create"},{"address":"a","type":"aws_iam_role","action":"delete"}`), "repeated address", false},
		{"unknown field", strings.Replace(change(""), `"prefix"`, `"prefx":"x","prefix"`, 1), "malformed plan file", false},
		{"newer minor", strings.Replace(change(""), `"1.0"`, `"1.7"`, 1), "written by a newer km", false},
		{"no version", strings.Replace(change(""), `"1.0"`, `"one"`, 1), "is not supported", false},
		{"unchanged that changes", strings.Replace(change(""), `"resource_changes"`, `"unchanged":[{"address":"a","type":"aws_iam_role","action":"update"}],"resource_changes"`, 1), `action "update", expected no-op`, false},
		{"unchanged and changed", strings.Replace(change(`{"address":"a","type":"aws_iam_role","action":"create"}`), `"resource_changes"`, `"unchanged":[{"address":"a","type":"aws_iam_role","action":"no-op"}],"resource_changes"`, 1), "repeated address", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := reconcile.DecodePlanFile([]byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
			if errors.Is(err, reconcile.ErrNotPlanFile) != tc.notPlan {
				t.Errorf("errors.Is(err, ErrNotPlanFile) = %v, want %v", !tc.notPlan, tc.notPlan)
			}
		})
	}
	if _, err := reconcile.DecodePlanFile([]byte(change(`{"address":"a","type":"aws_iam_role","action":"create"}`))); err != nil {
		t.Fatalf("a valid plan file is refused: %v", err)
	}
}
