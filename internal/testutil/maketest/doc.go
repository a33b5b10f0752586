// Package maketest tests the Makefile targets README tells a newcomer to
// run: that `make run ... | jq` gets nothing but the program's output, and
// that `make test` fails exactly when go test does and ends with its
// summary of skipped tests. It has no code of its own.
package maketest
