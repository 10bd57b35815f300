package quota

import (
	"strings"
	"testing"
	"time"
)

func TestTable(t *testing.T) {
	d := Default()
	tests := []struct {
		api    string
		bucket string
		rate   float64
	}{
		{"kms:CreateKey", "kms:CreateKey", 5},
		{"kms:CreateAlias", "kms:CreateAlias", 5},
		{"ssm:PutParameter", "ssm:writes", 3},
		{"ssm:AddTagsToResource", "ssm:writes", 3},
		{"scheduler:CreateSchedule", "scheduler:schedules", 50},
		{"lambda:UpdateFunctionCode", "lambda:control", 15},
		{"logs:CreateLogGroup", "logs:CreateLogGroup", 5},
	}
	for _, tc := range tests {
		l, ok := d.Lookup(tc.api)
		if !ok || l.Bucket != tc.bucket || l.PerSecond != tc.rate || l.Burst < 1 {
			t.Errorf("%s: %+v %v, want bucket %s at %v/s", tc.api, l, ok, tc.bucket, tc.rate)
		}
	}
	if _, ok := d.Lookup("lambda:Invoke"); ok {
		t.Error("Invoke is bounded by concurrency, not a request rate")
	}
	if Key("CloudWatch Logs", "CreateLogGroup") != "logs:CreateLogGroup" || Key("KMS", "CreateKey") != "kms:CreateKey" {
		t.Error("Key does not map SDK service ids to IAM prefixes")
	}
}

func TestWithAndScaled(t *testing.T) {
	d := Default()
	o, err := d.With(map[string]float64{"ssm:writes": 40})
	if err != nil {
		t.Fatal(err)
	}
	if l, _ := o.Lookup("ssm:PutParameter"); l.PerSecond != 40 || l.Burst != 40 {
		t.Errorf("override: %+v", l)
	}
	if l, _ := d.Lookup("ssm:PutParameter"); l.PerSecond != 3 {
		t.Errorf("With changed the receiver: %+v", l)
	}
	for _, bad := range []map[string]float64{{"ssm:write": 1}, {"ssm:writes": 0}, {"ssm:writes": -2}} {
		if _, err := d.With(bad); err == nil || !strings.Contains(err.Error(), "ssm:writes") && !strings.Contains(err.Error(), "positive") {
			t.Errorf("With(%v): %v", bad, err)
		}
	}
	s := d.Scaled(10)
	if l, _ := s.Lookup("kms:CreateKey"); l.PerSecond != 50 {
		t.Errorf("scaled: %+v", l)
	}
	// 1,000 keys at 5/s after a burst of 5: 199 s; SSM's 3,000 writes at 3/s: 999 s.
	got := d.Bound(map[string]int{"kms:CreateKey": 1000, "ssm:PutParameter": 2000, "ssm:AddTagsToResource": 1000})
	if got != 999*time.Second {
		t.Errorf("bound %s, want 999s", got)
	}
}
