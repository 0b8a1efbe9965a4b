package quasiroll.coordinator.events;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import quasiroll.v1.JobEvent;
import quasiroll.v1.JobState;

/**
 * The append-only event log of one job: offsets are dense from 0, so a client that lost its
 * stream resumes from the next offset it wants and misses nothing. Written by the job
 * manager only; read concurrently by any number of client streams, which register a
 * listener to hear about appends.
 *
 * <p>Held in memory for the coordinator's lifetime (a coordinator restart loses it).
 */
public final class JobEventLog {
  private final List<JobEvent> events = new ArrayList<>();
  private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
  private boolean finished;
  private final String owner;

  public JobEventLog() {
    this("local");
  }

  /** @param owner the principal name that submitted the job (see the client API's ownership) */
  public JobEventLog(String owner) {
    this.owner = owner;
  }

  public String owner() {
    return owner;
  }

  /** Appends the event with the next offset; returns that offset. */
  public long append(JobEvent.Builder event) {
    long offset;
    synchronized (this) {
      if (finished) {
        throw new IllegalStateException("event after the final status");
      }
      offset = events.size();
      JobEvent e = event.setOffset(offset).build();
      events.add(e);
      if (e.hasStatus() && isFinal(e.getStatus().getState())) {
        finished = true;
      }
    }
    for (Runnable l : listeners) {
      l.run();
    }
    return offset;
  }

  public synchronized int size() {
    return events.size();
  }

  public synchronized JobEvent get(long offset) {
    return events.get((int) offset);
  }

  /** True once the final status event is in: nothing more will be appended. */
  public synchronized boolean finished() {
    return finished;
  }

  public void addListener(Runnable l) {
    listeners.add(l);
  }

  public void removeListener(Runnable l) {
    listeners.remove(l);
  }

  public static boolean isFinal(JobState s) {
    return s == JobState.JOB_STATE_SUCCEEDED
        || s == JobState.JOB_STATE_FAILED
        || s == JobState.JOB_STATE_CANCELLED;
  }
}
