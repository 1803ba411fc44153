package deploy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// ---- IAM policy ----

// oneOrMany is IAM's "a string or a list of strings".
type oneOrMany []string

func (o *oneOrMany) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*o = []string{s}
		return nil
	}
	var l []string
	if err := json.Unmarshal(b, &l); err != nil {
		return fmt.Errorf("want a string or a list of strings: %w", err)
	}
	*o = l
	return nil
}

type statement struct {
	Sid         string
	Effect      string
	Action      oneOrMany
	NotAction   oneOrMany
	Resource    oneOrMany
	NotResource oneOrMany
	Principal   json.RawMessage
	Condition   map[string]map[string]oneOrMany
}

type policy struct {
	Version   string
	Statement []statement
}

var (
	allowedActions = []string{"sns:Publish", "s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:ListBucket"}
	objectActions  = []string{"s3:PutObject", "s3:GetObject", "s3:DeleteObject"}
	topicARN       = regexp.MustCompile(`^arn:aws:sns:[A-Za-z0-9-]+:[A-Za-z0-9]+:empowerher-alerts$`)
	objectARN      = regexp.MustCompile(`^arn:aws:s3:::[A-Za-z0-9.-]+/[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*/\*$`)
	bucketARN      = regexp.MustCompile(`^arn:aws:s3:::[A-Za-z0-9.-]+$`)
)

// policyViolations lists every way doc is broader than the service needs.
// The only wildcards allowed: Resource "*" on a statement granting only
// sns:Publish (AWS has no resource for a phone number), and the trailing
// "/*" of the one evidence prefix.
func policyViolations(doc []byte) []string {
	var p policy
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return []string{"not a policy document: " + err.Error()}
	}
	var v []string
	bad := func(s statement, format string, args ...any) {
		v = append(v, fmt.Sprintf("statement %q: ", s.Sid)+fmt.Sprintf(format, args...))
	}
	if p.Version != "2012-10-17" {
		v = append(v, "Version must be 2012-10-17 (older versions disable policy variables)")
	}
	smsStatements := 0
	for _, s := range p.Statement {
		if s.Effect != "Allow" {
			bad(s, "Effect %q: this policy only grants", s.Effect)
		}
		if len(s.NotAction) > 0 || len(s.NotResource) > 0 {
			bad(s, "NotAction/NotResource grant everything else")
		}
		if len(s.Principal) > 0 {
			bad(s, "an identity policy has no Principal")
		}
		if len(s.Action) == 0 || len(s.Resource) == 0 {
			bad(s, "needs Action and Resource")
		}
		for _, a := range s.Action {
			if strings.ContainsAny(a, "*?") {
				bad(s, "wildcard action %q", a)
			} else if !slices.Contains(allowedActions, a) {
				bad(s, "action %q is not needed", a)
			}
		}
		onlyPublish := len(s.Action) == 1 && s.Action[0] == "sns:Publish"
		for _, r := range s.Resource {
			switch {
			case r == "*":
				if !onlyPublish {
					bad(s, `Resource "*" is allowed only for sns:Publish alone (direct SMS)`)
				}
				smsStatements++
			case strings.HasPrefix(r, "arn:aws:sns:"):
				if !topicARN.MatchString(r) || !onlyPublish {
					bad(s, "SNS resource %q: only sns:Publish on the empowerher-alerts topic", r)
				}
			case strings.HasPrefix(r, "arn:aws:s3:::") && strings.Contains(r, "/"):
				if !objectARN.MatchString(r) {
					bad(s, "object resource %q: must be one bucket's one prefix, wildcard only as the final /*", r)
				}
				for _, a := range s.Action {
					if !slices.Contains(objectActions, a) {
						bad(s, "%s does not apply to objects", a)
					}
				}
			case strings.HasPrefix(r, "arn:aws:s3:::"):
				if !bucketARN.MatchString(r) {
					bad(s, "bucket resource %q", r)
				}
				if len(s.Action) != 1 || s.Action[0] != "s3:ListBucket" {
					bad(s, "only s3:ListBucket on the bucket itself")
				}
				prefixes := s.Condition["StringLike"]["s3:prefix"]
				if len(prefixes) == 0 {
					bad(s, "s3:ListBucket must be limited by an s3:prefix condition")
				}
				for _, pre := range prefixes {
					if strings.TrimSuffix(pre, "*") == "" || strings.Count(pre, "*") > 1 || !strings.HasSuffix(pre, "/*") {
						bad(s, "s3:prefix %q must be one PREFIX/*", pre)
					}
				}
			default:
				bad(s, "resource %q is not needed", r)
			}
		}
	}
	if smsStatements > 1 {
		v = append(v, `more than one Resource "*"`)
	}
	return v
}

