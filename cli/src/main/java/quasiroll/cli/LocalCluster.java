package quasiroll.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A throw-away cluster on this machine: one coordinator and N workers per model, each its own
 * JVM running this build's {@code quasiroll coordinator} / {@code quasiroll worker} commands
 * on free loopback ports, logging to {@code logDir}. {@link #close()} stops exactly the
 * processes it started (SIGTERM, then SIGKILL after 10 s); a JVM shutdown hook does the same
 * on Ctrl-C.
 */
final class LocalCluster implements AutoCloseable {
  private static final long START_TIMEOUT_MS = 120_000;

  private final List<Process> processes = new ArrayList<>();
  private final List<Path> logs = new ArrayList<>();
  private final Thread hook = new Thread(this::stopAll, "local-cluster-stop");
  private final int grpcPort;
  private volatile boolean closing;

  private LocalCluster(int grpcPort) {
    this.grpcPort = grpcPort;
  }

  /**
   * Starts the coordinator and the workers, and waits for the coordinator's client port.
   *
   * @param config a --config file to pass on to every node, or null
   */
  static LocalCluster start(List<String> models, int workersPerModel, Path logDir, Path config) {
    int grpc = freePort();
    int pekko = freePort();
    LocalCluster c = new LocalCluster(grpc);
    Runtime.getRuntime().addShutdownHook(c.hook);
    try {
      Files.createDirectories(logDir);
      List<String> coord = new ArrayList<>(List.of("coordinator", "--grpc-port", Integer.toString(grpc),
          "--pekko-port", Integer.toString(pekko), "--metrics-port", "0",
          "--output-dir", logDir.resolve("coordinator-output").toString()));
      addConfig(coord, config);
      c.launch(coord, logDir.resolve("coordinator.log"));
      // Workers start at once (their JVM start-up overlaps the coordinator's); they retry
      // joining until the coordinator's Pekko port is up.
      int w = 0;
      for (String model : models) {
        for (int i = 0; i < workersPerModel; i++) {
          List<String> worker = new ArrayList<>(List.of("worker", "--model", model,
              "--coordinator-seed", "127.0.0.1:" + pekko, "--pekko-port", "0", "--metrics-port", "0"));
          addConfig(worker, config);
          c.launch(worker, logDir.resolve("worker-" + w++ + ".log"));
        }
      }
      c.awaitPort(grpc);
      return c;
    } catch (IOException | RuntimeException e) {
      c.close();
      throw e instanceof IOException io ? new UncheckedIOException("cannot start the local cluster", io) : (RuntimeException) e;
    }
  }

  /** The coordinator's client API address. */
  String target() {
    return "127.0.0.1:" + grpcPort;
  }

  /** A line naming every node that died, with its log, or null while all are alive. */
  String deadNodes() {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < processes.size(); i++) {
      Process p = processes.get(i);
      if (!p.isAlive()) {
        b.append(b.length() == 0 ? "" : "; ").append(logs.get(i).getFileName()).append(" exited with ")
            .append(p.exitValue()).append(" (log: ").append(logs.get(i)).append(", last line: ")
            .append(lastLine(logs.get(i))).append(')');
      }
    }
    return b.length() == 0 ? null : b.toString();
  }

  boolean closing() {
    return closing;
  }

  @Override
  public void close() {
    stopAll();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // already shutting down: the hook is running or ran
    }
  }

  private synchronized void stopAll() {
    closing = true;
    // Workers first, so none is left pulling from a vanished coordinator.
    for (int i = processes.size() - 1; i >= 0; i--) {
      processes.get(i).destroy();
    }
    for (Process p : processes) {
      try {
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
          p.destroyForcibly();
        }
      } catch (InterruptedException e) {
        p.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
  }

  private void launch(List<String> args, Path log) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmFlags());
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(Main.class.getName());
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    processes.add(pb.start());
    logs.add(log);
  }

  /** This JVM's flags worth passing on (module and GC flags, -D properties), not its main class. */
  private static List<String> jvmFlags() {
    List<String> out = new ArrayList<>();
    for (String a : java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (a.startsWith("--add-modules") || a.startsWith("-XX:") || a.startsWith("-D") || a.startsWith("-Xm")) {
        out.add(a);
      }
    }
    if (out.stream().noneMatch(a -> a.startsWith("--add-modules"))) {
      out.add(0, "--add-modules=jdk.incubator.vector");
    }
    return out;
  }

  private void awaitPort(int port) {
    long deadline = System.currentTimeMillis() + START_TIMEOUT_MS;
    while (System.currentTimeMillis() < deadline) {
      String dead = deadNodes();
      if (dead != null) {
        throw new IllegalStateException("the local coordinator did not start: " + dead);
      }
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 200);
        return;
      } catch (IOException e) {
        sleep(200);
      }
    }
    throw new IllegalStateException(
        "the local coordinator did not open port " + port + " within " + START_TIMEOUT_MS / 1000 + " s (log: " + logs.get(0) + ")");
  }

  private static void addConfig(List<String> args, Path config) {
    if (config != null) {
      args.add("--config");
      args.add(config.toAbsolutePath().toString());
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

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while starting the local cluster", e);
    }
  }
}
