// Package pglocal runs a throwaway Postgres server from the local server
// binaries: initdb into a temporary directory, a free loopback port, a
// private socket directory, wal_level=logical. The demo, the end-to-end
// benchmark and the test harness use it. It does not install anything; when
// the binaries are missing its error says which package to install.
package pglocal

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrNoBinaries means no Postgres server binaries were found.
var ErrNoBinaries = errors.New("no Postgres server binaries (initdb, pg_ctl) found; install them with: apt-get install -y postgresql")

// Server is a running throwaway Postgres.
type Server struct {
	Bindir string
	Dir    string // owns data/, sock/, and the log
	Port   int
	cred   *syscall.Credential
}

// FindBindir finds the directory holding initdb and pg_ctl.
func FindBindir() (string, error) {
	var candidates []string
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		candidates = append(candidates, strings.TrimSpace(string(out)))
	}
	globbed, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(globbed, func(i, j int) bool { return versionOf(globbed[i]) > versionOf(globbed[j]) })
	candidates = append(candidates, globbed...)
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		candidates = append(candidates, filepath.Dir(p))
	}
	for _, dir := range candidates {
		if isExec(filepath.Join(dir, "initdb")) && isExec(filepath.Join(dir, "pg_ctl")) {
			return dir, nil
		}
	}
	return "", ErrNoBinaries
}

func versionOf(bindir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(bindir)))
	return v
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// Options tune the server. Zero values are fine.
type Options struct {
	// Settings are extra "-c name=value" settings.
	Settings map[string]string
}

// Start initialises and starts a server in a new temporary directory.
func Start(ctx context.Context, bindir string, opts Options) (*Server, error) {
	dir, err := os.MkdirTemp("", "cdc-pg-")
	if err != nil {
		return nil, fmt.Errorf("create temp dir: %w", err)
	}
	s := &Server{Bindir: bindir, Dir: dir}
	if err := s.dropPrivileges(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := s.initdb(ctx); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if s.Port, err = freePort(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := s.writeConf(opts); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := s.pgctl(ctx, "start", "-w", "-t", "60", "-l", filepath.Join(dir, "postgres.log")); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

// dropPrivileges arranges for the server to run as "postgres" when we are
// root: initdb and postgres refuse to run as root.
func (s *Server) dropPrivileges() error {
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("running as root needs an unprivileged \"postgres\" user (apt-get install -y postgresql creates it): %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	return os.Chown(s.Dir, uid, gid)
}

func (s *Server) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(s.Bindir, name), args...)
	cmd.Dir = s.Dir
	cmd.Env = append(os.Environ(), "LC_ALL=C", "PGTZ=UTC")
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	}
	return cmd
}

func (s *Server) run(cmd *exec.Cmd) error {
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", filepath.Base(cmd.Path), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func (s *Server) initdb(ctx context.Context) error {
	return s.run(s.command(ctx, "initdb", "-D", s.dataDir(), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--locale=C"))
}

func (s *Server) dataDir() string { return filepath.Join(s.Dir, "data") }

func (s *Server) writeConf(opts Options) error {
	sock := filepath.Join(s.Dir, "sock")
	if err := os.Mkdir(sock, 0o700); err != nil {
		return fmt.Errorf("create socket dir: %w", err)
	}
	if s.cred != nil {
		if err := os.Chown(sock, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			return fmt.Errorf("chown socket dir: %w", err)
		}
	}
	settings := map[string]string{
		"listen_addresses":        "'127.0.0.1'",
		"port":                    strconv.Itoa(s.Port),
		"unix_socket_directories": "'" + sock + "'",
		"wal_level":               "logical",
		"max_replication_slots":   "64",
		"max_wal_senders":         "64",
		"max_connections":         "200",
		"fsync":                   "off",
		"synchronous_commit":      "off",
		"full_page_writes":        "off",
		"shared_buffers":          "128MB",
		"wal_sender_timeout":      "60s",
		"timezone":                "'UTC'",
	}
	for k, v := range opts.Settings {
		settings[k] = v
	}
	var b strings.Builder
	for k, v := range settings {
		fmt.Fprintf(&b, "%s = %s\n", k, v)
	}
	f, err := os.OpenFile(filepath.Join(s.dataDir(), "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("open postgresql.conf: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteString(b.String()); err != nil {
		return fmt.Errorf("write postgresql.conf: %w", err)
	}
	return nil
}

func (s *Server) pgctl(ctx context.Context, args ...string) error {
	return s.run(s.command(ctx, "pg_ctl", append([]string{"-D", s.dataDir()}, args...)...))
}

// DSN returns a superuser connection string for database db.
func (s *Server) DSN(db string) string {
	return fmt.Sprintf("host=127.0.0.1 port=%d user=postgres dbname=%s sslmode=disable", s.Port, db)
}

// Restart stops the server (fast: connections are cut) and starts it again
// on the same port.
func (s *Server) Restart(ctx context.Context) error {
	return s.pgctl(ctx, "restart", "-m", "fast", "-w", "-t", "60", "-l", filepath.Join(s.Dir, "postgres.log"))
}

// Stop shuts the server down and removes its directory.
func (s *Server) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := s.pgctl(ctx, "stop", "-m", "immediate", "-w")
	if rmErr := os.RemoveAll(s.Dir); err == nil {
		err = rmErr
	}
	return err
}

// freePort asks the kernel for a free loopback port. Another process could
// take it before the server binds; pg_ctl then fails loudly, not silently.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