func TestIAMPolicyIsLeastPrivilege(t *testing.T) {
	doc, err := os.ReadFile("iam-policy.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range policyViolations(doc) {
		t.Error(v)
	}
	// And it grants everything the service does need.
	var p policy
	if err := json.Unmarshal(doc, &p); err != nil {
		t.Fatal(err)
	}
	granted := map[string]bool{}
	for _, s := range p.Statement {
		for _, a := range s.Action {
			granted[a] = true
		}
	}
	for _, a := range allowedActions {
		if !granted[a] {
			t.Errorf("policy lacks %s, which the service uses", a)
		}
	}
}

// TestIAMCheckerCatchesBroadPolicies proves the checker can fail: each
// mutation is a mistake the prototype made or one easy to make.
func TestIAMCheckerCatchesBroadPolicies(t *testing.T) {
	stmt := func(action, resource string) string {
		return `{"Version":"2012-10-17","Statement":[{"Sid":"x","Effect":"Allow","Action":` + action + `,"Resource":` + resource + `}]}`
	}
	for name, doc := range map[string]string{
		"star action":          stmt(`"*"`, `"*"`),
		"sns:*":                stmt(`"sns:*"`, `"arn:aws:sns:eu-west-1:123:empowerher-alerts"`),
		"s3:*":                 stmt(`"s3:*"`, `"arn:aws:s3:::b/evidence/*"`),
		"s3:Get*":              stmt(`["s3:Get*"]`, `"arn:aws:s3:::b/evidence/*"`),
		"s3 on star":           stmt(`"s3:GetObject"`, `"*"`),
		"publish plus on star": stmt(`["sns:Publish","sns:Subscribe"]`, `"*"`),
		"whole bucket objects": stmt(`"s3:GetObject"`, `"arn:aws:s3:::b/*"`),
		"any bucket":           stmt(`"s3:GetObject"`, `"arn:aws:s3:::*/evidence/*"`),
		"other topic":          stmt(`"sns:Publish"`, `"arn:aws:sns:eu-west-1:123:*"`),
		"list unconditioned":   stmt(`"s3:ListBucket"`, `"arn:aws:s3:::b"`),
		"extra action":         stmt(`"s3:PutBucketPolicy"`, `"arn:aws:s3:::b"`),
		"not action":           `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}`,
		"list any prefix":      `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b","Condition":{"StringLike":{"s3:prefix":"*"}}}]}`,
		"not json":             `{`,
	} {
		if len(policyViolations([]byte(doc))) == 0 {
			t.Errorf("%s: checker accepted %s", name, doc)
		}
	}
}

// ---- systemd unit ----

