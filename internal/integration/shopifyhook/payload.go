package shopifyhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ErrMalformedPayload is returned (wrapped) when a webhook body is not the JSON
// shape Shopify documents for its topic (not JSON, wrong field types, missing
// id, or a money amount that ParseDecimalMinor rejects).
var ErrMalformedPayload = errors.New("shopifyhook: malformed payload")

// Order holds the fields of a Shopify Order (REST Admin API representation,
// as sent by the orders/create webhook) that Parrain uses.
type Order struct {
	ID    int64  // id
	Email string // email; "" when null
	// CustomerID and CustomerEmail come from the customer object; 0 and ""
	// for orders without a customer.
	CustomerID    int64
	CustomerEmail string
	// TotalPrice is total_price exactly as sent (a decimal string in the
	// shop currency), TotalPriceMinor the same amount in minor units of
	// Currency.
	TotalPrice      string
	TotalPriceMinor int64
	Currency        string // currency: the shop currency, ISO 4217 upper case
	// DiscountCodes lists discount_codes[].code in order.
	DiscountCodes []string
	// NoteAttributes lists note_attributes (cart attributes) in order.
	NoteAttributes []NoteAttribute
	LandingSite    string // landing_site: path and query of the first page visited
	ReferringSite  string // referring_site: the referrer URL
	// FinancialStatus is financial_status, such as "paid" or "pending".
	FinancialStatus string
	// Test is true for orders placed in test mode.
	Test bool
}

// NoteAttribute is one note_attributes entry (a cart attribute). Non-string
// JSON values are kept in their JSON text form.
type NoteAttribute struct {
	Name  string
	Value string
}

// Refund holds the fields of a Shopify Refund (as sent by the refunds/create
// webhook) that Parrain uses.
type Refund struct {
	ID           int64 // id
	OrderID      int64 // order_id
	Transactions []Transaction
	LineItems    []RefundLineItem // refund_line_items
}

// Transaction is one entry of a refund's transactions.
type Transaction struct {
	ID          int64
	Kind        string // "refund" for money returned to the buyer
	Status      string // "success", "pending", "failure" or "error"
	Amount      string // amount exactly as sent (decimal string)
	AmountMinor int64  // Amount in minor units of Currency
	Currency    string // ISO 4217 upper case
}

// RefundLineItem is one entry of a refund's refund_line_items.
type RefundLineItem struct {
	ID         int64
	LineItemID int64 // line_item_id
	Quantity   int64
	// Subtotal is subtotal exactly as sent (Shopify sends a JSON number;
	// its text is kept), SubtotalMinor the same amount in minor units of
	// Currency, taken from subtotal_set.shop_money.currency_code.
	Subtotal      string
	SubtotalMinor int64
	Currency      string
}

// decimalText is a money amount sent either as a JSON string ("12.50") or a
// JSON number (12.5); it keeps the text without going through float64. null
// decodes to "".
type decimalText string

// UnmarshalJSON implements json.Unmarshaler.
func (d *decimalText) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*d = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*d = decimalText(s)
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("money amount: want string or number, got %.20s", b)
		}
		*d = decimalText(n)
	}
	return nil
}

// scalarText is a JSON scalar kept as text: strings unquoted, numbers and
// booleans as written, null as "".
type scalarText string

// UnmarshalJSON implements json.Unmarshaler.
func (s *scalarText) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*s = ""
	case len(b) > 0 && b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = scalarText(v)
	case len(b) > 0 && (b[0] == '{' || b[0] == '['):
		return fmt.Errorf("want a scalar, got %.20s", b)
	default:
		*s = scalarText(b)
	}
	return nil
}

// ParseOrder decodes an orders/create body. It requires id, currency and
// total_price, and converts total_price to minor units of currency.
func ParseOrder(body []byte) (Order, error) {
	var w struct {
		ID       int64  `json:"id"`
		Email    string `json:"email"`
		Customer *struct {
			ID    int64  `json:"id"`
			Email string `json:"email"`
		} `json:"customer"`
		TotalPrice    decimalText `json:"total_price"`
		Currency      string      `json:"currency"`
		DiscountCodes []struct {
			Code string `json:"code"`
		} `json:"discount_codes"`
		NoteAttributes []struct {
			Name  scalarText `json:"name"`
			Value scalarText `json:"value"`
		} `json:"note_attributes"`
		LandingSite     string `json:"landing_site"`
		ReferringSite   string `json:"referring_site"`
		FinancialStatus string `json:"financial_status"`
		Test            bool   `json:"test"`
	}
	if err := json.Unmarshal(body, &w); err != nil {
		return Order{}, fmt.Errorf("%w: order: %w", ErrMalformedPayload, err)
	}
	if w.ID == 0 {
		return Order{}, fmt.Errorf("%w: order without id", ErrMalformedPayload)
	}
	total, err := amountMinor(string(w.TotalPrice), w.Currency)
	if err != nil {
		return Order{}, fmt.Errorf("%w: order %d total_price %q %s: %w", ErrMalformedPayload, w.ID, w.TotalPrice, w.Currency, err)
	}
	o := Order{
		ID:              w.ID,
		Email:           w.Email,
		TotalPrice:      string(w.TotalPrice),
		TotalPriceMinor: total,
		Currency:        w.Currency,
		LandingSite:     w.LandingSite,
		ReferringSite:   w.ReferringSite,
		FinancialStatus: w.FinancialStatus,
		Test:            w.Test,
	}
	if w.Customer != nil {
		o.CustomerID = w.Customer.ID
		o.CustomerEmail = w.Customer.Email
	}
	for _, dc := range w.DiscountCodes {
		o.DiscountCodes = append(o.DiscountCodes, dc.Code)
	}
	for _, na := range w.NoteAttributes {
		o.NoteAttributes = append(o.NoteAttributes, NoteAttribute{Name: string(na.Name), Value: string(na.Value)})
	}
	return o, nil
}

