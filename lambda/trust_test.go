package lambda_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"

	"github.com/klankermaker/km/internal/names"
	"github.com/klankermaker/km/internal/sandboxtoken"
	"github.com/klankermaker/km/lambda"
	"github.com/klankermaker/km/state"
	"github.com/klankermaker/km/state/statetest"
)

// Forged and stale payloads are refused before any GitHub call: nothing is
// minted, nothing written, and one token_refresh_refused event says why.
func TestForgedPayloadsAreRefused(t *testing.T) {
	f := newFixture(t)
	inst := f.sim.AddInstallation("my-org", "Organization", []string{"repo-a", "repo-b"}, nil)
	narrow := sandboxtoken.Owner{Owner: "my-org", InstallationID: inst, Repositories: []string{"repo-a"}, Permissions: contentsWrite}
	tests := []struct {
		name   string
		forge  func(p *sandboxtoken.Payload, sb sandbox)
		before func(sb sandbox) // changes the stored state
		want   string
	}{
		{name: "other sandbox's key alias", want: "names key",
			forge: func(p *sandboxtoken.Payload, _ sandbox) { p.KeyAlias = names.New(f.prefix).KeyAlias("sb-other") }},
		{name: "path-like sandbox id", want: "malformed",
			forge: func(p *sandboxtoken.Payload, _ sandbox) { p.SandboxID = "../x"; p.Owners[0].Parameter = "" }},
		{name: "sandbox id with a slash", want: "malformed",
			forge: func(p *sandboxtoken.Payload, sb sandbox) { p.SandboxID = sb.id + "/x" }},
		{name: "other sandbox's parameter", want: "token parameters are",
			forge: func(p *sandboxtoken.Payload, _ sandbox) { p.Owners[0].Parameter = "/sandbox/sb-other/github-token" }},
		{name: "other owner's parameter", want: "token parameters are",
			forge: func(p *sandboxtoken.Payload, sb sandbox) {
				p.Owners[0].Parameter = sandboxtoken.Param(sb.id, "someone", false)
			}},
		{name: "empty permissions", want: "no permissions",
			forge: func(p *sandboxtoken.Payload, _ sandbox) {
				p.Owners[0].Permissions = map[string]string{}
				p.Permissions = nil
			}},
		{name: "permissions beyond contents and metadata", want: "administration=write",
			forge: func(p *sandboxtoken.Payload, _ sandbox) {
				p.Owners[0].Permissions = map[string]string{"contents": "write", "administration": "write"}
			}},
		{name: "other prefix", want: `prefix "other"`,
			forge: func(p *sandboxtoken.Payload, _ sandbox) { p.Prefix = "other" }},
		{name: "stale scope (wider than stored)", want: "km apply owns scope changes",
			forge: func(p *sandboxtoken.Payload, _ sandbox) { p.Owners[0].Repositories = []string{"repo-a", "repo-b"} }},
		{name: "stale scope in a relay link", want: "km apply owns scope changes",
			forge: func(p *sandboxtoken.Payload, _ sandbox) {
				p.Owners[0].Repositories = nil // all repositories
				p.Relay = &sandboxtoken.Relay{Link: 2, Until: time.Now().Add(10 * time.Minute)}
			}},
		{name: "destroyed sandbox", want: "does not exist",
			forge:  func(*sandboxtoken.Payload, sandbox) {},
			before: func(sb sandbox) { f.deleteParam(sb.payload.Owners[0].Parameter) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sb := f.newSandbox(narrow)
			param := sb.payload.Owners[0].Parameter
			before := f.seedOld(param)
			if tc.before != nil {
				tc.before(sb)
			}
			p := sb.payload
			p.Owners = append([]sandboxtoken.Owner(nil), p.Owners...)
			tc.forge(&p, sb)
			f.sim.ResetRequests()
			f.rec.Reset()
			var logs lineBuffer
			_, err := f.handler(&logs, nil).Handle(context.Background(), rawPayload(t, p))
			if !errors.Is(err, lambda.ErrRefused) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want a refusal mentioning %q", err, tc.want)
			}
			if n := f.sim.CountRequests("", "/"); n != 0 {
				t.Errorf("%d GitHub requests for a refused payload", n)
			}
			if n := len(f.rec.Operation("PutParameter")) + len(f.rec.Operation("AddTagsToResource")); n != 0 {
				t.Errorf("%d SSM writes for a refused payload", n)
			}
			if n := len(f.rec.Operation("GetParameter")); n != 0 {
				t.Errorf("the App key was read (%d GetParameter) for a refused payload", n)
			}
			if tc.before == nil {
				if after := f.read(param); after.Value != before.Value || after.Version != before.Version {
					t.Error("the stored token was touched")
				}
			} else if _, err := f.aws.GetParameter(context.Background(), param, false); !errors.Is(err, state.ErrNotFound) {
				t.Errorf("the destroyed sandbox's parameter was recreated: %v", err)
			}
			evs := logs.events(t)
			if len(evs) != 1 || evs[0]["msg"] != "token_refresh_refused" || !strings.Contains(evs[0]["reason"].(string), tc.want) {
				t.Errorf("log events %v, want one token_refresh_refused with the reason", evs)
			}
		})
	}
}

