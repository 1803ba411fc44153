// Package lambdaapp runs the ordinary EmpowerHer http.Handler on AWS
// Lambda behind an API Gateway HTTP API (payload format 2.0), so one
// binary serves both `empowerher serve` and a Lambda function.
//
// What works there and what does not (no WebSocket, no SQLite, deliveries
// need a worker) is in docs/deploy-aws.md.
package lambdaapp
