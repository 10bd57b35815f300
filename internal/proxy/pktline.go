package proxy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ErrMalformed is wrapped by ParsePushRequest when the request is not a
// receive-pack command list it understands; the proxy then refuses the push
// (it fails closed).
var ErrMalformed = errors.New("malformed git-receive-pack request")

const (
	maxPktLen = 65520 // git's LARGE_PACKET_MAX: 4 length bytes + 65516 payload
	// maxCommandBytes bounds the command section the proxy holds in memory
	// before deciding (the pack that follows is streamed, never held).
	maxCommandBytes = 8 << 20
)

// Command is one ref update of a push: "<old-oid> <new-oid> <ref>".
type Command struct {
	Old, New, Ref string
}

// Deletion reports whether the command deletes Ref (new is the zero id).
func (c Command) Deletion() bool { return strings.Trim(c.New, "0") == "" }

// PushRequest is the part of a git-receive-pack request before the pack
// (gitprotocol-pack(5), protocol v0/v1): optional shallow lines, the commands
// (the first carries the capabilities after a NUL), a flush, and with the
// push-options capability the options and another flush.
type PushRequest struct {
	Shallow      []string
	Commands     []Command
	Capabilities []string
	PushOptions  []string
	// Head holds every byte read from the request so far; the proxy forwards it
	// before the rest of the body when the push is allowed.
	Head []byte
}

// Has reports whether the client asked for capability name (a capability
// such as agent=git/2.43 matches its name "agent").
func (r *PushRequest) Has(name string) bool {
	for _, c := range r.Capabilities {
		if c == name || strings.HasPrefix(c, name+"=") {
			return true
		}
	}
	return false
}

// ParsePushRequest reads the command section of a receive-pack request from r,
// consuming nothing past it: the pack (if any) is left in r. An empty request
// (a lone flush: git's probe before a large push) has no commands.
func ParsePushRequest(r *bufio.Reader) (*PushRequest, error) {
	req := &PushRequest{}
	var head bytes.Buffer
	pr := pktReader{r: r, head: &head}
	defer func() { req.Head = head.Bytes() }()
	first := true
	for {
		line, flush, err := pr.next()
		if err != nil {
			return req, err
		}
		if flush {
			break
		}
		s := strings.TrimSuffix(string(line), "\n")
		if first && strings.HasPrefix(s, "shallow ") {
			oid := strings.TrimPrefix(s, "shallow ")
			if !isOID(oid) {
				return req, fmt.Errorf("%w: shallow line %q does not name an object id", ErrMalformed, s)
			}
			req.Shallow = append(req.Shallow, oid)
			continue
		}
		if strings.HasPrefix(s, "push-cert") {
			return req, fmt.Errorf("%w: signed pushes (push certificates) are not inspected by km proxy; push without --signed", ErrMalformed)
		}
		if first {
			cmd, caps, ok := strings.Cut(s, "\x00")
			if ok {
				req.Capabilities = strings.Fields(caps)
			}
			s = cmd
			first = false
		} else if strings.Contains(s, "\x00") {
			return req, fmt.Errorf("%w: capabilities after the first command", ErrMalformed)
		}
		c, err := parseCommand(s)
		if err != nil {
			return req, err
		}
		req.Commands = append(req.Commands, c)
	}
	if len(req.Commands) > 0 && req.Has("push-options") {
		for {
			line, flush, err := pr.next()
			if err != nil {
				return req, err
			}
			if flush {
				break
			}
			req.PushOptions = append(req.PushOptions, strings.TrimSuffix(string(line), "\n"))
		}
	}
	return req, nil
}

func parseCommand(s string) (Command, error) {
	f := strings.Split(s, " ")
	if len(f) != 3 || !isOID(f[0]) || !isOID(f[1]) || len(f[0]) != len(f[1]) || f[2] == "" || hasControl(f[2]) {
		return Command{}, fmt.Errorf("%w: command %q is not \"<old-oid> <new-oid> <ref>\"", ErrMalformed, trunc(s))
	}
	return Command{Old: f[0], New: f[1], Ref: f[2]}, nil
}

