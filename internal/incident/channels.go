package incident

import (
	"github.com/empowerher/empowerher/internal/notify"
	"github.com/empowerher/empowerher/internal/store"
)

// Registry hands out configured channels; Get returns an error wrapping
// notify.ErrNotConfigured for a kind without a provider.
type Registry interface {
	Get(kind string) (notify.Channel, error)
}

// ContactChannels is the contact's channels in order of preference; when
// none were chosen, every address the contact has, phone first.
func ContactChannels(c *store.Contact) []string {
	if len(c.Channels) > 0 {
		return c.Channels
	}
	var out []string
	if c.Phone != "" {
		out = append(out, store.ChannelSMS)
	}
	if c.Email != "" {
		out = append(out, store.ChannelEmail)
	}
	if c.WebhookURL != "" {
		out = append(out, store.ChannelWebhook)
	}
	if len(out) == 0 {
		out = append(out, store.ChannelLog)
	}
	return out
}

// HasAddress reports whether c can be reached on channel at all.
func HasAddress(c *store.Contact, channel string) bool {
	switch channel {
	case store.ChannelSMS, store.ChannelVoice:
		return c.Phone != ""
	case store.ChannelEmail:
		return c.Email != ""
	case store.ChannelWebhook:
		return c.WebhookURL != ""
	case store.ChannelLog:
		return true
	}
	return false
}

func configured(reg Registry, channel string) bool {
	if reg == nil {
		return false
	}
	_, err := reg.Get(channel)
	return err == nil
}

// firstChannel is where a new message to c goes: the first of c's
// channels that is configured and that c has an address for. When none is,
// the message goes to the log channel (fellBack), so that an alert is at
// least visible to whoever runs the server, and the user is told.
func firstChannel(reg Registry, c *store.Contact) (channel string, fellBack bool) {
	for _, ch := range ContactChannels(c) {
		if HasAddress(c, ch) && configured(reg, ch) {
			return ch, false
		}
	}
	return store.ChannelLog, true
}

// nextChannel is the fall-over after channel failed for good: the next
// configured channel in c's list after it. ok is false when there is none.
func nextChannel(reg Registry, c *store.Contact, channel string) (string, bool) {
	list := ContactChannels(c)
	at := -1
	for i, ch := range list {
		if ch == channel {
			at = i
			break
		}
	}
	if at < 0 {
		return "", false
	}
	for _, ch := range list[at+1:] {
		if HasAddress(c, ch) && configured(reg, ch) {
			return ch, true
		}
	}
	return "", false
}
