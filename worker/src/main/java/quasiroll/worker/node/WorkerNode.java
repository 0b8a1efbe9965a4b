package quasiroll.worker.node;

import com.typesafe.config.Config;
import java.io.IOException;
import java.util.List;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import quasiroll.common.error.BadInputException;
import quasiroll.cluster.ClusterConfig;
import quasiroll.cluster.ClusterJoin;
import quasiroll.cluster.ClusterKeys;
import quasiroll.cluster.MetricsEndpoint;
import quasiroll.cluster.wire.WorkerInfo;
import quasiroll.worker.engine.ShardRunner;

/**
 * A worker process: loads its model once, joins the Pekko cluster with role "worker" and
 * runs a {@link WorkerAgent}. Several may run on one machine (distinct Pekko and metrics
 * ports), each with its own model.
 */
public final class WorkerNode {
  private static final Logger log = LoggerFactory.getLogger(WorkerNode.class);

  /**
   * @param seeds coordinator (seed node) "host:pekkoPort" entries
   * @param pekkoPort 0 picks a free port
   * @param metricsPort 0 disables the metrics endpoint
   */
  public record Options(
      String model,
      String device,
      List<String> seeds,
      String bind,
      int pekkoPort,
      int capacity,
      int parallel,
      int metricsPort) {
    public Options {
      if (model == null || model.isBlank()) {
        throw new BadInputException("--model is empty: expected a model id, e.g. synthetic:markov?vocab=64");
      }
      if (capacity < 1) {
        throw new BadInputException("--capacity " + capacity + " is invalid: expected >= 1 samples per batch");
      }
      if (parallel < 1) {
        throw new BadInputException("--parallel " + parallel + " is invalid: expected >= 1 decode threads");
      }
      if (seeds.isEmpty()) {
        throw new BadInputException("--coordinator-seed is missing: expected HOST:PEKKO_PORT of the coordinator");
      }
    }
  }

  private WorkerNode() {}

  /** Starts the worker and blocks until its actor system terminates. */
  public static void run(Options o, Config config) throws IOException {
    ClusterJoin join = ClusterJoin.from(config); // a bad mode is refused before the model loads
    ShardRunner runner = ShardRunnerFactory.fromConfig(config).open(o.model(), o.device(), o.capacity());
    MetricsEndpoint metrics = new MetricsEndpoint(o.bind(), o.metricsPort());
    Config pekko = ClusterConfig.forNode(config, ClusterKeys.ROLE_WORKER, o.bind(), null, o.pekkoPort(), o.seeds());
    String token = config.hasPath("quasiroll.auth.token") ? config.getString("quasiroll.auth.token") : "";
    ActorSystem<Void> system =
        ActorSystem.create(
            Behaviors.setup(
                ctx -> {
                  var self = Cluster.get(ctx.getSystem()).selfMember().address();
                  String id =
                      "worker-" + self.host().getOrElse(() -> "local") + "-"
                          + self.port().getOrElse(() -> 0) + "-" + ProcessHandle.current().pid();
                  WorkerInfo info = new WorkerInfo(id, o.model(), o.device(), o.capacity());
                  ctx.spawn(
                      WorkerAgent.create(info, o.parallel(), runner, token, metrics.registry()),
                      "agent");
                  log.info("worker {} up: model '{}' on {}, capacity {}", id, o.model(), o.device(), o.capacity());
                  metrics.markReady();
                  return Behaviors.empty();
                }),
            ClusterConfig.SYSTEM_NAME,
            pekko);
    join.start(system);
    try {
      system.getWhenTerminated().toCompletableFuture().join();
    } finally {
      metrics.close();
    }
  }
}
