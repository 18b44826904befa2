// Package archtest holds the test that keeps Parrain's layering honest: it
// reads the imports of every package under internal/ and cmd/ and fails on
// an import the layering forbids. It has no code of its own.
package archtest
