package githubsim

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// specJSON is GitHub's OpenAPI description, cut to the operations km uses
// (see testdata/README.md for provenance and licence).
//
//go:embed testdata/api.github.com.apps-subset.json
var specJSON []byte

// validator checks requests and responses against the OpenAPI description.
type validator struct {
	router routers.Router
	opts   *openapi3filter.Options
}

func newValidator() (*validator, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(specJSON)
	if err != nil {
		return nil, fmt.Errorf("githubsim: load the embedded OpenAPI description: %w", err)
	}
	// The description names only https://api.github.com; without servers the
	// router matches on the path alone, whatever host the simulator has.
	doc.Servers = nil
	if err := relaxInstallationAccount(doc); err != nil {
		return nil, err
	}
	router, err := legacy.NewRouter(doc, openapi3.DisableExamplesValidation())
	if err != nil {
		return nil, fmt.Errorf("githubsim: build the OpenAPI router: %w", err)
	}
	return &validator{router: router, opts: &openapi3filter.Options{
		MultiError:          true,
		SkipSettingDefaults: true, // never rewrite the request the handlers see
		AuthenticationFunc:  openapi3filter.NoopAuthenticationFunc,
	}}, nil
}

// relaxInstallationAccount replaces the schema of installation.account in
// the GET /app/installations response with "any object or null". There
// GitHub describes it as allOf(simple-user, enterprise), which demands the
// enterprise-only required fields (slug, name, created_at, ...) from every
// user or organization account, so real GitHub responses fail it. The
// installation component used by the other operations says anyOf, which real
// responses pass, so it stays strict.
func relaxInstallationAccount(doc *openapi3.T) error {
	anyObject := openapi3.NewSchemaRef("", &openapi3.Schema{Type: &openapi3.Types{"object"}, Nullable: true})
	list := doc.Paths.Find("/app/installations")
	if list == nil || list.Get == nil {
		return fmt.Errorf("githubsim: the OpenAPI description lacks GET /app/installations")
	}
	resp := list.Get.Responses.Status(http.StatusOK)
	if resp == nil || resp.Value == nil {
		return fmt.Errorf("githubsim: GET /app/installations has no 200 response")
	}
	media := resp.Value.Content.Get("application/json")
	if media == nil || media.Schema == nil || media.Schema.Value.Items == nil {
		return fmt.Errorf("githubsim: GET /app/installations 200 is not a JSON array")
	}
	item := media.Schema.Value.Items.Value
	if item.Properties["account"] == nil {
		return fmt.Errorf("githubsim: GET /app/installations items have no account")
	}
	item.Properties["account"] = anyObject
	return nil
}

// exchange is one request and the response the simulator gave.
type exchange struct {
	req    *http.Request
	body   []byte
	status int
	header http.Header
	resp   []byte
}

// check validates the request and the response; it returns nil when the
// path is not an operation of the description.
func (v *validator) check(ctx context.Context, x exchange) []string {
	r := x.req.Clone(ctx)
	r.Body = io.NopCloser(bytes.NewReader(x.body))
	route, params, err := v.router.FindRoute(r)
	if err != nil {
		return nil
	}
	in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: v.opts}
	var out []string
	if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
		out = append(out, fmt.Sprintf("%s %s: request: %v", x.req.Method, x.req.URL.Path, oneLine(err)))
	}
	rin := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: x.status, Header: x.header, Options: v.opts,
	}
	rin.SetBodyBytes(x.resp)
	if err := openapi3filter.ValidateResponse(ctx, rin); err != nil {
		out = append(out, fmt.Sprintf("%s %s: response %d: %v", x.req.Method, x.req.URL.Path, x.status, oneLine(err)))
	}
	return out
}

func (v *validator) isOperation(r *http.Request) bool {
	_, _, err := v.router.FindRoute(r)
	return err == nil
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// serveValidated serves an API operation through a recorder, validates the
// exchange and then sends the response. It returns false (serving nothing)
// for paths that are not operations of the description.
func (s *Server) serveValidated(w http.ResponseWriter, r *http.Request) bool {
	if !s.oapi.isOperation(r) {
		return false
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, 10<<20))
	if err != nil {
		writeError(w, http.StatusBadRequest, "Problems parsing JSON")
		return true
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := httptest.NewRecorder()
	s.mux.ServeHTTP(rec, r)
	res := rec.Result()
	errs := s.oapi.check(r.Context(), exchange{
		req: r, body: body, status: res.StatusCode, header: res.Header, resp: rec.Body.Bytes(),
	})
	if len(errs) > 0 {
		s.mu.Lock()
		s.st.validationErrors = append(s.st.validationErrors, errs...)
		s.mu.Unlock()
	}
	for k, vs := range res.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(res.StatusCode)
	_, _ = w.Write(rec.Body.Bytes())
	return true
}

// ValidationErrors returns the OpenAPI validation failures seen so far (only
// with WithOpenAPIValidation).
func (s *Server) ValidationErrors() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.st.validationErrors...)
}
