// Package packaging tests what ships beside the binary: the systemd unit,
// the container image and the release build. Each test skips, saying why,
// when its tool is missing here.
package packaging

import (
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestSystemdUnitVerifies runs systemd-analyze verify on
// packaging/parrain.service, pointing ExecStart at an executable file
// (verify checks that it exists and is executable; the test binary does). Any finding fails the test, warnings
// about unknown or misspelt settings included.
func TestSystemdUnitVerifies(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("SKIP: systemd-analyze is not installed here; the unit file is not verified")
	}
	unit, err := os.ReadFile("parrain.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, must := range []string{"ProtectSystem=strict", "StateDirectory=parrain", "User=parrain", "NoNewPrivileges=yes", "ExecStart=/usr/local/bin/parrain serve"} {
		if !bytes.Contains(unit, []byte(must)) {
			t.Errorf("the unit lacks %s", must)
		}
	}
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "parrain.service")
	if err := os.WriteFile(path, bytes.ReplaceAll(unit, []byte("/usr/local/bin/parrain"), []byte(bin)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestReleaseBuild runs `make release` for this machine's platform into a
// temporary directory and checks that the binary is static and tells its
// version and commit.
func TestReleaseBuild(t *testing.T) {
	if testing.Short() || os.Getenv("PARRAIN_RELEASE_TEST") == "" {
		t.Skip("SKIP: set PARRAIN_RELEASE_TEST=1 to run `make release` (it compiles everything again with -trimpath: minutes)")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("SKIP: make is not installed here")
	}
	dist := t.TempDir()
	plat := runtime.GOOS + "/" + runtime.GOARCH
	cmd := exec.Command("make", "-C", "..", "release", "PLATFORMS="+plat, "DIST="+dist, "VERSION=v0.0.0-test", "COMMIT=abc1234")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make release: %v\n%s", err, out)
	}
	bin := filepath.Join(dist, "parrain-v0.0.0-test-"+runtime.GOOS+"-"+runtime.GOARCH)
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"parrain v0.0.0-test\n", "commit abc1234\n", runtime.Version()} {
		if !strings.Contains(string(out), want) {
			t.Errorf("version output %q lacks %q", out, want)
		}
	}
	sums, err := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
	if err != nil || !strings.Contains(string(sums), filepath.Base(bin)) {
		t.Errorf("SHA256SUMS: %q %v", sums, err)
	}
	if runtime.GOOS == "linux" {
		f, err := elf.Open(bin)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Error("the release binary is dynamically linked (it has an ELF interpreter)")
			}
		}
	}
}

// TestImageBuilds builds the container image when Docker or Podman works
// here, and checks that it runs as non-root and tells its version.
func TestImageBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIP: -short: the image build downloads base images")
	}
	var tool string
	for _, c := range []string{"docker", "podman"} {
		if _, err := exec.LookPath(c); err == nil && exec.Command(c, "info").Run() == nil {
			tool = c
			break
		}
	}
	if tool == "" {
		t.Skip("SKIP: no working docker or podman here (`docker info` fails); the image is not built")
	}
	tag := "parrain-packaging-test:latest"
	build := exec.Command(tool, "build", "-t", tag, "--build-arg", "VERSION=v0.0.0-image", "--build-arg", "COMMIT=abc1234", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("%s build: %v\n%s", tool, err, out)
	}
	defer exec.Command(tool, "rmi", "-f", tag).Run()
	out, err := exec.Command(tool, "run", "--rm", tag, "version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "parrain v0.0.0-image") {
		t.Errorf("version in the image: %v %q", err, out)
	}
	user, err := exec.Command(tool, "image", "inspect", "-f", "{{.Config.User}}", tag).Output()
	if err != nil || strings.TrimSpace(string(user)) != "65532:65532" {
		t.Errorf("image user %q (%v), want 65532:65532 (non-root)", user, err)
	}
}
