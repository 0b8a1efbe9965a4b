package quasiroll.coordinator.api;

import com.google.protobuf.CodedOutputStream;
import io.grpc.stub.ServerCallStreamObserver;
import java.io.IOException;
import quasiroll.coordinator.events.JobEventLog;

/**
 * Pumps one job's event log into one client stream from a given offset, honouring gRPC flow
 * control: it writes only while the stream {@code isReady()}, and resumes on {@code onReady} or
 * when the log grows. A drain never blocks (it stops when the stream's buffer is full). An append
 * (on the job manager's actor) only schedules a drain on {@link #DRAINS}, at most one pending per
 * stream, so the actor never serializes events for clients and one drain writes all the events
 * appended meanwhile. The stream completes after the final status event.
 *
 * <p>What it writes are encoded messages ({@link RawMessages}): each event's bytes as the log holds
 * them (encoded once, by the job store's writer), either one {@code JobEvent} per message
 * (StreamJob, SubmitAndStream) or a {@code JobEventBatch} of the events that are ready
 * (StreamJobBatches), built by concatenating those bytes behind the field's tag.
 *
 * <p>Two steps because gRPC only lets a service set the stream's handlers during the call itself:
 * the constructor (called there) installs them; {@link #start} (possibly later, e.g. once a
 * submitted job has an id) attaches the log.
 */
final class EventStreamer {
  /** Threads that write events to client streams (off the job manager's actor). */
  static final java.util.concurrent.Executor DRAINS =
      java.util.concurrent.Executors.newFixedThreadPool(
          2,
          r -> {
            Thread t = new Thread(r, "client-stream-drain");
            t.setDaemon(true);
            return t;
          });

  /** Most events in one batch message. */
  static final int BATCH_EVENTS = 1024;

  /**
   * Batches stop growing past this many bytes (a single larger event still goes alone): far below
   * gRPC's default 4 MiB inbound limit of clients.
   */
  static final int BATCH_BYTES = 256 * 1024;

  /** Field number of {@code JobEventBatch.events}. */
  private static final int EVENTS_FIELD = 1;

  private final ServerCallStreamObserver<byte[]> out;
  private final boolean batches;
  private final java.util.concurrent.atomic.AtomicBoolean drainPending =
      new java.util.concurrent.atomic.AtomicBoolean();
  private final Runnable onAppend = this::scheduleDrain;
  private final java.util.List<byte[]> batch = new java.util.ArrayList<>();
  private JobEventLog log;
  private long next;
  private boolean done;

  /**
   * @param batches true = {@code JobEventBatch} messages, false = one {@code JobEvent} per message
   */
  EventStreamer(ServerCallStreamObserver<byte[]> out, boolean batches) {
    this.out = out;
    this.batches = batches;
    out.setOnReadyHandler(this::drain);
    out.setOnCancelHandler(this::detach);
  }

  void start(JobEventLog log, long from) {
    synchronized (this) {
      this.log = log;
      this.next = from;
    }
    log.addListener(onAppend);
    drain();
  }

  private void scheduleDrain() {
    if (drainPending.compareAndSet(false, true)) {
      DRAINS.execute(
          () -> {
            drainPending.set(false);
            drain();
          });
    }
  }

  private synchronized void detach() {
    done = true;
    if (log != null) {
      log.removeListener(onAppend);
    }
  }

  private synchronized void drain() {
    if (done || log == null || out.isCancelled()) {
      return;
    }
    long size = log.size();
    while (out.isReady() && next < size) {
      if (batches) {
        out.onNext(nextBatch(size));
      } else {
        out.onNext(log.encoded(next++).bytes());
      }
      if (next >= size) {
        size = log.size();
      }
    }
    if (log.finished() && next >= log.size()) {
      done = true;
      log.removeListener(onAppend);
      out.onCompleted();
    }
  }

  /** The visible events from {@link #next} (at least one) as one encoded JobEventBatch. */
  private byte[] nextBatch(long size) {
    batch.clear();
    int bytes = 0;
    while (next < size && batch.size() < BATCH_EVENTS && (batch.isEmpty() || bytes < BATCH_BYTES)) {
      byte[] e = log.encoded(next++).bytes();
      batch.add(e);
      bytes += CodedOutputStream.computeByteArraySize(EVENTS_FIELD, e);
    }
    byte[] message = new byte[bytes];
    CodedOutputStream out = CodedOutputStream.newInstance(message);
    try {
      for (byte[] e : batch) {
        out.writeByteArray(EVENTS_FIELD, e);
      }
      out.checkNoSpaceLeft();
    } catch (IOException e) {
      throw new IllegalStateException("event batch mis-sized", e);
    }
    batch.clear();
    return message;
  }
}
