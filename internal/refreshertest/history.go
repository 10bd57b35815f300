package refreshertest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// ssmHistory gives a Proxy what kumo lacks: SSM's parameter history. Every
// PutParameter that passes the proxy (and that kumo accepts) is kept with
// the version kumo assigned; GetParameterHistory is answered from that
// record the way SSM documents it (oldest first, MaxResults a page with
// NextToken, values only WithDecryption); a deleted parameter loses its
// history. Only what passes the proxy is known, so every client of a test
// that reads history must point at the proxy.
type ssmHistory struct {
	mu       sync.Mutex
	versions map[string][]historyEntry
	served   int // GetParameterHistory requests answered
}

type historyEntry struct {
	Name             string  `json:"Name"`
	Type             string  `json:"Type"`
	Value            string  `json:"Value"`
	Description      string  `json:"Description,omitempty"`
	Version          int64   `json:"Version"`
	LastModifiedDate float64 `json:"LastModifiedDate"`
}

// KeepSSMHistory makes the proxy keep and serve SSM parameter history.
func (p *Proxy) KeepSSMHistory() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.history == nil {
		p.history = &ssmHistory{versions: map[string][]historyEntry{}}
	}
}

// HistoryRequests counts the GetParameterHistory requests the proxy answered.
func (p *Proxy) HistoryRequests() int {
	h := p.ssmHistory()
	if h == nil {
		return 0
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.served
}

func (p *Proxy) ssmHistory() *ssmHistory {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.history
}

// serveSSM handles the SSM operations the history concerns; it reports
// false for every other request, which the proxy forwards unchanged.
func (h *ssmHistory) serveSSM(w http.ResponseWriter, r *http.Request, forward http.Handler) bool {
	target := r.Header.Get("X-Amz-Target")
	switch target {
	case "AmazonSSM.GetParameterHistory", "AmazonSSM.PutParameter", "AmazonSSM.DeleteParameter", "AmazonSSM.DeleteParameters":
	default:
		return false
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return true
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	var in struct {
		Name           string
		Names          []string
		Value          string
		Description    string
		Type           string
		WithDecryption bool
		MaxResults     int
		NextToken      string
	}
	_ = json.Unmarshal(body, &in)
	switch target {
	case "AmazonSSM.GetParameterHistory":
		h.answerHistory(w, in.Name, in.WithDecryption, in.MaxResults, in.NextToken)
	case "AmazonSSM.PutParameter":
		rec := &captured{ResponseWriter: w}
		forward.ServeHTTP(rec, r)
		var out struct{ Version int64 }
		if rec.status == 0 || rec.status == http.StatusOK {
			if json.Unmarshal(rec.body.Bytes(), &out) == nil && out.Version > 0 {
				h.mu.Lock()
				h.versions[in.Name] = append(h.versions[in.Name], historyEntry{
					Name: in.Name, Type: in.Type, Value: in.Value, Description: in.Description, Version: out.Version,
					LastModifiedDate: float64(time.Now().UnixMilli()) / 1000,
				})
				h.mu.Unlock()
			}
		}
	default: // DeleteParameter(s)
		h.mu.Lock()
		for _, n := range append(in.Names, in.Name) {
			delete(h.versions, n)
		}
		h.mu.Unlock()
		forward.ServeHTTP(w, r)
	}
	return true
}

func (h *ssmHistory) answerHistory(w http.ResponseWriter, name string, decrypt bool, max int, token string) {
	h.mu.Lock()
	h.served++
	all := append([]historyEntry(nil), h.versions[name]...)
	h.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if len(all) == 0 {
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": "ParameterNotFound", "message": "Parameter " + name + " not found."})
		return
	}
	if max <= 0 || max > 50 {
		max = 50
	}
	start, _ := strconv.Atoi(token)
	end := min(start+max, len(all))
	page := all[min(start, end):end]
	for i := range page {
		if !decrypt && page[i].Type == "SecureString" {
			page[i].Value = "AQICAH-ciphertext-stand-in"
		}
	}
	out := map[string]any{"Parameters": page}
	if end < len(all) {
		out["NextToken"] = strconv.Itoa(end)
	}
	_ = json.NewEncoder(w).Encode(out)
}

// captured passes a response on while keeping a copy of its body.
type captured struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (c *captured) Unwrap() http.ResponseWriter { return c.ResponseWriter }

func (c *captured) WriteHeader(s int) { c.status = s; c.ResponseWriter.WriteHeader(s) }

func (c *captured) Write(b []byte) (int, error) {
	c.body.Write(b)
	return c.ResponseWriter.Write(b)
}
