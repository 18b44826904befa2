package fraudgen

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// ProxyAddr is the loopback address the simulated reverse proxy connects
// from; direct clients use 127.0.0.1.
const ProxyAddr = "127.0.0.2"

// ServeFlags are the serve flags a run needs besides --addr and --db: the
// proxy trusted, and public and API rate limits out of the way (every
// direct click comes from 127.0.0.1).
func ServeFlags() []string {
	return []string{"--trusted-proxies", ProxyAddr, "--public-rate", "100000", "--public-burst", "100000", "--api-rate-limit", "0"}
}

// Server is a parrain process started by Start.
type Server struct {
	Target
	cmd *exec.Cmd
	Log bytes.Buffer
}

// Build compiles ./cmd/parrain of the module at root into dir.
func Build(ctx context.Context, root, dir string) (string, error) {
	bin := filepath.Join(dir, "parrain")
	c := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/parrain")
	c.Dir = root
	if out, err := c.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %w\n%s", err, out)
	}
	return bin, nil
}

// Start creates an API key on a fresh SQLite database at db and serves it
// on a free loopback port with ServeFlags.
func Start(ctx context.Context, bin, db string) (*Server, error) {
	if out, err := exec.CommandContext(ctx, bin, "migrate", "--db", db).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("migrate: %w\n%s", err, out)
	}
	out, err := exec.CommandContext(ctx, bin, "apikey", "create", "--name", "fraudgen", "--db", db).Output()
	if err != nil {
		return nil, fmt.Errorf("apikey create: %w", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	s := &Server{Target: Target{BaseURL: "http://" + addr, Key: strings.TrimSpace(string(out)), ProxyFrom: ProxyAddr}}
	s.cmd = exec.Command(bin, append([]string{"serve", "--addr", addr, "--db", db}, ServeFlags()...)...)
	s.cmd.Stdout, s.cmd.Stderr = &s.Log, &s.Log
	s.cmd.Env = os.Environ()
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		res, err := http.Get(s.BaseURL + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.Stop()
	return nil, fmt.Errorf("server did not start:\n%s", s.Log.String())
}

// Stop ends the server gracefully.
func (s *Server) Stop() {
	if s.cmd.ProcessState == nil {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		_ = s.cmd.Wait()
	}
}
