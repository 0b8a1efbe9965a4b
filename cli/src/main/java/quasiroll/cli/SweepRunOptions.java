package quasiroll.cli;

import java.nio.file.Path;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Where a sweep's jobs run: an existing cluster, a local cluster started for it, or this process.
 */
final class SweepRunOptions {
  static final class Where {
    @Option(
        names = "--coordinator",
        paramLabel = "HOST:PORT",
        description =
            "Run the jobs on the cluster whose coordinator client API is at HOST:PORT (v1 gRPC"
                + " API).")
    String coordinator;

    @Option(
        names = "--local",
        paramLabel = "N",
        description =
            "Start a local cluster with deploy/local/start-cluster.sh (one coordinator + N workers"
                + " per model, free loopback ports), run the jobs on it, and stop it afterwards"
                + " with stop-cluster.sh (also on Ctrl-C or failure). Its pid files and node logs"
                + " are in OUT/cluster/. Nodes inherit QUASIROLL_JAVA_OPTS.")
    Integer localWorkers;

    @Option(
        names = "--in-process",
        paramLabel = "THREADS",
        arity = "0..1",
        fallbackValue = "0",
        description =
            "Run the jobs inside this process, no cluster, on THREADS decoding threads (default:"
                + " one per core).")
    Integer inProcessThreads;
  }

  @ArgGroup(exclusive = true, multiplicity = "0..1")
  Where where = new Where();

  @Option(
      names = "--token",
      paramLabel = "TOKEN",
      description =
          "Bearer token for --coordinator when the cluster has one (default: --token-file, else"
              + " $QUASIROLL_AUTH_TOKEN).")
  String token;

  /**
   * --token-file, --tls-ca, --tls-cert, --tls-key for --coordinator: the same options as
   * submit/status/cancel.
   */
  @Mixin ClientOptions.Credentials credentials = new ClientOptions.Credentials();

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description =
          "quasiroll HOCON config layered over reference.conf, for --in-process model loading.")
  Path config;

  @Option(
      names = "--device",
      defaultValue = "cpu",
      description =
          "Device for --in-process decoding: cpu, cuda or cuda:N (default: ${DEFAULT-VALUE}).")
  String device;
}
