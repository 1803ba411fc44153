package browsertest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/empowerher/empowerher/internal/store"
)

// startListening presses "Start listening" in the chosen mode and waits
// until audio flows.
func startListening(t *testing.T, ctx context.Context, mode string) {
	t.Helper()
	run(t, ctx, 10*time.Second, chromedp.Click(chromedp.CSS(`input[name=mode][value=`+mode+`]`)), chromedp.Click(chromedp.ID("live-toggle")))
	waitJS(t, ctx, `document.getElementById("live-toggle").getAttribute("aria-pressed") === "true"`, 30*time.Second)
}

// A screaming recording in live listening: the page shows the countdown
// within the cancel window, the alert then reaches the contact's webhook
// with the browser's location, the page shows the delivery, and the
// contact's link page acknowledges.
func TestBrowserLiveDistressCountdownThenAlert(t *testing.T) {
	needChromium(t)
	root := needCorpus(t)
	det := testDetector(t, root)
	e := newEnv(t, det, "")
	mic, _ := micFile(t, root, 2, 8, screamClips(t, root)...)
	ctx := browserCtx(t, e, mic)
	signUp(t, ctx, e, "asha")
	e.addContact("asha", "Bob")
	goHome(t, ctx, e)
	startListening(t, ctx, "server")
	shot(t, ctx, "home-listening")

	waitJS(t, ctx, `!document.getElementById("countdown").hidden`, 25*time.Second)
	shot(t, ctx, "countdown")
	onset := eval[float64](t, ctx, `window.empowerherOnsetAt || 0`)
	shown := eval[float64](t, ctx, `window.empowerherCountdownAt || 0`)
	if onset > 0 && shown > 0 {
		t.Logf("outburst onset → countdown on screen: %.0f ms", shown-onset)
	}
	// Nothing is sent during the countdown.
	if n := len(e.hook.payloads("")); n != 0 {
		t.Fatalf("%d webhooks during the countdown", n)
	}
	incs := e.incidents("asha")
	if len(incs) != 1 || incs[0].State != store.StatePending || incs[0].Trigger != "voice" {
		t.Fatalf("incidents during the countdown: %+v", incs)
	}

	alert := e.hook.wait(t, "alert", cancelWindow+10*time.Second)
	if !strings.Contains(alert.Body, "51.50735") || !strings.Contains(alert.Body, "-0.12776") {
		t.Errorf("alert without the browser's location: %q", alert.Body)
	}
	if alert.URL == "" || alert.RecipientName != "Bob" {
		t.Fatalf("alert payload %+v", alert)
	}
	waitJS(t, ctx, `document.getElementById("countdown").hidden`, 5*time.Second)
	waitJS(t, ctx, `document.querySelector("#inc-recipients .badge.sent, #inc-recipients .badge.delivered")`, 10*time.Second)
	shot(t, ctx, "alert-sent")
	// While listening during the open incident the page sends heartbeats.
	deadline := time.Now().Add(10 * time.Second)
	for e.incidents("asha")[0].LastHeartbeatAt.IsZero() {
		if time.Now().After(deadline) {
			t.Fatal("no heartbeat from the listening page during the incident")
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The contact opens the link from the webhook and responds.
	cctx, cancel := chromedp.NewContext(ctx) // a second tab: the contact's phone
	defer cancel()
	if err := chromedp.Do(cctx); err != nil { // opens the tab; no timeout on a first call
		t.Fatal(err)
	}
	run(t, cctx, 20*time.Second, chromedp.Navigate(alert.URL), chromedp.WaitVisible(chromedp.CSS("form button")))
	shot(t, cctx, "link-page")
	run(t, cctx, 20*time.Second, chromedp.Click(chromedp.CSS("form button")), chromedp.WaitVisible(chromedp.CSS("strong")))
	txt := eval[string](t, cctx, `document.body.innerText`)
	if !strings.Contains(txt, "You said you are responding") {
		t.Fatalf("link page after acknowledging: %q", txt)
	}
	shot(t, cctx, "link-page-acknowledged")

	// Her page shows that Bob is responding; "I'm safe" closes the incident.
	waitJS(t, ctx, `document.querySelector("#inc-recipients .badge.acknowledged")`, 10*time.Second)
	shot(t, ctx, "alert-acknowledged")
	run(t, ctx, 10*time.Second, chromedp.Click(chromedp.ID("safe")))
	waitJS(t, ctx, `document.getElementById("incident-panel").dataset.state === "resolved"`, 10*time.Second)
	if incs := e.incidents("asha"); incs[0].State != store.StateResolved || incs[0].Location == nil {
		t.Fatalf("after I'm safe: %+v", incs[0])
	}
	e.hook.wait(t, "resolved", 10*time.Second)
}

// Pressing Cancel during the countdown sends nothing at all.
func TestBrowserCancelSendsNothing(t *testing.T) {
	needChromium(t)
	root := needCorpus(t)
	det := testDetector(t, root)
	e := newEnv(t, det, "")
	mic, _ := micFile(t, root, 2, 8, screamClips(t, root)...)
	ctx := browserCtx(t, e, mic)
	signUp(t, ctx, e, "mira")
	e.addContact("mira", "Bob")
	goHome(t, ctx, e)
	startListening(t, ctx, "server")
	waitJS(t, ctx, `!document.getElementById("countdown").hidden`, 25*time.Second)
	run(t, ctx, 5*time.Second, chromedp.Click(chromedp.ID("cd-cancel")))
	waitJS(t, ctx, `document.getElementById("incident-panel").dataset.state === "cancelled"`, 10*time.Second)
	shot(t, ctx, "cancelled")
	// Wait past the cancel window (and the worker's poll) to be sure.
	time.Sleep(cancelWindow + time.Second)
	if ps := e.hook.payloads(""); len(ps) != 0 {
		t.Fatalf("cancel still sent %d messages: %+v", len(ps), ps)
	}
	incs := e.incidents("mira")
	if len(incs) == 0 || incs[0].State != store.StateCancelled {
		t.Fatalf("incident after cancel: %+v", incs)
	}

	// History: the timeline and per-contact states; she marks it a false alarm.
	run(t, ctx, 20*time.Second, chromedp.Navigate(e.ts.URL+"/#history"),
		chromedp.WaitVisible(chromedp.CSS(`#incident-list li[data-incident] button`)),
		chromedp.Click(chromedp.CSS(`#incident-list li[data-incident] button`)),
		chromedp.WaitVisible(chromedp.CSS(`#incident-detail .timeline li`)),
		chromedp.Click(chromedp.CSS(`#incident-detail button[aria-pressed]`)), // "False alarm"
	)
	waitJS(t, ctx, `document.querySelector('#incident-detail button[aria-pressed="true"]')`, 10*time.Second)
	shot(t, ctx, "history")
	if incs := e.incidents("mira"); incs[0].Feedback != "false_alarm" {
		t.Fatalf("feedback %q, want false_alarm", incs[0].Feedback)
	}
}

// A calm recording never shows a countdown, while the meters move.
func TestBrowserCalmRecordingNoCountdown(t *testing.T) {
	needChromium(t)
	root := needCorpus(t)
	det := testDetector(t, root)
	e := newEnv(t, det, "")
	mic, _ := micFile(t, root, 1, 1, calmClips(t, root)...)
	ctx := browserCtx(t, e, mic)
	signUp(t, ctx, e, "lena")
	e.addContact("lena", "Bob")
	goHome(t, ctx, e)
	startListening(t, ctx, "server")
	waitJS(t, ctx, `parseFloat(document.getElementById("level-bar").style.width) > 0`, 10*time.Second)
	time.Sleep(14 * time.Second) // longer than the recording: it loops
	if !eval[bool](t, ctx, `document.getElementById("countdown").hidden`) || eval[float64](t, ctx, `window.empowerherDetections || 0`) != 0 {
		shot(t, ctx, "calm-false-alarm")
		t.Fatal("a calm recording raised a detection")
	}
	shot(t, ctx, "calm-listening")
	if n := len(e.incidents("lena")); n != 0 {
		t.Fatalf("%d incidents from a calm recording", n)
	}
	// The browser ends the microphone track (device unplugged): the page says so.
	eval[bool](t, ctx, `(empowerherLive.cap.stream.getAudioTracks()[0].dispatchEvent(new Event("ended")), true)`)
	waitJS(t, ctx, `document.getElementById("live-state").textContent.includes("The microphone stopped")`, 5*time.Second)
	if eval[string](t, ctx, `document.getElementById("live-toggle").getAttribute("aria-pressed")`) != "false" {
		t.Fatal("still shown as listening after the microphone stopped")
	}
	shot(t, ctx, "mic-stopped")
}

// Sign-up, contacts (add, test, delivery state), "Check my voice" and SOS.
func TestBrowserContactsCheckMyVoiceAndSOS(t *testing.T) {
	needChromium(t)
	root := needCorpus(t)
	det := testDetector(t, root)
	e := newEnv(t, det, "")
	mic, _ := micFile(t, root, 0.3, 1, screamClips(t, root)[:2]...)
	ctx := browserCtx(t, e, mic)
	signUp(t, ctx, e, "zoe")
	run(t, ctx, 20*time.Second,
		chromedp.SendKeys(chromedp.ID("cf-name"), "Bob"),
		chromedp.SendKeys(chromedp.ID("cf-webhook"), e.hook.srv.URL),
		chromedp.Click(chromedp.CSS(`input[name=ch][value=webhook]`)),
		chromedp.Click(chromedp.CSS(`#contact-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#contact-list li[data-contact] button`)),
	)
	run(t, ctx, 10*time.Second, chromedp.Click(chromedp.CSS(`#contact-list li[data-contact] button[aria-label^="Send a test"]`)))
	test := e.hook.wait(t, "test", 10*time.Second)
	if test.RecipientName != "Bob" {
		t.Fatalf("test payload %+v", test)
	}
	waitJS(t, ctx, `document.querySelector("#contact-list .badge.sent, #contact-list .badge.delivered")`, 10*time.Second)
	shot(t, ctx, "contacts")

	goHome(t, ctx, e)
	// Page load on loopback, as the browser measured it (docs/benchmarks.md).
	t.Logf("page load: %s", eval[string](t, ctx, `(() => {
		const n = performance.getEntriesByType("navigation")[0];
		const rs = performance.getEntriesByType("resource");
		const bytes = rs.reduce((a, r) => a + r.encodedBodySize, n.encodedBodySize);
		return "load event " + n.loadEventEnd.toFixed(0) + " ms, DOMContentLoaded " + n.domContentLoadedEventEnd.toFixed(0) +
			" ms, " + (rs.length + 1) + " files, " + bytes + " bytes";
	})()`))
	run(t, ctx, 10*time.Second, chromedp.Click(chromedp.ID("check")))
	waitJS(t, ctx, `document.getElementById("verdict")`, 30*time.Second)
	bars := eval[float64](t, ctx, `document.querySelectorAll("#check-result .bars li").length`)
	if int(bars) != len(det.Classes()) {
		t.Fatalf("%v emotion bars, want %d", bars, len(det.Classes()))
	}
	verdict := eval[string](t, ctx, `document.getElementById("verdict").textContent`)
	t.Logf("check my voice on screams: %s", verdict)
	if !strings.Contains(verdict, "Distress detected") {
		t.Errorf("screams judged %q", verdict)
	}
	shot(t, ctx, "check-my-voice")

	// SOS alerts at once: no countdown, the location goes with it.
	run(t, ctx, 10*time.Second, chromedp.Click(chromedp.ID("sos")))
	alert := e.hook.wait(t, "alert", 10*time.Second)
	if !strings.Contains(alert.Body, "51.50735") {
		t.Errorf("SOS alert without the location: %q", alert.Body)
	}
	if !eval[bool](t, ctx, `document.getElementById("countdown").hidden`) {
		t.Error("SOS showed a countdown")
	}
	waitJS(t, ctx, `document.querySelector("#inc-recipients .badge.sent, #inc-recipients .badge.delivered")`, 10*time.Second)
	shot(t, ctx, "sos-sent")
}
