package quasiroll.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import quasiroll.common.error.BadInputException;

/**
 * A throw-away local cluster for one sweep, run with the project's own scripts ({@code
 * deploy/local/start-cluster.sh}, {@code add-worker.sh}, {@code stop-cluster.sh}): one coordinator
 * and N workers per model, on free loopback ports, with its pid files and node logs in its own
 * directory ({@code QR_DIR}), so it never touches another local cluster. {@link #close()} and a JVM
 * shutdown hook (Ctrl-C) run stop-cluster.sh, which stops exactly the nodes whose pid files are in
 * that directory.
 */
final class LocalCluster implements AutoCloseable {
  private final Path dir;
  private final Map<String, String> env;
  private final Thread hook = new Thread(this::stopOnShutdown, "local-cluster-stop");
  private volatile boolean closing;

  private LocalCluster(Path dir, Map<String, String> env) {
    this.dir = dir;
    this.env = env;
  }

  /** Starts the cluster and returns once every worker has joined (the scripts wait for that). */
  static LocalCluster start(List<String> models, int workersPerModel, Path dir) {
    Path scripts = DemoCommand.home().resolve("deploy/local").toAbsolutePath();
    if (!Files.isRegularFile(scripts.resolve("start-cluster.sh"))) {
      throw new BadInputException(
          "--local needs the local cluster scripts, but "
              + scripts.resolve("start-cluster.sh")
              + " does not exist; run quasiroll from its checkout (./quasiroll) or use"
              + " --coordinator");
    }
    int metricsBase = freePort();
    Map<String, String> env =
        Map.of(
            "QR_CPU_THREADS",
            Integer.toString(cpuThreadsPerWorker(models.size() * workersPerModel)),
            "QR_DIR",
            dir.toAbsolutePath().toString(),
            "QR_WORKERS",
            Integer.toString(workersPerModel),
            "QR_MODEL",
            models.get(0),
            "QR_GRPC_PORT",
            Integer.toString(freePort()),
            "QR_PEKKO_PORT",
            Integer.toString(freePort()),
            "QR_METRICS_PORT",
            Integer.toString(metricsBase),
            "QUASIROLL",
            DemoCommand.home().resolve("quasiroll").toAbsolutePath().toString(),
            "QUASIROLL_SKIP_BUILD",
            "1");
    LocalCluster c = new LocalCluster(dir, env);
    Runtime.getRuntime().addShutdownHook(c.hook);
    try {
      Files.createDirectories(dir);
      c.script(scripts.resolve("start-cluster.sh"), Map.of());
      int worker = workersPerModel;
      for (String model : models.subList(1, models.size())) {
        for (int i = 0; i < workersPerModel; i++) {
          c.script(
              scripts.resolve("add-worker.sh"),
              Map.of("QR_MODEL", model),
              Integer.toString(++worker));
        }
      }
      return c;
    } catch (IOException | RuntimeException e) {
      c.close();
      throw e instanceof IOException io
          ? new UncheckedIOException("cannot start the local cluster", io)
          : (RuntimeException) e;
    }
  }

  /**
   * CPU threads of each worker: the machine's processors shared out among its workers (at least one
   * each). Workers that share cores also share their threads' time: a worker whose threads
   * outnumber its share of the cores spends it waiting for its own descheduled threads (each
   * parallel loop waits for its slowest task).
   */
  static int cpuThreadsPerWorker(int workers) {
    return Math.max(1, Runtime.getRuntime().availableProcessors() / Math.max(1, workers));
  }

  /** The coordinator's client API address. */
  String target() {
    return "127.0.0.1:" + env.get("QR_GRPC_PORT");
  }

  /** A line naming every node that died, with its log, or null while all are alive. */
  String deadNodes() {
    StringBuilder b = new StringBuilder();
    try (Stream<Path> pids = Files.list(dir.resolve("pids"))) {
      for (Path p : pids.toList()) {
        String node = p.getFileName().toString().replace(".pid", "");
        Optional<ProcessHandle> h = ProcessHandle.of(Long.parseLong(Files.readString(p).trim()));
        if (h.isEmpty() || !h.get().isAlive()) {
          Path log = dir.resolve("logs").resolve(node + ".log");
          b.append(b.length() == 0 ? "" : "; ")
              .append(node)
              .append(" exited (log: ")
              .append(log)
              .append(", last line: ")
              .append(lastLine(log))
              .append(')');
        }
      }
    } catch (IOException | RuntimeException e) {
      return null; // pid files are being removed by stop-cluster.sh
    }
    return b.length() == 0 ? null : b.toString();
  }

  boolean closing() {
    return closing;
  }

  @Override
  public void close() {
    stop();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // the JVM is shutting down: the hook is running or ran
    }
  }

  private void stopOnShutdown() {
    if (!closing) {
      System.err.println(
          "\n"
              + "quasiroll: interrupted; stopping the local cluster. Rerun the same command to"
              + " continue.");
    }
    stop();
  }

  private synchronized void stop() {
    if (closing) {
      return;
    }
    closing = true;
    try {
      script(DemoCommand.home().resolve("deploy/local/stop-cluster.sh").toAbsolutePath(), Map.of());
    } catch (IOException | RuntimeException e) {
      System.err.println(
          "quasiroll: stopping the local cluster failed: "
              + e.getMessage()
              + "; its pids are in "
              + dir.resolve("pids"));
    }
  }

  /**
   * Runs a cluster script with this cluster's environment; its output goes to QR_DIR/scripts.log.
   */
  private void script(Path script, Map<String, String> extraEnv, String... args)
      throws IOException {
    List<String> cmd = new ArrayList<>(List.of("bash", script.toString()));
    cmd.addAll(List.of(args));
    Path log = dir.resolve("scripts.log");
    // Nodes run from the checkout, so relative model paths (models/demo) resolve there.
    ProcessBuilder pb =
        new ProcessBuilder(cmd)
            .directory(DemoCommand.home().toAbsolutePath().toFile())
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    pb.environment().putAll(env);
    pb.environment().putAll(extraEnv);
    try {
      int rc = pb.start().waitFor();
      if (rc != 0) {
        throw new IllegalStateException(
            script.getFileName()
                + " failed (exit "
                + rc
                + "): "
                + lastLine(log)
                + " (script log: "
                + log
                + ", node logs: "
                + dir.resolve("logs")
                + ")");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running " + script.getFileName(), e);
    }
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free local port", e);
    }
  }

  private static String lastLine(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      for (int i = lines.size() - 1; i >= 0; i--) {
        if (!lines.get(i).isBlank()) {
          return lines.get(i).trim();
        }
      }
    } catch (IOException | UncheckedIOException e) {
      return "(unreadable)";
    }
    return "(empty)";
  }
}
