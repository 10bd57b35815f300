package state_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/klankermaker/km/state"
	"github.com/klankermaker/km/state/statetest"
)

const testKeyPolicy = `{"Version":"2012-10-17","Statement":[{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"kms:*","Resource":"*"}]}`

func TestKeyRoundTrip(t *testing.T) {
	ctx := context.Background()
	a, _, _ := statetest.NewKumo(t)
	id := uniq(t)

	k, err := a.CreateKey(ctx, "km github token "+id, testKeyPolicy, map[string]string{"km:sandbox": id})
	if err != nil {
		t.Fatal(err)
	}
	if k.KeyID == "" || !strings.HasSuffix(k.ARN, k.KeyID) || k.State != "Enabled" || k.CreationDate.IsZero() {
		t.Errorf("CreateKey = %+v", k)
	}
	got, err := a.DescribeKey(ctx, k.KeyID)
	if err != nil || got.KeyID != k.KeyID || got.Description != "km github token "+id {
		t.Errorf("DescribeKey = %+v, %v", got, err)
	}
	pol, err := a.GetKeyPolicy(ctx, k.KeyID)
	if err != nil || pol != testKeyPolicy {
		t.Errorf("GetKeyPolicy = %q, %v", pol, err)
	}
	newPolicy := strings.Replace(testKeyPolicy, `"Root"`, `"Root2"`, 1)
	if err := a.PutKeyPolicy(ctx, k.KeyID, newPolicy); err != nil {
		t.Fatal(err)
	}
	if pol, _ := a.GetKeyPolicy(ctx, k.KeyID); pol != newPolicy {
		t.Errorf("after PutKeyPolicy: %q", pol)
	}
	tags, err := a.ListResourceTags(ctx, k.KeyID)
	if err != nil || tags["km:sandbox"] != id {
		t.Errorf("ListResourceTags = %v, %v", tags, err)
	}
	keys, err := a.ListKeys(ctx)
	if err != nil || !slices.Contains(keys, k.KeyID) {
		t.Errorf("ListKeys does not list %s: %v", k.KeyID, err)
	}

	when, err := a.ScheduleKeyDeletion(ctx, k.KeyID, 7)
	if err != nil || when.IsZero() {
		t.Fatalf("ScheduleKeyDeletion = %v, %v", when, err)
	}
	got, _ = a.DescribeKey(ctx, k.KeyID)
	if got.State != "PendingDeletion" || !got.DeletionDate.Equal(when) {
		t.Errorf("after ScheduleKeyDeletion: %+v, want PendingDeletion at %v", got, when)
	}
	// kumo has no CancelKeyDeletion: the gap surfaces as ErrUnsupported.
	if err := a.CancelKeyDeletion(ctx, k.KeyID); !errors.Is(err, state.ErrUnsupported) {
		t.Errorf("CancelKeyDeletion on kumo: %v, want ErrUnsupported", err)
	}
	if _, err := a.DescribeKey(ctx, "00000000-0000-0000-0000-"+id[len(id)-8:]+"0000"); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("DescribeKey missing: %v, want ErrNotFound", err)
	}
}