func (f *fixture) deleteParam(name string) {
	f.t.Helper()
	if err := f.aws.DeleteParameter(context.Background(), name); err != nil {
		f.t.Fatal(err)
	}
}

// history records every PutParameter the client makes (passed on to kumo)
// and answers GetParameterHistory from that record, the way SSM does and
// kumo cannot, pageSize versions a page with NextToken.
type history struct {
	pageSize int
	versions map[string][]ssmtypes.ParameterHistory
	requests []*ssm.GetParameterHistoryInput
}

func (h *history) middleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("testSSMHistory",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			switch awsmiddleware.GetOperationName(ctx) {
			case "GetParameterHistory":
				req := in.Parameters.(*ssm.GetParameterHistoryInput)
				h.requests = append(h.requests, req)
				all := h.versions[aws.ToString(req.Name)]
				if all == nil {
					return middleware.InitializeOutput{}, middleware.Metadata{}, &ssmtypes.ParameterNotFound{Message: aws.String("not found")}
				}
				start := 0
				if req.NextToken != nil {
					start = int(aws.ToString(req.NextToken)[0] - '0')
				}
				end := min(start+h.pageSize, len(all))
				out := &ssm.GetParameterHistoryOutput{}
				for _, v := range all[start:end] {
					if !aws.ToBool(req.WithDecryption) {
						v.Value = aws.String("(ciphertext)")
					}
					out.Parameters = append(out.Parameters, v)
				}
				if end < len(all) {
					out.NextToken = aws.String(string(rune('0' + end)))
				}
				return middleware.InitializeOutput{Result: out}, middleware.Metadata{}, nil
			case "PutParameter":
				req := in.Parameters.(*ssm.PutParameterInput)
				out, md, err := next.HandleInitialize(ctx, in)
				if err == nil {
					name := aws.ToString(req.Name)
					h.versions[name] = append(h.versions[name], ssmtypes.ParameterHistory{
						Name: req.Name, Value: req.Value, Description: req.Description, Type: req.Type,
						Version: out.Result.(*ssm.PutParameterOutput).Version, LastModifiedDate: aws.Time(time.Now()),
					})
				}
				return out, md, err
			case "DeleteParameter":
				delete(h.versions, aws.ToString(in.Parameters.(*ssm.DeleteParameterInput).Name))
			}
			return next.HandleInitialize(ctx, in)
		}), middleware.Before)
}

