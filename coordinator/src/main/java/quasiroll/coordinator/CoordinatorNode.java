package quasiroll.coordinator;

import com.typesafe.config.Config;
import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.ClusterSingletonSettings;
import org.apache.pekko.cluster.typed.SingletonActor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import quasiroll.cluster.ClusterConfig;
import quasiroll.cluster.ClusterJoin;
import quasiroll.cluster.ClusterKeys;
import quasiroll.cluster.MetricsEndpoint;
import quasiroll.cluster.TlsFiles;
import quasiroll.cluster.wire.ToCoordinator;
import quasiroll.common.error.BadInputException;
import quasiroll.coordinator.api.Authenticator;
import quasiroll.coordinator.api.ClientApiService;
import quasiroll.coordinator.api.DataPlaneService;
import quasiroll.coordinator.events.JobEventLogs;
import quasiroll.coordinator.http.GenerationService;
import quasiroll.coordinator.http.HttpApiServer;
import quasiroll.coordinator.http.HttpApiSettings;
import quasiroll.coordinator.http.ModelCatalog;
import quasiroll.coordinator.job.JobLimits;
import quasiroll.coordinator.job.JobManager;
import quasiroll.coordinator.job.JobSpecValidator;
import quasiroll.coordinator.store.JobStore;

/**
 * A coordinator process: a Pekko Cluster member with role "coordinator" that runs the job manager
 * as a cluster singleton and serves the client API ({@code QuasirollService}) and the worker data
 * plane ({@code WorkerDataPlane}) on one gRPC port.
 *
 * <p>Safe defaults: it binds loopback unless told otherwise, and refuses to bind anything else
 * without credentials (a token or a tokens file) and TLS (see docs/security.md).
 */
public final class CoordinatorNode {
  private static final Logger log = LoggerFactory.getLogger(CoordinatorNode.class);

  /**
   * @param seeds other coordinators' "host:pekkoPort"; empty = this node founds the cluster
   * @param metricsPort 0 disables the metrics endpoint
   */
  public record Options(
      String bind,
      int grpcPort,
      int pekkoPort,
      int metricsPort,
      Path dataDir,
      Path outputDir,
      List<String> seeds) {}

  private CoordinatorNode() {}

  /** Starts the coordinator and blocks until its actor system terminates. */
  public static void run(Options o, Config config) throws IOException, InterruptedException {
    run(
        o,
        config,
        model ->
            ModelCatalog.Entry.unreadable(
                "this coordinator was started without access to model files"));
  }