// ParseRefund decodes a refunds/create body. It requires id and order_id, and
// converts every transaction amount (in its currency) and every
// refund_line_items subtotal (in subtotal_set.shop_money.currency_code) to
// minor units.
func ParseRefund(body []byte) (Refund, error) {
	var w struct {
		ID           int64 `json:"id"`
		OrderID      int64 `json:"order_id"`
		Transactions []struct {
			ID       int64       `json:"id"`
			Kind     string      `json:"kind"`
			Status   string      `json:"status"`
			Amount   decimalText `json:"amount"`
			Currency string      `json:"currency"`
		} `json:"transactions"`
		RefundLineItems []struct {
			ID          int64       `json:"id"`
			LineItemID  int64       `json:"line_item_id"`
			Quantity    int64       `json:"quantity"`
			Subtotal    decimalText `json:"subtotal"`
			SubtotalSet *struct {
				ShopMoney *struct {
					Amount       decimalText `json:"amount"`
					CurrencyCode string      `json:"currency_code"`
				} `json:"shop_money"`
			} `json:"subtotal_set"`
		} `json:"refund_line_items"`
	}
	if err := json.Unmarshal(body, &w); err != nil {
		return Refund{}, fmt.Errorf("%w: refund: %w", ErrMalformedPayload, err)
	}
	if w.ID == 0 || w.OrderID == 0 {
		return Refund{}, fmt.Errorf("%w: refund without id or order_id", ErrMalformedPayload)
	}
	r := Refund{ID: w.ID, OrderID: w.OrderID}
	for _, t := range w.Transactions {
		minor, err := amountMinor(string(t.Amount), t.Currency)
		if err != nil {
			return Refund{}, fmt.Errorf("%w: refund %d transaction %d amount %q %s: %w", ErrMalformedPayload, w.ID, t.ID, t.Amount, t.Currency, err)
		}
		r.Transactions = append(r.Transactions, Transaction{
			ID: t.ID, Kind: t.Kind, Status: t.Status,
			Amount: string(t.Amount), AmountMinor: minor, Currency: t.Currency,
		})
	}
	for _, li := range w.RefundLineItems {
		subtotal, currency := li.Subtotal, ""
		if li.SubtotalSet != nil && li.SubtotalSet.ShopMoney != nil {
			currency = li.SubtotalSet.ShopMoney.CurrencyCode
			if subtotal == "" {
				subtotal = li.SubtotalSet.ShopMoney.Amount
			}
		}
		minor, err := amountMinor(string(subtotal), currency)
		if err != nil {
			return Refund{}, fmt.Errorf("%w: refund %d line item %d subtotal %q %q: %w", ErrMalformedPayload, w.ID, li.ID, subtotal, currency, err)
		}
		r.LineItems = append(r.LineItems, RefundLineItem{
			ID: li.ID, LineItemID: li.LineItemID, Quantity: li.Quantity,
			Subtotal: string(subtotal), SubtotalMinor: minor, Currency: currency,
		})
	}
	return r, nil
}

// ErrMixedCurrencies is returned by the Refund sums when the amounts summed
// are in more than one currency.
var ErrMixedCurrencies = errors.New("shopifyhook: amounts in more than one currency")

// RefundedMinor returns the money actually returned to the buyer: the sum of
// transactions with kind "refund" and status "success", in minor units, and
// their currency ("" and 0 when there are none, e.g. a restock-only refund).
// Errors wrap ErrMixedCurrencies or ErrAmountOverflow.
func (r Refund) RefundedMinor() (int64, string, error) {
	var total int64
	currency := ""
	for _, t := range r.Transactions {
		if t.Kind != "refund" || t.Status != "success" {
			continue
		}
		var err error
		if total, currency, err = addMinor(total, currency, t.AmountMinor, t.Currency); err != nil {
			return 0, "", fmt.Errorf("refund %d: %w", r.ID, err)
		}
	}
	return total, currency, nil
}

// LineItemsSubtotalMinor returns the sum of the refund_line_items subtotals in
// minor units and their (shop) currency; 0 and "" when there are none. Errors
// wrap ErrMixedCurrencies or ErrAmountOverflow.
func (r Refund) LineItemsSubtotalMinor() (int64, string, error) {
	var total int64
	currency := ""
	for _, li := range r.LineItems {
		var err error
		if total, currency, err = addMinor(total, currency, li.SubtotalMinor, li.Currency); err != nil {
			return 0, "", fmt.Errorf("refund %d: %w", r.ID, err)
		}
	}
	return total, currency, nil
}

// addMinor adds amount in cur to total in currency, checking currency
// agreement and overflow. Amounts are non-negative (ParseDecimalMinor).
func addMinor(total int64, currency string, amount int64, cur string) (int64, string, error) {
	if currency != "" && !strings.EqualFold(cur, currency) {
		return 0, "", fmt.Errorf("%w: %s and %s", ErrMixedCurrencies, currency, cur)
	}
	if amount > math.MaxInt64-total {
		return 0, "", fmt.Errorf("%w: sum exceeds %s", ErrAmountOverflow, strconv.FormatInt(math.MaxInt64, 10))
	}
	return total + amount, cur, nil
}
