package notify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"
)

// SNSConfig configures AWS SNS for SMS. Credentials are never part of it:
// they come from the AWS default chain (AWS_ACCESS_KEY_ID/…, shared config
// and credentials files, AWS_PROFILE, web identity, ECS/EC2 instance roles).
type SNSConfig struct {
	// Region, e.g. "eu-west-1" (EMPOWERHER_SNS_REGION). Empty uses the
	// chain's region (AWS_REGION, profile); one of the two is required.
	Region string
	// EndpointURL overrides the SNS endpoint, for local peers such as goaws
	// or LocalStack (EMPOWERHER_SNS_ENDPOINT_URL). Empty means AWS.
	EndpointURL string
	// TopicARN, when set, is where messages go for contacts without a
	// phone number, and where PublishTopic sends: the prototype's
	// "empowerher-alerts" fan-out (EMPOWERHER_SNS_TOPIC_ARN).
	TopicARN string
	// SenderID is the alphanumeric sender shown where carriers allow it
	// (EMPOWERHER_SNS_SENDER_ID). Optional.
	SenderID string
	// Timeout bounds one attempt, connect to last byte. 0 uses the
	// registry's Timeout.
	Timeout time.Duration
}

// SNS sends SMS through AWS SNS: straight to the contact's phone (Publish
// with PhoneNumber, SMSType Transactional), or to a topic.
type SNS struct {
	client   *sns.Client
	creds    aws.CredentialsProvider
	topicARN string
	senderID string
	timeout  time.Duration
	redactor *Redactor
}

// NewSNS builds the SNS channel. It does not contact AWS: credentials are
// resolved on the first send, so a missing role shows up as a delivery
// error, not a refusal to start.
func NewSNS(cfg SNSConfig, red *Redactor) (*SNS, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultTimeout
	}
	if cfg.TopicARN != "" && !strings.HasPrefix(cfg.TopicARN, "arn:") {
		return nil, fmt.Errorf("notify: sns: topic ARN %q does not start with \"arn:\"", cfg.TopicARN)
	}
	opts := []func(*awsconfig.LoadOptions) error{
		awsconfig.WithHTTPClient(awshttp.NewBuildableClient().WithTimeout(cfg.Timeout)),
		// One attempt per Notify: retries belong to the durable worker,
		// which backs off across restarts and falls over to other channels.
		awsconfig.WithRetryer(func() aws.Retryer { return aws.NopRetryer{} }),
	}
	if cfg.Region != "" {
		opts = append(opts, awsconfig.WithRegion(cfg.Region))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("notify: sns: loading AWS configuration: %s", red.Redact(err.Error()))
	}
	if awsCfg.Region == "" {
		return nil, errors.New("notify: sns: no region: set the SNS region (EMPOWERHER_SNS_REGION) or AWS_REGION")
	}
	client := sns.NewFromConfig(awsCfg, func(o *sns.Options) {
		if cfg.EndpointURL != "" {
			o.BaseEndpoint = aws.String(cfg.EndpointURL)
		}
	})
	return &SNS{client: client, creds: awsCfg.Credentials, topicARN: cfg.TopicARN,
		senderID: cfg.SenderID, timeout: cfg.Timeout, redactor: red}, nil
}

// Name implements Channel.
func (s *SNS) Name() string { return "sms" }

// Client exposes the SNS client, for tests and tools that set up topics.
func (s *SNS) Client() *sns.Client { return s.client }

// Notify sends m as an SMS to m.To.Phone, or to the topic when the contact
// has no phone and a topic is configured.
func (s *SNS) Notify(ctx context.Context, m Message) (Result, bool, error) {
	if m.To.Phone == "" && s.topicARN != "" {
		return s.PublishTopic(ctx, m)
	}
	if !ValidE164(m.To.Phone) {
		retry, err := finish("sms", fmt.Errorf("phone number %q is not E.164: %w", m.To.Phone, ErrInvalidAddress), s.redactor)
		return Result{}, retry, err
	}
	attrs := map[string]types.MessageAttributeValue{
		// Transactional: higher delivery priority and not subject to
		// promotional quiet hours; this is an emergency message.
		"AWS.SNS.SMS.SMSType": {DataType: aws.String("String"), StringValue: aws.String("Transactional")},
	}
	if s.senderID != "" {
		attrs["AWS.SNS.SMS.SenderID"] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(s.senderID)}
	}
	return s.publish(ctx, &sns.PublishInput{
		PhoneNumber:       aws.String(m.To.Phone),
		Message:           aws.String(smsText(m)),
		MessageAttributes: attrs,
	})
}

