package quasiroll.coordinator.job;

import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;
import quasiroll.cluster.wire.ToCoordinator;
import quasiroll.coordinator.sink.SinkWriter;

/**
 * The threads that write jobs' JSONL sinks (encode, write, {@code fsync}) off the job manager's
 * actor, and the way each group's outcome comes back to it: a {@link JobManager.SinkWritten}
 * message. Each sink is written by one thread at a time, in group order ({@link SinkWriter}).
 */
final class SinkThreads implements AutoCloseable {
  private final ExecutorService pool;
  private final ActorRef<ToCoordinator> self;
  private final int maxPendingGroups;

  /**
   * @param threads sinks written at once ({@code quasiroll.sinks.threads})
   * @param maxPendingGroups groups one sink may have waiting before its job gets no more shards
   *     ({@code quasiroll.sinks.max-pending-groups})
   */
  SinkThreads(int threads, int maxPendingGroups, ActorRef<ToCoordinator> self) {
    if (threads < 1) {
      throw new IllegalArgumentException(
          "quasiroll.sinks.threads " + threads + " is invalid: expected >= 1");
    }
    if (maxPendingGroups < 1) {
      throw new IllegalArgumentException(
          "quasiroll.sinks.max-pending-groups " + maxPendingGroups + " is invalid: expected >= 1");
    }
    AtomicInteger n = new AtomicInteger();
    this.pool =
        Executors.newFixedThreadPool(
            threads,
            r -> {
              Thread t = new Thread(r, "sink-writer-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    this.self = self;
    this.maxPendingGroups = maxPendingGroups;
  }

  Executor executor() {
    return pool;
  }

  /** Where the outcomes of job {@code jobId}'s writes go: a message to the job manager. */
  Consumer<SinkWriter.Written> outcomesOf(String jobId) {
    return w -> self.tell(new JobManager.SinkWritten(jobId, w));
  }

  /** Whether a job's sink is so far behind that the job should get no more shards for now. */
  boolean behind(Job job) {
    return job.sinkBacklog() >= maxPendingGroups;
  }

  /** Lets writes already handed over finish (each ends with an fsync), then the threads end. */
  @Override
  public void close() {
    pool.shutdown();
  }
}
