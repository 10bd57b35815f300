package faultproxy

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// How the proxy tells one request from another and answers it with its
// protocol's errors (AWS JSON, REST and query protocols; GitHub).

// call is one request, identified, with the error answers of its protocol.
type call struct {
	api      string
	protocol string // json, rest, query, github
	service  string
}

var credentialRe = regexp.MustCompile(`Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request`)

// awsCall identifies the service (from the SigV4 credential scope) and the
// operation (X-Amz-Target for JSON, Action for query, method and path for
// REST).
func awsCall(r *http.Request, body []byte) call {
	svc := ""
	if m := credentialRe.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		svc = m[1]
	}
	c := call{service: svc}
	switch {
	case r.Header.Get("X-Amz-Target") != "":
		t := r.Header.Get("X-Amz-Target")
		c.protocol, c.api = "json", svc+":"+t[strings.LastIndexByte(t, '.')+1:]
	case svc == "iam" || svc == "sts":
		v, _ := url.ParseQuery(string(body))
		c.protocol, c.api = "query", svc+":"+v.Get("Action")
	default:
		c.protocol, c.api = "rest", svc+":"+restOperation(svc, r.Method, r.URL.Path)
	}
	return c
}

// restOperation names the REST operations km calls (Scheduler, Lambda).
func restOperation(svc, method, path string) string {
	seg := strings.Split(strings.Trim(path, "/"), "/")
	switch svc {
	case "scheduler":
		kind := "Schedule"
		if len(seg) > 0 && seg[0] == "schedule-groups" {
			kind = "ScheduleGroup"
		}
		if len(seg) == 1 && method == http.MethodGet {
			return "List" + kind + "s"
		}
		return map[string]string{"POST": "Create", "PUT": "Update", "GET": "Get", "DELETE": "Delete"}[method] + kind
	case "lambda":
		last := seg[len(seg)-1]
		switch {
		case last == "invocations":
			return "Invoke"
		case last == "code":
			return "UpdateFunctionCode"
		case last == "configuration" && method == http.MethodPut:
			return "UpdateFunctionConfiguration"
		case last == "configuration":
			return "GetFunctionConfiguration"
		case last == "recursion-config" && method == http.MethodPut:
			return "PutFunctionRecursionConfig"
		case last == "recursion-config":
			return "GetFunctionRecursionConfig"
		case last == "functions" && method == http.MethodPost:
			return "CreateFunction"
		case last == "functions":
			return "ListFunctions"
		case method == http.MethodDelete:
			return "DeleteFunction"
		}
		return "GetFunction"
	}
	return method + " " + path
}

// throttle answers the service's throttling error in its protocol.
func (c call) throttle(w http.ResponseWriter) {
	switch c.protocol {
	case "json":
		jsonError(w, http.StatusBadRequest, "ThrottlingException", "Rate exceeded")
	case "query":
		queryError(w, http.StatusBadRequest, "Throttling", "Rate exceeded")
	case "rest":
		code := "ThrottlingException"
		if c.service == "lambda" {
			code = "TooManyRequestsException"
			w.Header().Set("Retry-After", "1")
		}
		restError(w, http.StatusTooManyRequests, code, "Rate exceeded")
	case "github":
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", fmt.Sprint(time.Now().Add(time.Second).Unix()))
		githubError(w, http.StatusForbidden, "API rate limit exceeded for the App's installation token mints.")
	}
}

// serverError answers 500 or 503 (AWS) / 502 or 503 (GitHub).
func (c call) serverError(w http.ResponseWriter, unavailable bool) {
	switch c.protocol {
	case "json":
		if unavailable {
			jsonError(w, http.StatusServiceUnavailable, "ServiceUnavailableException", "Service is unavailable")
		} else {
			jsonError(w, http.StatusInternalServerError, "InternalFailure", "Internal failure")
		}
	case "query":
		if unavailable {
			queryError(w, http.StatusServiceUnavailable, "ServiceUnavailable", "Service is unavailable")
		} else {
			queryError(w, http.StatusInternalServerError, "InternalFailure", "Internal failure")
		}
	case "rest":
		code := "InternalServerException"
		if c.service == "lambda" {
			code = "ServiceException"
		}
		if unavailable {
			restError(w, http.StatusServiceUnavailable, code, "Service is unavailable")
		} else {
			restError(w, http.StatusInternalServerError, code, "Internal failure")
		}
	case "github":
		if unavailable {
			githubError(w, http.StatusServiceUnavailable, "Service Unavailable")
		} else {
			githubError(w, http.StatusBadGateway, "Server Error")
		}
	}
}

func jsonError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"__type":%q,"message":%q}`, code, msg)
}

func restError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"Message":%q,"message":%q}`, msg, msg)
}

func queryError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>faultproxy</RequestId></ErrorResponse>`, code, msg)
}

func githubError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"message":%q,"documentation_url":"https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api"}`, msg)
}

var mintRe = regexp.MustCompile(`^/(api/v3/)?app/installations/[0-9]+/access_tokens$`)

// githubCall identifies a GitHub request: token mints draw from github:mints.
func githubCall(r *http.Request) call {
	c := call{protocol: "github", service: "github"}
	if r.Method == http.MethodPost && mintRe.MatchString(r.URL.Path) {
		c.api = "github:CreateInstallationToken"
	} else {
		c.api = "github:" + r.Method + " " + r.URL.Path
	}
	return c
}