// PublishTopic publishes m to the configured topic, whose subscribers all
// receive it (the prototype's behaviour). On a FIFO topic the idempotency
// key becomes the deduplication id, so a retry within SNS's 5-minute window
// is not delivered twice.
func (s *SNS) PublishTopic(ctx context.Context, m Message) (Result, bool, error) {
	if s.topicARN == "" {
		retry, err := finish("sms", fmt.Errorf("no SNS topic configured: %w", ErrNotConfigured), s.redactor)
		return Result{}, retry, err
	}
	in := &sns.PublishInput{
		TopicArn: aws.String(s.topicARN),
		Message:  aws.String(smsText(m)),
	}
	if subj := snsSubject(m.Subject); subj != "" {
		in.Subject = aws.String(subj)
	}
	if strings.HasSuffix(s.topicARN, ".fifo") {
		sum := sha256.Sum256([]byte(m.IdempotencyKey))
		in.MessageDeduplicationId = aws.String(hex.EncodeToString(sum[:]))
		group := m.IncidentID
		if group == "" {
			group = "empowerher"
		}
		in.MessageGroupId = aws.String(group)
	}
	return s.publish(ctx, in)
}

func (s *SNS) publish(ctx context.Context, in *sns.PublishInput) (Result, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	out, err := s.client.Publish(ctx, in)
	if err != nil && acceptedButUnreadable(err) {
		// SNS said 200 but the answer did not parse: the message is on
		// its way, and a retry would send it twice.
		return Result{ProviderID: "sns-unknown"}, false, nil
	}
	if err != nil {
		var re *awshttp.ResponseError
		if errors.As(err, &re) && re.Response != nil && RetryableStatus(re.HTTPStatusCode()) {
			if d, ok := ParseRetryAfter(re.Response.Header.Get("Retry-After"), time.Now()); ok {
				err = &RetryAfterError{After: d, Err: err}
			}
		}
		retry, ferr := finish("sms", err, s.credsRedactor())
		return Result{}, retry, ferr
	}
	return Result{ProviderID: aws.ToString(out.MessageId)}, false, nil
}

// acceptedButUnreadable: an error that comes with a 2xx status (the answer
// did not parse) means the service accepted the request.
func acceptedButUnreadable(err error) bool {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode() >= 200 && re.HTTPStatusCode() <= 299
	}
	var de *smithy.DeserializationError
	return errors.As(err, &de)
}

// credsRedactor adds the credentials in use (from the SDK's cache; no new
// lookup) to the redactor, in case an error text ever echoes them.
func (s *SNS) credsRedactor() *Redactor {
	red := NewRedactor()
	if s.redactor != nil {
		red.secrets = append(red.secrets, s.redactor.secrets...)
	}
	if s.creds != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		if c, err := s.creds.Retrieve(ctx); err == nil {
			red.Add(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)
		}
	}
	return red
}

// smsText is the SMS body: the message body, plus the contact's link when
// the body does not already carry it.
func smsText(m Message) string {
	text := m.Body
	if text == "" {
		text = m.Subject
	}
	if m.URL != "" && !strings.Contains(text, m.URL) {
		text += "\n" + m.URL
	}
	return text
}

// snsSubject fits SNS's Subject rules: ASCII printable, no line breaks,
// at most 100 characters.
func snsSubject(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 0x20 || r > 0x7e {
			r = ' '
		}
		if b.Len() == 100 {
			break
		}
		b.WriteRune(r)
	}
	return strings.TrimSpace(b.String())
}
