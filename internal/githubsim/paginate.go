package githubsim

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

const defaultPerPage = 30

// pageInfo is one page of a list of total items.
type pageInfo struct {
	page, perPage, total, last int
	lo, hi                     int // slice bounds of the page
}

// pageOf reads page and per_page (GitHub's defaults: 1 and 30, per_page
// clamped to the maximum) and computes the page's bounds.
func (s *Server) pageOf(r *http.Request, total int) pageInfo {
	q := r.URL.Query()
	perPage, err := strconv.Atoi(q.Get("per_page"))
	if err != nil || perPage < 1 {
		perPage = defaultPerPage
	}
	if perPage > s.cfg.perPageMax {
		perPage = s.cfg.perPageMax
	}
	page, err := strconv.Atoi(q.Get("page"))
	if err != nil || page < 1 {
		page = 1
	}
	last := (total + perPage - 1) / perPage
	if last < 1 {
		last = 1
	}
	lo := min((page-1)*perPage, total)
	hi := min(lo+perPage, total)
	return pageInfo{page: page, perPage: perPage, total: total, last: last, lo: lo, hi: hi}
}

// setLink writes GitHub's Link header (prev, next, last, first) with URLs on
// the request's own scheme, host and path.
func (p pageInfo) setLink(w http.ResponseWriter, r *http.Request) {
	var links []string
	add := func(page int, rel string) {
		links = append(links, fmt.Sprintf("<%s>; rel=%q", pageURL(r, page), rel))
	}
	if p.page > 1 {
		add(min(p.page-1, p.last), "prev")
	}
	if p.page < p.last {
		add(p.page+1, "next")
		add(p.last, "last")
	}
	if p.page > 1 {
		add(1, "first")
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
}

func pageURL(r *http.Request, page int) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	q := r.URL.Query()
	q.Set("page", strconv.Itoa(page))
	u := url.URL{Scheme: scheme, Host: r.Host, Path: r.URL.Path, RawQuery: q.Encode()}
	return u.String()
}
