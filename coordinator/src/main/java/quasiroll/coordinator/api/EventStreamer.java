package quasiroll.coordinator.api;

import io.grpc.stub.ServerCallStreamObserver;
import quasiroll.coordinator.events.JobEventLog;
import quasiroll.v1.JobEvent;

/**
 * Pumps one job's event log into one client stream from a given offset, honouring gRPC flow
 * control: it writes only while the stream {@code isReady()}, and resumes on {@code onReady} or
 * when the log grows. A drain never blocks (it stops when the stream's buffer is full). An append
 * (on the job manager's actor) only schedules a drain on {@link #DRAINS}, at most one pending per
 * stream, so the actor never serializes events for clients and one drain writes all the events
 * appended meanwhile. The stream completes after the final status event.
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

  private final ServerCallStreamObserver<JobEvent> out;
  private final java.util.concurrent.atomic.AtomicBoolean drainPending =
      new java.util.concurrent.atomic.AtomicBoolean();
  private final Runnable onAppend = this::scheduleDrain;
  private JobEventLog log;
  private long next;
  private boolean done;

  EventStreamer(ServerCallStreamObserver<JobEvent> out) {
    this.out = out;
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
    while (out.isReady() && next < log.size()) {
      out.onNext(log.get(next++));
    }
    if (log.finished() && next >= log.size()) {
      done = true;
      log.removeListener(onAppend);
      out.onCompleted();
    }
  }
}