// unitDirectives parses a systemd unit into section → key → values
// (keys may repeat; an empty assignment is kept as "").
func unitDirectives(t *testing.T, path string) map[string]map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]map[string][]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[' && line[len(line)-1] == ']':
			section = line[1 : len(line)-1]
			out[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("%s:%d: not a directive: %q", path, n, line)
			}
			out[section][strings.TrimSpace(k)] = append(out[section][strings.TrimSpace(k)], strings.TrimSpace(v))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSystemdUnitHardening(t *testing.T) {
	u := unitDirectives(t, "empowerher.service")
	svc := u["Service"]
	if svc == nil {
		t.Fatal("no [Service] section")
	}
	for key, want := range map[string]string{
		"DynamicUser":             "yes",
		"StateDirectory":          "empowerher",
		"ProtectSystem":           "strict",
		"ProtectHome":             "yes",
		"PrivateTmp":              "yes",
		"PrivateDevices":          "yes",
		"NoNewPrivileges":         "yes",
		"CapabilityBoundingSet":   "",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
		"MemoryDenyWriteExecute":  "yes",
		"EnvironmentFile":         "-/etc/empowerher/env",
		"Restart":                 "on-failure",
		"ProtectKernelTunables":   "yes",
		"ProtectKernelModules":    "yes",
		"ProtectControlGroups":    "yes",
		"RestrictSUIDSGID":        "yes",
		"LockPersonality":         "yes",
		"UMask":                   "0077",
	} {
		got, ok := svc[key]
		if !ok {
			t.Errorf("missing %s=%s", key, want)
			continue
		}
		// The last assignment wins in systemd.
		if got[len(got)-1] != want {
			t.Errorf("%s=%q, want %q", key, got[len(got)-1], want)
		}
	}
	if !slices.Contains(svc["SystemCallFilter"], "@system-service") {
		t.Errorf("SystemCallFilter=%q lacks @system-service", svc["SystemCallFilter"])
	}
	for _, forbidden := range []string{"User", "Group", "AmbientCapabilities"} {
		for _, v := range svc[forbidden] {
			if v != "" {
				t.Errorf("%s=%s defeats DynamicUser/empty capabilities", forbidden, v)
			}
		}
	}
	execStart := strings.Join(svc["ExecStart"], " ")
	if !strings.Contains(execStart, " serve ") || !strings.Contains(execStart, "--addr 127.0.0.1:") || !strings.Contains(execStart, "--data /var/lib/empowerher") {
		t.Errorf("ExecStart=%q: want serve on loopback with data in the StateDirectory", execStart)
	}
	if strings.Contains(execStart, "nohup") || strings.Contains(execStart, "&") {
		t.Errorf("ExecStart=%q backgrounds itself; systemd supervises", execStart)
	}
	if !slices.Contains(u["Install"]["WantedBy"], "multi-user.target") {
		t.Error("not enabled at boot (WantedBy=multi-user.target)")
	}
}

// TestSystemdAnalyzeSecurity asks systemd itself, where it is installed,
// how exposed the unit is (0 = fully sandboxed, 10 = unprotected).
func TestSystemdAnalyzeSecurity(t *testing.T) {
	bin, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed")
	}
	unit, err := os.ReadFile("empowerher.service")
	if err != nil {
		t.Fatal(err)
	}
	// verify insists ExecStart exists; the binary is not installed here.
	dir := t.TempDir()
	tmp := filepath.Join(dir, "empowerher.service")
	if err := os.WriteFile(tmp, bytes.ReplaceAll(unit, []byte("/usr/local/bin/empowerher"), []byte("/bin/true")), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "verify", tmp).CombinedOutput(); err != nil {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "security", "--offline=yes", tmp).CombinedOutput()
	m := regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		t.Skipf("systemd-analyze security unavailable here (%v): %s", err, out)
	}
	score, _ := strconv.ParseFloat(string(m[1]), 64)
	t.Logf("systemd-analyze security exposure: %.1f", score)
	if score > 2.0 {
		t.Errorf("exposure %.1f, want ≤ 2.0:\n%s", score, out)
	}
}

// ---- Dockerfile ----

type instruction struct {
	cmd  string // upper case
	args string
}

// dockerInstructions splits a Dockerfile into instructions, joining
// backslash continuations and dropping comments.
func dockerInstructions(t *testing.T, path string) []instruction {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []instruction
	var cur strings.Builder
	for line := range strings.Lines(string(b)) {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "#") || (line == "" && cur.Len() == 0) {
			continue
		}
		if cont, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(cont + " ")
			continue
		}
		cur.WriteString(line)
		cmd, args, _ := strings.Cut(strings.TrimSpace(cur.String()), " ")
		out = append(out, instruction{strings.ToUpper(cmd), strings.TrimSpace(args)})
		cur.Reset()
	}
	return out
}

