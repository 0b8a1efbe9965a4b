package quasiroll.coordinator.api;

import io.grpc.stub.ServerCallStreamObserver;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import quasiroll.coordinator.events.JobEventLog;
import quasiroll.v1.JobEvent;

/**
 * Pumps one job's event log into one client stream from a given offset, honouring gRPC flow
 * control: it writes only while the stream {@code isReady()}, and resumes on
 * {@code onReady} or when the log grows. Writing happens on {@code executor}, never on the
 * job manager's thread. The stream completes after the final status event.
 */
final class EventStreamer {
  private final JobEventLog log;
  private final ServerCallStreamObserver<JobEvent> out;
  private final Executor executor;
  private final AtomicBoolean scheduled = new AtomicBoolean();
  private final Runnable onAppend = this::schedule;
  private long next;
  private boolean done;

  EventStreamer(JobEventLog log, ServerCallStreamObserver<JobEvent> out, long from, Executor executor) {
    this.log = log;
    this.out = out;
    this.next = from;
    this.executor = executor;
  }

  void start() {
    out.setOnReadyHandler(this::schedule);
    out.setOnCancelHandler(() -> log.removeListener(onAppend));
    log.addListener(onAppend);
    schedule();
  }

  private void schedule() {
    if (scheduled.compareAndSet(false, true)) {
      executor.execute(this::drain);
    }
  }

  private synchronized void drain() {
    scheduled.set(false);
    if (done || out.isCancelled()) {
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
