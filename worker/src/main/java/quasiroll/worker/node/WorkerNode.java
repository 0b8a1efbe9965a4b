package quasiroll.worker.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.util.List;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import quasiroll.cluster.ClusterConfig;
import quasiroll.cluster.ClusterJoin;
import quasiroll.cluster.ClusterKeys;
import quasiroll.cluster.MetricsEndpoint;
import quasiroll.cluster.TlsFiles;
import quasiroll.cluster.wire.WorkerInfo;
import quasiroll.common.error.BadInputException;
import quasiroll.worker.engine.ShardRunner;

/**
 * A worker process: loads its model once, joins the Pekko cluster with role "worker" and runs a
 * {@link WorkerAgent}. Several may run on one machine (distinct Pekko and metrics ports), each with
 * its own model.
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
        throw new BadInputException(
            "--model is empty: expected a model id, e.g. synthetic:markov?vocab=64");
      }
      if (capacity < 1) {
        throw new BadInputException(
            "--capacity " + capacity + " is invalid: expected >= 1 samples per batch");
      }
      if (parallel < 1) {
        throw new BadInputException(
            "--parallel " + parallel + " is invalid: expected >= 1 decode threads");
      }
      if (seeds.isEmpty()) {
        throw new BadInputException(
            "--coordinator-seed is missing: expected HOST:PEKKO_PORT of the coordinator");
      }
    }
  }

  private WorkerNode() {}

  /** Pause before a removed worker joins again (lets the old membership settle). */
  static final long REJOIN_DELAY_MS = 2000;

  /** Set by the JVM's shutdown hook: a process shutdown ends the rejoin loop. */
  private static volatile boolean shuttingDown;

  static {
    Runtime.getRuntime()
        .addShutdownHook(new Thread(() -> shuttingDown = true, "worker-shutdown-flag"));
  }

  /**
   * Starts the worker and blocks until the process shuts down. The model is loaded once; cluster
   * membership is re-established (a new actor system joins) whenever the worker is removed from the
   * cluster.
   */
  public static void run(Options o, Config config) throws IOException {
    ClusterJoin join = ClusterJoin.from(config); // a bad mode is refused before the model loads
    quasiroll.worker.policy.PolicyFiles policyFiles =
        quasiroll.worker.policy.PolicyFiles.fromConfig(config);
    ShardRunner runner =
        ShardRunnerFactory.fromConfig(config).open(o.model(), o.device(), o.capacity());
    MetricsEndpoint metrics = new MetricsEndpoint(o.bind(), o.metricsPort());
    Config pekko =
        ClusterConfig.forNode(
            config, ClusterKeys.ROLE_WORKER, o.bind(), null, o.pekkoPort(), o.seeds());
    String token =
        config.hasPath("quasiroll.auth.token") ? config.getString("quasiroll.auth.token") : "";
    WorkerAgent.Progress progress =
        WorkerAgent.Progress.from(config); // the node's configuration, not a reload
    TlsFiles tls = TlsFiles.from(config);
    if (tls != null) {
      tls.requireCertificate("a worker node");
    }
    String name =
        config.hasPath("quasiroll.worker.name")
                && !config.getString("quasiroll.worker.name").isBlank()
            ? config.getString("quasiroll.worker.name").strip()
            : "worker";
    // A worker outlives its cluster membership: when it is downed (its coordinator restarted
    // and the split-brain resolver removed the side without it, or the worker was paused or
    // partitioned past the resolver's timeout) its actor system ends and a new one joins
    // again with the model still loaded. Only a shutdown of the process itself ends the loop.
    Config node =
        ConfigFactory.parseString("pekko.coordinated-shutdown.exit-jvm = off").withFallback(pekko);
    try {
      for (int incarnation = 0; ; incarnation++) {
        String suffix = incarnation == 0 ? "" : "-r" + incarnation;
        ActorSystem<Void> system =
            ActorSystem.create(
                Behaviors.setup(
                    ctx -> {
                      var self = Cluster.get(ctx.getSystem()).selfMember().address();
                      String id =
                          name
                              + "-"
                              + self.host().getOrElse(() -> "local")
                              + "-"
                              + self.port().getOrElse(() -> 0)
                              + "-"
                              + ProcessHandle.current().pid()
                              + suffix;
                      WorkerInfo info =
                          new WorkerInfo(
                              id, o.model(), o.device(), o.capacity(), runner.vocabSize());
                      var agent =
                          ctx.spawn(
                              WorkerAgent.create(
                                  info,
                                  o.parallel(),
                                  runner,
                                  token,
                                  tls,
                                  progress,
                                  policyFiles,
                                  metrics.registry()),
                              "agent");
                      // The job manager drops a worker when its node leaves, not when its agent
                      // stops: an agent that stopped takes its node (and this process) with it.
                      ctx.watch(agent);
                      log.info(
                          "worker {} up: model '{}' on {}, capacity {}",
                          id,
                          o.model(),
                          o.device(),
                          o.capacity());
                      metrics.markReady();
                      return Behaviors.receive(Void.class)
                          .onSignal(
                              org.apache.pekko.actor.typed.Terminated.class,
                              t -> {
                                log.error("worker {}: its agent stopped; the worker exits", id);
                                return Behaviors.stopped();
                              })
                          .build();
                    }),
                ClusterConfig.SYSTEM_NAME,
                node);
        join.start(system);
        system.getWhenTerminated().toCompletableFuture().join();
        var reason = CoordinatedShutdown.get(system).getShutdownReason();
        boolean removed =
            reason.isPresent()
                && (reason.get() == CoordinatedShutdown.clusterDowningReason()
                    || reason.get() == CoordinatedShutdown.clusterLeavingReason()
                    || reason.get() == CoordinatedShutdown.clusterJoinUnsuccessfulReason());
        if (!removed || shuttingDown) {
          return;
        }
        log.warn(
            "this worker was removed from the cluster ({}); joining again in {} ms",
            reason.get().getClass().getSimpleName(),
            REJOIN_DELAY_MS);
        Thread.sleep(REJOIN_DELAY_MS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      metrics.close();
    }
  }
}
