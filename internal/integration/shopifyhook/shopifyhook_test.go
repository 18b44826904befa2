package shopifyhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"math"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

const testSecret = "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"

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSignKnownAnswer pins the scheme independently of Sign: standard base64
// of HMAC-SHA256 keyed with the secret's raw bytes over the raw body.
func TestSignKnownAnswer(t *testing.T) {
	body := []byte(`{"id":1}`)
	m := hmac.New(sha256.New, []byte(testSecret))
	m.Write(body)
	want := base64.StdEncoding.EncodeToString(m.Sum(nil))
	if got := Sign(body, testSecret); got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
}

func TestVerify(t *testing.T) {
	body := readTestdata(t, "orders_create.json")
	good := Sign(body, testSecret)
	raw, _ := base64.StdEncoding.DecodeString(good)
	tampered := append([]byte(nil), body...)
	tampered[10] ^= 0x01

	tests := []struct {
		name   string
		body   []byte
		header string
		secret string
		want   error
	}{
		{"valid", body, good, testSecret, nil},
		{"valid empty body", nil, Sign(nil, testSecret), testSecret, nil},
		{"wrong secret", body, good, "shpss_other", ErrInvalidSignature},
		{"tampered body", tampered, good, testSecret, ErrInvalidSignature},
		{"re-encoded JSON is a different body", []byte(strings.ReplaceAll(string(body), "\n", "")), good, testSecret, ErrInvalidSignature},
		{"hex instead of base64", body, hex.EncodeToString(raw), testSecret, ErrInvalidSignature},
		{"url-safe base64", body, base64.URLEncoding.EncodeToString(raw), testSecret, errIfDiffers(good, base64.URLEncoding.EncodeToString(raw))},
		{"unpadded base64", body, strings.TrimRight(good, "="), testSecret, ErrInvalidSignature},
		{"truncated", body, good[:20], testSecret, ErrInvalidSignature},
		{"not base64", body, "!!!", testSecret, ErrInvalidSignature},
		{"empty header", body, "", testSecret, ErrMissingSignature},
		{"empty secret", body, good, "", ErrEmptySecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.body, tt.header, tt.secret)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("err = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// errIfDiffers is nil when the URL-safe encoding happens to equal the
// standard one (no '+' or '/'), else ErrInvalidSignature.
func errIfDiffers(std, urlSafe string) error {
	if std == urlSafe {
		return nil
	}
	return ErrInvalidSignature
}

func TestParseMeta(t *testing.T) {
	h := http.Header{}
	h.Set("X-Shopify-Topic", "orders/create")
	h.Set("x-shopify-hmac-sha256", "abc=")
	h.Set("X-Shopify-Shop-Domain", "acme.myshopify.com")
	h.Set("X-Shopify-Webhook-Id", "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043")
	h.Set("X-Shopify-Event-Id", "98880550-7158-44d4-b7cd-2c97c8a091b5")
	h.Set("X-Shopify-API-Version", "2025-01")
	h.Set("X-Shopify-Triggered-At", "2025-04-03T08:15:43.123456Z")
	want := Meta{
		Hmac: "abc=", Topic: TopicOrdersCreate, WebhookID: "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
		ShopDomain: "acme.myshopify.com", EventID: "98880550-7158-44d4-b7cd-2c97c8a091b5",
		APIVersion: "2025-01", TriggeredAt: "2025-04-03T08:15:43.123456Z",
	}
	if got := ParseMeta(h); got != want {
		t.Fatalf("ParseMeta = %+v, want %+v", got, want)
	}
	if got := ParseMeta(http.Header{}); got != (Meta{}) {
		t.Fatalf("ParseMeta(empty) = %+v", got)
	}
}

func TestParseOrder(t *testing.T) {
	body := readTestdata(t, "orders_create.json")
	if err := Verify(body, Sign(body, testSecret), testSecret); err != nil {
		t.Fatal(err)
	}
	got, err := ParseOrder(body)
	if err != nil {
		t.Fatal(err)
	}
	want := Order{
		ID: 5823173509231, Email: "claire.martin@example.fr",
		CustomerID: 7412039877743, CustomerEmail: "claire.martin@example.fr",
		TotalPrice: "84.85", TotalPriceMinor: 8485, Currency: "EUR",
		DiscountCodes: []string{"ALICE10"},
		NoteAttributes: []NoteAttribute{
			{Name: "parrain_code", Value: "ALICE10"},
			{Name: "gift_wrap", Value: "true"},
			{Name: "visitor_id", Value: "prn_vis_4b2c9e"},
		},
		LandingSite:     "/products/linen-shirt?ref=ALICE10&utm_source=parrain",
		ReferringSite:   "https://www.instagram.com/",
		FinancialStatus: "paid",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ParseOrder =\n%+v\nwant\n%+v", got, want)
	}
}

func TestParseOrderVariants(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    Order
		wantErr error
	}{
		{
			name: "guest order, JPY, nulls",
			body: `{"id":1,"email":null,"customer":null,"total_price":"1500","currency":"JPY","discount_codes":[],"note_attributes":null,"landing_site":null,"referring_site":null,"test":true}`,
			want: Order{ID: 1, TotalPrice: "1500", TotalPriceMinor: 1500, Currency: "JPY", Test: true},
		},
		{
			name: "JPY sent with zero decimals",
			body: `{"id":2,"total_price":"1500.00","currency":"JPY"}`,
			want: Order{ID: 2, TotalPrice: "1500.00", TotalPriceMinor: 1500, Currency: "JPY"},
		},
		{
			name: "KWD three digits",
			body: `{"id":3,"total_price":"12.345","currency":"KWD","discount_codes":[{"code":"A","amount":"1.000","type":"percentage"},{"code":"B"}]}`,
			want: Order{ID: 3, TotalPrice: "12.345", TotalPriceMinor: 12345, Currency: "KWD", DiscountCodes: []string{"A", "B"}},
		},
		{
			name: "total_price as JSON number",
			body: `{"id":4,"total_price":19.9,"currency":"USD"}`,
			want: Order{ID: 4, TotalPrice: "19.9", TotalPriceMinor: 1990, Currency: "USD"},
		},
		{name: "no id", body: `{"total_price":"1.00","currency":"USD"}`, wantErr: ErrMalformedPayload},
		{name: "no currency", body: `{"id":5,"total_price":"1.00"}`, wantErr: ErrUnknownCurrency},
		{name: "unknown currency", body: `{"id":5,"total_price":"1.00","currency":"XYZ"}`, wantErr: ErrUnknownCurrency},
		{name: "too precise", body: `{"id":5,"total_price":"1.005","currency":"USD"}`, wantErr: ErrTooPrecise},
		{name: "negative total", body: `{"id":5,"total_price":"-1.00","currency":"USD"}`, wantErr: ErrNegativeAmount},
		{name: "exponent", body: `{"id":5,"total_price":1e3,"currency":"USD"}`, wantErr: ErrInvalidDecimal},
		{name: "missing total", body: `{"id":5,"currency":"USD"}`, wantErr: ErrInvalidDecimal},
		{name: "id as string", body: `{"id":"5","total_price":"1.00","currency":"USD"}`, wantErr: ErrMalformedPayload},
		{name: "object note value", body: `{"id":5,"total_price":"1.00","currency":"USD","note_attributes":[{"name":"a","value":{}}]}`, wantErr: ErrMalformedPayload},
		{name: "not JSON", body: `<html>`, wantErr: ErrMalformedPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseOrder([]byte(tt.body))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !errors.Is(err, ErrMalformedPayload) {
					t.Fatalf("err = %v, want %v and ErrMalformedPayload", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseRefund(t *testing.T) {
	body := readTestdata(t, "refunds_create.json")
	got, err := ParseRefund(body)
	if err != nil {
		t.Fatal(err)
	}
	want := Refund{
		ID: 929361467, OrderID: 5823173509231,
		Transactions: []Transaction{
			{ID: 6784912345678, Kind: "refund", Status: "success", Amount: "79.90", AmountMinor: 7990, Currency: "EUR"},
			{ID: 6784912345679, Kind: "refund", Status: "failure", Amount: "79.90", AmountMinor: 7990, Currency: "EUR"},
		},
		LineItems: []RefundLineItem{
			{ID: 104689539, LineItemID: 14832217260143, Quantity: 1, Subtotal: "79.9", SubtotalMinor: 7990, Currency: "EUR"},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ParseRefund =\n%+v\nwant\n%+v", got, want)
	}
	refunded, cur, err := got.RefundedMinor()
	if err != nil || refunded != 7990 || cur != "EUR" {
		t.Fatalf("RefundedMinor = %d %q %v, want 7990 EUR (failed transaction excluded)", refunded, cur, err)
	}
	sub, cur, err := got.LineItemsSubtotalMinor()
	if err != nil || sub != 7990 || cur != "EUR" {
		t.Fatalf("LineItemsSubtotalMinor = %d %q %v, want 7990 EUR", sub, cur, err)
	}
}

func TestRefundVariants(t *testing.T) {
	tests := []struct {
		name         string
		body         string
		wantRefunded int64
		wantCurrency string
		wantSubtotal int64
		wantErr      error // from ParseRefund
		wantSumErr   error // from RefundedMinor
	}{
		{
			name:         "restock only, no money",
			body:         `{"id":1,"order_id":2,"transactions":[],"refund_line_items":[]}`,
			wantRefunded: 0, wantCurrency: "",
		},
		{
			name: "two partial refunds, a sale ignored, subtotal from subtotal_set only",
			body: `{"id":1,"order_id":2,
				"transactions":[{"id":1,"kind":"refund","status":"success","amount":"10.00","currency":"USD"},
				                {"id":2,"kind":"refund","status":"success","amount":"2.5","currency":"USD"},
				                {"id":3,"kind":"sale","status":"success","amount":"99.99","currency":"USD"},
				                {"id":4,"kind":"refund","status":"pending","amount":"1.00","currency":"USD"}],
				"refund_line_items":[{"id":9,"line_item_id":8,"quantity":2,"subtotal_set":{"shop_money":{"amount":"12.50","currency_code":"USD"}}}]}`,
			wantRefunded: 1250, wantCurrency: "USD", wantSubtotal: 1250,
		},
		{
			name: "mixed currencies",
			body: `{"id":1,"order_id":2,"transactions":[{"id":1,"kind":"refund","status":"success","amount":"1.00","currency":"USD"},
				{"id":2,"kind":"refund","status":"success","amount":"1.00","currency":"EUR"}]}`,
			wantSumErr: ErrMixedCurrencies,
		},
		{
			name: "overflowing sum",
			body: `{"id":1,"order_id":2,"transactions":[{"id":1,"kind":"refund","status":"success","amount":"9223372036854775807","currency":"JPY"},
				{"id":2,"kind":"refund","status":"success","amount":"1","currency":"JPY"}]}`,
			wantSumErr: ErrAmountOverflow,
		},
		{name: "no order_id", body: `{"id":1}`, wantErr: ErrMalformedPayload},
		{name: "line item without currency", body: `{"id":1,"order_id":2,"refund_line_items":[{"id":1,"subtotal":1.5}]}`, wantErr: ErrUnknownCurrency},
		{name: "transaction amount negative", body: `{"id":1,"order_id":2,"transactions":[{"id":1,"kind":"refund","status":"success","amount":"-1.00","currency":"USD"}]}`, wantErr: ErrNegativeAmount},
		{name: "transaction amount float junk", body: `{"id":1,"order_id":2,"transactions":[{"id":1,"kind":"refund","amount":"1,00","currency":"EUR"}]}`, wantErr: ErrInvalidDecimal},
		{name: "transactions not a list", body: `{"id":1,"order_id":2,"transactions":{}}`, wantErr: ErrMalformedPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseRefund([]byte(tt.body))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !errors.Is(err, ErrMalformedPayload) {
					t.Fatalf("err = %v, want %v and ErrMalformedPayload", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			refunded, cur, err := r.RefundedMinor()
			if tt.wantSumErr != nil {
				if !errors.Is(err, tt.wantSumErr) {
					t.Fatalf("RefundedMinor err = %v, want %v", err, tt.wantSumErr)
				}
				return
			}
			if err != nil || refunded != tt.wantRefunded || cur != tt.wantCurrency {
				t.Fatalf("RefundedMinor = %d %q %v, want %d %q", refunded, cur, err, tt.wantRefunded, tt.wantCurrency)
			}
			sub, _, err := r.LineItemsSubtotalMinor()
			if err != nil || sub != tt.wantSubtotal {
				t.Fatalf("LineItemsSubtotalMinor = %d %v, want %d", sub, err, tt.wantSubtotal)
			}
		})
	}
}

func TestParseDecimalMinor(t *testing.T) {
	tests := []struct {
		in     string
		digits int
		want   int64
		err    error
	}{
		{"0", 2, 0, nil},
		{"0.00", 2, 0, nil},
		{"1", 2, 100, nil},
		{"1.5", 2, 150, nil},
		{"1.50", 2, 150, nil},
		{"49.90", 2, 4990, nil},
		{"84.85", 2, 8485, nil},
		{"0.01", 2, 1, nil},
		{"007.50", 2, 750, nil},
		{"1500", 0, 1500, nil},
		{"1500.00", 0, 1500, nil},
		{"1500.0000000000000000000000", 0, 1500, nil},
		{"12.345", 3, 12345, nil},
		{"12.3", 3, 12300, nil},
		{"1.2345", 4, 12345, nil},
		{"19.990", 2, 1999, nil},
		{"92233720368547758.07", 2, math.MaxInt64, nil},
		{"9223372036854775807", 0, math.MaxInt64, nil},
		{"0.000000000000000001", 18, 1, nil},
		{"00000000000000000000000000001.00", 2, 100, nil},

		{"92233720368547758.08", 2, 0, ErrAmountOverflow},
		{"9223372036854775808", 0, 0, ErrAmountOverflow},
		{"92233720368547759", 2, 0, ErrAmountOverflow},
		{"1", 18 + 1, 0, ErrInvalidDecimal},
		{"1", -1, 0, ErrInvalidDecimal},
		{"10", 18, 0, ErrAmountOverflow},
		{"1.005", 2, 0, ErrTooPrecise},
		{"1.001", 0, 0, ErrTooPrecise},
		{"0.5", 0, 0, ErrTooPrecise},
		{"-1.00", 2, 0, ErrNegativeAmount},
		{"-0", 2, 0, ErrNegativeAmount},
		{"", 2, 0, ErrInvalidDecimal},
		{".", 2, 0, ErrInvalidDecimal},
		{".5", 2, 0, ErrInvalidDecimal},
		{"5.", 2, 0, ErrInvalidDecimal},
		{"+1.00", 2, 0, ErrInvalidDecimal},
		{"1e3", 2, 0, ErrInvalidDecimal},
		{"1.5e1", 2, 0, ErrInvalidDecimal},
		{" 1.00", 2, 0, ErrInvalidDecimal},
		{"1.00 ", 2, 0, ErrInvalidDecimal},
		{"1,000.00", 2, 0, ErrInvalidDecimal},
		{"1,50", 2, 0, ErrInvalidDecimal},
		{"1.2.3", 2, 0, ErrInvalidDecimal},
		{"NaN", 2, 0, ErrInvalidDecimal},
		{"Infinity", 2, 0, ErrInvalidDecimal},
		{"0x10", 2, 0, ErrInvalidDecimal},
		{"١٢", 2, 0, ErrInvalidDecimal}, // non-ASCII digits
		{"1_000", 2, 0, ErrInvalidDecimal},
	}
	for _, tt := range tests {
		t.Run(tt.in+"/"+strconv.Itoa(tt.digits), func(t *testing.T) {
			got, err := ParseDecimalMinor(tt.in, tt.digits)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("= %d, %v; want %d", got, err, tt.want)
			}
		})
	}
}

func TestCurrencyDigits(t *testing.T) {
	tests := []struct {
		code string
		want int
		err  error
	}{
		{"USD", 2, nil}, {"eur", 2, nil}, {"JPY", 0, nil}, {"KRW", 0, nil},
		{"KWD", 3, nil}, {"BHD", 3, nil}, {"CLF", 4, nil},
		{"", 0, ErrUnknownCurrency}, {"XYZ", 0, ErrUnknownCurrency}, {"US", 0, ErrUnknownCurrency},
	}
	for _, tt := range tests {
		got, err := CurrencyDigits(tt.code)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("CurrencyDigits(%q) err = %v, want %v", tt.code, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("CurrencyDigits(%q) = %d, %v; want %d", tt.code, got, err, tt.want)
		}
	}
}

func FuzzParseDecimalMinor(f *testing.F) {
	for _, s := range []string{"0", "1.5", "49.90", "1500.00", "12.345", "-1", ".5", "5.", "1e3", "92233720368547758.07", "92233720368547758.08", "0.0000", "9999999999999999999"} {
		for _, d := range []int{0, 2, 3} {
			f.Add(s, d)
		}
	}
	f.Fuzz(func(t *testing.T, s string, digits int) {
		got, err := ParseDecimalMinor(s, digits)
		if err != nil {
			for _, sentinel := range []error{ErrInvalidDecimal, ErrNegativeAmount, ErrTooPrecise, ErrAmountOverflow} {
				if errors.Is(err, sentinel) {
					return
				}
			}
			t.Fatalf("ParseDecimalMinor(%q, %d): error without a sentinel: %v", s, digits, err)
		}
		if got < 0 {
			t.Fatalf("ParseDecimalMinor(%q, %d) = %d < 0", s, digits, got)
		}
		// Oracle: exact rational arithmetic. s * 10^digits must be the
		// integer got.
		r, ok := new(big.Rat).SetString(s)
		if !ok {
			t.Fatalf("accepted %q, which big.Rat rejects", s)
		}
		scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(digits)), nil)
		r.Mul(r, new(big.Rat).SetInt(scale))
		if !r.IsInt() || r.Num().Cmp(big.NewInt(got)) != 0 {
			t.Fatalf("ParseDecimalMinor(%q, %d) = %d, want %s", s, digits, got, r.RatString())
		}
		if strings.ContainsAny(s, "eE+- _,") {
			t.Fatalf("accepted %q", s)
		}
	})
}

// FuzzParse checks that the payload parsers never panic and fail only with
// ErrMalformedPayload. The seeds are several KiB, so minimizing a new input
// can take the whole default minimize time; run it with -fuzzminimizetime=5s.
func FuzzParse(f *testing.F) {
	f.Add(readTestdata(f, "orders_create.json"))
	f.Add(readTestdata(f, "refunds_create.json"))
	f.Add([]byte(`{"id":1,"order_id":2,"total_price":1e999,"currency":"USD","refund_line_items":[{"subtotal":null}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if _, err := ParseOrder(body); err != nil && !errors.Is(err, ErrMalformedPayload) {
			t.Fatalf("ParseOrder: error without ErrMalformedPayload: %v", err)
		}
		r, err := ParseRefund(body)
		if err != nil {
			if !errors.Is(err, ErrMalformedPayload) {
				t.Fatalf("ParseRefund: error without ErrMalformedPayload: %v", err)
			}
			return
		}
		if n, _, err := r.RefundedMinor(); err == nil && n < 0 {
			t.Fatalf("negative refund total %d", n)
		}
		if n, _, err := r.LineItemsSubtotalMinor(); err == nil && n < 0 {
			t.Fatalf("negative subtotal %d", n)
		}
		_ = Verify(body, Sign(body, testSecret), testSecret)
	})
}
