package planapply_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/klankermaker/km/internal/demo"
	"github.com/klankermaker/km/internal/githubsim"
	"github.com/klankermaker/km/internal/planapply"
	"github.com/klankermaker/km/state/statetest"
)

// BenchmarkPlan measures a no-change plan over N applied sandboxes against kumo
// and reports AWS API calls per sandbox (target ≤ 3) and GitHub calls (target 0).
func BenchmarkPlan(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("sandboxes=%d", n), func(b *testing.B) {
			aws, rec, _ := statetest.NewKumo(b)
			sim := githubsim.New()
			defer sim.Close()
			dir := b.TempDir()
			prefix := fmt.Sprintf("kmbench%d", n)
			ids := make([]string, n)
			for i := range ids {
				ids[i] = fmt.Sprintf("sb-b%d-%05d", n, i)
			}
			w, err := demo.Write(sim, dir, demo.Options{Prefix: prefix, Sandboxes: ids})
			if err != nil {
				b.Fatal(err)
			}
			zip := filepath.Join(dir, "r.zip")
			if err := os.WriteFile(zip, []byte("zip"), 0o644); err != nil {
				b.Fatal(err)
			}
			var out bytes.Buffer
			env := planapply.Env{ConfigPath: w.ConfigPath, AWS: aws, Stdout: &out, Stderr: &out,
				Getenv: func(k string) string {
					if k == "KM_REFRESHER_ZIP" {
						return zip
					}
					return ""
				}}
			ctx := context.Background()
			s, err := planapply.Open(ctx, env)
			if err != nil {
				b.Fatal(err)
			}
			if err := s.PlanAndApply(ctx, planapply.ApplyOptions{AutoApprove: true, Parallelism: 32}); err != nil {
				b.Fatal(err)
			}
			gh := len(sim.Requests())
			rec.Reset()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				pl, err := s.ComputePlan(ctx, "plan", planapply.PlanOptions{})
				if err != nil {
					b.Fatal(err)
				}
				if pl.Plan.HasChanges() {
					b.Fatalf("plan after apply has %d changes", len(pl.Plan.Changes))
				}
			}
			b.StopTimer()
			// Lock put+get+delete are not reads of km's resources: count them apart.
			calls := rec.Count()
			b.ReportMetric(float64(calls)/float64(b.N)/float64(n), "aws-calls/sandbox")
			b.ReportMetric(float64(rec.CountWrites())/float64(b.N), "aws-writes/plan")
			b.ReportMetric(float64(len(sim.Requests())-gh)/float64(b.N), "github-calls/plan")
		})
	}
}
