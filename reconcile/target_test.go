package reconcile

import (
	"reflect"
	"testing"
)

// TestFilterPlanTargets: --target (repeatable) keeps the targeted changes and
// what they depend on, transitively, and nothing else; a sandbox target
// covers its resources only (sb-1 is not sb-10).
func TestFilterPlanTargets(t *testing.T) {
	mk := func() *Plan {
		return &Plan{Changes: []Change{
			{Address: addrRefresherRole, Action: Update},
			{Address: addrLogGroup, Action: Create},
			{Address: addrFunction, Action: Update, DependsOn: []string{addrRefresherRole, addrLogGroup}},
			{Address: addrInstallation("acme"), Action: Create},
			{Address: addrInstallation("other"), Action: Delete},
			{Address: addrKey("sb-1"), Action: Create, DependsOn: []string{addrRefresherRole}},
			{Address: addrAlias("sb-1"), Action: Create, DependsOn: []string{addrKey("sb-1")}},
			{Address: addrKey("sb-10"), Action: Create},
			{Address: addrSchedule("sb-2"), Action: Update, DependsOn: []string{addrFunction}},
		}}
	}
	for _, tc := range []struct {
		name    string
		targets []string
		want    []string
	}{
		{"one resource", []string{addrLogGroup}, []string{addrLogGroup}},
		{"a sandbox and its dependencies", []string{SandboxAddr("sb-1")}, []string{addrRefresherRole, addrKey("sb-1"), addrAlias("sb-1")}},
		{"transitive", []string{addrSchedule("sb-2")}, []string{addrRefresherRole, addrLogGroup, addrFunction, addrSchedule("sb-2")}},
		{"indexed resource by its base", []string{"aws_ssm_parameter.installation"}, []string{addrInstallation("acme"), addrInstallation("other")}},
		{"repeatable", []string{addrInstallation("acme"), SandboxAddr("sb-10")}, []string{addrInstallation("acme"), addrKey("sb-10")}},
		{"nothing matches", []string{"aws_iam_role.nope"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := mk()
			filterPlan(p, PlanOptions{Targets: tc.targets})
			var got []string
			for _, c := range p.Changes {
				got = append(got, c.Address)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("kept %q, want %q", got, tc.want)
			}
			if len(p.Warnings) != 1 {
				t.Errorf("warnings %q, want the targeting warning", p.Warnings)
			}
		})
	}
}