func revokeInput(t *testing.T, sandbox, prefix string, params ...sandboxtoken.RevokeParam) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(sandboxtoken.RevokeRequest{Action: sandboxtoken.ActionRevoke, SandboxID: sandbox, Prefix: prefix, Parameters: params})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// After a refresh the parameter holds the refresher's token and keeps the
// one before it (the overlap the sandbox may still use): a revoke request
// reads every version from the history and revokes both; an expired one
// costs no call.
func TestRevokeReadsEveryVersionInTheHistory(t *testing.T) {
	f := newFixture(t)
	hist := &history{pageSize: 2, versions: map[string][]ssmtypes.ParameterHistory{}}
	client, rec := statetest.Client(t, f.kumoURL, state.Options{APIOptions: []func(*middleware.Stack) error{hist.middleware}})
	inst := f.sim.AddInstallation("my-org", "Organization", []string{"repo-a"}, nil)
	sb := f.newSandbox(sandboxtoken.Owner{Owner: "my-org", InstallationID: inst, Repositories: []string{"repo-a"}, Permissions: contentsWrite})
	param := sb.payload.Owners[0].Parameter
	f.aws = client // every write below goes through the history
	f.seedToken(param, "ghs_expiredLongAgoStandIn000000000000000", time.Now().Add(-time.Hour))
	f.seedOld(param) // a stand-in GitHub no longer knows: 401
	var logs lineBuffer
	h := f.handler(&logs, nil)
	h.SSM = client
	var minted []string
	for range 2 { // the refresher's fires
		if _, err := h.Handle(context.Background(), sb.input()); err != nil {
			t.Fatal(err)
		}
		minted = append(minted, f.read(param).Value)
	}
	rec.Reset()
	f.sim.ResetRequests()

	out, err := h.Handle(context.Background(), revokeInput(t, sb.id, f.prefix, sandboxtoken.RevokeParam{Name: param}))
	if err != nil {
		t.Fatal(err)
	}
	if !out.History {
		t.Error("the answer says the history was not readable")
	}
	want := []string{"expired", "already_dead", "revoked", "revoked"}
	if len(out.Revoked) != len(want) {
		t.Fatalf("outcomes %+v, want %v", out.Revoked, want)
	}
	for i, o := range out.Revoked {
		if o.Version != int64(i+1) || o.Outcome != want[i] {
			t.Errorf("version %d: %+v, want outcome %s", i+1, o, want[i])
		}
	}
	for i, tok := range minted {
		if f.sim.TokenLive(tok) {
			t.Errorf("the token of version %d still works", i+3)
		}
		if out.Revoked[i+2].TokenSHA != sha12(tok) {
			t.Errorf("version %d hash %s, want %s", i+3, out.Revoked[i+2].TokenSHA, sha12(tok))
		}
	}
	if n := f.sim.CountRequests("DELETE", "/installation/token"); n != 3 {
		t.Errorf("%d revocations at GitHub, want 3 (the expired version costs none)", n)
	}
	// The history was read with decryption, 50 a page, following NextToken.
	if len(hist.requests) != 2 || aws.ToString(hist.requests[1].NextToken) != "2" {
		t.Fatalf("GetParameterHistory requests %d", len(hist.requests))
	}
	for _, r := range hist.requests {
		if !aws.ToBool(r.WithDecryption) || aws.ToInt32(r.MaxResults) != 50 {
			t.Errorf("GetParameterHistory WithDecryption %v MaxResults %d", aws.ToBool(r.WithDecryption), aws.ToInt32(r.MaxResults))
		}
	}
	if n := len(rec.Operation("PutParameter")); n != 0 {
		t.Errorf("a revoke wrote %d parameters", n)
	}
	b, _ := json.Marshal(out)
	f.assertNoSecrets("result", string(b))
	f.assertNoSecrets("log", logs.String())

	// Before an overwrite the history makes the early revocation
	// unnecessary; after it, only the versions below the new one go.
	f.sim.ResetRequests()
	out, err = h.Handle(context.Background(), revokeInput(t, sb.id, f.prefix, sandboxtoken.RevokeParam{Name: param, BeforeOverwrite: true}))
	if err != nil || len(out.Revoked) != 1 || out.Revoked[0].Outcome != "deferred" || f.sim.CountRequests("DELETE", "/") != 0 {
		t.Fatalf("before overwrite: %+v %v", out, err)
	}
	if _, err := h.Handle(context.Background(), sb.input()); err != nil { // the next fire
		t.Fatal(err)
	}
	newest := f.read(param)
	out, err = h.Handle(context.Background(), revokeInput(t, sb.id, f.prefix, sandboxtoken.RevokeParam{Name: param, BelowVersion: newest.Version}))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range out.Revoked {
		if o.Version >= newest.Version {
			t.Errorf("version %d at or above below_version %d was revoked", o.Version, newest.Version)
		}
	}
	if !f.sim.TokenLive(newest.Value) {
		t.Error("the token just stored was revoked")
	}
}

