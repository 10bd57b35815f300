package lambda

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/smithy-go/logging"

	"github.com/klankermaker/km/internal/githubapp"
)

// Log messages: exactly one per token per invocation.
const (
	MsgRefreshed     = "token_refreshed"
	MsgRefreshFailed = "token_refresh_failed"
	// MsgRefused: the payload (or one owner's part of it) failed a check;
	// no GitHub call was made and nothing was written.
	MsgRefused = "token_refresh_refused"
	// MsgRevoke: one token version a revoke request retired (outcome in
	// "outcome": revoked, already_dead, expired, failed, unreadable, ...).
	MsgRevoke = "token_revoke"
)

// event is one token's outcome. It has no field for the token itself.
type event struct {
	SandboxID      string
	Owner          string
	InstallationID int64
	Parameter      string
	Repositories   string
	Permissions    string
	ExpiresAt      time.Time
	TokenSHA       string
	RelayLink      int       // this invocation's place in a relay (0: a scheduled fire)
	RetryUntil     time.Time // the failure was handed on to a relay that runs until then
	Err            error
}

// log writes the event as one JSON object: msg token_refreshed (INFO) or
// token_refresh_failed (ERROR, with the cause in error).
func (h *Handler) log(ctx context.Context, ev event) {
	attrs := []slog.Attr{
		slog.String("sandbox_id", ev.SandboxID),
		slog.String("owner", ev.Owner),
		slog.Int64("installation_id", ev.InstallationID),
		slog.String("parameter", ev.Parameter),
		slog.String("repositories", ev.Repositories),
		slog.String("permissions", ev.Permissions),
	}
	if !ev.ExpiresAt.IsZero() {
		attrs = append(attrs, slog.String("expires_at", ev.ExpiresAt.UTC().Format(time.RFC3339)))
	}
	if ev.TokenSHA != "" {
		attrs = append(attrs, slog.String("token_sha", ev.TokenSHA))
	}
	if ev.RelayLink > 0 {
		attrs = append(attrs, slog.Int("relay_link", ev.RelayLink))
	}
	if !ev.RetryUntil.IsZero() {
		attrs = append(attrs, slog.String("retry_until", ev.RetryUntil.UTC().Format(time.RFC3339)))
	}
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		attrs = append(attrs, slog.String("request_id", lc.AwsRequestID))
	}
	level, msg := slog.LevelInfo, MsgRefreshed
	if ev.Err != nil {
		level, msg = slog.LevelError, MsgRefreshFailed
		key := "error"
		if errors.Is(ev.Err, ErrRefused) {
			level, msg, key = slog.LevelWarn, MsgRefused, "reason"
		}
		attrs = append(attrs, slog.String(key, githubapp.Redact(ev.Err.Error())))
	}
	h.logger().LogAttrs(ctx, level, msg, attrs...)
}

// MsgSDK is the message of the AWS SDK's own log lines (a retry, a response
// body it could not drain), so that the function's output stays one JSON
// object a line.
const MsgSDK = "aws_sdk"

// SDKLogger routes the AWS SDK's log lines into l as JSON events.
func SDKLogger(l *slog.Logger) logging.Logger {
	return logging.LoggerFunc(func(c logging.Classification, format string, v ...any) {
		level := slog.LevelInfo
		if c == logging.Warn {
			level = slog.LevelWarn
		}
		l.Log(context.Background(), level, MsgSDK, slog.String("detail", githubapp.Redact(fmt.Sprintf(format, v...))))
	})
}
