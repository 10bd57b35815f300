package lambda_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/klankermaker/km/internal/lambdazip"
	"github.com/klankermaker/km/internal/names"
	"github.com/klankermaker/km/internal/refreshertest"
	"github.com/klankermaker/km/internal/sandboxtoken"
)

// BenchmarkColdInvocation measures one invocation from a cold start: the
// bootstrap process starts, connects to kumo's Runtime API, and serves one
// scheduled refresh against kumo and githubsim. Metrics per invocation:
// github-calls (requests githubsim answered), aws-calls (requests the
// refresher sent to AWS, Runtime API excluded).
func BenchmarkColdInvocation(b *testing.B) {
	f := newFixture(b)
	proxy := refreshertest.NewProxy(b, f.kumoURL)
	inst := f.sim.AddInstallation("my-org", "Organization", []string{"repo-a", "repo-b"}, nil)
	refresher.Path(b)
	var gh, aws int64
	i := 0
	for b.Loop() {
		b.StopTimer()
		// A fresh function (and sandbox, whose schedule targets it) per cold
		// start: kumo could hand an invocation to the long poll of a killed
		// process of the same function.
		i++
		d := deploy(b, f, proxy, fmt.Sprintf("%s-%d", names.New(f.prefix).Function(), i))
		sb := f.newSandbox(sandboxtoken.Owner{Owner: "my-org", InstallationID: inst, Repositories: []string{"repo-a"}, Permissions: contentsWrite})
		f.seedOld(sb.payload.Owners[0].Parameter) // km apply wrote the first token
		s := d.schedule(b, sb, sb.input())
		gh0, aws0 := int64(len(f.sim.Requests())), proxy.AWSCalls.Load()
		b.StartTimer()

		p := d.start(b)
		if out, fnErr := d.fire(b, p, s); fnErr != "" {
			b.Fatalf("invocation failed: %s", out)
		}

		b.StopTimer()
		gh += int64(len(f.sim.Requests())) - gh0
		aws += proxy.AWSCalls.Load() - aws0
		p.stop()
		b.StartTimer()
	}
	b.ReportMetric(float64(gh)/float64(i), "github-calls/op")
	b.ReportMetric(float64(aws)/float64(i), "aws-calls/op")
}

// BenchmarkWarmRefresh measures a warm invocation in-process (the App key
// cached): one token minted, verified and written.
func BenchmarkWarmRefresh(b *testing.B) {
	f := newFixture(b)
	inst := f.sim.AddInstallation("my-org", "Organization", []string{"repo-a"}, nil)
	sb := f.newSandbox(sandboxtoken.Owner{Owner: "my-org", InstallationID: inst, Repositories: []string{"repo-a"}, Permissions: contentsWrite})
	h := f.handler(&lineBuffer{}, nil)
	ctx := context.Background()
	f.seedOld(sb.payload.Owners[0].Parameter) // km apply wrote the first token
	if _, err := h.Handle(ctx, sb.input()); err != nil {
		b.Fatal(err)
	}
	f.rec.Reset()
	gh0 := len(f.sim.Requests())
	n := 0
	for b.Loop() {
		if _, err := h.Handle(ctx, sb.input()); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(len(f.sim.Requests())-gh0)/float64(n), "github-calls/op")
	b.ReportMetric(float64(f.rec.Count())/float64(n), "aws-calls/op")
}

// maxZipBytes is the deployment package budget.
const maxZipBytes = 10 << 20

// BenchmarkDeploymentPackage builds the bootstrap as km ships it (linux/arm64,
// CGO_ENABLED=0, -trimpath -ldflags '-s -w -buildid=') and zips it with
// internal/lambdazip; it reports the zip's size and fails above 10 MB.
func BenchmarkDeploymentPackage(b *testing.B) {
	bin := filepath.Join(binDir, "bootstrap-linux-arm64")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -buildid=", "-o", bin, "github.com/klankermaker/km/cmd/km-refresher")
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	exe, err := os.ReadFile(bin)
	if err != nil {
		b.Fatal(err)
	}
	var zip []byte
	for b.Loop() {
		if zip, err = lambdazip.Zip(exe); err != nil {
			b.Fatal(err)
		}
	}
	if len(zip) > maxZipBytes {
		b.Errorf("the deployment package is %d bytes, over the %d byte budget", len(zip), maxZipBytes)
	}
	b.ReportMetric(float64(len(zip)), "zip-bytes")
	b.ReportMetric(float64(len(exe)), "bootstrap-bytes")
}
