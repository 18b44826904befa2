// Command parrain runs the Parrain referral and partner-program server and
// its administration commands. See `parrain help`.
package main

import (
	"os"

	"github.com/parrainhq/parrain/internal/app"
)

func main() {
	os.Exit(app.CLI(os.Args[1:], os.Stdout, os.Stderr))
}
