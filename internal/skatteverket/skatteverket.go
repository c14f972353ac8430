// Package skatteverket gives tests Skatteverket's official test identity
// numbers, the only personnummer and samordningsnummer lockworker's tests may
// use. The lists are public data (CC0), copied into testdata/ with their
// source, so that the tests need nothing outside the repository.
package skatteverket

import (
	_ "embed"
	"strings"
)

var (
	//go:embed testdata/testpersonnummer.txt
	personnummer string
	//go:embed testdata/testsamordningsnummer.txt
	samordningsnummer string
)

// Personnummer returns Skatteverket's test personnummer, 12 digits each, in
// the order of the published list.
func Personnummer() []string { return lines(personnummer) }

// Samordningsnummer returns Skatteverket's test samordningsnummer, 12 digits
// each, in the order of the published list.
func Samordningsnummer() []string { return lines(samordningsnummer) }

func lines(s string) []string { return strings.Fields(s) }
