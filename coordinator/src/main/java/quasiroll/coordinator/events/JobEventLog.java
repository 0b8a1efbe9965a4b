package quasiroll.coordinator.events;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import quasiroll.coordinator.store.EncodedEvent;
import quasiroll.coordinator.store.JobStore;
import quasiroll.v1.JobEvent;
import quasiroll.v1.JobState;

/**
 * The append-only event log of one job: offsets are dense from 0, so a client that lost its stream
 * (or whose coordinator restarted) resumes from the next offset it wants and misses nothing.
 * Written by the job manager only; read concurrently by any number of client streams, which
 * register a listener to hear about appends.
 *
 * <p>With a {@link JobStore} an appended event is first staged in the store and becomes visible to
 * readers only after the store committed it ({@link #publishCommitted}): a client never sees an
 * event that a coordinator crash could take back. Without a store (tests, in-process runs) appends
 * are visible at once and live only in memory.
 *
 * <p>Memory: with a store only the last {@link #WINDOW} committed events stay in memory; older
 * offsets are read back from the store in chunks of {@link #CHUNK} (one chunk cached per log), so a
 * job's heap does not grow with its samples.
 */
public final class JobEventLog {
  /** Committed events kept in memory with a store. */
  static final int WINDOW = 1024;

  /** Events read back from the store at once. */
  static final int CHUNK = 256;

  /** Visible events from offset {@link #base} on (all of them without a store). */
  private final List<EncodedEvent> events = new ArrayList<>();

  private long base;
  private List<EncodedEvent> chunk = List.of();
  private long chunkBase = -1;
  private final List<EncodedEvent> pending = new ArrayList<>();
  private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
  private final String jobId;
  private final String owner;
  private final JobStore store;
  private boolean sealed;
  private boolean finished;

  /** Told when this log gets its first staged event since the last {@link #mark}. */
  private java.util.function.Consumer<JobEventLog> onStaged = l -> {};

  /** Whether an event was staged since the last {@link #mark}. */
  private boolean stagedSinceMark;

  public JobEventLog() {
    this("local");
  }

  /**
   * @param owner the principal name that submitted the job (see the client API's ownership)
   */
  public JobEventLog(String owner) {
    this(null, owner, null, List.of());
  }

  /**
   * @param store null = memory only
   * @param committed events already in the store (a job being resumed or a finished job read back),
   *     visible at once
   */
  public JobEventLog(String jobId, String owner, JobStore store, List<JobEvent> committed) {
    this.jobId = jobId;
    this.owner = owner;
    this.store = store;
    for (JobEvent e : committed) {
      events.add(EncodedEvent.of(e));
      if (e.hasStatus() && isFinal(e.getStatus().getState())) {
        sealed = true;
        finished = true;
      }
    }
    trim();
  }

  /**
   * The log of a job read back from the store without loading its events: {@code count} committed
   * events, the last of which is {@code last}.
   */
  public static JobEventLog stored(
      String jobId, String owner, JobStore store, long count, JobEvent last) {
    JobEventLog log = new JobEventLog(jobId, owner, store, List.of());
    if (count > 0) {
      log.base = count - 1;
      log.events.add(EncodedEvent.of(last));
      if (last.hasStatus() && isFinal(last.getStatus().getState())) {
        log.sealed = true;
        log.finished = true;
      }
    }
    return log;
  }

  /** Drops committed events beyond the window (they are in the store). */
  private void trim() {
    if (store != null && events.size() > WINDOW) {
      int drop = events.size() - WINDOW;
      events.subList(0, drop).clear();
      base += drop;
    }
  }

  void onStaged(java.util.function.Consumer<JobEventLog> callback) {
    this.onStaged = callback;
  }

  public String owner() {
    return owner;
  }

  public String jobId() {
    return jobId;
  }

  /** Appends the event with the next offset; returns that offset. */
  public long append(JobEvent.Builder event) {
    long offset;
    synchronized (this) {
      if (sealed) {
        throw new IllegalStateException("event after the final status");
      }
      offset = base + events.size() + pending.size();
      JobEvent built = event.setOffset(offset).build();
      if (built.hasStatus() && isFinal(built.getStatus().getState())) {
        sealed = true;
      }
      EncodedEvent e = EncodedEvent.of(built);
      if (store != null) {
        store.stageEvent(jobId, e);
        pending.add(e);
        if (!stagedSinceMark) {
          stagedSinceMark = true;
          onStaged.accept(this);
        }
        return offset;
      }
      events.add(e);
      finished = sealed;
    }
    notifyListeners();
    return offset;
  }

  /** Records the sink's committed length with the events staged now (same transaction). */
  public void stageSinkOffset(long bytes) {
    if (store != null) {
      store.stageSinkOffset(jobId, bytes);
    }
  }

  /** Stages a group's pinned version, epoch and size with the events (no-op without a store). */
  public void stageGroupState(JobStore.GroupState g) {
    if (store != null) {
      store.stageGroup(jobId, g);
    }
  }

  /**
   * The offset the next staged event will get; every event staged so far is below it. Taken just
   * before the store's staged writes are cut, so that {@link #publishCommitted(long)} publishes
   * only what that cut holds.
   */
  synchronized long mark() {
    stagedSinceMark = false;
    return base + events.size() + pending.size();
  }

  /** Makes every staged event visible; the caller has just committed the store. */
  public void publishCommitted() {
    publishCommitted(Long.MAX_VALUE);
  }

  /**
   * Makes the staged events below offset {@code end} visible (a {@link #mark}); the caller has just
   * committed the store with them.
   */
  public void publishCommitted(long end) {
    synchronized (this) {
      int n = 0;
      while (n < pending.size() && pending.get(n).event().getOffset() < end) {
        n++;
      }
      if (n == 0) {
        return;
      }
      List<EncodedEvent> now = pending.subList(0, n);
      events.addAll(now);
      now.clear();
      finished = sealed && pending.isEmpty();
      trim();
    }
    notifyListeners();
  }

  synchronized boolean hasPending() {
    return !pending.isEmpty();
  }

  private void notifyListeners() {
    for (Runnable l : listeners) {
      l.run();
    }
  }

  /** Visible events (committed ones, with a store). */
  public synchronized long size() {
    return base + events.size();
  }

  public JobEvent get(long offset) {
    return encoded(offset).event();
  }

  /** The visible event at {@code offset} with its encoding (read back from the store if needed). */
  public synchronized EncodedEvent encoded(long offset) {
    if (offset >= base) {
      return events.get((int) (offset - base));
    }
    if (offset < chunkBase || offset >= chunkBase + chunk.size()) {
      chunk = store.encodedEvents(jobId, offset, CHUNK);
      chunkBase = offset;
    }
    return chunk.get((int) (offset - chunkBase));
  }

  /** The last visible event, or null. */
  public synchronized JobEvent last() {
    return events.isEmpty() ? null : events.get(events.size() - 1).event();
  }

  /** Every visible event, in offset order (a copy; read from the store past the window). */
  public synchronized List<JobEvent> visible() {
    List<JobEvent> all = new ArrayList<>((int) size());
    if (base > 0) {
      all.addAll(store.events(jobId, 0, (int) base));
    }
    for (EncodedEvent e : events) {
      all.add(e.event());
    }
    return all;
  }

  /** True once the final status event is visible: nothing more will be appended. */
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
