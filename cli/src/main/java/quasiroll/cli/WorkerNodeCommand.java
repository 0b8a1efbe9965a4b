package quasiroll.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import quasiroll.common.config.QuasirollConfig;
import quasiroll.worker.node.WorkerNode;

@Command(
    name = "worker",
    mixinStandardHelpOptions = true,
    description = {
      "Runs a worker node: loads the model once, joins the cluster (role worker) through the",
      "coordinator, pulls shards when it has capacity and streams samples to the coordinator.",
      "Several workers may run on one machine (give each its own --pekko-port / --metrics-port)."
    })
final class WorkerNodeCommand implements Callable<Integer> {
  @Option(
      names = "--config",
      paramLabel = "FILE",
      description = "HOCON file layered over reference.conf.")
  Path config;

  @Option(
      names = "--model",
      required = true,
      paramLabel = "MODEL",
      description =
          "Model id to load and register under, e.g. synthetic:markov?vocab=64&seed=1 or a model"
              + " path.")
  String model;

  @Option(
      names = "--device",
      defaultValue = "cpu",
      description = "cpu, cuda or cuda:N (default: ${DEFAULT-VALUE}).")
  String device;

  @Option(
      names = "--coordinator-seed",
      defaultValue = "127.0.0.1:25520",
      paramLabel = "HOST:PORT",
      description =
          "Coordinator's Pekko address (repeatable; default: ${DEFAULT-VALUE}); ignored when"
              + " quasiroll.cluster.join = bootstrap.")
  List<String> seeds = new ArrayList<>();

  @Option(
      names = "--bind",
      defaultValue = "127.0.0.1",
      description =
          "Address for this worker's Pekko and metrics ports (default: ${DEFAULT-VALUE}).")
  String bind;

  @Option(
      names = "--pekko-port",
      defaultValue = "0",
      description = "Pekko port; 0 = any free port (default: ${DEFAULT-VALUE}).")
  int pekkoPort;

  @Option(
      names = "--capacity",
      defaultValue = "64",
      description =
          "Most samples decoded as one batch; shards are cut to it (default: ${DEFAULT-VALUE}).")
  int capacity;

  @Option(
      names = "--parallel",
      defaultValue = "1",
      description = "Shards decoded at once, each on its own thread (default: ${DEFAULT-VALUE}).")
  int parallel;

  @Option(
      names = "--metrics-port",
      defaultValue = "0",
      description = "Prometheus /metrics and /ready port; 0 = off (default: ${DEFAULT-VALUE}).")
  int metricsPort;

  @Override
  public Integer call() throws Exception {
    WorkerNode.run(
        new WorkerNode.Options(
            model, device, seeds, bind, pekkoPort, capacity, parallel, metricsPort),
        QuasirollConfig.load(config));
    return Main.EXIT_OK;
  }
}
