// Package browsertest drives the web app in a real Chromium (chromedp)
// against a real server, store, delivery worker and webhook receiver,
// with the microphone faked from real recordings. It holds only tests;
// they skip when /usr/bin/chromium or the corpora are missing.
package browsertest
