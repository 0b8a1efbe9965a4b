package quasiroll.cli.cluster;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * A real local cluster for tests: a coordinator and workers as separate JVMs ({@code
 * quasiroll.cli.Main coordinator|worker}) on loopback, with the load-test runner ({@code loadtest:}
 * model ids) standing in for a model. Logs go to {@code target/cluster-test-logs}.
 */
final class ClusterProcesses implements AutoCloseable {
  final int grpcPort = freePort();
  final int pekkoPort = freePort();
  final int metricsPort = freePort();
  final Path outputDir;
  private final Path logs;
  private final List<Process> processes = new ArrayList<>();
  private final List<String> jvmProps;
  private final java.util.Map<String, String> env;
  private final HttpClient http = HttpClient.newHttpClient();

  ClusterProcesses(Path workDir) throws IOException {
    this(workDir, List.of(), java.util.Map.of());
  }

  /**
   * @param jvmProps extra -D options for every process; @param env extra environment variables
   */
  ClusterProcesses(Path workDir, List<String> jvmProps, java.util.Map<String, String> env)
      throws IOException {
    this.jvmProps = List.copyOf(jvmProps);
    this.env = java.util.Map.copyOf(env);
    this.outputDir = workDir.resolve("out");
    this.logs = Path.of("target", "cluster-test-logs");
    Files.createDirectories(logs);
    Files.createDirectories(outputDir);
  }

  Process startCoordinator() throws IOException {
    return start(
        "coordinator",
        List.of(
            "coordinator",
            "--grpc-port",
            "" + grpcPort,
            "--pekko-port",
            "" + pekkoPort,
            "--metrics-port",
            "" + metricsPort,
            "--output-dir",
            outputDir.toString(),
            "--data-dir",
            outputDir.toString()));
  }

  /** A coordinator that also serves the HTTP API on {@code httpPort}. */
  Process startCoordinatorWithHttp(int httpPort, String... extraArgs) throws IOException {
    List<String> args =
        new ArrayList<>(
            List.of(
                "coordinator",
                "--grpc-port",
                "" + grpcPort,
                "--pekko-port",
                "" + pekkoPort,
                "--metrics-port",
                "" + metricsPort,
                "--output-dir",
                outputDir.toString(),
                "--data-dir",
                outputDir.toString(),
                "--http-port",
                "" + httpPort));
    args.addAll(List.of(extraArgs));
    return start("coordinator", args);
  }

  static int freeLoopbackPort() {
    return freePort();
  }

  Process startWorker(String name, String model, int capacity) throws IOException {
    return start(
        name,
        List.of(
            "worker",
            "--model",
            model,
            "--coordinator-seed",
            "127.0.0.1:" + pekkoPort,
            "--capacity",
            "" + capacity));
  }

  private Process start(String name, List<String> args) throws IOException {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                ProcessHandle.current().info().command().orElse("java"),
                "--add-modules",
                "jdk.incubator.vector",
                "-Xmx256m",
                "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1",
                // Quick downing for the test: the data plane already detects crashes at once.
                "-Dpekko.cluster.split-brain-resolver.stable-after=2s"));
    cmd.addAll(jvmProps);
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "quasiroll.cli.Main"));
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().putAll(env);
    Process p =
        pb.redirectErrorStream(true).redirectOutput(logs.resolve(name + ".log").toFile()).start();
    processes.add(p);
    return p;
  }

  /** The coordinator's Prometheus text, or "" when it does not answer yet. */
  String metrics() {
    try {
      return http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/metrics"))
                  .timeout(Duration.ofSeconds(5))
                  .build(),
              HttpResponse.BodyHandlers.ofString())
          .body();
    } catch (IOException e) {
      return "";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
  }

  /** The value of an unlabelled gauge or counter in {@link #metrics()}, or -1. */
  double metric(String name) {
    for (String line : metrics().split("\n")) {
      if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return -1;
  }

  static void await(String what, Duration timeout, BooleanSupplier condition)
      throws InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(200);
    }
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    for (Process p : processes) {
      p.destroyForcibly();
    }
  }
}
