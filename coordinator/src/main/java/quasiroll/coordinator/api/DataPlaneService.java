package quasiroll.coordinator.api;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.Counter;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import quasiroll.cluster.SampleHashes;
import quasiroll.cluster.wire.ToCoordinator;
import quasiroll.coordinator.job.JobManager;
import quasiroll.v1.DataPlaneAck;
import quasiroll.v1.SampleResult;
import quasiroll.v1.WorkerDataPlaneGrpc;
import quasiroll.v1.WorkerMessage;

/**
 * The {@code WorkerDataPlane}: each worker keeps one result stream open; every message is forwarded
 * to the job manager in arrival order (a batch of results as one actor message). The first message
 * on a stream (worker id, no payload) introduces the worker; the end of the stream, clean or not,
 * tells the job manager to re-queue that worker's in-flight shards.
 *
 * <p>Only a node may stream results ({@link Principal#mayActAsWorker}): the first message's worker
 * id must be one the caller's credential covers, and every later message on the stream is that
 * worker's; anything else closes the stream with PERMISSION_DENIED. Which results the job manager
 * then accepts (only the assigned worker's, for the shard's keys) is its own check.
 *
 * <p>Inbound memory is bounded by the pull protocol (a worker holds at most its credits of shards,
 * each at most its capacity of samples), not by this service.
 */
public final class DataPlaneService extends WorkerDataPlaneGrpc.WorkerDataPlaneImplBase {
  private static final Logger log = LoggerFactory.getLogger(DataPlaneService.class);

  private final ActorRef<ToCoordinator> jobManager;
  private final Counter refusedCalls;
  private final PolicyFileServer policyFiles;

  /**
   * @param refusedCalls counts streams refused for their credential
   */
  public DataPlaneService(ActorRef<ToCoordinator> jobManager, Counter refusedCalls) {
    this(jobManager, refusedCalls, null);
  }

  /**
   * @param policiesRoot {@code <data-dir>/policies}, whose files {@code FetchPolicyFile} serves to
   *     nodes; null = none served
   */
  public DataPlaneService(
      ActorRef<ToCoordinator> jobManager, Counter refusedCalls, java.nio.file.Path policiesRoot) {
    this.jobManager = jobManager;
    this.refusedCalls = refusedCalls;
    this.policyFiles = policiesRoot == null ? null : new PolicyFileServer(policiesRoot);
  }

  @Override
  public void fetchPolicyFile(
      quasiroll.v1.FetchPolicyFileRequest request,
      StreamObserver<quasiroll.v1.PolicyFileChunk> response) {
    if (policyFiles == null) {
      response.onError(
          Status.UNIMPLEMENTED
              .withDescription("this coordinator serves no policy files")
              .asRuntimeException());
      return;
    }
    Principal caller = Principal.current();
    if (!caller.mayActAsWorker(request.getWorkerId())) {
      refusedCalls.increment();
    }
    policyFiles.fetch(caller, request, response);
  }

  @Override
  public StreamObserver<WorkerMessage> streamResults(StreamObserver<DataPlaneAck> acks) {
    ServerCallStreamObserver<DataPlaneAck> ackStream =
        (ServerCallStreamObserver<DataPlaneAck>) acks;
    Principal caller = Principal.current();
    return new StreamObserver<>() {
      private String workerId;
      private boolean ended;
      private boolean refused;

      @Override
      public void onNext(WorkerMessage m) {
        if (refused) {
          return;
        }
        if (workerId == null) {
          if (!caller.mayActAsWorker(m.getWorkerId())) {
            refuse(
                "'"
                    + caller.name()
                    + "' may not send results as worker '"
                    + m.getWorkerId()
                    + "': expected a node credential"
                    + (caller.has(Principal.Role.NODE)
                        ? " whose name prefixes the worker id ('" + caller.name() + "-...')"
                        : ""));
            return;
          }
          workerId = m.getWorkerId();
          jobManager.tell(new JobManager.DataPlaneOpened(workerId));
        } else if (!m.getWorkerId().isEmpty() && !m.getWorkerId().equals(workerId)) {
          refuse("stream of worker '" + workerId + "' sent a message as '" + m.getWorkerId() + "'");
          return;
        }
        switch (m.getPayloadCase()) {
          case RESULT ->
              jobManager.tell(
                  new JobManager.SampleArrived(
                      workerId, m.getShardId(), SampleHashes.ensure(m.getResult())));
          case DONE ->
              jobManager.tell(
                  new JobManager.ShardFinished(
                      workerId,
                      m.getShardId(),
                      m.getDone().getSamples(),
                      m.getDone().getError(),
                      m.getDone().getPermanent(),
                      this::ack));
          case BATCH -> {
            // One actor message per batch. Workers hash their results; ensure() only fills a
            // missing hash (an older worker), it never recomputes one.
            List<SampleResult> results = new ArrayList<>(m.getBatch().getResultsCount());
            for (SampleResult r : m.getBatch().getResultsList()) {
              results.add(SampleHashes.ensure(r));
            }
            JobManager.ShardFinished finished =
                m.getBatch().hasDone()
                    ? new JobManager.ShardFinished(
                        workerId,
                        m.getShardId(),
                        m.getBatch().getDone().getSamples(),
                        m.getBatch().getDone().getError(),
                        m.getBatch().getDone().getPermanent(),
                        this::ack)
                    : null;
            jobManager.tell(
                new JobManager.ResultsArrived(workerId, m.getShardId(), results, finished));
          }
          case PROGRESS ->
              jobManager.tell(new JobManager.ProgressArrived(m.getShardId(), m.getProgress()));
          default -> {}
        }
      }

      private void refuse(String why) {
        refused = true;
        refusedCalls.increment();
        log.warn("data plane stream refused: {}", why);
        synchronized (ackStream) {
          ended = true;
          ackStream.onError(Status.PERMISSION_DENIED.withDescription(why).asRuntimeException());
        }
        if (workerId != null) {
          jobManager.tell(new JobManager.DataPlaneClosed(workerId));
        }
      }

      /** Acks are small and one per shard; they are dropped when the stream is not ready. */
      private void ack(DataPlaneAck a) {
        synchronized (ackStream) {
          if (!ended && !ackStream.isCancelled() && ackStream.isReady()) {
            ackStream.onNext(a);
          }
        }
      }

      @Override
      public void onError(Throwable t) {
        if (refused) {
          return;
        }
        log.warn("data plane stream of worker {} failed: {}", workerId, t.toString());
        closed();
      }

      @Override
      public void onCompleted() {
        if (refused) {
          return;
        }
        closed();
        synchronized (ackStream) {
          ackStream.onCompleted();
        }
      }

      private void closed() {
        synchronized (ackStream) {
          ended = true;
        }
        if (workerId != null) {
          jobManager.tell(new JobManager.DataPlaneClosed(workerId));
        }
      }
    };
  }
}
