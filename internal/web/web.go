// Package web holds the admin console's templates and static files,
// embedded in the binary so the console works without any CDN or network
// access. The console package parses and serves them.
//
// It imports nothing of Parrain's.
package web

import (
	"embed"
	"io/fs"
)

//go:embed templates/*.html
var templates embed.FS

//go:embed static/*
var static embed.FS

// Templates returns the html/template sources (one file per page, plus the
// shared layout and partials).
func Templates() fs.FS {
	sub, _ := fs.Sub(templates, "templates")
	return sub
}

// Static returns the CSS, JavaScript and images served under
// /admin/static/.
func Static() fs.FS {
	sub, _ := fs.Sub(static, "static")
	return sub
}
