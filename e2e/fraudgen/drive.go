package fraudgen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// Target is a running Parrain server. ProxyFrom is the loopback address
// the simulated reverse proxy connects from; the server must have been
// started with it in --trusted-proxies (ServeFlags). Direct clients
// connect from 127.0.0.1.
type Target struct {
	BaseURL   string
	Key       string
	ProxyFrom string
}

// Arrival is one of the four ways traffic reaches Parrain.
type Arrival struct {
	Proxy      bool // clicks pass a trusted reverse proxy adding X-Forwarded-For
	CodeCookie bool // signups carry referral_code and referral_cookie (else the cookie only)
}

func (a Arrival) String() string {
	s := "direct"
	if a.Proxy {
		s = "proxy"
	}
	if a.CodeCookie {
		return s + "+code+cookie"
	}
	return s + "+cookie"
}

// Arrivals lists the four ways.
var Arrivals = []Arrival{{false, false}, {false, true}, {true, false}, {true, true}}

type driver struct {
	tgt     Target
	program string
	api     *http.Client
	direct  *http.Client
	proxy   *http.Client
	seq     atomic.Int64
	run     string // prefix of idempotency keys
}

func dialFrom(local string) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	tr := &http.Transport{DialContext: d.DialContext, MaxIdleConns: 64, MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}

func newDriver(tgt Target, run string) *driver {
	return &driver{tgt: tgt, api: dialFrom("127.0.0.1"), direct: dialFrom("127.0.0.1"), proxy: dialFrom(tgt.ProxyFrom), run: run}
}

// apiError is a non-2xx answer.
type apiError struct {
	status int
	body   string
}

func (e *apiError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.status, e.body) }

func (d *driver) call(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, d.tgt.BaseURL+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+d.tgt.Key)
	req.Header.Set("Content-Type", "application/json")
	if method != http.MethodGet {
		req.Header.Set("Idempotency-Key", fmt.Sprintf("%s-%d", d.run, d.seq.Add(1)))
	}
	for attempt := 0; ; attempt++ {
		res, err := d.api.Do(req)
		if err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
		data, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode == http.StatusTooManyRequests && attempt < 20 {
			time.Sleep(100 * time.Millisecond)
			if rd != nil {
				b, _ := json.Marshal(body)
				req.Body = io.NopCloser(bytes.NewReader(b))
			}
			continue
		}
		if res.StatusCode/100 != 2 {
			return fmt.Errorf("%s %s: %w", method, path, &apiError{res.StatusCode, string(data)})
		}
		if out != nil {
			if err := json.Unmarshal(data, out); err != nil {
				return fmt.Errorf("%s %s: %w", method, path, err)
			}
		}
		return nil
	}
}

// clickReq is one request on the referral link.
type clickReq struct {
	ip       string // the client's address (seen by the proxy)
	ua       string
	referer  string
	query    url.Values
	spoofXFF string // a forged X-Forwarded-For the client itself sends
	headless bool   // send no Accept-Language and a bare Accept, as scripts do
}

