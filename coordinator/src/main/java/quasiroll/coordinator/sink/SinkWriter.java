package quasiroll.coordinator.sink;

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import quasiroll.v1.SampleResult;

/**
 * Writes one job's {@link JsonlSink} off the caller's thread: the job manager hands it a complete
 * group and goes on; the JSON encoding, the write and the {@code fsync} run on a shared executor,
 * and the outcome comes back through a callback.
 *
 * <p>What holds:
 *
 * <ul>
 *   <li>Order: groups are written, and their outcomes reported, in the order they were handed over
 *       (one group at a time per sink, whatever the executor's size).
 *   <li>Durability: an outcome without error means the group's lines are in the file and forced to
 *       the device; {@link Written#committedBytes()} is then the file's length, ending on a
 *       newline.
 *   <li>Failure: the first failed write is reported with the sink's message (the file name and the
 *       cause, e.g. "No space left on device"); the file is cut back to the end of the last whole
 *       group ({@link JsonlSink#writeGroup}); groups queued after it are discarded, unreported.
 *   <li>Close: {@link #close()} discards queued groups, and the file is closed after the group
 *       being written, if any; it never blocks the caller.
 * </ul>
 *
 * <p>The callback runs on the executor's thread (or the caller's, for a direct executor); the job
 * manager's callback only sends itself a message.
 */
public final class SinkWriter implements AutoCloseable {
  /**
   * The outcome of one group's write.
   *
   * @param prompt the caller's tag for the group (its prompt index)
   * @param committedBytes the file's whole-group length after the write (on success)
   * @param error null on success, else why the write failed (names the file)
   */
  public record Written(int prompt, long committedBytes, String error) {
    public boolean failed() {
      return error != null;
    }
  }

  private record Pending(int prompt, List<SampleResult> byIndex) {}

  private final JsonlSink sink;
  private final Executor executor;
  private final Consumer<Written> done;
  private final ArrayDeque<Pending> queue = new ArrayDeque<>();
  private boolean draining;
  private boolean closed;
  private boolean broken;
  private int pending;

  /**
   * @param executor where writes run: a shared pool (the job manager's sink threads), or {@code
   *     Runnable::run} to write on the caller's thread
   * @param done gets each group's outcome, in order
   */
  public SinkWriter(JsonlSink sink, Executor executor, Consumer<Written> done) {
    this.sink = sink;
    this.executor = executor;
    this.done = done;
  }

  /** A writer that writes on the caller's thread: the outcome is reported before write returns. */
  public static SinkWriter inline(JsonlSink sink, Consumer<Written> done) {
    return new SinkWriter(sink, Runnable::run, done);
  }

  public Path path() {
    return sink.path();
  }

  /** Queues a group; its outcome goes to the callback. Ignored after close or a failure. */
  public void write(int prompt, List<SampleResult> byIndex) {
    boolean start;
    synchronized (this) {
      if (closed || broken) {
        return;
      }
      queue.addLast(new Pending(prompt, byIndex));
      pending++;
      start = !draining;
      draining = true;
    }
    if (start) {
      executor.execute(this::drain);
    }
  }

  /** Groups handed over and not yet reported (queued or being written). */
  public synchronized int pending() {
    return pending;
  }

  private void drain() {
    while (true) {
      Pending p;
      synchronized (this) {
        p = queue.pollFirst();
        if (p == null) {
          draining = false;
          if (closed) {
            closeQuietly();
          }
          return;
        }
      }
      Written w;
      try {
        sink.writeGroup(p.byIndex());
        w = new Written(p.prompt(), sink.committedBytes(), null);
      } catch (JsonlSink.SinkException e) {
        w = new Written(p.prompt(), sink.committedBytes(), e.getMessage());
      } catch (RuntimeException e) {
        w =
            new Written(
                p.prompt(),
                sink.committedBytes(),
                "cannot write JSONL sink " + sink.path() + ": " + e);
      }
      synchronized (this) {
        pending--;
        if (w.failed()) {
          broken = true;
          pending -= queue.size();
          queue.clear();
        }
      }
      done.accept(w);
    }
  }

  /** Discards queued groups; the file is closed once the group being written (if any) is done. */
  @Override
  public void close() {
    boolean now;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      pending -= queue.size();
      queue.clear();
      now = !draining;
    }
    if (now) {
      closeQuietly();
    }
  }

  private void closeQuietly() {
    try {
      sink.close();
    } catch (JsonlSink.SinkException e) {
      // already reported by the write that broke it, or nothing left to lose: the file holds
      // whole groups, each forced to the device when written
    }
  }
}
