//go:build !race

package sync_test

// raceDetector reports whether the tests run under the race detector, which
// makes the pure-Go SQLite of the lock store many times slower.
const raceDetector = false