// hasControl reports whether s holds a control character, which no git ref
// name may contain.
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}

// isOID reports whether s is a lowercase hex SHA-1 or SHA-256 object id.
func isOID(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func trunc(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

// pktReader reads pkt-lines, copying every byte it consumes into head.
type pktReader struct {
	r    *bufio.Reader
	head *bytes.Buffer
}

// next returns one pkt-line's payload, or flush=true for 0000.
func (p *pktReader) next() (payload []byte, flush bool, err error) {
	var hdr [4]byte
	if _, err := io.ReadFull(p.r, hdr[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, false, fmt.Errorf("%w: the request ended before the command list's flush-pkt", ErrMalformed)
		}
		return nil, false, fmt.Errorf("reading the push request: %w", err)
	}
	p.head.Write(hdr[:])
	n, err := strconv.ParseUint(string(hdr[:]), 16, 16)
	if err != nil {
		return nil, false, fmt.Errorf("%w: pkt-line length %q is not 4 hex digits", ErrMalformed, hdr[:])
	}
	switch {
	case n == 0:
		return nil, true, nil
	case n < 4:
		return nil, false, fmt.Errorf("%w: pkt-line length %04x is a protocol v2 special packet, not valid in a push", ErrMalformed, n)
	case n > maxPktLen:
		return nil, false, fmt.Errorf("%w: pkt-line length %d exceeds %d", ErrMalformed, n, maxPktLen)
	}
	if p.head.Len()+int(n) > maxCommandBytes {
		return nil, false, fmt.Errorf("%w: the command list exceeds %d bytes", ErrMalformed, maxCommandBytes)
	}
	start := p.head.Len()
	if _, err := io.CopyN(p.head, p.r, int64(n-4)); err != nil {
		return nil, false, fmt.Errorf("%w: a pkt-line is cut short: %v", ErrMalformed, err)
	}
	return p.head.Bytes()[start:], false, nil
}

// pkt encodes one pkt-line.
func pkt(s string) []byte { return []byte(fmt.Sprintf("%04x%s", len(s)+4, s)) }

// DenyReport is the receive-pack result the proxy answers a refused push
// with, so that git shows each refused ref: "unpack ok" (the proxy read and
// discarded the pack, as a declining pre-receive hook would have), then
// "ng <ref> <reason>" for every command (the whole push is refused), then a
// flush. With side-band-64k (or side-band) the report travels on band 1 and
// each message in messages is also written on band 2, which git prints as
// "remote: <message>". reasons maps a ref to its reason; refs missing from it
// get other.
func DenyReport(req *PushRequest, reasons map[string]string, other string, messages []string) []byte {
	var report bytes.Buffer
	report.Write(pkt("unpack ok\n"))
	for _, c := range req.Commands {
		why, ok := reasons[c.Ref]
		if !ok {
			why = other
		}
		report.Write(pkt("ng " + c.Ref + " " + oneLine(why) + "\n"))
	}
	report.WriteString("0000")
	band := 0
	switch {
	case req.Has("side-band-64k"):
		band = maxPktLen - 5
	case req.Has("side-band"):
		band = 1000 - 5
	}
	if band == 0 {
		return report.Bytes()
	}
	var out bytes.Buffer
	for _, m := range messages {
		out.Write(pkt("\x02" + oneLine(m) + "\n"))
	}
	b := report.Bytes()
	for len(b) > 0 {
		n := min(len(b), band)
		out.Write(pkt("\x01" + string(b[:n])))
		b = b[n:]
	}
	out.WriteString("0000")
	return out.Bytes()
}

func oneLine(s string) string {
	return strings.NewReplacer("\n", " ", "\r", " ", "\x00", " ").Replace(s)
}