func TestDockerfile(t *testing.T) {
	ins := dockerInstructions(t, "Dockerfile")
	var stages [][]instruction
	for _, in := range ins {
		if in.cmd == "FROM" {
			stages = append(stages, nil)
		}
		if len(stages) == 0 {
			t.Fatalf("%s before the first FROM", in.cmd)
		}
		stages[len(stages)-1] = append(stages[len(stages)-1], in)
	}
	if len(stages) < 2 {
		t.Fatalf("%d stages, want a multi-stage build", len(stages))
	}
	if from := stages[0][0].args; !regexp.MustCompile(`^golang:1\.26(\.\d+)?(-\S+)? AS \S+$`).MatchString(from) {
		t.Errorf("builder FROM %q, want golang:1.26 AS name", from)
	}
	// The builder must be the Go release go.mod asks for.
	gomod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(gomod); m == nil || !strings.HasPrefix(stages[0][0].args, "golang:"+string(m[1])) {
		t.Errorf("builder %q does not match go.mod's go %s", stages[0][0].args, m[1])
	}
	ignore, err := os.ReadFile("Dockerfile.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{".git", "**/empowerher-data", "shared"} {
		if !slices.Contains(strings.Split(string(ignore), "\n"), want) {
			t.Errorf("Dockerfile.dockerignore does not exclude %s from the build context", want)
		}
	}
	var build string
	for _, in := range stages[0] {
		if in.cmd == "RUN" && strings.Contains(in.args, "go build") {
			build = in.args
		}
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", `-ldflags="-s -w"`, "./cmd/empowerher"} {
		if !strings.Contains(build, want) {
			t.Errorf("go build %q lacks %s", build, want)
		}
	}
	final := stages[len(stages)-1]
	base := final[0].args
	distroless := strings.HasPrefix(base, "gcr.io/distroless/static")
	if !distroless && base != "scratch" {
		t.Errorf("final FROM %q, want distroless/static or scratch", base)
	}
	var user, expose, volume, entry, cmd string
	copiesCerts := false
	for _, in := range final {
		switch in.cmd {
		case "USER":
			user = in.args
		case "EXPOSE":
			expose = in.args
		case "VOLUME":
			volume = in.args
		case "ENTRYPOINT":
			entry = in.args
		case "CMD":
			cmd = in.args
		case "COPY":
			copiesCerts = copiesCerts || strings.Contains(in.args, "ca-certificates")
		case "ADD":
			t.Errorf("ADD %q in the final image; use COPY --from", in.args)
		case "RUN":
			t.Errorf("RUN %q in the final stage: there is no shell there", in.args)
		}
	}
	if base == "scratch" && !copiesCerts {
		t.Error("scratch image without CA certificates cannot reach SNS/Twilio/S3 over TLS")
	}
	if user != "65532:65532" {
		t.Errorf("final USER %q, want 65532:65532 (non-root)", user)
	}
	if expose != "8080" {
		t.Errorf("EXPOSE %q, want 8080", expose)
	}
	if !strings.Contains(volume, "/data") {
		t.Errorf("VOLUME %q: data must live in a /data volume (read-only root)", volume)
	}
	var argv []string
	for _, part := range []string{entry, cmd} {
		var a []string
		if err := json.Unmarshal([]byte(part), &a); err != nil {
			t.Fatalf("ENTRYPOINT/CMD %q must be exec (JSON) form so signals reach the process: %v", part, err)
		}
		argv = append(argv, a...)
	}
	want := []string{"/usr/local/bin/empowerher", "serve", "--addr", "0.0.0.0:8080", "--data", "/data"}
	if !slices.Equal(argv, want) {
		t.Errorf("runs %q, want %q", argv, want)
	}
}

func TestCaddyfile(t *testing.T) {
	b, err := os.ReadFile("Caddyfile")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{"reverse_proxy 127.0.0.1:8080", "Strict-Transport-Security", "max_size"} {
		if !strings.Contains(s, want) {
			t.Errorf("Caddyfile lacks %q", want)
		}
	}
	if strings.Count(s, "{") != strings.Count(s, "}") {
		t.Error("unbalanced braces")
	}
}
