// Package notify sends alert messages over channels (AWS SNS, Twilio SMS
// and voice, SMTP email, signed webhooks, the log) and says, for each
// failure, whether it is worth retrying. Durable delivery, retries and
// fall-over live in the delivery worker; a Channel only makes one attempt.
//
// # Channels
//
// NewRegistry builds the channels a Config names: "sms" (SNS or Twilio),
// "voice" (Twilio, a call that says the alert twice with TwiML <Say>),
// "email" (SMTP via go-mail), "webhook" (signed JSON POST) and "log", which
// is always there so a server with no credentials still works and says, in
// its log, that no SMS provider is configured (Registry.SMSConfigured).
//
// Every provider client has a timeout, no SDK-internal retries, drains and
// closes response bodies, and takes an injectable base URL (SNS endpoint,
// Twilio base URL) so tests talk to real local peers.
//
// # Errors
//
// Retryable, in classify.go, is the one place that decides retry or not:
// HTTP 5xx, 429 and 408, timeouts, connection resets and refusals,
// temporary DNS failures, AWS throttling and internal errors, and SMTP 4xx
// replies are retried; other 4xx, AWS parameter and authorisation errors,
// SMTP 5xx replies and invalid addresses (ErrInvalidAddress) are not.
// When a provider asks for a delay (Retry-After) the error is a
// *RetryAfterError. Errors leaving a channel are rebuilt from redacted text
// (Redactor): configured secrets, AWS keys, Authorization headers and URL
// credentials never appear in them.
//
// # Idempotency
//
// Message.IdempotencyKey is stable across retries. Webhooks send it as the
// Idempotency-Key header and in the body; e-mail derives its Message-ID
// from it; SNS FIFO topics use it as the deduplication id. Twilio and
// standard SNS have no idempotency key, so a crash between the provider
// accepting a message and the worker storing its id can send a second copy;
// the worker stores the provider id before marking a delivery sent, and
// Twilio status callbacks carry the key in their URL.
//
// # Receivers
//
// VerifyWebhook (and WebhookFresh) let a webhook receiver check a delivery;
// VerifyTwilioSignature and ParseTwilioCallback let the server's Twilio
// status-callback route check and read a callback, and MapTwilioStatus
// maps Twilio's statuses to delivery states.
package notify
