package quasiroll.worker.node;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.MetadataUtils;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import quasiroll.cluster.TlsFiles;
import quasiroll.v1.DataPlaneAck;
import quasiroll.v1.WorkerDataPlaneGrpc;
import quasiroll.v1.WorkerMessage;

/**
 * The worker's result stream to the coordinator's data plane: one long-lived client stream per
 * coordinator address, shared by the worker's decode threads.
 *
 * <p>Flow control: {@link #send} blocks while gRPC's outbound buffer is full (until {@code
 * onReady}), so a slow coordinator slows the decode loop instead of growing memory. When the stream
 * breaks, {@link #send} throws {@link BrokenException}; the coordinator has then already re-queued
 * this worker's in-flight shards (it saw the stream end) and stops assigning shards here until a
 * fresh stream says hello, which this client opens by itself after {@link #RECONNECT_DELAY_MS},
 * doubling the delay after each failed attempt up to {@link #MAX_RECONNECT_DELAY_MS}.
 */
final class DataPlaneClient implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(DataPlaneClient.class);

  /** The stream ended under a sender. */
  static final class BrokenException extends RuntimeException {
    BrokenException(String message) {
      super(message);
    }
  }

  static final long RECONNECT_DELAY_MS = 1000;

  /**
   * The most one policy file's fetch may take: the coordinator gives up on a publish after
   * JobManager.PUBLISH_TIMEOUT (5 minutes), so a stalled fetch must not hold the worker's loader
   * longer.
   */
  static final long FETCH_DEADLINE_MINUTES = 5;

  static final long MAX_RECONNECT_DELAY_MS = 30_000;

  private final String workerId;
  private final ManagedChannel channel;
  private final ScheduledExecutorService reconnector =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "data-plane-reconnect");
            t.setDaemon(true);
            return t;
          });
  private boolean closed;
  private long reconnectDelayMs = RECONNECT_DELAY_MS;
  private final Object lock = new Object();
  private ClientCallStreamObserver<WorkerMessage> stream;
  private boolean broken = true;

  /**
   * @param tls null = plaintext (loopback only, see TlsFiles#requireForBind)
   */
  DataPlaneClient(String address, String workerId, String token, TlsFiles tls) {
    this.workerId = workerId;
    NettyChannelBuilder b = NettyChannelBuilder.forTarget(address).directExecutor();
    if (tls == null) {
      b.usePlaintext();
    } else {
      b.sslContext(tls.grpcClient());
    }
    if (token != null && !token.isEmpty()) {
      Metadata md = new Metadata();
      md.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
      b.intercept(MetadataUtils.newAttachHeadersInterceptor(md));
    }
    this.channel = b.build();
  }

  /** Opens the stream (and introduces this worker on it) unless it is open. */
  void ensureOpen() {
    synchronized (lock) {
      if (!broken || closed) {
        return;
      }
      broken = false;
      WorkerDataPlaneGrpc.newStub(channel)
          .streamResults(
              new ClientResponseObserver<WorkerMessage, DataPlaneAck>() {
                private ClientCallStreamObserver<WorkerMessage> mine;

                @Override
                public void beforeStart(ClientCallStreamObserver<WorkerMessage> requestStream) {
                  mine = requestStream;
                  stream = requestStream;
                  requestStream.setOnReadyHandler(DataPlaneClient.this::wakeSenders);
                }

                @Override
                public void onNext(DataPlaneAck ack) {
                  resetBackoff();
                  log.debug(
                      "ack {}: {} accepted, {} duplicates",
                      ack.getShardId(),
                      ack.getAccepted(),
                      ack.getDuplicates());
                }

                @Override
                public void onError(Throwable t) {
                  log.warn("data plane stream failed: {}", t.toString());
                  markBroken(mine);
                }

                @Override
                public void onCompleted() {
                  markBroken(mine);
                }
              });
      stream.onNext(WorkerMessage.newBuilder().setWorkerId(workerId).build());
    }
  }

  /**
   * Streams one file of a published policy version from the coordinator ({@code FetchPolicyFile},
   * authenticated like the result stream). Closing the chunks before their end cancels the call.
   */
  quasiroll.worker.policy.PolicyFiles.Chunks fetchPolicyFile(String path) {
    io.grpc.Context.CancellableContext ctx = io.grpc.Context.current().withCancellation();
    java.util.Iterator<quasiroll.v1.PolicyFileChunk> it;
    io.grpc.Context previous = ctx.attach();
    try {
      it =
          WorkerDataPlaneGrpc.newBlockingStub(channel)
              .withDeadlineAfter(FETCH_DEADLINE_MINUTES, TimeUnit.MINUTES)
              .fetchPolicyFile(
                  quasiroll.v1.FetchPolicyFileRequest.newBuilder()
                      .setWorkerId(workerId)
                      .setPath(path)
                      .build());
    } finally {
      ctx.detach(previous);
    }
    return new quasiroll.worker.policy.PolicyFiles.Chunks() {
      @Override
      public boolean hasNext() {
        return it.hasNext();
      }

      @Override
      public quasiroll.v1.PolicyFileChunk next() {
        return it.next();
      }

      @Override
      public void close() {
        ctx.cancel(null);
      }
    };
  }

  /** Sends one message, waiting while the stream is not ready. */
  void send(WorkerMessage m) throws InterruptedException {
    synchronized (lock) {
      while (!broken && !stream.isReady()) {
        lock.wait(200);
      }
      if (broken) {
        throw new BrokenException("data plane stream to the coordinator is closed");
      }
      stream.onNext(m);
    }
  }

  private void markBroken(ClientCallStreamObserver<WorkerMessage> which) {
    synchronized (lock) {
      if (which == stream) {
        broken = true;
        if (!closed) {
          reconnector.schedule(this::ensureOpen, reconnectDelayMs, TimeUnit.MILLISECONDS);
          reconnectDelayMs = Math.min(2 * reconnectDelayMs, MAX_RECONNECT_DELAY_MS);
        }
      }
      lock.notifyAll();
    }
  }

  /** The coordinator answered on this stream: the next failure retries quickly again. */
  private void resetBackoff() {
    synchronized (lock) {
      reconnectDelayMs = RECONNECT_DELAY_MS;
    }
  }

  private void wakeSenders() {
    synchronized (lock) {
      lock.notifyAll();
    }
  }

  @Override
  public void close() {
    synchronized (lock) {
      closed = true;
      if (!broken) {
        broken = true;
        stream.onCompleted();
      }
    }
    reconnector.shutdownNow();
    channel.shutdown();
    try {
      channel.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
