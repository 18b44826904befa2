// Package httpx holds what every HTTP package of Parrain (api, console,
// portal, widget) needs the same way, so that it exists once: the mapping
// of domain error codes to HTTP statuses and the JSON error body, reading
// and writing JSON (bounded bodies, errors that name the offending field),
// page, limit and cursor parameters, the client's IP address (the
// --trusted-proxies setting honoured in one place), per-key rate limiting
// with the IETF RateLimit headers, and the edge checks of every request
// (Guard: body caps, NUL and invalid UTF-8 in path, query and form). See
// docs/security.md.
//
// It imports only the domain (internal/parrain), the standard library and
// golang.org/x/time/rate; never the store, a use case or another HTTP
// package.
package httpx