// kumo has no GetParameterHistory: the current version is revoked and the
// older ones are reported unreadable with the latest time they expire.
func TestRevokeFallsBackToTheCurrentVersion(t *testing.T) {
	f := newFixture(t)
	inst := f.sim.AddInstallation("my-org", "Organization", []string{"repo-a"}, nil)
	sb := f.newSandbox(sandboxtoken.Owner{Owner: "my-org", InstallationID: inst, Repositories: []string{"repo-a"}, Permissions: contentsWrite})
	param := sb.payload.Owners[0].Parameter
	f.seedOld(param)
	var logs lineBuffer
	h := f.handler(&logs, nil)
	if _, err := h.Handle(context.Background(), sb.input()); err != nil {
		t.Fatal(err)
	}
	cur := f.read(param)
	f.rec.Reset()
	out, err := h.Handle(context.Background(), revokeInput(t, sb.id, f.prefix, sandboxtoken.RevokeParam{Name: param}))
	if err != nil {
		t.Fatal(err)
	}
	if out.History || len(out.Revoked) != 2 {
		t.Fatalf("result %+v", out)
	}
	if o := out.Revoked[0]; o.Version != cur.Version || o.Outcome != "revoked" || o.TokenSHA != sha12(cur.Value) || f.sim.TokenLive(cur.Value) {
		t.Errorf("current version: %+v", o)
	}
	if o := out.Revoked[1]; o.FromVersion != 1 || o.Version != cur.Version-1 || o.Outcome != "unreadable" || o.ExpiresAt.IsZero() || !o.Live() {
		t.Errorf("older versions: %+v", o)
	}
	if n := len(f.rec.Operation("GetParameterHistory")); n != 1 {
		t.Errorf("GetParameterHistory tried %d times, want 1", n)
	}

	missing, err := h.Handle(context.Background(), revokeInput(t, sb.id, f.prefix, sandboxtoken.RevokeParam{Name: sandboxtoken.Param(sb.id, "gone", false)}))
	if err != nil || len(missing.Revoked) != 1 || missing.Revoked[0].Outcome != "missing" {
		t.Errorf("revoking a missing parameter: %+v %v", missing, err)
	}
}

func TestForgedRevokeRequestsAreRefused(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name  string
		input json.RawMessage
		want  string
	}{
		{"path-like id", revokeInput(t, "../x", f.prefix, sandboxtoken.RevokeParam{Name: "/sandbox/../x/github-token"}), "malformed"},
		{"another sandbox's parameter", revokeInput(t, "sb-a", f.prefix, sandboxtoken.RevokeParam{Name: "/sandbox/sb-b/github-token"}), "not one of its token parameters"},
		{"not a token parameter", revokeInput(t, "sb-a", f.prefix, sandboxtoken.RevokeParam{Name: "/km/config/github/private-key"}), "not one of its token parameters"},
		{"other prefix", revokeInput(t, "sb-a", "other", sandboxtoken.RevokeParam{Name: "/sandbox/sb-a/github-token"}), `prefix "other"`},
		{"no parameters", revokeInput(t, "sb-a", f.prefix), "names no parameters"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.rec.Reset()
			var logs lineBuffer
			_, err := f.handler(&logs, nil).Handle(context.Background(), tc.input)
			if !errors.Is(err, lambda.ErrRefused) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want a refusal mentioning %q", err, tc.want)
			}
			if n := f.rec.Count(); n != 0 {
				t.Errorf("%d AWS calls for a refused request", n)
			}
			if evs := logs.events(t); len(evs) != 1 || evs[0]["msg"] != "token_refresh_refused" {
				t.Errorf("log events %v", evs)
			}
		})
	}
	if n := f.sim.CountRequests("", "/"); n != 0 {
		t.Errorf("%d GitHub requests", n)
	}
}

// The SDK's own warnings become JSON events: the function's output stays
// one JSON object a line, as CloudWatch Logs filters and km otel expect.
func TestSDKLogLinesAreJSON(t *testing.T) {
	var logs lineBuffer
	lambda.SDKLogger(logs.logger()).Logf(logging.Warn, "failed to discard remaining HTTP response body: %v", errors.New("use of closed network connection"))
	evs := logs.events(t)
	if len(evs) != 1 || evs[0]["msg"] != lambda.MsgSDK || evs[0]["level"] != "WARN" || !strings.Contains(evs[0]["detail"].(string), "closed network connection") {
		t.Fatalf("events %v", evs)
	}
}
