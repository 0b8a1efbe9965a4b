package quasiroll.coordinator.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import quasiroll.cluster.wire.ToCoordinator;
import quasiroll.coordinator.events.JobEventLogs;
import quasiroll.coordinator.job.JobLimits;
import quasiroll.coordinator.job.JobManager;
import quasiroll.coordinator.job.JobSpecValidator;
import quasiroll.v1.CancelJobRequest;
import quasiroll.v1.DataPlaneAck;
import quasiroll.v1.GetJobStatusRequest;
import quasiroll.v1.JobSpec;
import quasiroll.v1.Prompt;
import quasiroll.v1.QuasirollServiceGrpc;
import quasiroll.v1.StreamJobRequest;
import quasiroll.v1.SubmitJobRequest;
import quasiroll.v1.WorkerDataPlaneGrpc;
import quasiroll.v1.WorkerMessage;

/**
 * Roles and ownership through the real client API and data plane services (in-process gRPC, the
 * real job manager): a client sees, streams and cancels only its own jobs, an admin all; a node
 * cannot use the client API; a client cannot stream results; a named node only as its own workers.
 */
class ClientApiAuthorizationTest {
  private static final ActorTestKit KIT =
      ActorTestKit.create(
          ConfigFactory.parseString(
              "pekko.actor.provider = local\n"
                  + "pekko.loglevel = WARNING\n"
                  + "pekko.fail-mixed-versions = off"));
  private static final String ALICE = "alice-token-0123456789";
  private static final String BOB = "bob-token-0123456789ab";
  private static final String ROOT = "root-token-0123456789a";
  private static final String GPU = "gpu1-token-0123456789a";

  @TempDir Path dir;
  private Server server;
  private ManagedChannel channel;
  private SimpleMeterRegistry metrics;

  @AfterAll
  static void shutdown() {
    KIT.shutdownTestKit();
  }

  @BeforeEach
  void start() throws Exception {
    metrics = new SimpleMeterRegistry();
    JobEventLogs logs = new JobEventLogs();
    ActorRef<ToCoordinator> jm = KIT.spawn(JobManager.create(logs, "127.0.0.1:1", metrics));
    Path tokens =
        Files.writeString(
            dir.resolve("tokens"),
            "alice client "
                + ALICE
                + "\nbob client "
                + BOB
                + "\nroot admin "
                + ROOT
                + "\ngpu1 node "
                + GPU
                + "\n");
    var refused = metrics.counter("quasiroll_coordinator_refused_calls");
    Authenticator auth = Authenticator.create("cluster-token-0123456789", tokens, false, refused);
    var api =
        new ClientApiService(
            new JobSpecValidator(JobLimits.DEFAULTS, dir, dir.resolve("out")),
            jm,
            KIT.system().scheduler(),
            logs,
            Executors.newSingleThreadExecutor());
    String name = InProcessServerBuilder.generateName();
    server =
        InProcessServerBuilder.forName(name)
            .addService(ServerInterceptors.intercept(api, auth))
            .addService(ServerInterceptors.intercept(new DataPlaneService(jm, refused), auth))
            .build()
            .start();
    channel = InProcessChannelBuilder.forName(name).build();
  }

  @AfterEach
  void stop() {
    channel.shutdownNow();
    server.shutdownNow();
  }

  private QuasirollServiceGrpc.QuasirollServiceBlockingStub as(String token) {
    Metadata md = new Metadata();
    md.put(Authenticator.AUTHORIZATION, "Bearer " + token);
    return QuasirollServiceGrpc.newBlockingStub(channel)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md))
        .withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  private static Status.Code code(Runnable call) {
    return assertThrows(StatusRuntimeException.class, call::run).getStatus().getCode();
  }

  private static SubmitJobRequest job() {
    return SubmitJobRequest.newBuilder()
        .setSpec(
            JobSpec.newBuilder()
                .setModel("nobody-has-it")
                .setK(2)
                .addPrompts(Prompt.newBuilder().setId("p").setText("hi")))
        .build();
  }

  @Test
  void aClientSeesStreamsAndCancelsOnlyItsOwnJobsAndAnAdminAll() {
    String id = as(ALICE).submitJob(job()).getJobId();
    GetJobStatusRequest status = GetJobStatusRequest.newBuilder().setJobId(id).build();
    assertEquals(id, as(ALICE).getJobStatus(status).getJobId());
    assertEquals(id, as(ROOT).getJobStatus(status).getJobId());
    // Bob learns nothing: the answer is the one for an unknown id.
    assertEquals(Status.Code.NOT_FOUND, code(() -> as(BOB).getJobStatus(status)));
    assertEquals(
        Status.Code.NOT_FOUND,
        code(() -> as(BOB).cancelJob(CancelJobRequest.newBuilder().setJobId(id).build())));
    assertEquals(
        Status.Code.NOT_FOUND,
        code(
            () -> as(BOB).streamJob(StreamJobRequest.newBuilder().setJobId(id).build()).hasNext()));
    assertEquals(
        Status.Code.NOT_FOUND,
        code(
            () ->
                as(BOB)
                    .getJobStatus(
                        GetJobStatusRequest.newBuilder()
                            .setJobId("j-00000000000000000000000000000000")
                            .build())));
    assertTrue(as(ALICE).streamJob(StreamJobRequest.newBuilder().setJobId(id).build()).hasNext());
    // Nodes have no client role.
    assertEquals(Status.Code.PERMISSION_DENIED, code(() -> as(GPU).submitJob(job())));
    assertEquals(Status.Code.PERMISSION_DENIED, code(() -> as(GPU).getJobStatus(status)));
    assertEquals(
        quasiroll.v1.JobState.JOB_STATE_CANCELLED,
        as(ROOT)
            .cancelJob(CancelJobRequest.newBuilder().setJobId(id).build())
            .getStatus()
            .getState());
  }

  private Status.Code stream(String token, String workerId) throws Exception {
    Metadata md = new Metadata();
    md.put(Authenticator.AUTHORIZATION, "Bearer " + token);
    CompletableFuture<Status.Code> end = new CompletableFuture<>();
    var out =
        WorkerDataPlaneGrpc.newStub(channel)
            .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md))
            .streamResults(
                new StreamObserver<DataPlaneAck>() {
                  @Override
                  public void onNext(DataPlaneAck value) {}

                  @Override
                  public void onError(Throwable t) {
                    end.complete(Status.fromThrowable(t).getCode());
                  }

                  @Override
                  public void onCompleted() {
                    end.complete(Status.Code.OK);
                  }
                });
    out.onNext(WorkerMessage.newBuilder().setWorkerId(workerId).build());
    Thread.sleep(100);
    out.onCompleted();
    return end.get(5, TimeUnit.SECONDS);
  }

  @Test
  void onlyNodesStreamResultsAndANamedNodeOnlyAsItsOwnWorkers() throws Exception {
    assertEquals(Status.Code.PERMISSION_DENIED, stream(ALICE, "worker-x"));
    assertEquals(Status.Code.PERMISSION_DENIED, stream(ROOT, "worker-x"));
    assertEquals(Status.Code.PERMISSION_DENIED, stream(GPU, "gpu2-host-1-2"));
    assertEquals(Status.Code.OK, stream(GPU, "gpu1-host-1-2"));
    assertEquals(Status.Code.OK, stream("cluster-token-0123456789", "anything-1"));
    assertEquals(3.0, metrics.counter("quasiroll_coordinator_refused_calls").count());
  }
}
