package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/urfave/cli/v2"

	"github.com/netwatch-dev/netwatch/internal/exporter"
	"github.com/netwatch-dev/netwatch/internal/stats"
)

// Defaults of serve.
const (
	defaultListen    = "127.0.0.1:9977"
	minPeakWindow    = time.Second
	maxPeakWindow    = time.Hour
	shutdownDeadline = 5 * time.Second
)

func serveCommand() *cli.Command {
	return &cli.Command{
		Name:  "serve",
		Usage: "serve Prometheus metrics: exact counters, per-bin rate histograms, bursts",
		Description: "Samples continuously (in-kernel bins at --resolution with the ebpf backend) and serves\n" +
			"/metrics for Prometheus, with node_exporter's netdev names (netwatch_network_receive_bytes_total\n" +
			"{device=...}), per-bin rate histograms (native and classic), burst counters and durations, and\n" +
			"the peak bin rate over --peak-window. Scrapes read a snapshot: they never touch the kernel and\n" +
			"reset nothing. Listens on loopback unless --listen says otherwise (see SECURITY.md).",
		Flags:        serveFlags(),
		Action:       serveAction,
		OnUsageError: onUsageError,
	}
}

func serveFlags() []cli.Flag {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "listen", Aliases: []string{"l"}, Value: defaultListen, EnvVars: env("LISTEN"), Category: catOutput,
			Usage: "`ADDRESS` to serve /metrics on (host:port); the default is loopback only: say 0.0.0.0:9977 or [::]:9977 to expose it"},
		&cli.StringFlag{Name: "web.config.file", EnvVars: env("WEB_CONFIG_FILE"), Category: catOutput,
			Usage: "`FILE` configuring TLS and basic authentication (Prometheus exporter-toolkit format)"},
		&cli.DurationFlag{Name: "peak-window", Value: exporter.DefaultPeakWindow, EnvVars: env("PEAK_WINDOW"), Category: catTiming,
			Usage: "window of the peak bin rate gauges, 1s to 1h (moves in steps of 1/60 of it)"},
		&cli.DurationFlag{Name: "interval", Aliases: []string{"n"}, Value: time.Second, EnvVars: env("INTERVAL"), Category: catTiming,
			Usage: "how often the counters are read (bins are read continuously), 1ms to 1h"},
	}
	flags = append(flags, binFlags()...)
	return append(flags, commonFlags()...)
}

func serveAction(c *cli.Context) error {
	if c.Args().Present() {
		return usagef("unexpected argument %q (see 'netwatch serve --help')", c.Args().First())
	}
	interval, err := parseInterval("interval", c.Duration("interval"))
	if err != nil {
		return err
	}
	window := c.Duration("peak-window")
	if window < minPeakWindow || window > maxPeakWindow {
		return usagef("--peak-window %v is out of range: use %v to %v", window, minPeakWindow, maxPeakWindow)
	}
	addr := c.String("listen")
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return usagef("--listen %q: want host:port (e.g. 127.0.0.1:9977)", addr)
	}
	webConfig := c.String("web.config.file")
	if webConfig != "" {
		if err := web.Validate(webConfig); err != nil {
			return fmt.Errorf("--web.config.file %s: %w", webConfig, err)
		}
	}
	smp, err := parseSampling(c)
	if err != nil {
		return err
	}
	exp := exporter.New(exporter.Options{PeakWindow: window, Bursts: smp.bins.start.set(), Netns: smp.opts.NetnsGiven()})
	handler, err := metricsHandler(exp)
	if err != nil {
		return err
	}
	// Listen before attaching anything: a busy port fails at once.
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EACCES) {
			return fmt.Errorf("listen: %w (a port below net.ipv4.ip_unprivileged_port_start, 1024 by default, needs CAP_NET_BIND_SERVICE)", err)
		}
		return fmt.Errorf("listen: %w", err)
	}
	server := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	ctx, cancel := context.WithCancel(c.Context)
	defer cancel()
	go func() {
		flags := &web.FlagConfig{WebListenAddresses: &[]string{addr}, WebSystemdSocket: new(bool), WebConfigFile: &webConfig}
		err := web.Serve(ln, server, flags, smp.log)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		served <- err
		cancel() // the server failed: stop sampling, detach, report it
	}()

	smp.hooks = streamHooks{
		opened: func(src stats.Source, resolution time.Duration) {
			exp.Started(src, resolution, interval)
			smp.log.Info("serving metrics", "address", ln.Addr().String(), "backend", src.Backend, "attach", src.Attach, "resolution", resolution)
		},
		onBin:   exp.Bin,
		onBurst: exp.Burst,
		onPoll:  exp.Poll,
	}
	parent := c.Context
	c.Context = ctx
	err = smp.run(c, interval, 0, 0, exp.Sample) // returns detached
	c.Context = parent

	shutdown, done := context.WithTimeout(context.Background(), shutdownDeadline)
	defer done()
	if serr := server.Shutdown(shutdown); serr != nil && err == nil {
		err = fmt.Errorf("shut down the HTTP server: %w", serr)
	}
	if serr := <-served; serr != nil && err == nil {
		err = fmt.Errorf("serve: %w", serr)
	}
	if err == nil && parent.Err() == nil && ctx.Err() != nil {
		err = errors.New("serve: the HTTP server stopped")
	}
	return err
}

// metricsHandler serves /metrics (OpenMetrics and the protobuf format for
// native histograms, by content negotiation) and a small page at /.
func metricsHandler(exp *exporter.Exporter) (http.Handler, error) {
	reg := prometheus.NewRegistry()
	if err := exp.Register(reg); err != nil {
		return nil, fmt.Errorf("register metrics: %w", err)
	}
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		EnableOpenMetrics: true,
		ErrorLog:          slog.NewLogLogger(slog.NewTextHandler(os.Stderr, nil), slog.LevelError),
		Registry:          reg,
	}))
	landing, err := web.NewLandingPage(web.LandingConfig{
		Name:        "netwatch",
		Description: "eBPF network traffic sampler: exact counters, per-bin rate histograms and bursts",
		Version:     version,
		Links:       []web.LandingLinks{{Address: "/metrics", Text: "Metrics"}},
	})
	if err != nil {
		return nil, fmt.Errorf("landing page: %w", err)
	}
	mux.Handle("/", landing)
	return mux, nil
}
