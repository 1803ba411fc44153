package notify

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Admiral-Piett/goaws/app/servertest"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/sirupsen/logrus"
)

const (
	testAWSKeyID  = "AKIAIOSFODNN7EXAMPLE"
	testAWSSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

// awsTestEnv points the AWS default chain at static test credentials and
// away from this machine's files and instance metadata.
func awsTestEnv(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("AWS_ACCESS_KEY_ID", testAWSKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", testAWSSecret)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_PROFILE", "")
}

// snsPeer speaks SNS's query protocol for Publish, as AWS documents it.
func snsPeer(t *testing.T) *peer {
	p := newPeer(t, func(w http.ResponseWriter, r *recordedRequest) {
		form, err := url.ParseQuery(string(r.Body))
		auth := r.Header.Get("Authorization")
		if err != nil || !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential="+testAWSKeyID+"/") ||
			!strings.Contains(auth, "/eu-west-1/sns/aws4_request") || !strings.Contains(auth, "Signature=") {
			snsError(w, 403, "Sender", "InvalidClientTokenId", "The security token included in the request is invalid.")
			return
		}
		if form.Get("Action") != "Publish" || form.Get("Version") != "2010-03-31" {
			snsError(w, 400, "Sender", "InvalidAction", "bad action")
			return
		}
		switch form.Get("PhoneNumber") {
		case "+15005550009": // real SNS throttles with HTTP 400 and a code
			snsError(w, 400, "Sender", "Throttling", "Rate exceeded")
			return
		case "+15005550010": // accepted, answer garbled
			w.Header().Set("Content-Type", "text/xml")
			fmt.Fprint(w, `<PublishResponse><PublishResult><MessageId>567`)
			return
		case "+15005550001":
			snsError(w, 400, "Sender", "InvalidParameter", "Invalid parameter: PhoneNumber Reason: not a valid number")
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprint(w, `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>567910cd-659e-55d4-8ccb-5aaf14679dc0</MessageId></PublishResult><ResponseMetadata><RequestId>d74b8436-ae13-5ab4-a9ff-ce54dfea72a0</RequestId></ResponseMetadata></PublishResponse>`)
	})
	p.errFunc = func(w http.ResponseWriter, code int) {
		switch code {
		case 500:
			snsError(w, 500, "Receiver", "InternalError", "internal error")
		case 503:
			snsError(w, 503, "Receiver", "ServiceUnavailable", "unavailable")
		case 429:
			snsError(w, 429, "Sender", "Throttling", "Rate exceeded")
		case 401:
			snsError(w, 403, "Sender", "AuthorizationError", "not authorized")
		default:
			snsError(w, code, "Sender", "InvalidParameter", "Invalid parameter")
		}
	}
	return p
}

func snsError(w http.ResponseWriter, status int, typ, code, msg string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>9f0c6d2e-0000-0000-0000-000000000000</RequestId></ErrorResponse>`, typ, code, msg)
}

func newTestSNS(t *testing.T, endpoint, topic string) *SNS {
	t.Helper()
	ch, err := NewSNS(SNSConfig{Region: "eu-west-1", EndpointURL: endpoint, TopicARN: topic, Timeout: testTimeout}, NewRedactor())
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

func TestSNSDirectSMS(t *testing.T) {
	awsTestEnv(t)
	p := snsPeer(t)
	ch := newTestSNS(t, p.srv.URL, "")
	m := testMessage()
	res, retry, err := ch.Notify(context.Background(), m)
	if err != nil || retry {
		t.Fatalf("Notify: %v (retry %v)", err, retry)
	}
	if res.ProviderID != "567910cd-659e-55d4-8ccb-5aaf14679dc0" {
		t.Errorf("ProviderID = %q", res.ProviderID)
	}
	reqs := p.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests (the SDK must not retry on its own)", len(reqs))
	}
	form, _ := url.ParseQuery(string(reqs[0].Body))
	want := map[string]string{
		"Action":                         "Publish",
		"PhoneNumber":                    m.To.Phone,
		"Message":                        m.Body,
		"MessageAttributes.entry.1.Name": "AWS.SNS.SMS.SMSType",
		"MessageAttributes.entry.1.Value.DataType":    "String",
		"MessageAttributes.entry.1.Value.StringValue": "Transactional",
	}
	for k, v := range want {
		if got := form.Get(k); got != v {
			t.Errorf("form %s = %q, want %q (form %v)", k, got, v, form)
		}
	}
	if form.Has("TopicArn") {
		t.Error("direct SMS also named a topic")
	}
}

func TestSNSFaults(t *testing.T) {
	awsTestEnv(t)
	p := snsPeer(t)
	ch := newTestSNS(t, p.srv.URL, "")
	for _, c := range httpFaultCases {
		p.setFault(c.fault)
		start := time.Now()
		_, retry, err := ch.Notify(context.Background(), testMessage())
		if err == nil {
			t.Errorf("%s: no error", c.fault)
			continue
		}
		if retry != c.retry {
			t.Errorf("%s: retry = %v, want %v (%v)", c.fault, retry, c.retry, err)
		}
		if d, ok := RetryAfter(err); c.retryAfter != 0 && (!ok || d != c.retryAfter) {
			t.Errorf("%s: RetryAfter = %v, %v; want %v", c.fault, d, ok, c.retryAfter)
		}
		if strings.Contains(err.Error(), testAWSSecret) || strings.Contains(err.Error(), testAWSKeyID) {
			t.Errorf("%s: error leaks credentials: %v", c.fault, err)
		}
		if c.fault == faultSlow && time.Since(start) > 3*testTimeout {
			t.Errorf("slow peer: attempt took %v", time.Since(start))
		}
	}
	p.setFault(faultNone)
	m := testMessage()
	m.To.Phone = "+15005550009"
	if _, retry, err := ch.Notify(context.Background(), m); !retry || err == nil || !strings.Contains(err.Error(), "Throttling") {
		t.Errorf("HTTP 400 Throttling: retry=%v err=%v", retry, err)
	}
	m.To.Phone = "+15005550001"
	if _, retry, err := ch.Notify(context.Background(), m); retry || err == nil || !strings.Contains(err.Error(), "InvalidParameter") {
		t.Errorf("InvalidParameter: retry=%v err=%v", retry, err)
	}
	m.To.Phone = "+15005550010"
	if res, retry, err := ch.Notify(context.Background(), m); retry || err != nil || res.ProviderID == "" {
		t.Errorf("accepted, garbled answer: retry=%v err=%v (a retry would send twice)", retry, err)
	}
	n := len(p.requests())
	m.To.Phone = "4155550123"
	if _, retry, err := ch.Notify(context.Background(), m); retry || !errors.Is(err, ErrInvalidAddress) {
		t.Errorf("not E.164: retry=%v err=%v", retry, err)
	}
	if len(p.requests()) != n {
		t.Error("request made for an invalid number")
	}
	// Wrong credentials: permanent, and the key is not in the error.
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAZZZZZZZZZZZZZZZZ")
	bad := newTestSNS(t, p.srv.URL, "")
	if _, retry, err := bad.Notify(context.Background(), testMessage()); retry || err == nil || strings.Contains(err.Error(), "AKIAZZZZ") {
		t.Errorf("bad credentials: retry=%v err=%v", retry, err)
	}
}

func TestNewSNSNeedsRegion(t *testing.T) {
	awsTestEnv(t)
	if _, err := NewSNS(SNSConfig{}, nil); err == nil || !strings.Contains(err.Error(), "EMPOWERHER_SNS_REGION") {
		t.Errorf("no region: %v", err)
	}
	if _, err := NewSNS(SNSConfig{Region: "eu-west-1", TopicARN: "empowerher-alerts"}, nil); err == nil {
		t.Error("topic name accepted as ARN")
	}
}

// TestSNSTopicPublishGoaws publishes to a topic on a real goaws, as the
// prototype did with "empowerher-alerts", and reads the message back from
// an SQS queue subscribed to it.
func TestSNSTopicPublishGoaws(t *testing.T) {
	awsTestEnv(t)
	logrus.SetOutput(io.Discard)
	srv, err := servertest.New("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Quit() })

	setup := newTestSNS(t, srv.URL(), "")
	ctx := context.Background()
	topic, err := setup.Client().CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("empowerher-alerts")})
	if err != nil {
		t.Fatalf("CreateTopic: %v", err)
	}
	topicARN := aws.ToString(topic.TopicArn)
	if !strings.HasSuffix(topicARN, ":empowerher-alerts") {
		t.Fatalf("topic ARN %q", topicARN)
	}
	queueURL := sqsCall(t, srv.URL(), url.Values{"Action": {"CreateQueue"}, "QueueName": {"alerts-inbox"}}).QueueURL
	if queueURL == "" {
		t.Fatal("CreateQueue returned no URL")
	}
	if _, err := setup.Client().Subscribe(ctx, &sns.SubscribeInput{
		TopicArn: aws.String(topicARN), Protocol: aws.String("sqs"),
		Endpoint: aws.String("arn:aws:sqs:eu-west-1:000000000000:alerts-inbox"),
	}); err != nil {
		t.Fatalf("Subscribe: %v", err)
	}

	ch := newTestSNS(t, srv.URL(), topicARN)
	m := testMessage()
	m.To.Phone = "" // no phone: the channel publishes to the topic
	res, retry, err := ch.Notify(ctx, m)
	if err != nil || retry {
		t.Fatalf("Notify: %v (retry %v)", err, retry)
	}
	if res.ProviderID == "" {
		t.Error("no MessageId")
	}

	got := sqsCall(t, srv.URL(), url.Values{"Action": {"ReceiveMessage"}, "QueueUrl": {queueURL},
		"MaxNumberOfMessages": {"10"}, "WaitTimeSeconds": {"0"}})
	if len(got.Messages) != 1 {
		t.Fatalf("queue holds %d messages, want 1", len(got.Messages))
	}
	var note struct{ Type, TopicArn, Subject, Message string }
	if err := json.Unmarshal([]byte(got.Messages[0].Body), &note); err != nil {
		t.Fatalf("notification body %q: %v", got.Messages[0].Body, err)
	}
	if note.Message != m.Body || note.Subject != m.Subject || note.TopicArn != topicARN {
		t.Errorf("delivered %+v;\nwant Message %q Subject %q", note, m.Body, m.Subject)
	}

	// A topic that does not exist is a permanent failure.
	gone := newTestSNS(t, srv.URL(), "arn:aws:sns:eu-west-1:000000000000:nope")
	if _, retry, err := gone.Notify(ctx, m); err == nil || retry {
		t.Errorf("missing topic: retry=%v err=%v", retry, err)
	}
}

func TestSNSFIFOTopicDeduplicates(t *testing.T) {
	awsTestEnv(t)
	p := snsPeer(t)
	ch := newTestSNS(t, p.srv.URL, "arn:aws:sns:eu-west-1:000000000000:empowerher-alerts.fifo")
	m := testMessage()
	for i := 0; i < 2; i++ {
		if _, _, err := ch.PublishTopic(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	reqs := p.requests()
	f1, _ := url.ParseQuery(string(reqs[0].Body))
	f2, _ := url.ParseQuery(string(reqs[1].Body))
	if f1.Get("TopicArn") == "" || f1.Get("PhoneNumber") != "" || f1.Get("Subject") != m.Subject {
		t.Errorf("topic publish form %v", f1)
	}
	if id := f1.Get("MessageDeduplicationId"); len(id) != 64 || id != f2.Get("MessageDeduplicationId") {
		t.Errorf("dedup ids %q, %q: want equal 64-hex ids", id, f2.Get("MessageDeduplicationId"))
	}
	if f1.Get("MessageGroupId") != m.IncidentID {
		t.Errorf("MessageGroupId = %q", f1.Get("MessageGroupId"))
	}
}

type sqsResult struct {
	QueueURL string `xml:"CreateQueueResult>QueueUrl"`
	Messages []struct {
		Body string `xml:"Body"`
	} `xml:"ReceiveMessageResult>Message"`
}

// sqsCall speaks SQS's query protocol to goaws (the module has no SQS SDK
// client, and this is all the test needs of one).
func sqsCall(t *testing.T, endpoint string, form url.Values) sqsResult {
	t.Helper()
	form.Set("Version", "2012-11-05")
	resp, err := http.PostForm(endpoint, form)
	if err != nil {
		t.Fatalf("SQS %s: %v", form.Get("Action"), err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("SQS %s: HTTP %d: %s", form.Get("Action"), resp.StatusCode, body)
	}
	var out sqsResult
	if err := xml.Unmarshal(body, &out); err != nil {
		t.Fatalf("SQS %s: %v in %s", form.Get("Action"), err, body)
	}
	return out
}
