package widget

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/parrainhq/parrain/internal/parrain"
)

//go:embed assets
var assets embed.FS

// asset is an embedded static file, with its gzip form and a content hash
// for cache busting.
type asset struct {
	body, gz []byte
	ctype    string
	etag     string
}

var staticFiles = func() map[string]asset {
	out := map[string]asset{}
	for name, ctype := range map[string]string{"parrain.js": "text/javascript; charset=utf-8", "widget.js": "text/javascript; charset=utf-8",
		"widget.css": "text/css; charset=utf-8", "page.css": "text/css; charset=utf-8"} {
		b, err := assets.ReadFile("assets/" + name)
		if err != nil {
			panic(err)
		}
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		_, _ = zw.Write(b)
		_ = zw.Close()
		sum := sha256.Sum256(b)
		out[name] = asset{body: b, gz: gz.Bytes(), ctype: ctype, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
	}
	return out
}()

// assetVersion changes whenever an asset does (cache busting of the
// widget page's references).
var assetVersion = func() string {
	h := sha256.New()
	for _, n := range []string{"widget.js", "widget.css", "page.css"} {
		h.Write(staticFiles[n].body)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}()

var pages = template.Must(template.ParseFS(assets, "assets/*.html"))

func serveAsset(w http.ResponseWriter, r *http.Request, name, cache string) {
	a, ok := staticFiles[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("Cache-Control", cache)
	h.Set("ETag", a.etag)
	h.Set("Vary", "Accept-Encoding")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	if r.Header.Get("If-None-Match") == a.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := a.body
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		body = a.gz
	}
	_, _ = w.Write(body)
}

// Snippet handles GET /js/parrain.js, the script customers add to their
// site. It is cached for an hour (so a new version spreads quickly) and
// revalidated by ETag.
func (s *Service) Snippet(w http.ResponseWriter, r *http.Request) {
	serveAsset(w, r, "parrain.js", "public, max-age=3600")
}

// Asset handles GET /widget/assets/{file}: the widget page's script and
// styles, referenced with a version parameter, so cached for a year.
func (s *Service) Asset(w http.ResponseWriter, r *http.Request) {
	serveAsset(w, r, r.PathValue("file"), "public, max-age=31536000, immutable")
}

// WidgetPage handles GET /widget?program=…[&locale=…]#token=…: the page
// the snippet's Parrain.widget() (or the customer's own iframe) loads. The
// token stays in the fragment, which browsers never send to servers; the
// page's script reads it and calls the widget API. The page may be framed
// only by the program's landing-page origin and its allowed origins.
func (s *Service) WidgetPage(w http.ResponseWriter, r *http.Request) {
	progID := r.URL.Query().Get("program")
	prog, err := s.st.Program(r.Context(), progID)
	if err != nil {
		http.Error(w, "unknown program: add ?program=<program id> to the widget URL", http.StatusNotFound)
		return
	}
	x, err := s.st.Experience(r.Context(), prog.ID)
	if err != nil {
		s.log.ErrorContext(r.Context(), "loading experience", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	explicit := r.URL.Query().Get("locale")
	if explicit != "" {
		if l, err := parrain.NormalizeLocale("locale", explicit); err != nil {
			explicit = ""
		} else {
			explicit = l
		}
	}
	lang := s.lang(r, explicit, "", x.DefaultLocale)
	strs, _ := json.Marshal(s.cat.Prefix(lang, "widget."))
	h := w.Header()
	h.Del("X-Frame-Options")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' https: data:; "+
		"base-uri 'none'; form-action 'none'; frame-ancestors "+strings.Join(frameAncestors(&prog, &x), " "))
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Type", "text/html; charset=utf-8")
	err = pages.ExecuteTemplate(w, "widget.html", map[string]string{"Lang": lang, "Title": s.cat.T(lang, "widget.title"),
		"ProgramID": prog.ID, "Locale": explicit, "Strings": string(strs), "Version": assetVersion})
	if err != nil {
		s.log.ErrorContext(r.Context(), "rendering widget page", "err", err)
	}
}

// frameAncestors lists the origins allowed to embed the widget: the
// landing page's and the program's allowed origins.
func frameAncestors(p *parrain.Program, x *parrain.Experience) []string {
	out := []string{"'self'"}
	if u, err := url.Parse(p.LandingURL); err == nil {
		if o, ok := parrain.NormalizeOrigin(u.Scheme + "://" + u.Host); ok {
			out = append(out, o)
		}
	}
	return append(out, x.AllowedOrigins...)
}