func TestCancelKeyDeletionReEnablesTheKey(t *testing.T) {
	ctx := context.Background()
	_, _, url := statetest.NewKumo(t)
	// Stand in for AWS's CancelKeyDeletion, which kumo lacks; EnableKey is real.
	a, rec := statetest.Client(t, url, state.Options{
		APIOptions: []func(*middleware.Stack) error{answerOp("CancelKeyDeletion", &kms.CancelKeyDeletionOutput{})},
	})
	k, err := a.CreateKey(ctx, uniq(t), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	rec.Reset()
	if err := a.CancelKeyDeletion(ctx, k.KeyID); err != nil {
		t.Fatal(err)
	}
	calls := rec.Calls()
	if got := ops(calls); !slices.Equal(got, []string{"CancelKeyDeletion", "EnableKey"}) {
		t.Fatalf("calls %v, want CancelKeyDeletion then EnableKey", got)
	}
	if in := calls[1].Input.(*kms.EnableKeyInput); aws.ToString(in.KeyId) != k.KeyID || calls[1].Err != nil {
		t.Errorf("EnableKey %v: %v", aws.ToString(in.KeyId), calls[1].Err)
	}
}

func TestAliasRoundTrip(t *testing.T) {
	ctx := context.Background()
	a, rec, _ := statetest.NewKumo(t)
	prefix := "alias/" + uniq(t) + "-"
	k1, err := a.CreateKey(ctx, "k1", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := a.CreateKey(ctx, "k2", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"b", "a"} {
		if err := a.CreateAlias(ctx, prefix+n, k1.KeyID); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.CreateAlias(ctx, prefix+"a", k2.KeyID); !errors.Is(err, state.ErrAlreadyExists) {
		t.Errorf("CreateAlias twice: %v, want ErrAlreadyExists", err)
	}

	rec.Reset()
	als, err := a.ListAliases(ctx, prefix)
	if err != nil {
		t.Fatal(err)
	}
	if len(als) != 2 || als[0].Name != prefix+"a" || als[1].Name != prefix+"b" || als[0].TargetKeyID != k1.KeyID || als[0].ARN == "" {
		t.Errorf("ListAliases = %+v", als)
	}
	for _, c := range rec.Operation("ListAliases") {
		if in := c.Input.(*kms.ListAliasesInput); in.Limit != nil {
			t.Errorf("ListAliases sent Limit %d (kumo's Limit is broken)", *in.Limit)
		}
	}

	// kumo has no UpdateAlias: UpdateAlias falls back to delete + create.
	rec.Reset()
	if err := a.UpdateAlias(ctx, prefix+"a", k2.KeyID); err != nil {
		t.Fatal(err)
	}
	if got := ops(rec.Calls()); !slices.Equal(got, []string{"UpdateAlias", "DeleteAlias", "CreateAlias"}) {
		t.Errorf("UpdateAlias calls %v", got)
	}
	al, err := a.GetAlias(ctx, prefix+"a")
	if err != nil || al.TargetKeyID != k2.KeyID || al.Name != prefix+"a" || !strings.HasSuffix(al.ARN, ":"+prefix+"a") {
		t.Errorf("GetAlias after UpdateAlias = %+v, %v", al, err)
	}

	// The fallback's DeleteAlias retried after its first attempt happened
	// finds nothing: the alias is then created, not an error.
	if err := a.DeleteAlias(ctx, prefix+"b"); err != nil {
		t.Fatal(err)
	}
	if err := a.UpdateAlias(ctx, prefix+"b", k2.KeyID); err != nil {
		t.Fatalf("UpdateAlias after its delete happened: %v", err)
	}
	if al, err := a.GetAlias(ctx, prefix+"b"); err != nil || al.TargetKeyID != k2.KeyID {
		t.Errorf("GetAlias after UpdateAlias of a deleted alias = %+v, %v", al, err)
	}

	if err := a.DeleteAlias(ctx, prefix+"a"); err != nil {
		t.Fatal(err)
	}
	if err := a.DeleteAlias(ctx, prefix+"a"); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("DeleteAlias twice: %v, want ErrNotFound", err)
	}
	if _, err := a.GetAlias(ctx, prefix+"a"); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("GetAlias deleted: %v, want ErrNotFound", err)
	}
}

func TestListAliasesFollowsMarkerWhileTruncated(t *testing.T) {
	alias := func(n string) kmstypes.AliasListEntry {
		return kmstypes.AliasListEntry{AliasName: aws.String("alias/km-github-token-" + n), TargetKeyId: aws.String("key-" + n)}
	}
	fake, served := strictPages(t, "ListAliases",
		func(in any) string { return aws.ToString(in.(*kms.ListAliasesInput).Marker) },
		[]page{
			{"", &kms.ListAliasesOutput{Aliases: []kmstypes.AliasListEntry{alias("c"), alias("x")}, Truncated: true, NextMarker: aws.String("m1")}},
			{"m1", &kms.ListAliasesOutput{Aliases: []kmstypes.AliasListEntry{{AliasName: aws.String("alias/other")}}, Truncated: true, NextMarker: aws.String("m2")}},
			// Truncated false ends the list even with a NextMarker present.
			{"m2", &kms.ListAliasesOutput{Aliases: []kmstypes.AliasListEntry{alias("a")}, Truncated: false, NextMarker: aws.String("m3")}},
		})
	a, _ := statetest.Client(t, "http://127.0.0.1:1", state.Options{APIOptions: []func(*middleware.Stack) error{fake}})
	got, err := a.ListAliases(context.Background(), "alias/km-github-token-")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, al := range got {
		names = append(names, al.Name+"="+al.TargetKeyID)
	}
	want := []string{"alias/km-github-token-a=key-a", "alias/km-github-token-c=key-c", "alias/km-github-token-x=key-x"}
	if !slices.Equal(names, want) || served() != 3 {
		t.Errorf("ListAliases = %v after %d pages, want %v after 3", names, served(), want)
	}
}

func TestKMSListingRejectsBrokenPaging(t *testing.T) {
	tests := []struct {
		name  string
		pages []page
		want  string
	}{
		{"truncated without marker", []page{{"", &kms.ListKeysOutput{Truncated: true}}}, "no NextMarker"},
		{"repeated marker", []page{
			{"", &kms.ListKeysOutput{Truncated: true, NextMarker: aws.String("m")}},
			{"m", &kms.ListKeysOutput{Truncated: true, NextMarker: aws.String("m")}},
		}, "twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, _ := strictPages(t, "ListKeys", func(in any) string { return aws.ToString(in.(*kms.ListKeysInput).Marker) }, tt.pages)
			a, _ := statetest.Client(t, "http://127.0.0.1:1", state.Options{APIOptions: []func(*middleware.Stack) error{fake}})
			if _, err := a.ListKeys(context.Background()); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ListKeys: %v, want an error about %q", err, tt.want)
			}
		})
	}
}

