package quasiroll.cluster;

import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * The Prometheus scrape endpoint every node serves at {@code http://host:port/metrics} (text
 * exposition format), plus {@code /ready} answering 200 once the node says so (used by the local
 * scripts and Kubernetes probes).
 */
public final class MetricsEndpoint implements AutoCloseable {
  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final HttpServer server;
  private volatile boolean ready;

  /**
   * @param port 0 disables the HTTP server (the registry still counts)
   */
  public MetricsEndpoint(String host, int port) throws IOException {
    if (port <= 0) {
      server = null;
      return;
    }
    server = HttpServer.create(new InetSocketAddress(host, port), 0);
    server.createContext(
        "/metrics",
        ex -> {
          byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
          ex.getResponseHeaders().add("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
          ex.sendResponseHeaders(200, body.length);
          try (OutputStream os = ex.getResponseBody()) {
            os.write(body);
          }
        });
    server.createContext(
        "/ready",
        ex -> {
          byte[] body = (ready ? "ready\n" : "starting\n").getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(ready ? 200 : 503, body.length);
          try (OutputStream os = ex.getResponseBody()) {
            os.write(body);
          }
        });
    server.start();
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  public void markReady() {
    ready = true;
  }

  @Override
  public void close() {
    if (server != null) {
      server.stop(0);
    }
  }
}
