package lambda_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/aws/smithy-go/logging"

	"github.com/klankermaker/km/lambda"
)

// The SDK's own warnings must reach CloudWatch as JSON like every other line
// of the function (km otel and metric filters parse each line).
func TestSDKLoggerWritesJSON(t *testing.T) {
	for _, c := range []logging.Classification{logging.Warn, logging.Debug} {
		var buf bytes.Buffer
		lambda.SDKLogger(slog.New(slog.NewJSONHandler(&buf, nil))).Logf(c, "failed to discard %s", "body")
		var ev map[string]any
		if err := json.Unmarshal(buf.Bytes(), &ev); err != nil {
			t.Fatalf("%s: line is not JSON: %q", c, buf.String())
		}
		if ev["msg"] != lambda.MsgSDK || ev["detail"] != "failed to discard body" {
			t.Errorf("%s: event %v, want msg %q with the detail", c, ev, lambda.MsgSDK)
		}
	}
}