func TestListKeysFollowsMarkerWhileTruncated(t *testing.T) {
	key := func(id string) kmstypes.KeyListEntry { return kmstypes.KeyListEntry{KeyId: aws.String(id)} }
	fake, served := strictPages(t, "ListKeys",
		func(in any) string { return aws.ToString(in.(*kms.ListKeysInput).Marker) },
		[]page{
			{"", &kms.ListKeysOutput{Keys: []kmstypes.KeyListEntry{key("k1")}, Truncated: true, NextMarker: aws.String("m1")}},
			{"m1", &kms.ListKeysOutput{Keys: []kmstypes.KeyListEntry{key("k2")}}},
		})
	a, _ := statetest.Client(t, "http://127.0.0.1:1", state.Options{APIOptions: []func(*middleware.Stack) error{fake}})
	got, err := a.ListKeys(context.Background())
	if err != nil || !slices.Equal(got, []string{"k1", "k2"}) || served() != 2 {
		t.Errorf("ListKeys = %v, %v after %d pages", got, err, served())
	}
}

// KMS refuses a key policy naming a principal IAM has not propagated yet;
// CreateKey and PutKeyPolicy retry that (and only that) refusal.
func TestKeyPolicyRetriesWhileThePrincipalPropagates(t *testing.T) {
	ctx := context.Background()
	_, _, endpoint := statetest.NewKumo(t)
	policy := testKeyPolicy
	tests := []struct {
		name         string
		target       string // X-Amz-Target of the refused call
		msg          string
		failures     int32
		wantErr      bool
		wantAttempts int32
	}{
		{"CreateKey, IAM propagation", "TrentService.CreateKey", "Policy contains a statement with one or more invalid principals.", 3, false, 4},
		{"CreateKey, a really malformed policy", "TrentService.CreateKey", "The new key policy will not allow you to update the key policy in the future.", 1, true, 1},
		{"PutKeyPolicy, IAM propagation", "TrentService.PutKeyPolicy", "Policy contains a statement with one or more invalid principals.", 2, false, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var attempts, failures atomic.Int32
			client := httpFunc(func(r *http.Request) (*http.Response, error) {
				if r.Header.Get("X-Amz-Target") == tt.target {
					attempts.Add(1)
					if failures.Add(1) <= tt.failures {
						return jsonError(400, "MalformedPolicyDocumentException", tt.msg), nil
					}
				}
				return http.DefaultClient.Do(r)
			})
			a, rec := statetest.Client(t, endpoint, state.Options{HTTPClient: client})
			var err error
			op := "CreateKey"
			if tt.target == "TrentService.PutKeyPolicy" {
				op = "PutKeyPolicy"
				plain, _ := statetest.Client(t, endpoint, state.Options{})
				k, cerr := plain.CreateKey(ctx, "km test key", policy, nil)
				if cerr != nil {
					t.Fatal(cerr)
				}
				err = a.PutKeyPolicy(ctx, k.KeyID, policy)
			} else {
				_, err = a.CreateKey(ctx, "km test key", policy, nil)
			}
			if (err != nil) != tt.wantErr {
				t.Fatalf("%s: %v, want error %v", op, err, tt.wantErr)
			}
			if attempts.Load() != tt.wantAttempts || len(rec.Operation(op)) != 1 {
				t.Errorf("%d HTTP attempts in %d calls, want %d in 1", attempts.Load(), len(rec.Operation(op)), tt.wantAttempts)
			}
		})
	}
}
