package notify

import (
	"github.com/parrainhq/parrain/internal/i18n"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// FeedItem is a notification as the widget and the API show it: the
// stored facts, and the sentence in the reader's language.
type FeedItem struct {
	store.Notification
	Text string `json:"text"`
}

// Feed renders notifications in lang. sender names the business.
func Feed(cat *i18n.Catalog, lang, sender string, ns []store.Notification) []FeedItem {
	out := make([]FeedItem, len(ns))
	for i, nt := range ns {
		out[i] = FeedItem{Notification: nt, Text: FeedText(cat, lang, sender, nt)}
	}
	return out
}

// FeedText is the sentence of one notification in lang.
func FeedText(cat *i18n.Catalog, lang, sender string, nt store.Notification) string {
	str := func(k string) string {
		v, _ := nt.Data[k].(string)
		return v
	}
	friend := str("friend")
	if friend == "" {
		friend = cat.T(lang, "notice.a_friend")
	}
	reward := ""
	if amt, ok := nt.Data["amount"].(float64); ok {
		reward = cat.Money(lang, int64(amt), str("currency"))
		if str("kind") == string(parrain.KindCustom) && str("description") != "" {
			reward = str("description")
		}
	}
	text := cat.T(lang, "notice."+string(nt.Kind), "friend", friend, "reward", reward, "sender", sender)
	if code := str("code"); code != "" {
		text += " " + cat.T(lang, "reward.code", "code", code)
	}
	return text
}