// click requests /r/{code} and returns the parrain_ref cookie value.
func (d *driver) click(ctx context.Context, arr Arrival, code string, c clickReq) (string, error) {
	u := d.tgt.BaseURL + "/r/" + code
	if len(c.query) > 0 {
		u += "?" + c.query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	if c.ua != "" {
		req.Header.Set("User-Agent", c.ua)
	} else {
		req.Header["User-Agent"] = []string{""} // Go's client would add its own
	}
	if c.headless {
		req.Header.Set("Accept", "*/*")
	} else {
		req.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
		req.Header.Set("Accept-Language", acceptLanguages[len(c.ip)%len(acceptLanguages)])
	}
	if c.referer != "" {
		req.Header.Set("Referer", c.referer)
	}
	client := d.direct
	if arr.Proxy {
		client = d.proxy
		xff := c.ip
		if c.spoofXFF != "" {
			xff = c.spoofXFF + ", " + c.ip // the proxy appends the address it saw
		}
		req.Header.Set("X-Forwarded-For", xff)
		req.Header.Set("X-Forwarded-Proto", "https")
	} else if c.spoofXFF != "" {
		req.Header.Set("X-Forwarded-For", c.spoofXFF)
	}
	res, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("click %s: %w", code, err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode == http.StatusTooManyRequests {
		return "", nil
	}
	if res.StatusCode != http.StatusFound && res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("click %s: HTTP %d", code, res.StatusCode)
	}
	for _, ck := range res.Cookies() {
		if ck.Name == "parrain_ref" {
			return ck.Value, nil
		}
	}
	return "", nil
}

// upsertAdvocate registers an advocate with their context and returns the code.
func (d *driver) upsertAdvocate(ctx context.Context, p person) (string, error) {
	c := p.context()
	if p.card != "" {
		c["payment_fingerprint"] = p.card
	}
	if p.address != "" {
		c["address"] = p.address
	}
	var out struct {
		Code string `json:"code"`
	}
	err := d.call(ctx, http.MethodPut, "/api/v1/programs/"+d.program+"/participants/"+url.PathEscape(p.id),
		map[string]any{"email": p.email, "name": p.name, "context": c}, &out)
	return out.Code, err
}

// signup reports a signup as integration.md shows. code is sent only with
// Arrival.CodeCookie; cookie is the parrain_ref value the snippet kept.
func (d *driver) signup(ctx context.Context, arr Arrival, p person, code, cookie string) error {
	ev := map[string]any{"type": "signup", "external_id": p.id, "email": p.email, "name": p.name, "context": p.context()}
	if cookie != "" {
		ev["referral_cookie"] = cookie
	}
	if arr.CodeCookie || cookie == "" {
		ev["referral_code"] = code
	}
	return d.call(ctx, http.MethodPost, "/api/v1/programs/"+d.program+"/events", ev, nil)
}

func (d *driver) purchase(ctx context.Context, p person, order string, amount int64) error {
	c := p.context()
	c["payment_fingerprint"] = p.card
	c["address"] = p.address
	ev := map[string]any{"type": "purchase", "external_id": p.id, "order_id": order, "amount": amount, "currency": "EUR", "context": c}
	return d.call(ctx, http.MethodPost, "/api/v1/programs/"+d.program+"/events", ev, nil)
}

func (d *driver) refund(ctx context.Context, p person, order string, amount int64) error {
	ev := map[string]any{"type": "refund", "external_id": p.id, "order_id": order, "amount": amount, "currency": "EUR"}
	return d.call(ctx, http.MethodPost, "/api/v1/programs/"+d.program+"/events", ev, nil)
}

func (d *driver) activity(ctx context.Context, p person) error {
	return d.call(ctx, http.MethodPost, "/api/v1/programs/"+d.program+"/events", map[string]any{"type": "activity", "external_id": p.id}, nil)
}

// Outcome is what the public API says of one referral.
type Outcome struct {
	Friend       string `json:"friend_external_id"`
	Status       string `json:"status"`
	Reason       string `json:"reason"`
	RiskScore    int    `json:"risk_score"`
	RiskAction   string `json:"risk_action"`
	ReviewStatus string `json:"review_status"`
	ClickedAt    string `json:"clicked_at"`
}

// Decision maps the outcome to allow, flag, hold or reject.
func (o Outcome) Decision() string {
	switch {
	case o.Status == "rejected" || o.ReviewStatus == "rejected" || o.RiskAction == "reject" || o.RiskAction == "suspend":
		return "reject"
	case o.ReviewStatus == "held" || o.RiskAction == "hold":
		return "hold"
	case o.ReviewStatus == "flagged" || o.RiskAction == "flag":
		return "flag"
	default:
		return "allow"
	}
}

func (d *driver) outcomes(ctx context.Context) (map[string]Outcome, error) {
	out := map[string]Outcome{}
	cursor := ""
	for {
		path := "/api/v1/programs/" + d.program + "/referrals?limit=200"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		var page struct {
			Data       []Outcome `json:"data"`
			NextCursor string    `json:"next_cursor"`
		}
		if err := d.call(ctx, http.MethodGet, path, nil, &page); err != nil {
			return nil, err
		}
		for _, o := range page.Data {
			out[o.Friend] = o
		}
		if page.NextCursor == "" || len(page.Data) == 0 {
			return out, nil
		}
		cursor = page.NextCursor
	}
}

// createProgram creates the program every scenario runs in: one reward on
// the first purchase, the default fraud policy.
func (d *driver) createProgram(ctx context.Context) error {
	var out struct {
		ID string `json:"id"`
	}
	err := d.call(ctx, http.MethodPost, "/api/v1/programs", map[string]any{
		"name": "fraudgen " + d.run, "landing_url": "https://shop.example/welcome", "currency": "EUR", "hold_days": 30,
		"rules": []any{map[string]any{"trigger": "first_purchase",
			"advocate": map[string]any{"kind": "cash", "type": "fixed", "amount": 2000},
			"friend":   map[string]any{"kind": "coupon", "type": "fixed", "amount": 1000}}},
	}, &out)
	if err != nil {
		return err
	}
	if out.ID == "" || strings.TrimSpace(out.ID) != out.ID {
		return fmt.Errorf("create program: no id")
	}
	d.program = out.ID
	return nil
}

// signals reads the review queue (flagged and held) and returns
// the codes of the signals counted on each friend's referral.
func (d *driver) signals(ctx context.Context) (map[string][]string, error) {
	out := map[string][]string{}
	for _, status := range []string{"flagged", "held"} {
		cursor := ""
		for {
			path := "/api/v1/programs/" + d.program + "/reviews?limit=200&status=" + status
			if cursor != "" {
				path += "&cursor=" + url.QueryEscape(cursor)
			}
			var page struct {
				Data []struct {
					Referral Outcome `json:"referral"`
					Signals  []struct {
						Code    string `json:"code"`
						Counted bool   `json:"counted"`
					} `json:"signals"`
				} `json:"data"`
				NextCursor string `json:"next_cursor"`
			}
			if err := d.call(ctx, http.MethodGet, path, nil, &page); err != nil {
				return nil, err
			}
			for _, it := range page.Data {
				var codes []string
				for _, s := range it.Signals {
					if s.Counted {
						codes = append(codes, s.Code)
					}
				}
				out[it.Referral.Friend] = codes
			}
			if page.NextCursor == "" || len(page.Data) == 0 {
				break
			}
			cursor = page.NextCursor
		}
	}
	return out, nil
}
