// Command ferretdb-launcher runs FerretDB v1.24.1 for ilkkun's tests, bound to loopback.
//
// It embeds FerretDB through its public `ferretdb` package instead of building the stock CLI:
// `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.1` produces a binary that panics at
// start because the generated build/version/version.txt is not in the module zip. With this
// launcher as the main module, FerretDB's version code takes its early return and does not panic.
//
// Settings come from the environment (all optional):
//
//	FERRETDB_LISTEN_ADDR     default 127.0.0.1:27017 (refused unless it is a loopback address)
//	FERRETDB_HANDLER         postgresql (default); sqlite only in a build without -tags ferretdb_no_sqlite
//	FERRETDB_POSTGRESQL_URL  default postgres://postgres@127.0.0.1:5432/ferretdb
//	FERRETDB_SQLITE_URL      default file:/var/tmp/ilkkun-ferretdb/sqlite/
//	FERRETDB_LOG_LEVEL       debug, info, warn (default) or error
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func env(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func main() {
	level := slog.LevelWarn
	_ = level.UnmarshalText([]byte(env("FERRETDB_LOG_LEVEL", "warn")))
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	addr := env("FERRETDB_LISTEN_ADDR", "127.0.0.1:27017")
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		fmt.Fprintf(os.Stderr, "ferretdb-launcher: refusing to listen on %q: a loopback address is required\n", addr)
		os.Exit(2)
	}

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:      ferretdb.ListenerConfig{TCP: addr},
		Logger:        logger,
		Handler:       env("FERRETDB_HANDLER", "postgresql"),
		PostgreSQLURL: env("FERRETDB_POSTGRESQL_URL", "postgres://postgres@127.0.0.1:5432/ferretdb"),
		SQLiteURL:     env("FERRETDB_SQLITE_URL", "file:/var/tmp/ilkkun-ferretdb/sqlite/"),
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-launcher: %v\n", err)
		os.Exit(1)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	logger.Warn("ferretdb listening", "uri", f.MongoDBURI())
	if err := f.Run(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-launcher: %v\n", err)
		os.Exit(1)
	}
}
