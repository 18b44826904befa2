package console

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

// ReadPassword reads a new password for the command line: the first line
// of in when fromStdin is set or in is not a terminal (a pipe), otherwise
// twice from the terminal with echo turned off (stty), prompting on prompt.
func ReadPassword(in *os.File, prompt io.Writer, fromStdin bool, label string) (string, error) {
	fi, err := in.Stat()
	terminal := err == nil && fi.Mode()&os.ModeCharDevice != 0
	if fromStdin || !terminal {
		line, err := bufio.NewReader(in).ReadString('\n')
		if err != nil && !(errors.Is(err, io.EOF) && line != "") {
			return "", fmt.Errorf("reading the password from stdin: %w", err)
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	echo := func(on bool) error {
		arg := "-echo"
		if on {
			arg = "echo"
		}
		cmd := exec.Command("stty", arg)
		cmd.Stdin = in
		return cmd.Run()
	}
	if err := echo(false); err != nil {
		return "", errors.New("cannot hide the password as it is typed (no stty): use --password-stdin")
	}
	defer echo(true) //nolint:errcheck // best effort: restore the terminal
	r := bufio.NewReader(in)
	ask := func(q string) (string, error) {
		fmt.Fprintf(prompt, "%s: ", q)
		line, err := r.ReadString('\n')
		fmt.Fprintln(prompt)
		if err != nil {
			return "", fmt.Errorf("reading the password: %w", err)
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	first, err := ask(label)
	if err != nil {
		return "", err
	}
	second, err := ask("Repeat it")
	if err != nil {
		return "", err
	}
	if first != second {
		return "", errors.New("the two passwords differ")
	}
	return first, nil
}
