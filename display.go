package lockworker

import "time"

// DisplayTime shows a time to people (tables, ticket comments, the text
// output of the commands): in Swedish time, to the minute, with the zone's
// abbreviation, "2026-11-30 14:05 CET". The abbreviation tells winter time
// (CET) from summer time (CEST), so that the hour repeated when the clocks go
// back cannot be mistaken, and so that nobody reads the time as UTC. What
// machines read (JSON, logs) carries RFC 3339 in UTC instead.
func DisplayTime(t time.Time) string {
	return t.In(Stockholm).Format("2006-01-02 15:04 MST")
}