  /**
   * @param models finds a model's tokenizer and chat template for the HTTP API (the CLI reads them
   *     with the worker runtime's loaders)
   */
  public static void run(
      Options o, Config config, java.util.function.Function<String, ModelCatalog.Entry> models)
      throws IOException, InterruptedException {
    String token = config.getString("quasiroll.auth.token");
    String tokensPath = config.getString("quasiroll.auth.tokens-file").strip();
    Path tokensFile = tokensPath.isEmpty() ? null : Path.of(tokensPath);
    TlsFiles tls = TlsFiles.from(config);
    InetAddress bindAddress = InetAddress.getByName(o.bind());
    if (!bindAddress.isLoopbackAddress() && token.isEmpty() && tokensFile == null) {
      throw new BadInputException(
          "--bind "
              + o.bind()
              + " is not a loopback address: set a shared token (QUASIROLL_AUTH_TOKEN or"
              + " quasiroll.auth.token) or a tokens file (quasiroll.auth.tokens-file) so the API is"
              + " not open to the network");
    }
    TlsFiles.requireForBind(o.bind(), tls, config, "--bind " + o.bind());
    if (tls != null) {
      tls.requireCertificate("the coordinator");
    }
    String advertise = config.getString("quasiroll.coordinator.advertise-host");
    if (advertise.isEmpty()) {
      advertise =
          bindAddress.isAnyLocalAddress() ? InetAddress.getLocalHost().getHostName() : o.bind();
    }
    String pekkoHost = bindAddress.isAnyLocalAddress() ? advertise : o.bind();
    List<String> seeds = o.seeds().isEmpty() ? List.of(pekkoHost + ":" + o.pekkoPort()) : o.seeds();

    JobLimits limits = JobLimits.from(config);
    // before anything is opened: a bad policy-keep-versions is refused here
    quasiroll.coordinator.policy.PolicyStore policies =
        new quasiroll.coordinator.policy.PolicyStore(
            o.dataDir(), config.getInt("quasiroll.coordinator.policy-keep-versions"));
    MetricsEndpoint metrics = new MetricsEndpoint(o.bind(), o.metricsPort());
    JobStore store = openStore(config, o.outputDir());
    JobEventLogs logs = new JobEventLogs(store);
    String dataPlaneAddress = advertise + ":" + o.grpcPort();
    Config pekko =
        ClusterConfig.forNode(
            config, ClusterKeys.ROLE_COORDINATOR, pekkoHost, o.bind(), o.pekkoPort(), seeds);
    long frame = pekko.getBytes("pekko.remote.artery.advanced.maximum-frame-size");
    if (limits.maxShardMessageBytes() >= frame) {
      metrics.close();
      throw new BadInputException(
          "quasiroll.limits.max-shard-message-bytes "
              + limits.maxShardMessageBytes()
              + " is invalid: expected less than"
              + " the cluster frame limit pekko.remote.artery.advanced.maximum-frame-size "
              + frame);
    }
    ActorSystem<Void> system =
        ActorSystem.create(Behaviors.empty(), ClusterConfig.SYSTEM_NAME, pekko);
    ClusterJoin.from(config).start(system);

    JobSpecValidator validator = new JobSpecValidator(limits, o.dataDir(), o.outputDir());
    ActorRef<ToCoordinator> jobManager =
        ClusterSingleton.get(system)
            .init(
                SingletonActor.of(
                        JobManager.create(
                            logs,
                            dataPlaneAddress,
                            metrics.registry(),
                            JobManager.Settings.from(config),
                            validator,
                            policies),
                        "job-manager")
                    .withSettings(
                        ClusterSingletonSettings.create(system)
                            .withRole(ClusterKeys.ROLE_COORDINATOR)));

    ExecutorService validation =
        Executors.newFixedThreadPool(
            2,
            r -> {
              Thread t = new Thread(r, "job-validation");
              t.setDaemon(true);
              return t;
            });
    // The services never block (they tell actors, ask with futures, write only while the
    // stream is ready), so they run on the transport threads: no hand-off per message.
    NettyServerBuilder server =
        NettyServerBuilder.forAddress(new InetSocketAddress(bindAddress, o.grpcPort()))
            .directExecutor()
            .maxInboundMessageSize(config.getInt("quasiroll.limits.max-request-bytes"));
    if (tls != null) {
      server.sslContext(tls.grpcServer());
    }
    var refusedCalls = metrics.registry().counter("quasiroll_coordinator_refused_calls");
    Authenticator auth = Authenticator.create(token, tokensFile, tls != null, refusedCalls);
    server.addService(
        secured(
            new ClientApiService(
                validator, jobManager, system.scheduler(), logs, validation, policies),
            auth));
    server.addService(
        secured(new DataPlaneService(jobManager, refusedCalls, policies.root()), auth));
    Server grpc = server.build().start();
    HttpApiSettings http = HttpApiSettings.from(config, o.bind());
    if (http.enabled()) {
      if (!InetAddress.getByName(http.bind()).isLoopbackAddress() && token.isEmpty()) {
        throw new BadInputException(
            "quasiroll.http.bind "
                + http.bind()
                + " is not a loopback address: set a shared token (QUASIROLL_AUTH_TOKEN or"
                + " quasiroll.auth.token) so the HTTP API is not open to the network");
      }
      GenerationService generation =
          new GenerationService(
              validator,
              jobManager,
              system.scheduler(),
              logs,
              validation,
              new ModelCatalog(ModelCatalog.withTemplates(models, http.chatTemplates())),
              http);
      var binding = HttpApiServer.start(system, http, generation).toCompletableFuture().join();
      log.info("HTTP API (OpenAI-compatible) on {}", binding.localAddress());
    }
    metrics.markReady();
    log.info(
        "coordinator ready: grpc {}:{} (data plane advertised as {}), pekko {}:{}, metrics port {},"
            + " auth {}",
        o.bind(),
        grpc.getPort(),
        dataPlaneAddress,
        pekkoHost,
        o.pekkoPort(),
        o.metricsPort(),
        auth.open()
            ? "off (loopback)"
            : (tokensFile != null ? "per-principal tokens" : "cluster token")
                + (tls != null ? " + client certificates, TLS" : ""));
    try {
      system.getWhenTerminated().toCompletableFuture().join();
    } finally {
      grpc.shutdown();
      grpc.awaitTermination(2, TimeUnit.SECONDS);
      metrics.close();
      if (store != null) {
        store.close();
      }
    }
  }

  /**
   * The job store named by {@code quasiroll.coordinator.store}: "" = {@code
   * <output-dir>/.quasiroll/jobs.db}, "none" = no store (jobs live in memory only and a restart
   * loses them).
   */
  static JobStore openStore(Config config, Path outputDir) {
    String s = config.getString("quasiroll.coordinator.store").strip();
    if (s.equals("none")) {
      log.warn(
          "quasiroll.coordinator.store = none: jobs are not persisted; a coordinator restart loses"
              + " them");
      return null;
    }
    Path file = s.isEmpty() ? outputDir.resolve(".quasiroll").resolve("jobs.db") : Path.of(s);
    JobStore store = JobStore.open(file);
    log.info("job store: {}", file.toAbsolutePath());
    return store;
  }

  private static ServerServiceDefinition secured(BindableService s, Authenticator auth) {
    return ServerInterceptors.intercept(s, auth);
  }
}
