// Package deploy holds deployment files (IAM policy, Dockerfile, systemd
// unit, Caddyfile) and the tests that keep them least-privilege and
// hardened. It has no code of its own; docs/deploy-aws.md explains them.
package deploy
