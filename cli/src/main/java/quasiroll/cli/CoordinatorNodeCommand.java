package quasiroll.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import quasiroll.common.config.QuasirollConfig;
import quasiroll.coordinator.CoordinatorNode;

@Command(
    name = "coordinator",
    mixinStandardHelpOptions = true,
    description = {
      "Runs a coordinator node: Pekko Cluster member (role coordinator) hosting the job manager",
      "singleton, the client gRPC API (QuasirollService) and the worker data plane.",
      "Binds loopback by default; binding anything else requires a shared token",
      "(QUASIROLL_AUTH_TOKEN or quasiroll.auth.token)."
    })
final class CoordinatorNodeCommand implements Callable<Integer> {
  @Option(
      names = "--config",
      paramLabel = "FILE",
      description = "HOCON file layered over reference.conf.")
  Path config;

  @Option(
      names = "--bind",
      defaultValue = "127.0.0.1",
      description = "Address to bind gRPC, Pekko and metrics on (default: ${DEFAULT-VALUE}).")
  String bind;

  @Option(
      names = "--grpc-port",
      defaultValue = "7470",
      description = "Client API and data plane port (default: ${DEFAULT-VALUE}).")
  int grpcPort;

  @Option(
      names = "--pekko-port",
      defaultValue = "25520",
      description =
          "Pekko cluster port; workers use HOST:PORT as --coordinator-seed (default:"
              + " ${DEFAULT-VALUE}).")
  int pekkoPort;

  @Option(
      names = "--metrics-port",
      defaultValue = "9470",
      description = "Prometheus /metrics and /ready port; 0 = off (default: ${DEFAULT-VALUE}).")
  int metricsPort;

  @Option(
      names = "--http-port",
      description =
          "Serve the OpenAI-compatible HTTP API on this port (docs/http-api.md); sets"
              + " quasiroll.http.enabled = true and quasiroll.http.port. Default: off unless the"
              + " config enables it.")
  Integer httpPort;

  @Option(
      names = "--data-dir",
      paramLabel = "DIR",
      description =
          "Directory job specs' prompts_path is resolved in (default: quasiroll.data-dir).")
  Path dataDir;

  @Option(
      names = "--output-dir",
      paramLabel = "DIR",
      description = "Directory JSONL sinks are written to (default: quasiroll.output-dir).")
  Path outputDir;

  @Option(
      names = "--seed",
      paramLabel = "HOST:PORT",
      description =
          "Pekko address of another coordinator to join (repeatable); none = found a new cluster."
              + " Ignored when quasiroll.cluster.join = bootstrap.")
  List<String> seeds = new ArrayList<>();

  @Override
  public Integer call() throws Exception {
    var cfg = QuasirollConfig.load(config);
    if (httpPort != null) {
      cfg =
          com.typesafe.config.ConfigFactory.parseMap(
                  java.util.Map.of("quasiroll.http.enabled", true, "quasiroll.http.port", httpPort))
              .withFallback(cfg);
    }
    CoordinatorNode.run(
        new CoordinatorNode.Options(
            bind,
            grpcPort,
            pekkoPort,
            metricsPort,
            dataDir != null ? dataDir : Path.of(cfg.getString("quasiroll.data-dir")),
            outputDir != null ? outputDir : Path.of(cfg.getString("quasiroll.output-dir")),
            seeds),
        cfg,
        WorkerModelFiles::load);
    return Main.EXIT_OK;
  }
}
