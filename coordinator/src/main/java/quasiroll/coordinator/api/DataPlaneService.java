package quasiroll.coordinator.api;

import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import org.apache.pekko.actor.typed.ActorRef;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import quasiroll.coordinator.job.JobManager;
import quasiroll.v1.DataPlaneAck;
import quasiroll.v1.WorkerDataPlaneGrpc;
import quasiroll.v1.WorkerMessage;
import quasiroll.cluster.SampleHashes;
import quasiroll.cluster.wire.ToCoordinator;

/**
 * The {@code WorkerDataPlane}: each worker keeps one result stream open; every message is
 * forwarded to the job manager in arrival order. The first message on a stream (worker id,
 * no payload) introduces the worker; the end of the stream, clean or not, tells the job
 * manager to re-queue that worker's in-flight shards.
 *
 * <p>Inbound memory is bounded by the pull protocol (a worker holds at most its credits of
 * shards, each at most its capacity of samples), not by this service.
 */
public final class DataPlaneService extends WorkerDataPlaneGrpc.WorkerDataPlaneImplBase {
  private static final Logger log = LoggerFactory.getLogger(DataPlaneService.class);

  private final ActorRef<ToCoordinator> jobManager;

  public DataPlaneService(ActorRef<ToCoordinator> jobManager) {
    this.jobManager = jobManager;
  }

  @Override
  public StreamObserver<WorkerMessage> streamResults(StreamObserver<DataPlaneAck> acks) {
    ServerCallStreamObserver<DataPlaneAck> ackStream = (ServerCallStreamObserver<DataPlaneAck>) acks;
    return new StreamObserver<>() {
      private String workerId;
      private boolean ended;

      @Override
      public void onNext(WorkerMessage m) {
        if (workerId == null) {
          workerId = m.getWorkerId();
          jobManager.tell(new JobManager.DataPlaneOpened(workerId));
        }
        switch (m.getPayloadCase()) {
          case RESULT -> jobManager.tell(
              new JobManager.SampleArrived(workerId, m.getShardId(), SampleHashes.ensure(m.getResult())));
          case DONE -> jobManager.tell(
              new JobManager.ShardFinished(
                  workerId, m.getShardId(), m.getDone().getSamples(), m.getDone().getError(), this::ack));
          case PROGRESS -> jobManager.tell(new JobManager.ProgressArrived(m.getShardId(), m.getProgress()));
          default -> {}
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
        log.warn("data plane stream of worker {} failed: {}", workerId, t.toString());
        closed();
      }

      @Override
      public void onCompleted() {
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
